//! The agent runtime: one per gateway. It owns the resolved settings (model clients built
//! once per config snapshot), the per-agent session indexes, the live session tasks and the
//! run registry, and is the API the gateway's `agent`/`chat.*`/`sessions.*` methods call.
//!
//! Hot path: `submit` canonicalizes the key, registers the run and sends one op to the
//! session task (spawning it when absent). No config read, no index write per event.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, RwLock, Weak};
use std::time::Duration;

use openclaw_config::{EnvMap, LoadedConfig, Paths};
use openclaw_protocol::message::Message;
use openclaw_protocol::now_ms;
use openclaw_providers::{CancellationToken, ChatRequest, EventStream, ModelClient, ProviderError};
use openclaw_store::session_key;
use openclaw_store::{ResetReason, SessionEntry, SessionStore};
use serde_json::{Value, json};
use tokio::sync::{OnceCell, mpsc, oneshot};

use crate::queue::Queued;
use crate::run::{EventSink, RunOutcome, RunRegistry, RunState, RuntimeEvent};
use crate::session::{OP_CAPACITY, Op};
use crate::settings::{QueueModeSetting, RuntimeSettings};
use crate::tools::JobRegistry;

pub use crate::run::RunStatus;

/// Errors of the runtime API; each names what to do next.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error("unknown agent {0:?}; see `openclaw agents list` or agents.list in the config")]
    UnknownAgent(String),
    #[error("invalid request: {0}")]
    Invalid(String),
    #[error("session {0:?} not found; see sessions.list")]
    SessionNotFound(String),
    #[error("{0}")]
    Store(String),
    #[error("the agent runtime is shutting down; retry after the gateway restarts")]
    Closed,
}

/// Tuning knobs (defaults suit a gateway; tests shorten them).
#[derive(Debug, Clone)]
pub struct RuntimeOptions {
    /// A session task with no work for this long exits (it respawns on demand).
    pub idle_ttl: Duration,
    /// Live session tasks kept warm. Past this, the least recently used idle ones exit (their
    /// next message reloads the transcript); busy sessions are never evicted.
    pub max_live_sessions: usize,
    /// A live session keeps its model context in memory between turns while it is smaller
    /// than this (estimated bytes); a longer one reloads it from the transcript for each turn.
    pub history_budget_bytes: usize,
}

/// Default [`RuntimeOptions::max_live_sessions`].
pub const DEFAULT_MAX_LIVE_SESSIONS: usize = 128;
/// Default [`RuntimeOptions::history_budget_bytes`]: a short chat stays warm; a long or
/// tool-heavy one costs a transcript read per turn, small next to a model call.
pub const DEFAULT_HISTORY_BUDGET_BYTES: usize = 16 * 1024;

impl Default for RuntimeOptions {
    fn default() -> Self {
        Self {
            idle_ttl: Duration::from_secs(300),
            max_live_sessions: DEFAULT_MAX_LIVE_SESSIONS,
            history_budget_bytes: DEFAULT_HISTORY_BUDGET_BYTES,
        }
    }
}

/// A message to run.
#[derive(Debug, Clone, Default)]
pub struct RunRequest {
    pub message: String,
    pub agent_id: Option<String>,
    /// Raw session key; `None` = the agent's main session.
    pub session_key: Option<String>,
    /// Idempotency key; becomes the run id (a fresh UUID when absent).
    pub run_id: Option<String>,
    pub queue_mode: Option<QueueModeSetting>,
    /// Channel the message came from (`telegram`, `webchat`, …): picks
    /// `messages.queue.byChannel` / `debounceMsByChannel`.
    pub channel: Option<String>,
    pub extra_system_prompt: Option<String>,
    /// Files the user sent with the message, saved under `<state>/media/inbound/`. The model
    /// sees a `[media attached: …]` note per file (the in-sandbox path for a sandboxed
    /// session) and, when its model accepts images, the images themselves.
    pub media: Vec<openclaw_store::InboundMedia>,
}

