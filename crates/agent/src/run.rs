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
    /// Every run the same turn answered, oldest first (queued messages collected into one
    /// turn, steered ones); empty when the run was answered alone. A channel sends the reply
    /// once, for the newest of them.
    pub batch: Vec<String>,
}

impl RunOutcome {
    /// Whether this run carries its turn's reply: it ran alone, or it is the newest message
    /// the turn answered.
    pub fn carries_reply(&self) -> bool {
        self.batch.last().is_none_or(|last| *last == self.run_id)
    }

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

/// How long finished runs stay answerable (`agent.wait`, a retried idempotency key): the
/// baseline gateway's dedupe TTL.
pub const RUN_RETENTION: Duration = Duration::from_secs(300);
/// At most this many runs are remembered (the baseline's dedupe cap); the oldest finished
/// ones go first. Runs in flight always stay: someone may be waiting on them.
pub const RUN_CAPACITY: usize = 1000;

struct RunEntry {
    session_key: String,
    started: Instant,
    finished: Option<Instant>,
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
                finished: None,
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
        let mut r = self.lock();
        if let Some(e) = r.runs.get_mut(&outcome.run_id) {
            e.finished = Some(Instant::now());
            e.outcome.send_replace(Some(Arc::new(outcome)));
        }
    }

    /// Number of runs remembered (in flight and finished).
    pub fn len(&self) -> usize {
        self.lock().runs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
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
    /// Drop finished runs past their retention, and the oldest finished ones while full. A run
    /// in flight at the front moves to the back instead, so it cannot pin everything behind it.
    fn prune(&mut self) {
        let mut rotated = 0;
        while rotated < self.order.len() {
            let Some(front) = self.order.front() else {
                break;
            };
            let Some(e) = self.runs.get(front) else {
                self.order.pop_front();
                continue;
            };
            let full = self.runs.len() >= RUN_CAPACITY;
            let (expired, done) = match e.finished {
                Some(t) => (t.elapsed() > RUN_RETENTION, true),
                None => (e.started.elapsed() > RUN_RETENTION, false),
            };
            if !(full || expired) {
                break;
            }
            let Some(id) = self.order.pop_front() else {
                break;
            };
            if done {
                self.runs.remove(&id);
            } else {
                self.order.push_back(id);
                rotated += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(id: &str) -> RunOutcome {
        RunOutcome {
            run_id: id.into(),
            session_key: "k".into(),
            session_id: "s".into(),
            status: RunStatus::Ok,
            payloads: Vec::new(),
            error: None,
            provider: None,
            model: None,
            usage: Usage::default(),
            stop_reason: None,
            started_at: 0,
            ended_at: 0,
            batch: Vec::new(),
        }
    }

    #[test]
    fn finished_runs_are_capped_but_runs_in_flight_stay() {
        let reg = RunRegistry::default();
        // The oldest run never finishes (a long turn); it must not pin the rest.
        assert!(reg.register("long", "k"));
        for i in 0..RUN_CAPACITY * 3 {
            let id = format!("r{i}");
            assert!(reg.register(&id, "k"));
            reg.finish(outcome(&id));
        }
        assert!(reg.len() <= RUN_CAPACITY, "{}", reg.len());
        assert_eq!(
            reg.state("long"),
            RunState::InFlight {
                session_key: "k".into()
            }
        );
        let last = format!("r{}", RUN_CAPACITY * 3 - 1);
        assert!(matches!(reg.state(&last), RunState::Done(_)));
        assert_eq!(reg.state("r0"), RunState::Unknown);
    }
}
