//! OpenAI-compatible HTTP: `POST /v1/chat/completions` and `GET /v1/models`, served only when
//! `gateway.http.endpoints.chatCompletions.enabled` is true.
//!
//! `model` names an agent, not a provider model (`openclaw`, `openclaw/<agentId>`,
//! `openclaw:<agentId>`, `agent:<agentId>`). Each request is a fresh session unless the caller
//! sends `user` (a stable derived key) or `x-openclaw-session-key`. Streaming answers are SSE
//! chunks in OpenAI's format, built from the run's `agent` events on the bus, ending with
//! `data: [DONE]`. Bearer auth is the gateway's shared secret; callers get full operator access.

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use openclaw_agent::{RunRequest, RunStatus, Submitted};
use openclaw_protocol::now_ms;
use serde_json::{Value, json};
use tokio::sync::broadcast;

use crate::events::BusEvent;
use crate::state::SharedState;

/// Longest a completion waits for its run (the run has its own timeout too).
const COMPLETION_WAIT: Duration = Duration::from_secs(172_800 + 60);
/// How often a streaming response re-checks the run when no event arrived.
const STREAM_POLL: Duration = Duration::from_millis(500);

fn error(status: StatusCode, kind: &str, message: impl Into<String>) -> Response {
    (
        status,
        axum::Json(json!({"error": {"message": message.into(), "type": kind}})),
    )
        .into_response()
}

/// Auth and enablement shared by both routes; `Err` is the response to send.
fn gate(state: &SharedState, headers: &HeaderMap) -> Result<(), Response> {
    if !state.settings.chat_completions_enabled {
        return Err(error(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            "the OpenAI-compatible endpoint is disabled; set gateway.http.endpoints.chatCompletions.enabled to true",
        ));
    }
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if !state.settings.auth.check_bearer(bearer) {
        return Err(error(
            StatusCode::UNAUTHORIZED,
            "authentication_error",
            "missing or invalid bearer token (use the gateway token)",
        ));
    }
    Ok(())
}

/// The agent a `model` value targets; `None` when it is not an agent target.
fn agent_of(model: &str, default_agent: &str) -> Option<String> {
    let m = model.trim();
    if m == "openclaw" || m == "openclaw/default" || m == "openclaw:default" {
        return Some(default_agent.to_string());
    }
    ["openclaw/", "openclaw:", "agent:"]
        .iter()
        .find_map(|p| m.strip_prefix(p))
        .filter(|id| !id.is_empty())
        .map(openclaw_store::session_key::normalize_agent_id)
}

pub async fn models(State(state): State<SharedState>, headers: HeaderMap) -> Response {
    if let Err(r) = gate(&state, &headers) {
        return r;
    }
    let ids = state
        .services
        .agent
        .as_ref()
        .map(|rt| rt.agent_ids())
        .unwrap_or_else(|| vec![state.settings.default_agent_id.clone()]);
    let mut data =
        vec![json!({"id": "openclaw", "object": "model", "created": 0, "owned_by": "openclaw"})];
    for id in ids {
        data.push(json!({"id": format!("openclaw/{id}"), "object": "model", "created": 0, "owned_by": "openclaw"}));
    }
    axum::Json(json!({"object": "list", "data": data})).into_response()
}

fn content_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    }
}

/// `(message, extra system prompt)` from an OpenAI `messages` array.
fn prompt_of(messages: &[Value]) -> Option<(String, Option<String>)> {
    let system: Vec<String> = messages
        .iter()
        .filter(|m| matches!(m["role"].as_str(), Some("system" | "developer")))
        .map(|m| content_text(&m["content"]))
        .collect();
    let convo: Vec<&Value> = messages
        .iter()
        .filter(|m| !matches!(m["role"].as_str(), Some("system" | "developer")))
        .collect();
    let last = convo.iter().rposition(|m| m["role"] == "user")?;
    let current = content_text(&convo[last]["content"]);
    let message = if last == 0 {
        current
    } else {
        let mut s = String::from("[Chat messages since your last reply - for context]\n");
        for m in &convo[..last] {
            s.push_str(&format!(
                "{}: {}\n",
                m["role"].as_str().unwrap_or("user"),
                content_text(&m["content"])
            ));
        }
        s.push_str("\n[Current message - respond to this]\n");
        s.push_str(&current);
        s
    };
    Some((message, (!system.is_empty()).then(|| system.join("\n\n"))))
}