/// What `submit` did.
#[derive(Debug, Clone, PartialEq)]
pub enum Submitted {
    /// A new run was queued.
    Accepted {
        run_id: String,
        session_key: String,
        accepted_at: u64,
    },
    /// The run id is known and still running.
    InFlight { run_id: String, session_key: String },
    /// The run id is known and finished.
    Done(Arc<RunOutcome>),
}

/// `chat.history` data.
#[derive(Debug, Clone, PartialEq)]
pub struct History {
    pub session_key: String,
    pub session_id: Option<String>,
    pub messages: Vec<Message>,
    pub thinking_level: Option<String>,
}

/// One `sessions.list` row before shaping.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionView {
    pub key: String,
    pub agent_id: String,
    pub entry: SessionEntry,
    pub active_run_ids: Vec<String>,
}

/// `agent.identity.get` data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub agent_id: String,
    pub name: Option<String>,
    pub emoji: Option<String>,
    pub avatar: Option<String>,
}

struct SessionHandle {
    tx: mpsc::Sender<Op>,
    generation: u64,
    /// Tick of the last op sent (least recently used goes first when making room).
    last_used: u64,
}

pub(crate) struct Inner {
    settings: RwLock<Arc<RuntimeSettings>>,
    stores: Mutex<HashMap<String, Arc<OnceCell<SessionStore>>>>,
    sessions: Mutex<HashMap<String, SessionHandle>>,
    next_generation: std::sync::atomic::AtomicU64,
    /// Clock of [`SessionHandle::last_used`]; only moves under the `sessions` lock.
    use_tick: std::sync::atomic::AtomicU64,
    pub(crate) runs: RunRegistry,
    sink: OnceLock<Arc<dyn EventSink>>,
    jobs: Mutex<HashMap<String, Arc<JobRegistry>>>,
    /// One sandbox manager for the process (one registry, one prune throttle); the gateway
    /// shares it with its `sandbox.*` methods.
    sandbox: OnceLock<Arc<openclaw_sandbox::SandboxManager>>,
    /// The `browser` tool's browsers: they outlive turns, stop at shutdown or drop.
    pub(crate) browsers: Arc<crate::tools::browser::BrowserService>,
    pub(crate) options: RuntimeOptions,
    me: Weak<Inner>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

struct NullSink;
impl EventSink for NullSink {
    fn emit(&self, _: RuntimeEvent) {}
}

impl Inner {
    pub(crate) fn settings(&self) -> Arc<RuntimeSettings> {
        self.settings
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub(crate) fn sink(&self) -> Arc<dyn EventSink> {
        match self.sink.get() {
            Some(s) => s.clone(),
            None => Arc::new(NullSink),
        }
    }

    pub(crate) fn sandbox_manager(&self) -> Arc<openclaw_sandbox::SandboxManager> {
        self.sandbox
            .get_or_init(|| {
                Arc::new(openclaw_sandbox::SandboxManager::new(
                    self.settings().paths.state_dir.clone(),
                ))
            })
            .clone()
    }

    pub(crate) fn jobs(&self, agent_id: &str) -> Arc<JobRegistry> {
        lock(&self.jobs)
            .entry(agent_id.to_string())
            .or_default()
            .clone()
    }

    pub(crate) fn sessions_api(&self) -> Arc<dyn crate::tools::SessionsApi> {
        Arc::new(crate::sessions_api::RuntimeSessions::new(self.me.clone()))
    }

    pub(crate) async fn store(&self, agent_id: &str) -> Result<SessionStore, String> {
        let cell = lock(&self.stores)
            .entry(agent_id.to_string())
            .or_default()
            .clone();
        let path = self.settings().store_path(agent_id);
        cell.get_or_try_init(|| async {
            SessionStore::open(&path)
                .await
                .map_err(|e| format!("cannot open the session index {}: {e}", path.display()))
        })
        .await
        .cloned()
    }

    pub(crate) fn session_exited(&self, key: &str, generation: u64) {
        let mut s = lock(&self.sessions);
        if s.get(key).is_some_and(|h| h.generation == generation) {
            s.remove(key);
        }
    }

    /// Send an op to the session task of `key`, spawning it when absent or exited.
    pub(crate) async fn send(
        &self,
        key: &str,
        agent_id: &str,
        mut op: Op,
    ) -> Result<(), RuntimeError> {
        let me = self.me.upgrade().ok_or(RuntimeError::Closed)?;
        for _ in 0..8 {
            let (tx, generation) = {
                let mut s = lock(&self.sessions);
                let tick = self
                    .use_tick
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                match s.get_mut(key) {
                    Some(h) => {
                        h.last_used = tick;
                        (h.tx.clone(), h.generation)
                    }
                    None => {
                        self.make_room(&mut s);
                        let (tx, rx) = mpsc::channel(OP_CAPACITY);
                        let generation = self
                            .next_generation
                            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        s.insert(
                            key.to_string(),
                            SessionHandle {
                                tx: tx.clone(),
                                generation,
                                last_used: tick,
                            },
                        );
                        // Owned by the session map: the task removes its handle on exit.
                        tokio::spawn(crate::session::run_session(
                            me.clone(),
                            key.to_string(),
                            agent_id.to_string(),
                            rx,
                            generation,
                        ));
                        (tx, generation)
                    }
                }
            };
            match tx.send(op).await {
                Ok(()) => return Ok(()),
                Err(mpsc::error::SendError(back)) => {
                    op = back;
                    self.session_exited(key, generation);
                }
            }
        }
        Err(RuntimeError::Closed)
    }

    /// Before a new session task starts: at the live-session cap, ask the least recently used
    /// session to exit. It goes only if idle, and removes its own handle when it does; a busy
    /// one stays, so the cap can be passed while every live session has work.
    fn make_room(&self, sessions: &mut HashMap<String, SessionHandle>) {
        if sessions.len() < self.options.max_live_sessions.max(1) {
            return;
        }
        // Several candidates: the oldest ones may be busy and refuse.
        let excess = sessions.len() + 1 - self.options.max_live_sessions.max(1);
        let mut by_age: Vec<(u64, &SessionHandle)> =
            sessions.values().map(|h| (h.last_used, h)).collect();
        let n = (excess + EVICT_SLACK).min(by_age.len());
        by_age.select_nth_unstable_by_key(n.saturating_sub(1), |(t, _)| *t);
        for (_, h) in &by_age[..n] {
            // Full queue = busy: nothing to evict there.
            let _ = h.tx.try_send(Op::Evict);
        }
    }
}

/// Extra eviction candidates asked per new session, in case the oldest are busy.
const EVICT_SLACK: usize = 2;

/// A model client that always fails with `message` (an agent without a usable model).
pub(crate) fn failing_client(message: String) -> Arc<dyn ModelClient> {
    struct Failing(String);
    #[async_trait::async_trait]
    impl ModelClient for Failing {
        async fn stream(
            &self,
            _: ChatRequest,
            _: CancellationToken,
        ) -> Result<EventStream, ProviderError> {
            Err(ProviderError::Config(self.0.clone()))
        }
    }
    Arc::new(Failing(message))
}

/// The runtime handle the gateway holds (`Services.agent`).
pub struct AgentRuntime {
    inner: Arc<Inner>,
}

impl AgentRuntime {
    pub(crate) fn from_inner(inner: Arc<Inner>) -> AgentRuntime {
        AgentRuntime { inner }
    }

