//! `gateway.*`: networking, auth, Control UI, reload, TLS, HTTP endpoints.

use super::common::SecretInput;

config_enum! {
    /// `local` runs a gateway here; `remote` makes this install a client of `gateway.remote.url`.
    pub enum GatewayMode { Local, Remote }
}

config_enum! {
    /// Which interface the gateway listens on. Only mode names are valid (not host addresses).
    pub enum BindMode { Loopback, Lan, Tailnet, Auto, Custom }
}

config_enum! {
    /// How clients authenticate.
    pub enum AuthMode { None, Token, Password, TrustedProxy }
}

config_enum! {
    /// Config hot-reload behaviour (`hot`/`restart` are legacy and act like `hybrid`).
    pub enum ReloadMode { Hybrid, Off, Hot, Restart }
}

config_enum! {
    pub enum TailscaleMode { Off, Serve, Funnel }
}

config_struct! {
    pub struct GatewayConfig {
        /// `local` or `remote`; the gateway refuses to start unless `local`.
        pub mode: Option<GatewayMode>,
        /// Port for WebSocket + HTTP (default 18789).
        pub port: Option<u16>,
        /// Listen mode (default `loopback`).
        pub bind: Option<BindMode>,
        /// IPv4 address used when `bind` is `custom`.
        pub custom_bind_host: Option<String>,
        pub auth: Option<GatewayAuth>,
        pub control_ui: Option<ControlUi>,
        pub remote: Option<GatewayRemote>,
        pub reload: Option<GatewayReload>,
        pub tailscale: Option<GatewayTailscale>,
        /// Reverse proxies whose `X-Forwarded-For` is honoured (IPs or CIDRs).
        pub trusted_proxies: Option<Vec<String>>,
        /// Accept `X-Real-IP` when `X-Forwarded-For` is absent.
        pub allow_real_ip_fallback: Option<bool>,
        pub tls: Option<GatewayTls>,
        pub http: Option<GatewayHttp>,
        pub nodes: Option<GatewayNodes>,
        /// Tool policy for `/tools/invoke`.
        pub tools: Option<GatewayTools>,
        pub channel_health_check_minutes: Option<u64>,
    }
}

config_struct! {
    pub struct GatewayAuth {
        pub mode: Option<AuthMode>,
        /// Shared token (plain, `${VAR}`, or a secret reference).
        pub token: Option<SecretInput>,
        pub password: Option<SecretInput>,
        pub rate_limit: Option<AuthRateLimit>,
        /// Accept verified Tailscale Serve identity headers for WS/Control UI.
        pub allow_tailscale: Option<bool>,
        pub trusted_proxy: Option<TrustedProxyAuth>,
        pub identity_scopes: Option<serde_json::Value>,
    }
}

config_struct! {
    pub struct AuthRateLimit {
        pub max_attempts: Option<u32>,
        pub window_ms: Option<u64>,
        pub lockout_ms: Option<u64>,
        pub exempt_loopback: Option<bool>,
    }
}

config_struct! {
    pub struct TrustedProxyAuth {
        pub user_header: Option<String>,
        pub required_headers: Option<Vec<String>>,
        pub allow_users: Option<Vec<String>>,
        pub allow_loopback: Option<bool>,
        pub device_auto_approve: Option<serde_json::Value>,
    }
}

config_struct! {
    pub struct ControlUi {
        pub enabled: Option<bool>,
        /// URL prefix the UI is served under (e.g. `/openclaw`).
        pub base_path: Option<String>,
        /// Browser origins allowed to open the WebSocket.
        pub allowed_origins: Option<Vec<String>>,
        /// Serve UI assets from this directory instead of the embedded copy.
        pub root: Option<String>,
        pub allow_insecure_auth: Option<bool>,
        pub dangerously_disable_device_auth: Option<bool>,
        pub dangerously_allow_host_header_origin_fallback: Option<bool>,
    }
}

config_struct! {
    pub struct GatewayRemote {
        pub url: Option<String>,
        pub token: Option<SecretInput>,
        pub password: Option<SecretInput>,
        pub tls_fingerprint: Option<String>,
        pub transport: Option<String>,
        pub ssh_target: Option<String>,
        pub ssh_identity: Option<String>,
    }
}

config_struct! {
    pub struct GatewayReload {
        pub mode: Option<ReloadMode>,
        pub debounce_ms: Option<u64>,
        pub deferral_timeout_ms: Option<u64>,
    }
}

config_struct! {
    pub struct GatewayTailscale {
        pub mode: Option<TailscaleMode>,
        pub reset_on_exit: Option<bool>,
    }
}

config_struct! {
    pub struct GatewayTls {
        pub enabled: Option<bool>,
        pub auto_generate: Option<bool>,
        pub cert_path: Option<String>,
        pub key_path: Option<String>,
        pub ca_path: Option<String>,
    }
}

config_struct! {
    pub struct GatewayHttp {
        pub endpoints: Option<HttpEndpoints>,
    }
}

config_struct! {
    pub struct HttpEndpoints {
        /// OpenAI-compatible `POST /v1/chat/completions`.
        pub chat_completions: Option<EndpointToggle>,
        /// OpenResponses-compatible `POST /v1/responses`.
        pub responses: Option<EndpointToggle>,
    }
}

config_struct! {
    pub struct EndpointToggle {
        pub enabled: Option<bool>,
        pub max_body_bytes: Option<u64>,
        pub images: Option<serde_json::Value>,
        pub files: Option<serde_json::Value>,
    }
}

config_struct! {
    pub struct GatewayNodes {
        pub pairing: Option<NodePairing>,
        pub allow_commands: Option<Vec<String>>,
        pub deny_commands: Option<Vec<String>>,
        pub browser: Option<serde_json::Value>,
    }
}

config_struct! {
    pub struct NodePairing {
        /// Approve pairing requests from loopback clients without a prompt.
        pub auto_approve_local: Option<bool>,
    }
}

config_struct! {
    pub struct GatewayTools {
        pub allow: Option<Vec<String>>,
        pub deny: Option<Vec<String>>,
    }
}
