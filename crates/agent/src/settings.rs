//! The runtime's view of the config: everything a turn needs, resolved once per config
//! snapshot so the hot path never reads or parses config.
//!
//! Built by [`RuntimeSettings::resolve`] from a loaded config; a hot reload builds a new one
//! and swaps it in (`AgentRuntime::update_config`). Model clients are built here too (see
//! [`crate::providers_setup`]), once per snapshot, and shared by every turn.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use openclaw_config::schema::{QueueDrop, QueueMode, ResetMode as CfgResetMode};
use openclaw_config::{AgentInfo, AgentSettings, EnvMap, LoadedConfig, Paths};
use openclaw_providers::ModelClient;
use openclaw_store::{ResetMode, ResetRules};

use crate::policy::{EffectivePolicy, ToolPolicyInput};
use crate::tools::browser::BrowserSettings;
use crate::tools::{ExecSettings, HostFsOptions, ToolRouter, builtin_tools};

/// Default run timeout (`agents.defaults.timeoutSeconds`): 48 h.
pub const DEFAULT_TIMEOUT_SECONDS: u64 = 172_800;
/// Default per-file cap of injected workspace files (`agents.defaults.bootstrapMaxChars`).
pub const DEFAULT_BOOTSTRAP_MAX_CHARS: usize = 20_000;
/// Default `messages.queue.cap`.
pub const DEFAULT_QUEUE_CAP: usize = 20;
/// Default `messages.queue.debounceMs`: the quiet time before queued messages run.
pub const DEFAULT_QUEUE_DEBOUNCE: Duration = Duration::from_millis(1000);

/// What happens to a message that arrives while a run is active.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueModeSetting {
    /// Wait, then run every queued message as one turn.
    Collect,
    /// Wait, then run each queued message as its own turn.
    Followup,
    /// Inject into the running turn before its next tool or model call.
    Steer,
    /// Steer now and also run the message as a follow-up turn afterwards.
    SteerBacklog,
    /// Abort the running turn, then run this message.
    Interrupt,
}

impl QueueModeSetting {
    /// Parse a wire/config name (the legacy `queue` is `steer`).
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s.trim().to_ascii_lowercase().as_str() {
            "collect" => Self::Collect,
            "followup" => Self::Followup,
            "steer" | "queue" => Self::Steer,
            "steer-backlog" | "steer+backlog" => Self::SteerBacklog,
            "interrupt" => Self::Interrupt,
            _ => return None,
        })
    }

    fn from_cfg(m: QueueMode) -> Self {
        match m {
            QueueMode::Collect => Self::Collect,
            QueueMode::Followup => Self::Followup,
            QueueMode::Steer | QueueMode::Queue => Self::Steer,
            QueueMode::SteerBacklog => Self::SteerBacklog,
            QueueMode::Interrupt => Self::Interrupt,
        }
    }
}

/// What to drop when the queue is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropPolicy {
    /// Drop the oldest, keep a one-line summary of it for the next turn.
    Summarize,
    /// Drop the oldest silently.
    Old,
    /// Reject the newest.
    New,
}

/// `messages.queue`, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueSettings {
    pub mode: QueueModeSetting,
    pub cap: usize,
    pub drop: DropPolicy,
    /// Quiet time after the last queued message before the follow-up turn starts.
    pub debounce: Duration,
    /// `byChannel`: mode per channel id (lower-case).
    pub by_channel: BTreeMap<String, QueueModeSetting>,
    /// `debounceMsByChannel`: quiet time per channel id (lower-case).
    pub debounce_by_channel: BTreeMap<String, Duration>,
}

impl Default for QueueSettings {
    fn default() -> Self {
        Self {
            mode: QueueModeSetting::Collect,
            cap: DEFAULT_QUEUE_CAP,
            drop: DropPolicy::Summarize,
            debounce: DEFAULT_QUEUE_DEBOUNCE,
            by_channel: BTreeMap::new(),
            debounce_by_channel: BTreeMap::new(),
        }
    }
}

impl QueueSettings {
    /// Mode and quiet time for one message: the caller's mode first, then the channel's
    /// entry, then the global setting.
    pub fn for_message(
        &self,
        inline: Option<QueueModeSetting>,
        channel: Option<&str>,
    ) -> (QueueModeSetting, Duration) {
        let channel = channel
            .map(|c| c.trim().to_ascii_lowercase())
            .filter(|c| !c.is_empty());
        let channel = channel.as_deref();
        let mode = inline
            .or_else(|| channel.and_then(|c| self.by_channel.get(c).copied()))
            .unwrap_or(self.mode);
        let debounce = channel
            .and_then(|c| self.debounce_by_channel.get(c).copied())
            .unwrap_or(self.debounce);
        (mode, debounce)
    }

