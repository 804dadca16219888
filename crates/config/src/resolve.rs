//! Resolved settings: the raw config plus environment and CLI overrides, with defaults applied.
//!
//! Precedence (gateway): port `--port` → `OPENCLAW_GATEWAY_PORT` → `gateway.port` → 18789;
//! bind `--bind` → `gateway.bind` → loopback; token `--token` → `gateway.auth.token` →
//! `OPENCLAW_GATEWAY_TOKEN` → `gateway.remote.token` (password likewise with
//! `OPENCLAW_GATEWAY_PASSWORD`); auth mode `--auth` → `gateway.auth.mode` → token if a token
//! exists, password if only a password exists, else token.

use std::path::PathBuf;

use crate::env::EnvMap;
use crate::error::{ConfigError, Location};
use crate::paths::Paths;
use crate::schema::{
    AuthMode, BindMode, GatewayMode, OpenClawConfig, ReloadMode, SecretInput, SecretSource,
    TailscaleMode, TrustedProxyAuth,
};
use crate::secret::Secret;

pub const DEFAULT_GATEWAY_PORT: u16 = 18789;
pub const DEFAULT_AGENT_ID: &str = "main";
pub const DEFAULT_MAIN_KEY: &str = "main";

/// Flags from `openclaw gateway run` that override config.
#[derive(Debug, Clone, Default)]
pub struct GatewayOverrides {
    pub port: Option<u16>,
    pub bind: Option<BindMode>,
    pub auth_mode: Option<AuthMode>,
    pub token: Option<String>,
    pub password: Option<String>,
    pub tailscale: Option<TailscaleMode>,
}

/// Failed-auth rate limiting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimitSettings {
    pub max_attempts: u32,
    pub window_ms: u64,
    pub lockout_ms: u64,
    pub exempt_loopback: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AuthSettings {
    pub mode: AuthMode,
    pub token: Option<Secret>,
    pub password: Option<Secret>,
    pub allow_tailscale: bool,
    pub rate_limit: RateLimitSettings,
    pub trusted_proxy: Option<TrustedProxyAuth>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TlsSettings {
    pub enabled: bool,
    pub auto_generate: bool,
    pub cert_path: Option<PathBuf>,
    pub key_path: Option<PathBuf>,
    pub ca_path: Option<PathBuf>,
}

/// Everything the gateway server needs from config, resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct GatewaySettings {
    /// `None` when `gateway.mode` is unset (the gateway refuses to start without
    /// `--allow-unconfigured`).
    pub mode: Option<GatewayMode>,
    pub port: u16,
    pub bind: BindMode,
    pub custom_host: Option<String>,
    pub auth: AuthSettings,
    pub allowed_origins: Vec<String>,
    /// Normalised Control UI prefix: `""` or `/x` (leading slash, no trailing slash).
    pub base_path: String,
    pub control_ui_enabled: bool,
    pub control_ui_root: Option<PathBuf>,
    pub allow_insecure_auth: bool,
    pub dangerously_disable_device_auth: bool,
    pub dangerously_allow_host_header_origin_fallback: bool,
    pub chat_completions_enabled: bool,
    pub responses_enabled: bool,
    pub auto_approve_local: bool,
    pub trusted_proxies: Vec<String>,
    pub allow_real_ip_fallback: bool,
    pub reload_mode: ReloadMode,
    pub tailscale_mode: TailscaleMode,
    pub tls: TlsSettings,
    pub tools_allow: Vec<String>,
    pub tools_deny: Vec<String>,
}

fn non_empty(s: Option<&str>) -> Option<&str> {
    s.map(str::trim).filter(|s| !s.is_empty())
}