    /// Build from a config snapshot. Model clients are built here; session indexes open lazily
    /// on first use (or eagerly through [`open_stores`](Self::open_stores)).
    pub fn new(config: &LoadedConfig, paths: &Paths, env: &EnvMap) -> Arc<AgentRuntime> {
        Self::with_options(config, paths, env, RuntimeOptions::default())
    }

    pub fn with_options(
        config: &LoadedConfig,
        paths: &Paths,
        env: &EnvMap,
        options: RuntimeOptions,
    ) -> Arc<AgentRuntime> {
        let settings = RuntimeSettings::resolve(config, paths, env);
        let inner = Arc::new_cyclic(|me| Inner {
            settings: RwLock::new(Arc::new(settings)),
            stores: Mutex::new(HashMap::new()),
            sessions: Mutex::new(HashMap::new()),
            next_generation: Default::default(),
            use_tick: Default::default(),
            runs: RunRegistry::default(),
            sink: OnceLock::new(),
            jobs: Mutex::new(HashMap::new()),
            sandbox: OnceLock::new(),
            browsers: Arc::default(),
            options,
            me: me.clone(),
        });
        Arc::new(AgentRuntime { inner })
    }

    /// Where run events go; set once (the gateway maps them onto its bus). Later calls are
    /// ignored and return `false`.
    pub fn set_event_sink(&self, sink: Arc<dyn EventSink>) -> bool {
        self.inner.sink.set(sink).is_ok()
    }