    fn from_cfg(cfg: Option<&openclaw_config::schema::MessageQueue>) -> Self {
        let d = QueueSettings::default();
        let Some(q) = cfg else {
            return d;
        };
        let lower = |k: &String| k.trim().to_ascii_lowercase();
        QueueSettings {
            mode: q.mode.map(QueueModeSetting::from_cfg).unwrap_or(d.mode),
            cap: q.cap.map(|c| c.max(1) as usize).unwrap_or(d.cap),
            drop: match q.drop {
                Some(QueueDrop::Old) => DropPolicy::Old,
                Some(QueueDrop::New) => DropPolicy::New,
                Some(QueueDrop::Summarize) | None => DropPolicy::Summarize,
            },
            debounce: q
                .debounce_ms
                .map(Duration::from_millis)
                .unwrap_or(d.debounce),
            by_channel: q
                .by_channel
                .iter()
                .flatten()
                .map(|(k, m)| (lower(k), QueueModeSetting::from_cfg(*m)))
                .collect(),
            debounce_by_channel: q
                .debounce_ms_by_channel
                .iter()
                .flatten()
                .map(|(k, ms)| (lower(k), Duration::from_millis(*ms)))
                .collect(),
        }
    }
}

/// One agent, ready to run turns.
#[derive(Clone)]
pub struct AgentRuntimeInfo {
    pub info: AgentInfo,
    /// Model client (failover over primary + fallbacks), or why there is none.
    pub client: Result<Arc<dyn ModelClient>, String>,
    /// `(provider, model)` of the primary, for session rows before the first answer.
    pub primary: Option<(String, String)>,
    pub context_window: Option<u64>,
    /// The primary model's catalog entry lists `"image"` in `input`: inbound images go to it
    /// as image blocks (otherwise only the media note does).
    pub image_input: bool,
    pub router: ToolRouter,
    pub fs: HostFsOptions,
    pub exec: ExecSettings,
    pub identity: IdentityConfig,
    /// Sandbox settings, or why they could not be resolved (then tools refuse: fail closed).
    pub sandbox: Result<Arc<crate::sandbox_backend::AgentSandbox>, String>,
    /// The router for sandboxed sessions (tool policy with the sandbox layer).
    pub sandbox_router: Option<ToolRouter>,
}

/// `agents.list[].identity` from config.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IdentityConfig {
    pub name: Option<String>,
    pub emoji: Option<String>,
    pub avatar: Option<String>,
}

/// Everything resolved from one config snapshot.
pub struct RuntimeSettings {
    pub agents: AgentSettings,
    pub by_id: BTreeMap<String, AgentRuntimeInfo>,
    pub queue: QueueSettings,
    pub run_timeout: Option<Duration>,
    pub bootstrap_max_chars: usize,
    pub skip_bootstrap: bool,
    pub reset_rules: ResetRules,
    pub reset_triggers: Vec<String>,
    pub user_timezone: Option<String>,
    /// `session.store` with `{agentId}` unexpanded, when set.
    pub store_template: Option<String>,
    pub paths: Paths,
    /// `browser.*` for the `browser` tool, or the config error (naming the key) it reports.
    pub browser: Result<Arc<BrowserSettings>, String>,
}