/// Resolve a credential field. Plain strings are used as-is (after `${VAR}`); `env` references
/// read `env`; other sources are refused (fail closed) until a secrets backend exists.
pub fn resolve_secret(
    input: Option<&SecretInput>,
    env: &EnvMap,
    key_path: &str,
) -> Result<Option<Secret>, ConfigError> {
    match input {
        None => Ok(None),
        Some(SecretInput::Plain(s)) => Ok(non_empty(Some(s)).map(Secret::new)),
        Some(SecretInput::Ref(r)) => {
            let at = Location {
                file: "config".into(),
                line: 0,
                column: 0,
            };
            match r.source {
                Some(SecretSource::Env) | None => {
                    let id = r.id.as_deref().unwrap_or_default();
                    match non_empty(env.get(id).map(String::as_str)) {
                        Some(v) => Ok(Some(Secret::new(v))),
                        None => Err(ConfigError::MissingEnvVar {
                            at,
                            key_path: key_path.to_string(),
                            var: id.to_string(),
                        }),
                    }
                }
                Some(other) => Err(ConfigError::Invalid {
                    at,
                    key_path: key_path.to_string(),
                    message: format!("secret source {other:?} is not supported yet"),
                    hint: Some(
                        "use { source: \"env\", id: \"VAR\" } or a plain \"${VAR}\" string".into(),
                    ),
                    accepted: vec!["env".into()],
                }),
            }
        }
    }
}

fn normalize_base_path(raw: Option<&str>) -> String {
    let trimmed = raw.unwrap_or("").trim().trim_matches('/');
    if trimmed.is_empty() {
        String::new()
    } else {
        format!("/{trimmed}")
    }
}