    /// Share the gateway's sandbox manager (set once, before the first sandboxed turn).
    pub fn set_sandbox_manager(&self, manager: Arc<openclaw_sandbox::SandboxManager>) -> bool {
        self.inner.sandbox.set(manager).is_ok()
    }

    /// The sandbox manager sandboxed turns use.
    pub fn sandbox_manager(&self) -> Arc<openclaw_sandbox::SandboxManager> {
        self.inner.sandbox_manager()
    }

    /// Stop every browser the `browser` tool launched (gateway shutdown); attached browsers
    /// are only disconnected.
    pub async fn shutdown_browsers(&self) {
        self.inner.browsers.shutdown().await;
    }

    /// Swap in a new config snapshot (hot reload). Running turns finish on the old one.
    pub fn update_config(&self, config: &LoadedConfig, paths: &Paths, env: &EnvMap) {
        let settings = RuntimeSettings::resolve(config, paths, env);
        *self
            .inner
            .settings
            .write()
            .unwrap_or_else(|p| p.into_inner()) = Arc::new(settings);
    }

    /// Open every configured agent's session index now (so summaries are complete).
    pub async fn open_stores(&self) -> Result<(), RuntimeError> {
        for a in &self.inner.settings().agents.agents {
            self.inner.store(&a.id).await.map_err(RuntimeError::Store)?;
        }
        Ok(())
    }

    pub fn default_agent_id(&self) -> String {
        self.inner.settings().default_agent_id().to_string()
    }

    pub fn agent_ids(&self) -> Vec<String> {
        self.inner
            .settings()
            .agents
            .agents
            .iter()
            .map(|a| a.id.clone())
            .collect()
    }

    /// `agent:<id>:<mainKey>`.
    pub fn main_session_key(&self, agent_id: &str) -> String {
        self.inner.settings().agents.main_session_key(agent_id)
    }

    /// Canonical form of a client-supplied key (`main` → `agent:<default>:main`).
    pub fn canonical_key(&self, raw: &str) -> String {
        let s = self.inner.settings();
        session_key::canonicalize(raw, s.default_agent_id(), &s.agents.main_key)
    }

    /// `(agent id, canonical key)` for a request.
    pub fn resolve_target(
        &self,
        agent_id: Option<&str>,
        raw_key: Option<&str>,
    ) -> Result<(String, String), RuntimeError> {
        let s = self.inner.settings();
        let agent = match agent_id.map(str::trim).filter(|a| !a.is_empty()) {
            Some(a) => session_key::normalize_agent_id(a),
            None => match raw_key {
                Some(k) => session_key::agent_id_of(&self.canonical_key(k), s.default_agent_id()),
                None => s.default_agent_id().to_string(),
            },
        };
        if s.agent(&agent).is_none() {
            return Err(RuntimeError::UnknownAgent(agent));
        }
        let key = match raw_key.map(str::trim).filter(|k| !k.is_empty()) {
            Some(k) => {
                let k = k.to_lowercase();
                if k == "main" || k == s.agents.main_key {
                    s.agents.main_session_key(&agent)
                } else {
                    self.canonical_key(&k)
                }
            }
            None => s.agents.main_session_key(&agent),
        };
        Ok((agent, key))
    }