impl RuntimeSettings {
    pub fn resolve(loaded: &LoadedConfig, paths: &Paths, env: &EnvMap) -> RuntimeSettings {
        let cfg = &loaded.config;
        let agents = AgentSettings::resolve(cfg, paths);
        let defaults = cfg.agents.as_ref().and_then(|a| a.defaults.clone());
        let registry = crate::providers_setup::registry(cfg, env);
        let global_tools = loaded.value.get("tools");
        let list = cfg
            .agents
            .as_ref()
            .and_then(|a| a.list.clone())
            .unwrap_or_default();
        let mut by_id = BTreeMap::new();
        for (idx, info) in agents.agents.iter().enumerate() {
            let entry = list.iter().find(|e| e.id.as_deref() == Some(&info.id));
            let entry_idx = list
                .iter()
                .position(|e| e.id.as_deref() == Some(&info.id))
                .unwrap_or(idx);
            let agent_tools = loaded
                .value
                .pointer(&format!("/agents/list/{entry_idx}/tools"))
                .filter(|_| entry.is_some());
            let policy = match ToolPolicyInput::from_values(global_tools, agent_tools) {
                Ok(p) => p
                    .with_agent_path(format!("agents.list[{entry_idx}].tools"))
                    .resolve(None),
                Err(e) => {
                    tracing::warn!(agent = %info.id, error = %e, "tool policy unreadable; no tools enabled");
                    deny_all()
                }
            };
            let router = ToolRouter::new(builtin_tools(), &policy);
            let exec = ExecSettings {
                default_timeout: cfg
                    .tools
                    .as_ref()
                    .and_then(|t| t.exec.as_ref())
                    .and_then(|e| e.timeout_seconds)
                    .map(Duration::from_secs)
                    .or(Some(Duration::from_secs(1800))),
                default_yield: cfg
                    .tools
                    .as_ref()
                    .and_then(|t| t.exec.as_ref())
                    .and_then(|e| e.background_ms)
                    .map(Duration::from_millis)
                    .unwrap_or(Duration::from_millis(10_000)),
                background_allowed: router.is_enabled("process"),
            };
            let fs = HostFsOptions {
                workspace_only: cfg
                    .tools
                    .as_ref()
                    .and_then(|t| t.fs.as_ref())
                    .and_then(|f| f.workspace_only)
                    .unwrap_or(false),
                apply_patch_workspace_only: cfg
                    .tools
                    .as_ref()
                    .and_then(|t| t.exec.as_ref())
                    .and_then(|e| e.apply_patch.as_ref())
                    .and_then(|a| a.workspace_only)
                    .unwrap_or(true),
            };
            let (client, primary, context_window) = match &registry {
                Ok(reg) => crate::providers_setup::agent_client(reg, &info.model),
                Err(e) => (Err(e.clone()), None, None),
            };
            let image_input = registry
                .as_ref()
                .is_ok_and(|reg| crate::providers_setup::primary_accepts_images(reg, &info.model));
            let identity = entry
                .and_then(|e| e.identity.clone())
                .map(|i| IdentityConfig {
                    name: i.name,
                    emoji: i.emoji,
                    avatar: i.avatar,
                })
                .unwrap_or_default();
            let sandbox = crate::sandbox_backend::AgentSandbox::resolve(loaded, paths, &info.id)
                .map(Arc::new)
                .map_err(|e| e.to_string());
            let sandbox_router = sandbox.as_ref().ok().and_then(|sb| {
                let mode = match sb.spec.mode {
                    openclaw_sandbox::spec::SandboxMode::Off => return None,
                    openclaw_sandbox::spec::SandboxMode::NonMain => "non-main",
                    openclaw_sandbox::spec::SandboxMode::All => "all",
                };
                Some(ToolRouter::new(
                    builtin_tools(),
                    &sb.tools.resolve(Some(mode)),
                ))
            });
            by_id.insert(
                info.id.clone(),
                AgentRuntimeInfo {
                    info: info.clone(),
                    client,
                    primary,
                    context_window,
                    image_input,
                    router,
                    fs,
                    exec,
                    identity,
                    sandbox,
                    sandbox_router,
                },
            );
        }
        let queue = QueueSettings::from_cfg(cfg.messages.as_ref().and_then(|m| m.queue.as_ref()));
        let timeout_s = defaults
            .as_ref()
            .and_then(|d| d.timeout_seconds)
            .unwrap_or(DEFAULT_TIMEOUT_SECONDS);
        let session = cfg.session.clone().unwrap_or_default();
        let reset = session.reset.clone().unwrap_or_default();
        let idle_minutes = reset.idle_minutes.or(session.idle_minutes);
        let reset_rules = ResetRules {
            mode: match reset.mode {
                Some(CfgResetMode::Idle) => ResetMode::Idle,
                Some(CfgResetMode::Daily) | None => ResetMode::Daily,
            },
            at_hour: u32::from(reset.at_hour.unwrap_or(4).min(23)),
            idle_minutes,
        };
        RuntimeSettings {
            agents,
            by_id,
            queue,
            run_timeout: (timeout_s > 0).then(|| Duration::from_secs(timeout_s)),
            bootstrap_max_chars: defaults
                .as_ref()
                .and_then(|d| d.bootstrap_max_chars)
                .map(|n| n as usize)
                .unwrap_or(DEFAULT_BOOTSTRAP_MAX_CHARS),
            skip_bootstrap: defaults
                .as_ref()
                .and_then(|d| d.skip_bootstrap)
                .unwrap_or(false),
            reset_rules,
            reset_triggers: session
                .reset_triggers
                .clone()
                .unwrap_or_else(|| vec!["/new".into(), "/reset".into()]),
            user_timezone: defaults.as_ref().and_then(|d| d.user_timezone.clone()),
            store_template: session.store.clone(),
            paths: paths.clone(),
            browser: BrowserSettings::from_config(loaded.value.get("browser")).map(Arc::new),
        }
    }

    pub fn agent(&self, id: &str) -> Option<&AgentRuntimeInfo> {
        self.by_id.get(id)
    }

    pub fn default_agent_id(&self) -> &str {
        &self.agents.default_agent_id
    }

    /// Path of an agent's `sessions.json` (`session.store` with `{agentId}` when set).
    pub fn store_path(&self, agent_id: &str) -> std::path::PathBuf {
        match &self.store_template {
            Some(t) if !t.trim().is_empty() => self.paths.expand(&t.replace("{agentId}", agent_id)),
            _ => match self.agents.get(agent_id) {
                Some(a) => a.sessions_dir.join("sessions.json"),
                None => self.paths.sessions_dir(agent_id).join("sessions.json"),
            },
        }
    }
}

fn deny_all() -> EffectivePolicy {
    ToolPolicyInput::from_values(Some(&serde_json::json!({"deny": ["*"]})), None)
        .map(|p| p.resolve(None))
        .unwrap_or_else(|_| EffectivePolicy::allow_all())
}