impl GatewaySettings {
    /// Resolve gateway settings. `env` should be the merged env ([`crate::load_env`]); `paths`
    /// expands `~` in TLS/UI paths.
    pub fn resolve(
        cfg: &OpenClawConfig,
        env: &EnvMap,
        paths: &Paths,
        cli: &GatewayOverrides,
    ) -> Result<GatewaySettings, ConfigError> {
        let gw = cfg.gateway.clone().unwrap_or_default();
        let auth = gw.auth.clone().unwrap_or_default();
        let remote = gw.remote.clone().unwrap_or_default();
        let ui = gw.control_ui.clone().unwrap_or_default();

        let env_port = match non_empty(env.get("OPENCLAW_GATEWAY_PORT").map(String::as_str)) {
            Some(p) => Some(p.parse::<u16>().map_err(|_| ConfigError::Invalid {
                at: Location {
                    file: "environment".into(),
                    line: 0,
                    column: 0,
                },
                key_path: "OPENCLAW_GATEWAY_PORT".into(),
                message: format!("invalid port {p:?}"),
                hint: Some("use a number from 1 to 65535, or unset OPENCLAW_GATEWAY_PORT".into()),
                accepted: Vec::new(),
            })?),
            None => None,
        };
        let port = cli
            .port
            .or(env_port)
            .or(gw.port)
            .unwrap_or(DEFAULT_GATEWAY_PORT);
        let bind = cli.bind.or(gw.bind).unwrap_or(BindMode::Loopback);

        let token = match non_empty(cli.token.as_deref()) {
            Some(t) => Some(Secret::new(t)),
            None => match resolve_secret(auth.token.as_ref(), env, "gateway.auth.token")? {
                Some(t) => Some(t),
                None => match non_empty(env.get("OPENCLAW_GATEWAY_TOKEN").map(String::as_str)) {
                    Some(t) => Some(Secret::new(t)),
                    None => resolve_secret(remote.token.as_ref(), env, "gateway.remote.token")?,
                },
            },
        };
        let password = match non_empty(cli.password.as_deref()) {
            Some(p) => Some(Secret::new(p)),
            None => match resolve_secret(auth.password.as_ref(), env, "gateway.auth.password")? {
                Some(p) => Some(p),
                None => match non_empty(env.get("OPENCLAW_GATEWAY_PASSWORD").map(String::as_str)) {
                    Some(p) => Some(Secret::new(p)),
                    None => {
                        resolve_secret(remote.password.as_ref(), env, "gateway.remote.password")?
                    }
                },
            },
        };
        let mode = cli.auth_mode.or(auth.mode).unwrap_or(if token.is_some() {
            AuthMode::Token
        } else if password.is_some() {
            AuthMode::Password
        } else {
            AuthMode::Token
        });
        let tailscale_mode = cli
            .tailscale
            .or(gw.tailscale.as_ref().and_then(|t| t.mode))
            .unwrap_or(TailscaleMode::Off);
        let rl = auth.rate_limit.clone().unwrap_or_default();
        let endpoints = gw
            .http
            .as_ref()
            .and_then(|h| h.endpoints.clone())
            .unwrap_or_default();
        let tls = gw.tls.clone().unwrap_or_default();
        Ok(GatewaySettings {
            mode: gw.mode,
            port,
            bind,
            custom_host: non_empty(gw.custom_bind_host.as_deref()).map(str::to_string),
            auth: AuthSettings {
                mode,
                token,
                password,
                allow_tailscale: auth
                    .allow_tailscale
                    .unwrap_or(tailscale_mode == TailscaleMode::Serve),
                rate_limit: RateLimitSettings {
                    max_attempts: rl.max_attempts.unwrap_or(10),
                    window_ms: rl.window_ms.unwrap_or(60_000),
                    lockout_ms: rl.lockout_ms.unwrap_or(300_000),
                    exempt_loopback: rl.exempt_loopback.unwrap_or(true),
                },
                trusted_proxy: auth.trusted_proxy.clone(),
            },
            allowed_origins: ui.allowed_origins.clone().unwrap_or_default(),
            base_path: normalize_base_path(ui.base_path.as_deref()),
            control_ui_enabled: ui.enabled.unwrap_or(true),
            control_ui_root: non_empty(ui.root.as_deref()).map(|r| paths.expand(r)),
            allow_insecure_auth: ui.allow_insecure_auth.unwrap_or(false),
            dangerously_disable_device_auth: ui.dangerously_disable_device_auth.unwrap_or(false),
            dangerously_allow_host_header_origin_fallback: ui
                .dangerously_allow_host_header_origin_fallback
                .unwrap_or(false),
            chat_completions_enabled: endpoints
                .chat_completions
                .as_ref()
                .and_then(|e| e.enabled)
                .unwrap_or(false),
            responses_enabled: endpoints
                .responses
                .as_ref()
                .and_then(|e| e.enabled)
                .unwrap_or(false),
            auto_approve_local: gw
                .nodes
                .as_ref()
                .and_then(|n| n.pairing.as_ref())
                .and_then(|p| p.auto_approve_local)
                .unwrap_or(true),
            trusted_proxies: gw.trusted_proxies.clone().unwrap_or_default(),
            allow_real_ip_fallback: gw.allow_real_ip_fallback.unwrap_or(false),
            reload_mode: gw
                .reload
                .as_ref()
                .and_then(|r| r.mode)
                .unwrap_or(ReloadMode::Hybrid),
            tailscale_mode,
            tls: TlsSettings {
                enabled: tls.enabled.unwrap_or(false),
                auto_generate: tls.auto_generate.unwrap_or(false),
                cert_path: non_empty(tls.cert_path.as_deref()).map(|p| paths.expand(p)),
                key_path: non_empty(tls.key_path.as_deref()).map(|p| paths.expand(p)),
                ca_path: non_empty(tls.ca_path.as_deref()).map(|p| paths.expand(p)),
            },
            tools_allow: gw
                .tools
                .as_ref()
                .and_then(|t| t.allow.clone())
                .unwrap_or_default(),
            tools_deny: gw
                .tools
                .as_ref()
                .and_then(|t| t.deny.clone())
                .unwrap_or_default(),
        })
    }
}

/// Primary model and ordered fallbacks (`provider/model` refs).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ModelRefs {
    pub primary: Option<String>,
    pub fallbacks: Vec<String>,
}