    /// Queue a message for a session. Idempotent on `run_id`.
    pub async fn submit(&self, req: RunRequest) -> Result<Submitted, RuntimeError> {
        if req.message.trim().is_empty() && req.media.is_empty() {
            return Err(RuntimeError::Invalid("message must not be empty".into()));
        }
        let (agent_id, key) =
            self.resolve_target(req.agent_id.as_deref(), req.session_key.as_deref())?;
        let run_id = req
            .run_id
            .filter(|r| !r.trim().is_empty())
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        if !self.inner.runs.register(&run_id, &key) {
            return Ok(match self.inner.runs.state(&run_id) {
                RunState::Done(o) => Submitted::Done(o),
                RunState::InFlight { session_key } => Submitted::InFlight {
                    run_id,
                    session_key,
                },
                RunState::Unknown => Submitted::InFlight {
                    run_id,
                    session_key: key,
                },
            });
        }
        let accepted_at = now_ms();
        let (mode, debounce) = self
            .inner
            .settings()
            .queue
            .for_message(req.queue_mode, req.channel.as_deref());
        let q = Queued {
            run_id: run_id.clone(),
            text: req.message,
            mode,
            extra_system: req.extra_system_prompt,
            debounce,
            media: req.media,
        };
        self.inner.send(&key, &agent_id, Op::Submit(q)).await?;
        Ok(Submitted::Accepted {
            run_id,
            session_key: key,
            accepted_at,
        })
    }

    /// Wait for a run's outcome; `None` if unknown or still running after `timeout`.
    pub async fn wait(&self, run_id: &str, timeout: Duration) -> Option<Arc<RunOutcome>> {
        self.inner.runs.wait(run_id, timeout).await
    }

    pub fn run_state(&self, run_id: &str) -> RunState {
        self.inner.runs.state(run_id)
    }

    /// Abort the session's active run (or only `run_id`) and drop its queued runs; returns the
    /// aborted run ids.
    pub async fn abort(
        &self,
        raw_key: &str,
        run_id: Option<&str>,
    ) -> Result<Vec<String>, RuntimeError> {
        let (agent, key) = self.resolve_target(None, Some(raw_key))?;
        if !lock(&self.inner.sessions).contains_key(&key) {
            return Ok(Vec::new());
        }
        let (ack, rx) = oneshot::channel();
        self.inner
            .send(
                &key,
                &agent,
                Op::Abort {
                    run_id: run_id.map(str::to_string),
                    ack,
                },
            )
            .await?;
        rx.await.map_err(|_| RuntimeError::Closed)
    }

    async fn ask<T>(
        &self,
        raw_key: &str,
        make: impl FnOnce(oneshot::Sender<Result<T, String>>) -> Op,
    ) -> Result<T, RuntimeError> {
        let (agent, key) = self.resolve_target(None, Some(raw_key))?;
        let (ack, rx) = oneshot::channel();
        self.inner.send(&key, &agent, make(ack)).await?;
        rx.await
            .map_err(|_| RuntimeError::Closed)?
            .map_err(RuntimeError::Store)
    }

    pub async fn reset(
        &self,
        raw_key: &str,
        reason: ResetReason,
    ) -> Result<SessionEntry, RuntimeError> {
        self.ask(raw_key, |ack| Op::Reset { reason, ack }).await
    }

    /// Remove a session (and its transcript when asked); `false` if it did not exist.
    pub async fn delete(
        &self,
        raw_key: &str,
        delete_transcript: bool,
    ) -> Result<bool, RuntimeError> {
        self.ask(raw_key, |ack| Op::Delete {
            delete_transcript,
            ack,
        })
        .await
    }

