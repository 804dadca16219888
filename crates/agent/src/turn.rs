//! One turn: the classic tool-use loop.
//!
//! Sample the model (streaming text deltas out as `agent`/`chat` events), stop when it asks for
//! no tools, otherwise run the tools (in parallel when it asked for several) and append their
//! results, then sample again. Steering messages that arrive during the run are injected at
//! the next model-call boundary: when one arrived while the model was answering, the tool
//! calls of that answer are skipped with a result saying so, and a steer that arrives while
//! the final answer streams makes the turn sample once more. Transcript lines are appended as
//! they happen and written out once at the end; the caller updates the session index.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use openclaw_protocol::events::{AgentEvent, AgentStream, ChatEvent, ChatState};
use openclaw_protocol::message::{
    AssistantMessage, ContentBlock, Message, ToolResultMessage, Usage,
};
use openclaw_protocol::now_ms;
use openclaw_providers::{
    Accumulator, ChatRequest, ModelClient, ProviderError, StopReason, StreamEvent,
    ToolSpec as ModelToolSpec,
};
use openclaw_store::TranscriptWriter;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use crate::queue::Steer;
use crate::run::{EventSink, RunOutcome, RunStatus, RuntimeEvent};
use crate::tools::{ToolContext, ToolOutput, ToolRouter};

/// Shortest gap between two `chat` delta events of a run; `agent` deltas are never held back.
const CHAT_DELTA_INTERVAL: Duration = Duration::from_millis(150);
/// Upper bound of model calls in one turn (a model stuck in a tool loop ends the turn).
const MAX_MODEL_CALLS: usize = 64;
/// Result text of a tool call skipped because the user steered the run (the baseline's words).
pub const SKIPPED_FOR_STEER: &str = "Skipped due to queued user message.";

/// The transcript handle and the model context, owned by the session and lent to a turn.
pub struct TurnState {
    pub writer: Arc<TranscriptWriter>,
    pub messages: Vec<Message>,
}

impl TurnState {
    /// Rough size of the context in memory, in bytes: its text plus a fixed cost per message
    /// and block (the struct, the strings' headers and the metadata strings).
    pub fn approx_bytes(&self) -> usize {
        const PER_MESSAGE: usize = 160;
        const PER_BLOCK: usize = 48;
        let blocks = |b: &[ContentBlock]| -> usize {
            b.iter()
                .map(|b| {
                    PER_BLOCK
                        + match b {
                            ContentBlock::Text { text } => text.len(),
                            ContentBlock::Thinking { thinking } => thinking.len(),
                            ContentBlock::ToolCall {
                                id,
                                name,
                                arguments,
                            } => id.len() + name.len() + arguments.to_string().len(),
                            other => serde_json::to_string(other).map_or(0, |s| s.len()),
                        }
                })
                .sum()
        };
        self.messages
            .iter()
            .map(|m| {
                PER_MESSAGE
                    + match m {
                        Message::User(u) => match &u.content {
                            openclaw_protocol::message::UserContent::Text(t) => t.len(),
                            openclaw_protocol::message::UserContent::Blocks(b) => blocks(b),
                        },
                        Message::Assistant(a) => blocks(&a.content),
                        Message::ToolResult(r) => {
                            blocks(&r.content)
                                + r.details.as_ref().map_or(0, |d| d.to_string().len())
                        }
                    }
            })
            .sum()
    }
}

/// Everything a turn needs besides its state.
pub struct TurnEnv {
    pub run_id: String,
    pub session_key: String,
    pub session_id: String,
    pub user_text: String,
    /// Blocks after the text in the user message (inbound images); empty = a plain text message.
    pub user_blocks: Vec<ContentBlock>,
    pub system: String,
    pub client: Arc<dyn ModelClient>,
    pub model_hint: String,
    pub router: ToolRouter,
    pub tool_ctx: ToolContext,
    pub sink: Arc<dyn EventSink>,
    pub cancel: CancellationToken,
    pub timeout: Option<Duration>,
    /// Messages steered into this run while it is active.
    pub steer: Arc<Mutex<Vec<Steer>>>,
}

