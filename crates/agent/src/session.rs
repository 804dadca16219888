//! One task per session key: it owns the open transcript and the model context, runs one turn
//! at a time, and queues what arrives meanwhile (collect / followup / steer / steer-backlog /
//! interrupt). Queued messages start their turn after `debounceMs` of quiet.
//!
//! Callers talk to it through a bounded channel of [`Op`]s. A task with nothing to do for
//! `idle_ttl`, or asked to make room ([`Op::Evict`]) while idle, closes its transcript and
//! exits; the runtime respawns it on the next op and the transcript is reloaded, so thousands
//! of quiet sessions cost no tasks and no open files.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use openclaw_protocol::events::{AgentStream, ChatState};
use openclaw_protocol::message::{AssistantMessage, ContentBlock, Message};
use openclaw_protocol::now_ms;
use openclaw_store::{ResetReason, SessionEntry, SessionStore, TranscriptWriter};
use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::prompt::{self, PromptInput};
use crate::queue::{Batch, PendingQueue, PushOutcome, Queued, Steer};
use crate::run::{RunOutcome, RunStatus};
use crate::runtime::Inner;
use crate::settings::{AgentRuntimeInfo, QueueModeSetting, RuntimeSettings};
use crate::tools::ToolContext;
use crate::turn::{self, Emitter, TurnEnv, TurnResult, TurnState};

/// Ops queued per session before `send` waits (backpressure on a flooding caller).
pub const OP_CAPACITY: usize = 64;

pub(crate) type Ack<T> = oneshot::Sender<Result<T, String>>;

/// A request to a session task.
pub(crate) enum Op {
    Submit(Queued),
    Abort {
        run_id: Option<String>,
        ack: oneshot::Sender<Vec<String>>,
    },
    Reset {
        reason: ResetReason,
        ack: Ack<SessionEntry>,
    },
    Delete {
        delete_transcript: bool,
        ack: Ack<bool>,
    },
    Compact {
        max_lines: usize,
        ack: Ack<Value>,
    },
    Inject {
        text: String,
        label: Option<String>,
        ack: Ack<String>,
    },
    /// The runtime has too many live sessions: exit if idle (ignored while busy).
    Evict,
}

struct Active {
    run_ids: Vec<String>,
    cancel: CancellationToken,
    steer: Arc<Mutex<Vec<Steer>>>,
    join: JoinHandle<TurnResult>,
}

struct Session {
    rt: Arc<Inner>,
    key: String,
    agent_id: String,
    state: Option<TurnState>,
    /// The transcript is open but the context was dropped to save memory (over
    /// `history_budget_bytes`); the next turn reloads it.
    cold: bool,
    session_id: String,
    pending: PendingQueue,
    deferred: Vec<Op>,
}

enum Wake {
    Done(Box<Result<TurnResult, tokio::task::JoinError>>),
    Op(Option<Op>),
    /// The queue's quiet window ended.
    Ready,
    Idle,
}

async fn join_active(active: &mut Option<Active>) -> Result<TurnResult, tokio::task::JoinError> {
    match active {
        Some(a) => (&mut a.join).await,
        None => std::future::pending().await,
    }
}

/// The session task body.
pub(crate) async fn run_session(
    rt: Arc<Inner>,
    key: String,
    agent_id: String,
    mut rx: mpsc::Receiver<Op>,
    generation: u64,
) {
    let mut s = Session {
        rt: rt.clone(),
        key: key.clone(),
        agent_id,
        state: None,
        cold: false,
        session_id: String::new(),
        pending: PendingQueue::default(),
        deferred: Vec::new(),
    };
    let mut active: Option<Active> = None;
    loop {
        if active.is_none() {
            s.start_ready(&mut active).await;
        }
        let idle = active.is_none() && s.pending.is_empty();
        let ready_at = s.pending.ready_at().filter(|_| active.is_none());
        let wake = tokio::select! {
            r = join_active(&mut active) => Wake::Done(Box::new(r)),
            op = rx.recv() => Wake::Op(op),
            _ = sleep_until(ready_at), if ready_at.is_some() => Wake::Ready,
            _ = tokio::time::sleep(rt.options.idle_ttl), if idle => Wake::Idle,
        };
        match wake {
            Wake::Done(r) => {
                if let Some(a) = active.take() {
                    s.finish(a, *r).await;
                }
            }
            Wake::Op(Some(Op::Evict)) if idle && s.deferred.is_empty() => {
                s.drain_and_close(&mut rx, &mut active).await;
                break;
            }
            Wake::Op(Some(op)) => s.on_op(op, &mut active).await,
            Wake::Op(None) => break,
            Wake::Ready => {}
            Wake::Idle => {
                s.drain_and_close(&mut rx, &mut active).await;
                break;
            }
        }
    }
    s.close_transcript().await;
    rt.session_exited(&key, generation);
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(t) => tokio::time::sleep_until(t.into()).await,
        None => std::future::pending().await,
    }
}