    pub async fn compact(&self, raw_key: &str, max_lines: usize) -> Result<Value, RuntimeError> {
        self.ask(raw_key, |ack| Op::Compact { max_lines, ack })
            .await
    }

    /// Append an assistant note to the transcript without a run; returns the entry id.
    pub async fn inject(
        &self,
        raw_key: &str,
        text: String,
        label: Option<String>,
    ) -> Result<String, RuntimeError> {
        self.ask(raw_key, |ack| Op::Inject { text, label, ack })
            .await
    }

    /// The session's messages (last `limit`), read from its transcript.
    pub async fn history(&self, raw_key: &str, limit: usize) -> Result<History, RuntimeError> {
        let (agent, key) = self.resolve_target(None, Some(raw_key))?;
        let store = self
            .inner
            .store(&agent)
            .await
            .map_err(RuntimeError::Store)?;
        let Some(entry) = store.get(&key) else {
            return Ok(History {
                session_key: key,
                session_id: None,
                messages: Vec::new(),
                thinking_level: None,
            });
        };
        let path = store.transcript_path(&entry);
        let (messages, thinking) = match openclaw_store::transcript::load(&path).await {
            Ok(t) => {
                let ctx = t.context();
                (t.messages(), ctx.thinking_level)
            }
            Err(openclaw_store::StoreError::Io { source, .. })
                if source.kind() == std::io::ErrorKind::NotFound =>
            {
                (Vec::new(), None)
            }
            Err(e) => return Err(RuntimeError::Store(e.to_string())),
        };
        let skip = messages.len().saturating_sub(limit.max(1));
        Ok(History {
            session_key: key,
            session_id: Some(entry.session_id.clone()),
            messages: messages.into_iter().skip(skip).collect(),
            thinking_level: entry.thinking_level.or(thinking),
        })
    }

    /// Rows of every agent's index (or one agent's), newest first.
    pub async fn list_sessions(
        &self,
        agent_id: Option<&str>,
    ) -> Result<Vec<SessionView>, RuntimeError> {
        let ids = match agent_id {
            Some(a) => vec![session_key::normalize_agent_id(a)],
            None => self.agent_ids(),
        };
        let active = self.inner.runs.active_by_session();
        let mut rows = Vec::new();
        for id in ids {
            let store = self.inner.store(&id).await.map_err(RuntimeError::Store)?;
            for (key, entry) in store.list() {
                rows.push(SessionView {
                    active_run_ids: active.get(&key).cloned().unwrap_or_default(),
                    key,
                    agent_id: id.clone(),
                    entry,
                });
            }
        }
        rows.sort_by_key(|r| std::cmp::Reverse(r.entry.updated_at));
        Ok(rows)
    }

    /// One session's index entry.
    pub async fn session(&self, raw_key: &str) -> Result<Option<SessionEntry>, RuntimeError> {
        let (agent, key) = self.resolve_target(None, Some(raw_key))?;
        let store = self
            .inner
            .store(&agent)
            .await
            .map_err(RuntimeError::Store)?;
        Ok(store.get(&key))
    }