/// What a turn hands back.
pub struct TurnResult {
    pub state: TurnState,
    pub outcome: RunOutcome,
    /// Run ids of steering messages this turn took in.
    pub steered: Vec<String>,
}

/// Numbers a run's events and sends them to the sink.
pub struct Emitter {
    sink: Arc<dyn EventSink>,
    run_id: String,
    session_key: String,
    seq: u64,
}

impl Emitter {
    pub fn new(sink: Arc<dyn EventSink>, run_id: &str, session_key: &str) -> Self {
        Self {
            sink,
            run_id: run_id.to_string(),
            session_key: session_key.to_string(),
            seq: 0,
        }
    }

    pub fn agent(&mut self, stream: AgentStream, data: Value) {
        self.seq += 1;
        self.sink.emit(RuntimeEvent::Agent(AgentEvent {
            run_id: self.run_id.clone(),
            stream,
            data,
            session_key: self.session_key.clone(),
            seq: self.seq,
            ts: now_ms(),
        }));
    }

    /// A `chat` event; it carries the seq of the latest `agent` event, as the baseline does.
    pub fn chat(&self, state: ChatState, message: Option<Message>, error: Option<String>) {
        self.sink.emit(RuntimeEvent::Chat(Box::new(ChatEvent {
            run_id: self.run_id.clone(),
            session_key: self.session_key.clone(),
            seq: self.seq,
            state,
            message,
            delta_text: None,
            stop_reason: None,
            usage: None,
            error_message: error,
            error_kind: None,
        })));
    }
}

/// The assistant text message a `chat` event carries.
pub fn text_message(text: &str) -> Message {
    Message::Assistant(AssistantMessage {
        content: vec![ContentBlock::text(text)],
        api: None,
        provider: None,
        model: None,
        usage: None,
        stop_reason: None,
        error_message: None,
        timestamp: now_ms(),
    })
}

/// Run one turn to its end (never panics on provider or tool failure).
pub async fn run(env: TurnEnv, mut state: TurnState) -> TurnResult {
    let started_at = now_ms();
    let mut em = Emitter::new(env.sink.clone(), &env.run_id, &env.session_key);
    em.agent(
        AgentStream::Lifecycle,
        json!({"phase": "start", "startedAt": started_at}),
    );
    let timed_out = Arc::new(AtomicBool::new(false));
    let timer = env.timeout.map(|t| {
        let cancel = env.cancel.clone();
        let flag = timed_out.clone();
        tokio::spawn(async move {
            tokio::time::sleep(t).await;
            flag.store(true, Ordering::SeqCst);
            cancel.cancel();
        })
    });
    let mut outcome = RunOutcome {
        run_id: env.run_id.clone(),
        session_key: env.session_key.clone(),
        session_id: env.session_id.clone(),
        status: RunStatus::Ok,
        payloads: Vec::new(),
        error: None,
        provider: None,
        model: None,
        usage: Usage::default(),
        stop_reason: None,
        started_at,
        ended_at: 0,
        batch: Vec::new(),
    };
    let mut steered = Vec::new();
    let user = if env.user_blocks.is_empty() {
        Message::user_text(env.user_text.clone(), started_at)
    } else {
        let mut blocks = vec![ContentBlock::text(env.user_text.clone())];
        blocks.extend(env.user_blocks.iter().cloned());
        Message::User(openclaw_protocol::message::UserMessage {
            content: openclaw_protocol::message::UserContent::Blocks(blocks),
            timestamp: started_at,
        })
    };
    let result = drive(&env, &mut state, &mut em, &mut outcome, &mut steered, user).await;
    if let Some(t) = timer {
        t.abort();
    }
    // Written, not synced: that survives `kill -9`; the sync happens when the session goes
    // idle or the gateway stops.
    if let Err(e) = state.writer.written().await {
        tracing::error!(session = %env.session_key, error = %e, "transcript write failed");
        if result.is_ok() {
            outcome.error = Some(format!("transcript write failed: {e}"));
            outcome.status = RunStatus::Error;
        }
    }
    if let Err(e) = result {
        outcome.error = Some(e);
        outcome.status = RunStatus::Error;
    }
    if env.cancel.is_cancelled() && outcome.status == RunStatus::Ok {
        outcome.status = RunStatus::Aborted;
    }
    if timed_out.load(Ordering::SeqCst) {
        outcome.status = RunStatus::Timeout;
        outcome.error = Some(format!(
            "run timed out after {}s; raise agents.defaults.timeoutSeconds for longer runs",
            env.timeout.map(|t| t.as_secs()).unwrap_or(0)
        ));
    }
    outcome.ended_at = now_ms();
    match outcome.status {
        RunStatus::Ok => {
            em.agent(
                AgentStream::Lifecycle,
                json!({"phase": "end", "endedAt": outcome.ended_at}),
            );
            em.chat(ChatState::Final, Some(text_message(&outcome.text())), None);
        }
        RunStatus::Aborted => {
            em.agent(
                AgentStream::Lifecycle,
                json!({"phase": "end", "endedAt": outcome.ended_at, "aborted": true}),
            );
            em.chat(
                ChatState::Aborted,
                Some(text_message(&outcome.text())),
                None,
            );
        }
        RunStatus::Error | RunStatus::Timeout => {
            let msg = outcome.error.clone().unwrap_or_else(|| "run failed".into());
            em.agent(
                AgentStream::Lifecycle,
                json!({"phase": "error", "endedAt": outcome.ended_at, "error": msg}),
            );
            em.chat(ChatState::Error, None, Some(msg));
        }
    }
    TurnResult {
        state,
        outcome,
        steered,
    }
}

