//! Process-wide gateway state shared by the HTTP routes, the WebSocket connections and the
//! method handlers. Built once at start; reloadable parts sit behind their own locks.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use openclaw_protocol::{Policy, StateVersion, now_ms};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use crate::auth::{AuthConfig, OriginPolicy, RateLimiter};
use crate::events::{BusEvent, EventBus};

/// Everything the server needs to start, resolved by the caller (the CLI) from config, flags
/// and environment. The gateway itself never reads the process environment.
#[derive(Debug, Clone)]
pub struct ServerSettings {
    pub bind: SocketAddr,
    pub auth: AuthConfig,
    pub allowed_origins: Vec<String>,
    /// Control UI base path, `""` or `/something` (no trailing slash).
    pub base_path: String,
    pub control_ui_enabled: bool,
    pub policy: Policy,
    /// Bytes allowed in the first frame (before `connect` succeeds).
    pub max_preauth_payload: usize,
    pub handshake_timeout: Duration,
    pub state_dir: PathBuf,
    pub config_path: PathBuf,
    pub version: String,
    pub host_name: String,
    pub default_agent_id: String,
    pub main_key: String,
    pub log_file: Option<PathBuf>,
    /// Allow an unauthenticated non-loopback bind (never set by the CLI; tests only).
    pub allow_insecure_bind: bool,
    /// `gateway.nodes.pairing.autoApproveLocal`: pair direct loopback devices without asking.
    pub auto_approve_local: bool,
    /// `gateway.controlUi.allowInsecureAuth`: let browsers connect without device identity.
    pub allow_insecure_auth: bool,
    /// `gateway.http.endpoints.chatCompletions.enabled`: serve `/v1/chat/completions` and
    /// `/v1/models`.
    pub chat_completions_enabled: bool,
}

impl ServerSettings {
    /// Settings for a loopback test server on an ephemeral port.
    pub fn for_tests(state_dir: PathBuf, auth: AuthConfig) -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            auth,
            allowed_origins: Vec::new(),
            base_path: String::new(),
            control_ui_enabled: true,
            policy: Policy::default(),
            max_preauth_payload: 64 * 1024,
            handshake_timeout: Duration::from_secs(15),
            config_path: state_dir.join("openclaw.json"),
            state_dir,
            version: env!("CARGO_PKG_VERSION").to_string(),
            host_name: "localhost".into(),
            default_agent_id: "main".into(),
            main_key: "main".into(),
            log_file: None,
            allow_insecure_bind: false,
            auto_approve_local: true,
            allow_insecure_auth: false,
            chat_completions_enabled: false,
        }
    }

    pub fn main_session_key(&self) -> String {
        format!("agent:{}:{}", self.default_agent_id, self.main_key)
    }
}

/// One connected client, as `system-presence` reports it.
#[derive(Debug, Clone)]
pub struct PresenceEntry {
    pub conn_id: String,
    pub client_id: String,
    pub mode: String,
    pub platform: String,
    pub version: String,
    pub ip: String,
    pub instance_id: Option<String>,
    pub roles: Vec<String>,
    pub scopes: Vec<String>,
    pub ts: u64,
}

pub struct GatewayState {
    pub settings: ServerSettings,
    pub bus: EventBus,
    pub rate_limiter: RateLimiter,
    pub origins: OriginPolicy,
    pub started: Instant,
    pub presence: Mutex<BTreeMap<String, PresenceEntry>>,
    pub versions: Mutex<StateVersion>,
    pub shutdown: CancellationToken,
    pub services: crate::services::Services,
}

pub type SharedState = Arc<GatewayState>;

impl GatewayState {
    pub fn new(settings: ServerSettings, services: crate::services::Services) -> SharedState {
        let origins = OriginPolicy {
            allowed: settings.allowed_origins.clone(),
        };
        let bus = EventBus::new();
        services.attach_bus(&bus);
        Arc::new(Self {
            settings,
            bus,
            rate_limiter: RateLimiter::default(),
            origins,
            started: Instant::now(),
            presence: Mutex::new(BTreeMap::new()),
            versions: Mutex::new(StateVersion {
                presence: 1,
                health: 1,
            }),
            shutdown: CancellationToken::new(),
            services,
        })
    }

    pub fn uptime_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    pub fn state_version(&self) -> StateVersion {
        *self.versions.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn bump(&self, presence: bool) -> StateVersion {
        let mut v = self.versions.lock().unwrap_or_else(|p| p.into_inner());
        if presence {
            v.presence += 1;
        } else {
            v.health += 1;
        }
        *v
    }

    pub fn add_presence(&self, entry: PresenceEntry) {
        self.presence
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(entry.conn_id.clone(), entry);
        self.broadcast_presence();
    }

    pub fn remove_presence(&self, conn_id: &str) {
        self.presence
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(conn_id);
        self.broadcast_presence();
    }

    /// Publish the presence list (bumps `stateVersion.presence`).
    fn broadcast_presence(&self) {
        let v = self.bump(true);
        self.bus.publish(BusEvent {
            event: openclaw_protocol::names::PRESENCE.into(),
            payload: json!({"presence": self.presence_list()}),
            tool_stream: false,
            state_version: Some(v),
        });
    }

    /// The presence list: the gateway itself first, then every connected client.
    pub fn presence_list(&self) -> Vec<Value> {
        let now = now_ms();
        let s = &self.settings;
        let mut list = vec![json!({
            "host": s.host_name,
            "ip": s.bind.ip().to_string(),
            "version": s.version,
            "platform": format!("{} {}", std::env::consts::OS, std::env::consts::ARCH),
            "deviceFamily": "Linux",
            "mode": "gateway",
            "reason": "self",
            "text": format!("Gateway: {} ({}) · app {} · mode gateway · reason self",
                s.host_name, s.bind.ip(), s.version),
            "ts": now,
        })];
        let map = self.presence.lock().unwrap_or_else(|p| p.into_inner());
        for p in map.values() {
            list.push(json!({
                "host": p.client_id,
                "ip": p.ip,
                "version": p.version,
                "platform": p.platform,
                "mode": p.mode,
                "reason": "connect",
                "instanceId": p.instance_id,
                "roles": p.roles,
                "scopes": p.scopes,
                "text": format!("Client: {} ({}) · app {} · mode {}", p.client_id, p.ip, p.version, p.mode),
                "ts": p.ts,
            }));
        }
        list
    }

    /// Publish a fresh health snapshot to every client (bumps `stateVersion.health`).
    pub fn broadcast_health(&self, health: Value) {
        let v = self.bump(false);
        self.bus.publish(BusEvent {
            event: "health".into(),
            payload: health,
            tool_stream: false,
            state_version: Some(v),
        });
    }
}