fn chunk(id: &str, model: &str, created: u64, delta: Value, finish: Option<&str>) -> Bytes {
    let c = json!({"id": id, "object": "chat.completion.chunk", "created": created, "model": model,
                   "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]});
    Bytes::from(format!("data: {c}\n\n"))
}

pub async fn chat_completions(
    State(state): State<SharedState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(r) = gate(&state, &headers) {
        return r;
    }
    let Some(rt) = state.services.agent.clone() else {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            "api_error",
            "the agent runtime is not running on this gateway",
        );
    };
    let req: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                "invalid_request_error",
                format!("invalid JSON body: {e}"),
            );
        }
    };
    let model = req["model"].as_str().unwrap_or("openclaw").to_string();
    let header_agent = headers
        .get("x-openclaw-agent-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let Some(agent) = header_agent.or_else(|| agent_of(&model, &rt.default_agent_id())) else {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            format!(
                "model {model:?} is not an agent target; use \"openclaw\", \"openclaw/<agentId>\" or \"agent:<agentId>\" (see GET /v1/models)"
            ),
        );
    };
    let Some((message, system)) = req["messages"].as_array().and_then(|m| prompt_of(m)) else {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            "messages must contain a user message",
        );
    };
    let session_key = match headers
        .get("x-openclaw-session-key")
        .and_then(|v| v.to_str().ok())
    {
        Some(k) if k.contains(":subagent:") || k.contains("cron:") || k.contains(":acp:") => {
            return error(
                StatusCode::BAD_REQUEST,
                "invalid_request_error",
                "x-openclaw-session-key may not name a subagent, cron or acp session",
            );
        }
        Some(k) => k.to_string(),
        None => match req["user"].as_str().filter(|u| !u.trim().is_empty()) {
            Some(u) => format!("agent:{agent}:openai-user:{}", u.trim().to_lowercase()),
            None => format!("agent:{agent}:openai:{}", uuid::Uuid::new_v4()),
        },
    };
    let stream = req["stream"].as_bool().unwrap_or(false);
    // Subscribe before submitting so no event of the run is missed.
    let rx = state.bus.subscribe();
    let submitted = rt
        .submit(RunRequest {
            message,
            agent_id: Some(agent),
            session_key: Some(session_key),
            extra_system_prompt: system,
            ..RunRequest::default()
        })
        .await;
    let run_id = match submitted {
        Ok(Submitted::Accepted { run_id, .. } | Submitted::InFlight { run_id, .. }) => run_id,
        Ok(Submitted::Done(o)) => o.run_id.clone(),
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                "invalid_request_error",
                e.to_string(),
            );
        }
    };
    let id = format!("chatcmpl-{run_id}");
    let created = now_ms() / 1000;
    if !stream {
        let Some(o) = rt.wait(&run_id, COMPLETION_WAIT).await else {
            return error(
                StatusCode::GATEWAY_TIMEOUT,
                "api_error",
                "the run did not finish in time",
            );
        };
        if matches!(o.status, RunStatus::Error | RunStatus::Timeout) {
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "api_error",
                o.error
                    .clone()
                    .unwrap_or_else(|| "the agent run failed".into()),
            );
        }
        let u = o.usage;
        return axum::Json(json!({
            "id": id, "object": "chat.completion", "created": created, "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": o.text()},
                         "finish_reason": "stop"}],
            "usage": {"prompt_tokens": u.input, "completion_tokens": u.output,
                      "total_tokens": u.input + u.output},
        }))
        .into_response();
    }
    let first = chunk(&id, &model, created, json!({"role": "assistant"}), None);
    let sse = SseState {
        rx,
        rt,
        run_id,
        id,
        model,
        created,
        phase: Phase::Start(first),
        streamed: false,
    };
    // `Body::from_stream` wants `Result` items; this stream never fails.
    let body = futures::StreamExt::map(
        futures::stream::unfold(sse, next_sse),
        Ok::<Bytes, std::convert::Infallible>,
    );
    Response::builder()
        .header(header::CONTENT_TYPE, "text/event-stream")
        .header(header::CACHE_CONTROL, "no-cache")
        .body(Body::from_stream(body))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

enum Phase {
    Start(Bytes),
    Streaming,
    Finish(Option<String>),
    Done,
    Over,
}

struct SseState {
    rx: broadcast::Receiver<std::sync::Arc<BusEvent>>,
    rt: std::sync::Arc<openclaw_agent::AgentRuntime>,
    run_id: String,
    id: String,
    model: String,
    created: u64,
    phase: Phase,
    streamed: bool,
}

async fn next_sse(mut s: SseState) -> Option<(Bytes, SseState)> {
    loop {
        match std::mem::replace(&mut s.phase, Phase::Streaming) {
            Phase::Start(b) => return Some((b, s)),
            Phase::Over => {
                s.phase = Phase::Over;
                return None;
            }
            Phase::Done => {
                s.phase = Phase::Over;
                return Some((Bytes::from_static(b"data: [DONE]\n\n"), s));
            }
            Phase::Finish(text) => {
                s.phase = Phase::Done;
                if let Some(t) = text.filter(|t| !t.is_empty()) {
                    s.phase = Phase::Finish(None);
                    let b = chunk(&s.id, &s.model, s.created, json!({"content": t}), None);
                    return Some((b, s));
                }
                let b = chunk(&s.id, &s.model, s.created, json!({}), Some("stop"));
                return Some((b, s));
            }
            Phase::Streaming => {}
        }
        let ev = match tokio::time::timeout(STREAM_POLL, s.rx.recv()).await {
            Ok(Ok(ev)) => ev,
            Ok(Err(broadcast::error::RecvError::Lagged(_))) | Err(_) => {
                // No (or lost) events: the run may have been answered under another id.
                if let openclaw_agent::RunState::Done(o) = s.rt.run_state(&s.run_id) {
                    let text = (!s.streamed).then(|| o.text());
                    s.phase = Phase::Finish(text);
                }
                continue;
            }
            Ok(Err(broadcast::error::RecvError::Closed)) => {
                s.phase = Phase::Finish(None);
                continue;
            }
        };
        if ev.event != "agent" || ev.payload["runId"].as_str() != Some(s.run_id.as_str()) {
            continue;
        }
        let data = &ev.payload["data"];
        match ev.payload["stream"].as_str() {
            Some("assistant") => {
                if let Some(d) = data["delta"].as_str().filter(|d| !d.is_empty()) {
                    s.streamed = true;
                    let b = chunk(&s.id, &s.model, s.created, json!({"content": d}), None);
                    return Some((b, s));
                }
            }
            Some("lifecycle") if matches!(data["phase"].as_str(), Some("end" | "error")) => {
                s.phase = Phase::Finish(None);
            }
            _ => {}
        }
    }
}