async fn append(state: &mut TurnState, m: Message) -> Result<(), String> {
    state
        .writer
        .append_message(m.clone())
        .await
        .map_err(|e| format!("transcript write failed: {e}"))?;
    state.messages.push(m);
    Ok(())
}

/// The loop body. `Err` = the run failed (provider error, transcript failure).
async fn drive(
    env: &TurnEnv,
    state: &mut TurnState,
    em: &mut Emitter,
    outcome: &mut RunOutcome,
    steered: &mut Vec<String>,
    user: Message,
) -> Result<(), String> {
    append(state, user).await?;
    let tools: Vec<ModelToolSpec> = env
        .router
        .specs()
        .into_iter()
        .map(|t| ModelToolSpec {
            name: t.name,
            description: t.description,
            parameters: t.parameters,
        })
        .collect();
    for _ in 0..MAX_MODEL_CALLS {
        for q in take_steer(&env.steer) {
            steered.extend(q.run_id);
            append(state, Message::user_text(q.text, now_ms())).await?;
        }
        if env.cancel.is_cancelled() {
            return Ok(());
        }
        let mut req = ChatRequest::new(
            env.model_hint.clone(),
            env.system.clone(),
            state.messages.clone(),
        );
        req.tools = tools.clone();
        let msg = sample(env, em, req, outcome).await;
        let failed = msg.stop_reason.as_deref() == Some(StopReason::Error.as_str());
        let aborted = msg.stop_reason.as_deref() == Some(StopReason::Aborted.as_str());
        let error = msg.error_message.clone();
        let text = Message::Assistant(msg.clone()).text();
        if !text.is_empty() {
            outcome.payloads.push(text);
        }
        let calls: Vec<(String, String, Value)> = if failed || aborted {
            Vec::new()
        } else {
            msg.tool_calls()
                .map(|(id, name, args)| (id.to_string(), name.to_string(), args.clone()))
                .collect()
        };
        let mut msg = msg;
        if failed || aborted {
            // A call without its result would break the next request; keep only the text.
            msg.content
                .retain(|b| !matches!(b, ContentBlock::ToolCall { .. }));
        }
        if !(failed && msg.content.is_empty()) {
            append(state, Message::Assistant(msg)).await?;
        }
        if failed {
            return Err(error.unwrap_or_else(|| "model call failed".into()));
        }
        if aborted {
            return Ok(());
        }
        if calls.is_empty() {
            // The model is done, unless the user steered meanwhile: then it answers that too.
            if steer_waiting(&env.steer) {
                continue;
            }
            return Ok(());
        }
        for r in run_tools(env, em, calls).await {
            append(state, Message::ToolResult(r)).await?;
        }
    }
    Err(format!(
        "the model kept calling tools for {MAX_MODEL_CALLS} rounds; the turn was stopped"
    ))
}

