//! `chat.send`, `chat.history`, `chat.abort`, `chat.inject`: the chat view of a session.
//!
//! `chat.send` acknowledges at once (`{runId, status:"started"}`); the answer arrives as `chat`
//! events. A repeated idempotency key answers `in_flight` or `ok` without a second run.
//! `attachments` are checked and saved by [`super::attachments`].

use openclaw_agent::{QueueModeSetting, RunRequest, Submitted};
use serde::Deserialize;
use serde_json::{Value, json};

use super::agent::{map_err, runtime};
use super::attachments::{Attachment, media_for_run};
use super::{CallCtx, MethodError, MethodResult, parse};

/// Longest accepted session key.
const MAX_KEY_LEN: usize = 512;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SendParams {
    session_key: String,
    message: String,
    idempotency_key: String,
    queue_mode: Option<String>,
    attachments: Option<Vec<Attachment>>,
}

pub async fn send(ctx: &CallCtx, params: Value) -> MethodResult {
    let p: SendParams = parse(params)?;
    if p.session_key.len() > MAX_KEY_LEN {
        return Err(MethodError::InvalidParams(format!(
            "sessionKey is longer than {MAX_KEY_LEN} characters"
        )));
    }
    if p.idempotency_key.trim().is_empty() {
        return Err(MethodError::InvalidParams(
            "idempotencyKey is required (any unique string, e.g. a UUID)".into(),
        ));
    }
    let queue_mode = match p.queue_mode.as_deref() {
        None => None,
        Some(m) => Some(QueueModeSetting::parse(m).ok_or_else(|| {
            MethodError::InvalidParams(format!(
                "queueMode {m:?} is not one of steer, steer-backlog, followup, collect, interrupt"
            ))
        })?),
    };
    let rt = runtime(ctx)?;
    let media = media_for_run(
        rt,
        &ctx.state.settings.state_dir,
        &p.idempotency_key,
        p.attachments,
    )
    .await?;
    let submitted = rt
        .submit(RunRequest {
            message: p.message,
            session_key: Some(p.session_key),
            run_id: Some(p.idempotency_key),
            queue_mode,
            media,
            ..RunRequest::default()
        })
        .await
        .map_err(map_err)?;
    Ok(match submitted {
        Submitted::Accepted { run_id, .. } => json!({"runId": run_id, "status": "started"}),
        Submitted::InFlight { run_id, .. } => json!({"runId": run_id, "status": "in_flight"}),
        Submitted::Done(o) => json!({"runId": o.run_id, "status": "ok"}),
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct HistoryParams {
    session_key: String,
    limit: Option<usize>,
}

pub async fn history(ctx: &CallCtx, params: Value) -> MethodResult {
    let p: HistoryParams = parse(params)?;
    let limit = p.limit.unwrap_or(200).clamp(1, 1000);
    let rt = runtime(ctx)?;
    let h = rt.history(&p.session_key, limit).await.map_err(map_err)?;
    Ok(json!({
        "sessionKey": h.session_key,
        "sessionId": h.session_id,
        "messages": h.messages,
        "thinkingLevel": h.thinking_level.unwrap_or_else(|| "off".into()),
    }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AbortParams {
    session_key: String,
    run_id: Option<String>,
}

pub async fn abort(ctx: &CallCtx, params: Value) -> MethodResult {
    let p: AbortParams = parse(params)?;
    let rt = runtime(ctx)?;
    let ids = rt
        .abort(&p.session_key, p.run_id.as_deref())
        .await
        .map_err(map_err)?;
    Ok(json!({"ok": true, "aborted": !ids.is_empty(), "runIds": ids}))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct InjectParams {
    session_key: String,
    message: String,
    label: Option<String>,
}

pub async fn inject(ctx: &CallCtx, params: Value) -> MethodResult {
    let p: InjectParams = parse(params)?;
    let rt = runtime(ctx)?;
    let id = rt
        .inject(&p.session_key, p.message, p.label)
        .await
        .map_err(map_err)?;
    Ok(json!({"ok": true, "messageId": id}))
}