impl Session {
    fn settings(&self) -> Arc<RuntimeSettings> {
        self.rt.settings()
    }

    /// With no turn running: serve deferred ops, then start queued turns whose quiet window
    /// has passed.
    async fn start_ready(&mut self, active: &mut Option<Active>) {
        for op in std::mem::take(&mut self.deferred) {
            self.on_op(op, active).await;
        }
        while active.is_none() && self.pending.is_ready(Instant::now()) {
            let Some(batch) = self.pending.next_batch() else {
                break;
            };
            *active = self.start(batch).await;
        }
    }

    /// Refuse new ops, then serve whatever slipped in before the close, to the end.
    async fn drain_and_close(&mut self, rx: &mut mpsc::Receiver<Op>, active: &mut Option<Active>) {
        rx.close();
        while let Ok(op) = rx.try_recv() {
            self.on_op(op, active).await;
        }
        while active.is_some() || !self.pending.is_empty() || !self.deferred.is_empty() {
            if active.is_none() {
                if let Some(t) = self.pending.ready_at() {
                    tokio::time::sleep_until(t.into()).await;
                }
                self.start_ready(active).await;
                continue;
            }
            let r = join_active(active).await;
            if let Some(a) = active.take() {
                self.finish(a, r).await;
            }
        }
    }

    async fn store(&self) -> Result<SessionStore, String> {
        self.rt.store(&self.agent_id).await
    }

    fn finish_run(&self, run_id: &str, status: RunStatus, error: Option<String>) {
        let now = now_ms();
        self.rt.runs.finish(RunOutcome {
            run_id: run_id.to_string(),
            session_key: self.key.clone(),
            session_id: self.session_id.clone(),
            status,
            payloads: Vec::new(),
            error,
            provider: None,
            model: None,
            usage: Default::default(),
            stop_reason: None,
            started_at: now,
            ended_at: now,
            batch: Vec::new(),
        });
    }

    async fn on_op(&mut self, op: Op, active: &mut Option<Active>) {
        match op {
            Op::Submit(q) => self.submit(q, active),
            Op::Abort { run_id, ack } => {
                let mut aborted = Vec::new();
                if let Some(a) = active.as_ref()
                    && run_id.as_ref().is_none_or(|r| a.run_ids.contains(r))
                {
                    a.cancel.cancel();
                    aborted.extend(a.run_ids.iter().cloned());
                }
                let removed = match &run_id {
                    Some(r) if self.pending.remove(r) => vec![r.clone()],
                    Some(_) => Vec::new(),
                    None => self.pending.clear(),
                };
                for r in &removed {
                    self.finish_run(r, RunStatus::Aborted, None);
                }
                aborted.extend(removed);
                let _ = ack.send(aborted);
            }
            Op::Reset { reason, ack } => {
                self.stop_active(active).await;
                let _ = ack.send(self.reset(reason).await);
            }
            Op::Delete {
                delete_transcript,
                ack,
            } => {
                self.stop_active(active).await;
                let _ = ack.send(self.delete(delete_transcript).await);
            }
            op @ (Op::Compact { .. } | Op::Inject { .. }) if active.is_some() => {
                self.deferred.push(op)
            }
            Op::Compact { max_lines, ack } => {
                let _ = ack.send(self.compact(max_lines).await);
            }
            Op::Inject { text, label, ack } => {
                let _ = ack.send(self.inject(text, label).await);
            }
            // Busy (or closing anyway): a busy session is not evicted.
            Op::Evict => {}
        }
    }

