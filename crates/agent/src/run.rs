//! What a run emits and how it ends: the event sink seam, run outcomes, and the bounded
//! registry of runs that `agent.wait`, idempotent `chat.send` and `chat.abort` consult.
//!
//! The runtime never sees gateway types: it hands [`RuntimeEvent`]s (protocol payloads) to an
//! [`EventSink`], and the gateway maps them onto its bus.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use openclaw_protocol::events::{AgentEvent, ChatEvent};
use openclaw_protocol::message::Usage;
use serde_json::{Value, json};
use tokio::sync::watch;

/// One event of a run, as the protocol defines its payload.
#[derive(Debug, Clone, PartialEq)]
pub enum RuntimeEvent {
    Agent(AgentEvent),
    Chat(Box<ChatEvent>),
}

/// Where run events go. Must not block: called on the turn's hot path.
pub trait EventSink: Send + Sync {
    fn emit(&self, event: RuntimeEvent);
}

impl<F: Fn(RuntimeEvent) + Send + Sync> EventSink for F {
    fn emit(&self, event: RuntimeEvent) {
        self(event)
    }
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunStatus {
    Ok,
    Error,
    Aborted,
    Timeout,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Ok => "ok",
            RunStatus::Error => "error",
            RunStatus::Aborted => "aborted",
            RunStatus::Timeout => "timeout",
        }
    }
}

/// The result of one run (a turn, or a queued message answered by a coalesced turn).
#[derive(Debug, Clone, PartialEq)]
pub struct RunOutcome {
    pub run_id: String,
    pub session_key: String,
    pub session_id: String,
    pub status: RunStatus,
    /// Assistant texts of the run, one per assistant message with text.
    pub payloads: Vec<String>,
    pub error: Option<String>,
    pub provider: Option<String>,
    pub model: Option<String>,
    /// Usage of the last model call.
    pub usage: Usage,
    pub stop_reason: Option<String>,
    pub started_at: u64,
    pub ended_at: u64,
}

impl RunOutcome {
    /// The last assistant text (what a chat reply shows).
    pub fn text(&self) -> String {
        self.payloads.last().cloned().unwrap_or_default()
    }

    pub fn aborted(&self) -> bool {
        matches!(self.status, RunStatus::Aborted | RunStatus::Timeout)
    }

    /// The final `agent` response payload, shaped as the 2026.2.6 gateway answers it.
    pub fn to_agent_result(&self) -> Value {
        let u = &self.usage;
        let payloads: Vec<Value> = self
            .payloads
            .iter()
            .map(|t| json!({"text": t, "mediaUrl": null}))
            .collect();
        let (status, summary) = match self.status {
            RunStatus::Ok => ("ok", "completed".to_string()),
            RunStatus::Aborted => ("ok", "aborted".to_string()),
            RunStatus::Timeout => ("error", "timeout".to_string()),
            RunStatus::Error => (
                "error",
                self.error.clone().unwrap_or_else(|| "error".to_string()),
            ),
        };
        let mut out = json!({
            "runId": self.run_id,
            "status": status,
            "summary": summary,
            "result": {
                "payloads": payloads,
                "meta": {
                    "durationMs": self.ended_at.saturating_sub(self.started_at),
                    "agentMeta": {
                        "sessionId": self.session_id,
                        "provider": self.provider,
                        "model": self.model,
                        "usage": {"input": u.input, "output": u.output, "cacheRead": u.cache_read,
                                  "cacheWrite": u.cache_write,
                                  "total": u.input + u.output + u.cache_read + u.cache_write},
                    },
                    "aborted": self.aborted(),
                },
            },
        });
        if let Some(e) = &self.error {
            out["error"] = json!(e);
        }
        out
    }
}

/// How long finished runs stay answerable (`agent.wait`, duplicate `chat.send`).
pub const RUN_RETENTION: Duration = Duration::from_secs(600);
/// At most this many runs are remembered; the oldest finished ones go first.
pub const RUN_CAPACITY: usize = 4096;

struct RunEntry {
    session_key: String,
    started: Instant,
    outcome: watch::Sender<Option<Arc<RunOutcome>>>,
}

/// Known runs: in flight and recently finished. Bounded by [`RUN_CAPACITY`] and
/// [`RUN_RETENTION`].
#[derive(Default)]
pub struct RunRegistry {
    inner: Mutex<Registry>,
}

#[derive(Default)]
struct Registry {
    runs: HashMap<String, RunEntry>,
    order: VecDeque<String>,
}

/// State of a run id in the registry.
#[derive(Debug, Clone, PartialEq)]
pub enum RunState {
    Unknown,
    InFlight { session_key: String },
    Done(Arc<RunOutcome>),
}

impl RunRegistry {
    fn lock(&self) -> std::sync::MutexGuard<'_, Registry> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Register a new run; `false` if the id is already known (idempotent retry).
    pub fn register(&self, run_id: &str, session_key: &str) -> bool {
        let mut r = self.lock();
        if r.runs.contains_key(run_id) {
            return false;
        }
        r.prune();
        let (tx, _) = watch::channel(None);
        r.runs.insert(
            run_id.to_string(),
            RunEntry {
                session_key: session_key.to_string(),
                started: Instant::now(),
                outcome: tx,
            },
        );
        r.order.push_back(run_id.to_string());
        true
    }

    pub fn state(&self, run_id: &str) -> RunState {
        let r = self.lock();
        match r.runs.get(run_id) {
            None => RunState::Unknown,
            Some(e) => match e.outcome.borrow().clone() {
                Some(o) => RunState::Done(o),
                None => RunState::InFlight {
                    session_key: e.session_key.clone(),
                },
            },
        }
    }

    pub fn finish(&self, outcome: RunOutcome) {
        let r = self.lock();
        if let Some(e) = r.runs.get(&outcome.run_id) {
            e.outcome.send_replace(Some(Arc::new(outcome)));
        }
    }

    /// Wait for a run to end; `None` when unknown or still running after `timeout`.
    pub async fn wait(&self, run_id: &str, timeout: Duration) -> Option<Arc<RunOutcome>> {
        let mut rx = {
            let r = self.lock();
            r.runs.get(run_id)?.outcome.subscribe()
        };
        let fut = rx.wait_for(Option::is_some);
        match tokio::time::timeout(timeout, fut).await {
            Ok(Ok(v)) => v.clone(),
            _ => None,
        }
    }

    /// Ids of unfinished runs per session key.
    pub fn active_by_session(&self) -> BTreeMap<String, Vec<String>> {
        let r = self.lock();
        let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (id, e) in &r.runs {
            if e.outcome.borrow().is_none() {
                out.entry(e.session_key.clone())
                    .or_default()
                    .push(id.clone());
            }
        }
        out
    }
}

impl Registry {
    fn prune(&mut self) {
        while let Some(front) = self.order.front().cloned() {
            let Some(e) = self.runs.get(&front) else {
                self.order.pop_front();
                continue;
            };
            let done = e.outcome.borrow().is_some();
            let expired = e.started.elapsed() > RUN_RETENTION;
            if done && (expired || self.order.len() >= RUN_CAPACITY) {
                self.runs.remove(&front);
                self.order.pop_front();
            } else {
                break;
            }
        }
    }
}