/// One agent, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentInfo {
    pub id: String,
    pub name: Option<String>,
    pub is_default: bool,
    pub workspace: PathBuf,
    /// `<state>/agents/<id>/agent` unless `agentDir` is set.
    pub agent_dir: PathBuf,
    pub sessions_dir: PathBuf,
    pub model: ModelRefs,
}

/// Agents, the default agent and the main session key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentSettings {
    pub default_agent_id: String,
    pub agents: Vec<AgentInfo>,
    /// `session.mainKey` (default `main`).
    pub main_key: String,
}

impl AgentSettings {
    pub fn resolve(cfg: &OpenClawConfig, paths: &Paths) -> AgentSettings {
        let agents_cfg = cfg.agents.clone().unwrap_or_default();
        let defaults = agents_cfg.defaults.clone().unwrap_or_default();
        let list = agents_cfg.list.clone().unwrap_or_default();
        let default_model = ModelRefs {
            primary: defaults
                .model
                .as_ref()
                .and_then(|m| m.primary())
                .map(str::to_string),
            fallbacks: defaults
                .model
                .as_ref()
                .map(|m| m.fallbacks().to_vec())
                .unwrap_or_default(),
        };
        let default_id = list
            .iter()
            .find(|a| a.default == Some(true))
            .or_else(|| list.first())
            .and_then(|a| a.id.clone())
            .unwrap_or_else(|| DEFAULT_AGENT_ID.to_string());
        let default_workspace = match non_empty(defaults.workspace.as_deref()) {
            Some(w) => paths.expand(w),
            None => paths.workspace_dir.clone(),
        };
        let mut entries: Vec<(String, Option<&crate::schema::AgentEntry>)> = list
            .iter()
            .filter_map(|a| a.id.clone().map(|id| (id, Some(a))))
            .collect();
        if entries.is_empty() {
            entries.push((default_id.clone(), None));
        }
        let agents = entries
            .into_iter()
            .map(|(id, entry)| {
                let is_default = id == default_id;
                let workspace = match entry.and_then(|e| non_empty(e.workspace.as_deref())) {
                    Some(w) => paths.expand(w),
                    None if is_default => default_workspace.clone(),
                    None => paths.state_dir.join(format!("workspace-{id}")),
                };
                let agent_dir = match entry.and_then(|e| non_empty(e.agent_dir.as_deref())) {
                    Some(d) => paths.expand(d),
                    None => paths.agent_config_dir(&id),
                };
                let model = match entry.and_then(|e| e.model.as_ref()) {
                    Some(crate::schema::ModelSelection::Ref(r)) => ModelRefs {
                        primary: Some(r.clone()),
                        fallbacks: default_model.fallbacks.clone(),
                    },
                    Some(crate::schema::ModelSelection::Detailed(c)) => ModelRefs {
                        primary: c.primary.clone().or(default_model.primary.clone()),
                        fallbacks: c
                            .fallbacks
                            .clone()
                            .unwrap_or_else(|| default_model.fallbacks.clone()),
                    },
                    None => default_model.clone(),
                };
                AgentInfo {
                    sessions_dir: paths.sessions_dir(&id),
                    name: entry.and_then(|e| e.name.clone()),
                    id,
                    is_default,
                    workspace,
                    agent_dir,
                    model,
                }
            })
            .collect();
        let main_key = cfg
            .session
            .as_ref()
            .and_then(|s| non_empty(s.main_key.as_deref()))
            .unwrap_or(DEFAULT_MAIN_KEY)
            .to_string();
        AgentSettings {
            default_agent_id: default_id,
            agents,
            main_key,
        }
    }

    pub fn get(&self, id: &str) -> Option<&AgentInfo> {
        self.agents.iter().find(|a| a.id == id)
    }

    pub fn default_agent(&self) -> Option<&AgentInfo> {
        self.get(&self.default_agent_id)
    }

    /// `agent:<id>:<mainKey>`.
    pub fn main_session_key(&self, agent_id: &str) -> String {
        format!("agent:{agent_id}:{}", self.main_key)
    }
}