    fn submit(&mut self, q: Queued, active: &mut Option<Active>) {
        let settings = self.settings();
        let mut behind = !self.pending.is_empty();
        let mut q = q;
        // Media are staged and inlined when a turn starts, so a message with media never
        // steers into a running turn: it waits for its own.
        if !q.media.is_empty()
            && matches!(
                q.mode,
                QueueModeSetting::Steer | QueueModeSetting::SteerBacklog
            )
        {
            q.mode = QueueModeSetting::Followup;
        }
        if let Some(a) = active.as_ref() {
            behind = true;
            match q.mode {
                QueueModeSetting::Interrupt => {
                    a.cancel.cancel();
                    for r in self.pending.clear() {
                        self.finish_run(&r, RunStatus::Aborted, None);
                    }
                    // The newest message runs as soon as the aborted turn has ended.
                    behind = false;
                }
                QueueModeSetting::Steer => {
                    lock_steer(&a.steer).push(Steer {
                        run_id: Some(q.run_id),
                        text: q.text,
                    });
                    return;
                }
                QueueModeSetting::SteerBacklog => {
                    // Steer now, and keep the message for a follow-up turn of its own.
                    lock_steer(&a.steer).push(Steer {
                        run_id: None,
                        text: q.text.clone(),
                    });
                    q.mode = QueueModeSetting::Followup;
                }
                QueueModeSetting::Collect | QueueModeSetting::Followup => {}
            }
        }
        let run_id = q.run_id.clone();
        let outcome = if behind {
            self.pending.push_behind(q, &settings.queue, Instant::now())
        } else {
            self.pending.push(q, &settings.queue)
        };
        match outcome {
            PushOutcome::Queued => {}
            PushOutcome::QueuedDropping(dropped) => {
                for r in dropped {
                    self.finish_run(
                        &r,
                        RunStatus::Error,
                        Some("dropped: the session queue was full (messages.queue.cap)".into()),
                    );
                }
            }
            PushOutcome::Rejected => self.finish_run(
                &run_id,
                RunStatus::Error,
                Some("rejected: the session queue is full (messages.queue.cap, drop: new); try again when the current run ends".into()),
            ),
        }
    }

    /// Cancel the running turn and wait for it to hand back the transcript.
    async fn stop_active(&mut self, active: &mut Option<Active>) {
        if let Some(a) = active.take() {
            a.cancel.cancel();
            let mut a = a;
            let r = (&mut a.join).await;
            self.finish(a, r).await;
        }
    }

    async fn finish(&mut self, a: Active, r: Result<TurnResult, tokio::task::JoinError>) {
        // Steers the turn did not take in (it ended first) run as follow-ups; the copies that
        // `steer-backlog` injected are dropped, their follow-up is already queued.
        let leftover: Vec<Queued> = std::mem::take(&mut *lock_steer(&a.steer))
            .into_iter()
            .filter_map(|st| {
                Some(Queued {
                    run_id: st.run_id?,
                    text: st.text,
                    mode: QueueModeSetting::Followup,
                    extra_system: None,
                    debounce: std::time::Duration::ZERO,
                    media: Vec::new(),
                })
            })
            .collect();
        if !leftover.is_empty() {
            self.pending.push_front_all(leftover);
        }
        match r {
            Ok(TurnResult {
                state,
                outcome,
                steered,
            }) => {
                self.keep_state(state);
                self.record_usage(&outcome).await;
                let batch: Vec<String> = a.run_ids.iter().chain(steered.iter()).cloned().collect();
                let batch = if batch.len() > 1 { batch } else { Vec::new() };
                for id in a.run_ids.iter().chain(steered.iter()) {
                    let mut o = outcome.clone();
                    o.run_id = id.clone();
                    o.batch = batch.clone();
                    self.rt.runs.finish(o);
                }
            }
            Err(e) => {
                tracing::error!(session = %self.key, error = %e, "turn task failed");
                self.state = None;
                for id in &a.run_ids {
                    self.finish_run(
                        id,
                        RunStatus::Error,
                        Some(format!("the turn failed internally: {e}")),
                    );
                }
            }
        }
    }

    async fn record_usage(&self, o: &RunOutcome) {
        let Ok(store) = self.store().await else {
            return;
        };
        let window = self
            .settings()
            .agent(&self.agent_id)
            .and_then(|a| a.context_window);
        let now = now_ms();
        let sid = self.session_id.clone();
        store.update_or_insert(
            &self.key,
            || SessionEntry::new(sid, now),
            |e| {
                e.updated_at = now;
                if o.usage != Default::default() {
                    e.input_tokens = Some(o.usage.input);
                    e.output_tokens = Some(o.usage.output);
                    e.total_tokens = Some(o.usage.input + o.usage.cache_read + o.usage.cache_write);
                }
                if o.provider.is_some() {
                    e.model_provider = o.provider.clone();
                    e.model = o.model.clone();
                }
                if window.is_some() {
                    e.context_tokens = window;
                }
                e.aborted_last_run = Some(o.aborted());
            },
        );
    }