fn take_steer(steer: &Mutex<Vec<Steer>>) -> Vec<Steer> {
    std::mem::take(&mut *steer.lock().unwrap_or_else(|p| p.into_inner()))
}

fn steer_waiting(steer: &Mutex<Vec<Steer>>) -> bool {
    !steer.lock().unwrap_or_else(|p| p.into_inner()).is_empty()
}

/// One model call, streamed; returns the finished assistant message (errors are folded into
/// it as `stopReason: "error"`).
async fn sample(
    env: &TurnEnv,
    em: &mut Emitter,
    req: ChatRequest,
    outcome: &mut RunOutcome,
) -> AssistantMessage {
    let mut acc = Accumulator::new();
    let mut text = String::new();
    let mut last_chat: Option<Instant> = None;
    let stream = tokio::select! {
        s = env.client.stream(req, env.cancel.clone()) => s,
        _ = env.cancel.cancelled() => Err(ProviderError::Aborted),
    };
    match stream {
        Err(e) => acc.fail(&e),
        Ok(mut stream) => loop {
            let next = tokio::select! {
                n = stream.next() => n,
                _ = env.cancel.cancelled() => {
                    acc.fail(&ProviderError::Aborted);
                    break;
                }
            };
            match next {
                None => break,
                Some(Err(e)) => {
                    acc.fail(&e);
                    break;
                }
                Some(Ok(ev)) => {
                    match &ev {
                        StreamEvent::TextDelta(d) => {
                            text.push_str(d);
                            em.agent(AgentStream::Assistant, json!({"text": text, "delta": d}));
                            if last_chat.is_none_or(|t| t.elapsed() >= CHAT_DELTA_INTERVAL) {
                                last_chat = Some(Instant::now());
                                em.chat(ChatState::Delta, Some(text_message(&text)), None);
                            }
                        }
                        StreamEvent::ModelSelected {
                            provider, model, ..
                        } => {
                            outcome.provider = Some(provider.clone());
                            outcome.model = Some(model.clone());
                        }
                        StreamEvent::Usage(u) => outcome.usage = *u,
                        _ => {}
                    }
                    acc.push(&ev);
                }
            }
        },
    }
    let msg = acc.finish(now_ms());
    outcome.stop_reason = msg.stop_reason.clone();
    msg
}

/// Run the calls of one assistant message, in parallel when it asked for several, with tool
/// events around each. When a steering message is already waiting, none of them starts: each
/// still gets a result (an error saying why), so every call in the transcript stays paired and
/// the model sees the user's message next.
async fn run_tools(
    env: &TurnEnv,
    em: &mut Emitter,
    calls: Vec<(String, String, Value)>,
) -> Vec<ToolResultMessage> {
    for (id, name, args) in &calls {
        em.agent(
            AgentStream::Tool,
            json!({"phase": "start", "name": name, "toolCallId": id, "args": args}),
        );
    }
    let skip = steer_waiting(&env.steer);
    let futs = calls.iter().map(|(_, name, args)| async move {
        if skip {
            ToolOutput::error(SKIPPED_FOR_STEER)
        } else {
            env.router
                .dispatch(&env.tool_ctx, name, args.clone(), env.cancel.child_token())
                .await
        }
    });
    let outputs = futures::future::join_all(futs).await;
    calls
        .into_iter()
        .zip(outputs)
        .map(|((id, name, _), out)| {
            em.agent(
                AgentStream::Tool,
                json!({"phase": "result", "name": name, "toolCallId": id,
                       "isError": out.is_error,
                       "result": {"content": out.content, "details": out.details}}),
            );
            ToolResultMessage {
                tool_call_id: id,
                tool_name: name,
                content: out.content,
                details: out.details,
                is_error: out.is_error,
                timestamp: now_ms(),
            }
        })
        .collect()
}