    /// Apply `sessions.patch` fields (`null` clears). Returns the updated entry.
    pub async fn patch(&self, raw_key: &str, patch: &Value) -> Result<SessionEntry, RuntimeError> {
        let (agent, key) = self.resolve_target(None, Some(raw_key))?;
        let store = self
            .inner
            .store(&agent)
            .await
            .map_err(RuntimeError::Store)?;
        let text = |k: &str| -> Option<Option<String>> {
            patch
                .get(k)
                .map(|v| v.as_str().map(str::to_string).filter(|s| !s.is_empty()))
        };
        let model = match text("model") {
            Some(Some(m)) => Some(Some(
                openclaw_providers::resolve_model_ref(&m)
                    .map_err(|e| RuntimeError::Invalid(e.to_string()))?,
            )),
            Some(None) => Some(None),
            None => None,
        };
        let now = now_ms();
        Ok(store.update_or_insert(
            &key,
            || SessionEntry::fresh(now),
            |e| {
                if let Some(v) = text("label") {
                    e.label = v;
                }
                if let Some(v) = text("thinkingLevel") {
                    e.thinking_level = v;
                }
                if let Some(v) = text("verboseLevel") {
                    e.verbose_level = v;
                }
                if let Some(v) = text("reasoningLevel") {
                    e.reasoning_level = v;
                }
                if let Some(v) = text("elevatedLevel") {
                    e.elevated_level = v;
                }
                if let Some(m) = &model {
                    e.provider_override = m.as_ref().map(|r| r.provider.clone());
                    e.model_override = m.as_ref().map(|r| r.model.clone());
                }
                for k in ["sendPolicy", "responseUsage", "groupActivation", "execHost"] {
                    match patch.get(k) {
                        Some(Value::Null) => {
                            e.extra.remove(k);
                        }
                        Some(v) => {
                            e.extra.insert(k.to_string(), v.clone());
                        }
                        None => {}
                    }
                }
                e.clone()
            },
        ))
    }

    /// `{agentId, name, avatar?, emoji?}`: config identity first, then IDENTITY.md.
    pub async fn identity(&self, agent_id: Option<&str>) -> Result<Identity, RuntimeError> {
        let s = self.inner.settings();
        let id = agent_id
            .map(session_key::normalize_agent_id)
            .unwrap_or_else(|| s.default_agent_id().to_string());
        let a = s
            .agent(&id)
            .ok_or_else(|| RuntimeError::UnknownAgent(id.clone()))?;
        let path = a.info.workspace.join("IDENTITY.md");
        let (fname, femoji, favatar) = match tokio::fs::read_to_string(&path).await {
            Ok(t) => crate::prompt::parse_identity(&t),
            Err(_) => (None, None, None),
        };
        Ok(Identity {
            name: a.identity.name.clone().or(fname).or(a.info.name.clone()),
            emoji: a.identity.emoji.clone().or(femoji),
            avatar: a.identity.avatar.clone().or(favatar),
            agent_id: id,
        })
    }

    /// `{path, count, recent[]}` for one agent (the health/status summary).
    pub fn session_summary(&self, agent_id: &str) -> Value {
        let path = self.inner.settings().store_path(agent_id);
        let store = lock(&self.inner.stores)
            .get(agent_id)
            .and_then(|c| c.get().cloned());
        let now = now_ms();
        let (count, recent) = match store {
            Some(st) => {
                let mut rows = st.list();
                rows.sort_by_key(|r| std::cmp::Reverse(r.1.updated_at));
                let recent: Vec<Value> = rows
                    .iter()
                    .take(10)
                    .map(|(k, e)| json!({"key": k, "updatedAt": e.updated_at, "age": now.saturating_sub(e.updated_at)}))
                    .collect();
                (rows.len(), recent)
            }
            None => (0, Vec::new()),
        };
        json!({"path": path.display().to_string(), "count": count, "recent": recent})
    }

    /// `{modelProvider, model, contextTokens}` of the default agent's primary model.
    pub fn model_defaults(&self) -> Value {
        let s = self.inner.settings();
        let a = s.agent(s.default_agent_id());
        let (p, m) = a
            .and_then(|a| a.primary.clone())
            .map(|(p, m)| (Some(p), Some(m)))
            .unwrap_or((None, None));
        json!({"modelProvider": p, "model": m, "contextTokens": a.and_then(|a| a.context_window)})
    }

    /// Number of live session tasks (for diagnostics and tests).
    pub fn live_sessions(&self) -> usize {
        lock(&self.inner.sessions).len()
    }

    /// Flush every session index (graceful shutdown).
    pub async fn flush(&self) {
        let cells: Vec<_> = lock(&self.inner.stores).values().cloned().collect();
        for c in cells {
            if let Some(s) = c.get()
                && let Err(e) = s.flush().await
            {
                tracing::warn!(error = %e, "session index flush failed");
            }
        }
    }
}