    /// Take the state back from a turn; drop its context if it outgrew the memory budget.
    fn keep_state(&mut self, mut state: TurnState) {
        if state.approx_bytes() > self.rt.options.history_budget_bytes {
            state.messages = Vec::new();
            self.cold = true;
        }
        self.state = Some(state);
    }

    /// Reload the context of an open transcript from the file (the file is the truth).
    async fn reload_context(&mut self) -> Result<(), String> {
        let Some(st) = self.state.as_mut() else {
            return Ok(());
        };
        st.writer
            .written()
            .await
            .map_err(|e| format!("cannot write the transcript: {e}"))?;
        let t = openclaw_store::transcript::load(st.writer.path())
            .await
            .map_err(|e| format!("cannot reload the transcript: {e}"))?;
        st.messages = t.context().messages;
        self.cold = false;
        Ok(())
    }

    /// Open the transcript (creating the index entry when missing) with the context loaded.
    async fn ensure_open(&mut self, agent: &AgentRuntimeInfo) -> Result<(), String> {
        if self.state.is_some() {
            if self.cold {
                self.reload_context().await?;
            }
            return Ok(());
        }
        let store = self.store().await?;
        let now = now_ms();
        let entry = store.update_or_insert(&self.key, || SessionEntry::fresh(now), |e| e.clone());
        let path = store.transcript_path(&entry);
        let ws = agent.info.workspace.clone();
        let ws2 = ws.clone();
        tokio::task::spawn_blocking(move || std::fs::create_dir_all(&ws2))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| format!("cannot create the workspace {}: {e}", ws.display()))?;
        let (writer, transcript) =
            TranscriptWriter::open(&path, &entry.session_id, &ws.display().to_string())
                .await
                .map_err(|e| format!("cannot open the transcript: {e}"))?;
        self.session_id = entry.session_id;
        self.cold = false;
        self.state = Some(TurnState {
            writer: Arc::new(writer),
            messages: transcript.context().messages,
        });
        Ok(())
    }

    async fn close_transcript(&mut self) {
        self.cold = false;
        if let Some(st) = self.state.take()
            && let Err(e) = st.writer.close().await
        {
            tracing::warn!(session = %self.key, error = %e, "closing transcript failed");
        }
    }

    /// Start a turn for `batch`; `None` when it finished without a model call.
    async fn start(&mut self, batch: Batch) -> Option<Active> {
        let settings = self.settings();
        let mut text = batch.text.clone();
        if let Some(trigger) = openclaw_store::detect_trigger(&text, &settings.reset_triggers) {
            if let Err(e) = self.reset(trigger.reason()).await {
                self.fail_batch(&batch, e);
                return None;
            }
            if trigger.rest.is_empty() {
                self.reply_without_model(&batch, "New session started.");
                return None;
            }
            text = trigger.rest;
        } else if let Ok(store) = self.store().await
            && let Some(entry) = store.get(&self.key)
            && let Some(reason) =
                openclaw_store::needs_reset(&entry, &chrono::Local::now(), &settings.reset_rules)
            && let Err(e) = self.reset(reason).await
        {
            self.fail_batch(&batch, e);
            return None;
        }
        let Some(agent) = settings.agent(&self.agent_id).cloned() else {
            self.fail_batch(&batch, format!("unknown agent {:?}", self.agent_id));
            return None;
        };
        if let Err(e) = self.ensure_open(&agent).await {
            self.fail_batch(&batch, e);
            return None;
        }
        let mut tool_ctx = match ToolContext::host(
            &self.agent_id,
            &agent.info.workspace,
            agent.fs,
            self.rt.jobs(&self.agent_id),
        ) {
            Ok(c) => c,
            Err(e) => {
                self.fail_batch(&batch, format!("cannot prepare tools: {e}"));
                return None;
            }
        };
        tool_ctx.session_key = Some(self.key.clone());
        tool_ctx.exec_settings = agent.exec.clone();
        tool_ctx.sessions = Some(self.rt.sessions_api());
        // Sandboxed sessions: tools run in the session's container, under the sandbox policy.
        let mut router = agent.router.clone();
        let mut sandbox_view = None;
        match &agent.sandbox {
            Ok(sb) if sb.is_sandboxed(&self.key) => {
                sandbox_view = Some(prompt::SandboxView {
                    workdir: sb.spec.docker.workdir.clone(),
                    workspace_access: sb.spec.workspace_access.as_str().to_string(),
                    network: sb.spec.docker.network.clone(),
                });
                let opts = crate::sandbox_backend::SandboxToolOptions::default();
                let manager = self.rt.sandbox_manager();
                tool_ctx = crate::sandbox_backend::agent_tool_context(
                    &manager, sb, &self.key, tool_ctx, &opts,
                )
                .await;
                if let Some(r) = &agent.sandbox_router {
                    router = r.clone();
                }
            }
            Ok(_) => {}
            Err(e) => tool_ctx = crate::sandbox_backend::refusing_tool_context(tool_ctx, e),
        }
        tool_ctx.browser = Some(crate::tools::browser::BrowserAccess::for_session(
            self.rt.browsers.clone(),
            settings.browser.clone(),
            &agent.sandbox,
            || self.rt.sandbox_manager(),
            &self.key,
        ));
        let (text, user_blocks) =
            crate::media::for_turn(&self.rt, &agent, &self.key, &batch.media, text).await;
        let model_label = agent.primary.as_ref().map(|(p, m)| format!("{p}/{m}"));
        let system = prompt::build(PromptInput {
            agent_id: self.agent_id.clone(),
            workspace: agent.info.workspace.clone(),
            tools: router.specs(),
            model: model_label,
            max_chars_per_file: settings.bootstrap_max_chars,
            skip_files: settings.skip_bootstrap,
            timezone: settings.user_timezone.clone(),
            extra: batch.extra_system.clone(),
            sandbox: sandbox_view,
        })
        .await;
        let client = match &agent.client {
            Ok(c) => c.clone(),
            Err(e) => crate::runtime::failing_client(e.clone()),
        };
        let state = self.state.take()?;
        let cancel = CancellationToken::new();
        let steer = Arc::new(Mutex::new(Vec::new()));
        let env = TurnEnv {
            run_id: batch.run_ids.first().cloned().unwrap_or_default(),
            session_key: self.key.clone(),
            session_id: self.session_id.clone(),
            user_text: text,
            user_blocks,
            system,
            client,
            model_hint: agent.primary.map(|(_, m)| m).unwrap_or_default(),
            router,
            tool_ctx,
            sink: self.rt.sink(),
            cancel: cancel.clone(),
            timeout: settings.run_timeout,
            steer: steer.clone(),
        };
        let join = tokio::spawn(turn::run(env, state));
        Some(Active {
            run_ids: batch.run_ids,
            cancel,
            steer,
            join,
        })
    }

    fn fail_batch(&self, batch: &Batch, error: String) {
        let mut em = Emitter::new(
            self.rt.sink(),
            batch.run_ids.first().map(String::as_str).unwrap_or(""),
            &self.key,
        );
        em.agent(
            AgentStream::Lifecycle,
            json!({"phase": "error", "endedAt": now_ms(), "error": error}),
        );
        em.chat(ChatState::Error, None, Some(error.clone()));
        for id in &batch.run_ids {
            self.finish_run(id, RunStatus::Error, Some(error.clone()));
        }
    }

    fn reply_without_model(&self, batch: &Batch, text: &str) {
        let first = batch.run_ids.first().map(String::as_str).unwrap_or("");
        let mut em = Emitter::new(self.rt.sink(), first, &self.key);
        let now = now_ms();
        em.agent(
            AgentStream::Lifecycle,
            json!({"phase": "start", "startedAt": now}),
        );
        em.agent(
            AgentStream::Lifecycle,
            json!({"phase": "end", "endedAt": now}),
        );
        em.chat(ChatState::Final, Some(turn::text_message(text)), None);
        for id in &batch.run_ids {
            self.rt.runs.finish(RunOutcome {
                run_id: id.clone(),
                session_key: self.key.clone(),
                session_id: self.session_id.clone(),
                status: RunStatus::Ok,
                payloads: vec![text.to_string()],
                error: None,
                provider: None,
                model: None,
                usage: Default::default(),
                stop_reason: Some("stop".into()),
                started_at: now,
                ended_at: now,
                batch: if batch.run_ids.len() > 1 {
                    batch.run_ids.clone()
                } else {
                    Vec::new()
                },
            });
        }
    }

    async fn reset(&mut self, reason: ResetReason) -> Result<SessionEntry, String> {
        self.close_transcript().await;
        let store = self.store().await?;
        let out = openclaw_store::reset_session(&store, &self.key, reason, chrono::Utc::now())
            .await
            .map_err(|e| e.to_string())?;
        self.session_id = out.entry.session_id.clone();
        Ok(out.entry)
    }

    async fn delete(&mut self, delete_transcript: bool) -> Result<bool, String> {
        self.close_transcript().await;
        let store = self.store().await?;
        let Some(entry) = store.remove(&self.key) else {
            return Ok(false);
        };
        if delete_transcript {
            let path = store.transcript_path(&entry);
            match tokio::fs::remove_file(&path).await {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(format!("cannot delete {}: {e}", path.display())),
            }
        }
        Ok(true)
    }

    async fn open_for_op(&mut self) -> Result<(), String> {
        let settings = self.settings();
        let agent = settings
            .agent(&self.agent_id)
            .cloned()
            .ok_or_else(|| format!("unknown agent {:?}", self.agent_id))?;
        self.ensure_open(&agent).await
    }

    async fn compact(&mut self, max_lines: usize) -> Result<Value, String> {
        self.open_for_op().await?;
        let Some(st) = self.state.as_mut() else {
            return Err("session is not open".into());
        };
        st.writer.flush().await.map_err(|e| e.to_string())?;
        let t = openclaw_store::transcript::load(st.writer.path())
            .await
            .map_err(|e| e.to_string())?;
        let ids: Vec<String> = t
            .branch()
            .into_iter()
            .filter(|e| e.message().is_some())
            .map(|e| e.id.clone())
            .collect();
        if ids.len() <= max_lines.max(1) {
            return Ok(json!({"ok": true, "key": self.key, "compacted": false, "kept": ids.len()}));
        }
        let removed = ids.len() - max_lines.max(1);
        let first_kept = &ids[removed];
        st.writer
            .append_compaction(
                &format!(
                    "{removed} earlier message(s) were compacted away to keep the context small."
                ),
                first_kept,
                0,
            )
            .await
            .map_err(|e| e.to_string())?;
        st.writer.flush().await.map_err(|e| e.to_string())?;
        let t = openclaw_store::transcript::load(st.writer.path())
            .await
            .map_err(|e| e.to_string())?;
        st.messages = t.context().messages;
        if let Ok(store) = self.store().await {
            store.update(&self.key, |e| {
                e.compaction_count = Some(e.compaction_count.unwrap_or(0) + 1)
            });
        }
        Ok(
            json!({"ok": true, "key": self.key, "compacted": true, "kept": max_lines.max(1), "removed": removed}),
        )
    }

    async fn inject(&mut self, text: String, label: Option<String>) -> Result<String, String> {
        self.open_for_op().await?;
        let Some(st) = self.state.as_mut() else {
            return Err("session is not open".into());
        };
        let body = match label.as_deref().filter(|l| !l.trim().is_empty()) {
            Some(l) => format!("[{l}]\n\n{text}"),
            None => text,
        };
        let msg = Message::Assistant(AssistantMessage {
            content: vec![ContentBlock::text(body.clone())],
            api: Some("openai-responses".into()),
            provider: Some("openclaw".into()),
            model: Some("gateway-injected".into()),
            usage: None,
            stop_reason: Some("stop".into()),
            error_message: None,
            timestamp: now_ms(),
        });
        let id = st
            .writer
            .append_message(msg.clone())
            .await
            .map_err(|e| e.to_string())?;
        st.writer.flush().await.map_err(|e| e.to_string())?;
        st.messages.push(msg);
        let run_id = format!("inject-{}", uuid::Uuid::new_v4());
        Emitter::new(self.rt.sink(), &run_id, &self.key).chat(
            ChatState::Final,
            Some(turn::text_message(&body)),
            None,
        );
        Ok(id)
    }
}

fn lock_steer(steer: &Mutex<Vec<Steer>>) -> std::sync::MutexGuard<'_, Vec<Steer>> {
    steer.lock().unwrap_or_else(|p| p.into_inner())
}
