//! `agent`, `agent.wait`, `agent.identity.get` and `send`: runs through the agent runtime.
//!
//! `agent` is two-stage like the 2026.2.6 gateway: an interim `{runId, status:"accepted",
//! acceptedAt}` response, the run's `agent`/`chat` events on the bus, then the final response
//! under the same request id. The run id is the caller's idempotency key, so a retry with the
//! same key attaches to the same run instead of starting another.

use std::sync::Arc;
use std::time::Duration;

use openclaw_agent::{AgentRuntime, RunRequest, RunStatus, RuntimeError, Submitted};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{CallCtx, MethodError, MethodResult, parse};

/// Longest an `agent` call waits for its run's end (the run itself has its own timeout).
const AGENT_FINAL_WAIT: Duration = Duration::from_secs(172_800 + 60);
/// Default `agent.wait` timeout.
const DEFAULT_WAIT_MS: u64 = 30_000;

pub(crate) fn runtime(ctx: &CallCtx) -> Result<&Arc<AgentRuntime>, MethodError> {
    ctx.state.services.agent.as_ref().ok_or_else(|| {
        MethodError::Unavailable(
            "the agent runtime is not running on this gateway; start it with `openclaw gateway`"
                .into(),
        )
    })
}

pub(crate) fn map_err(e: RuntimeError) -> MethodError {
    match e {
        RuntimeError::UnknownAgent(_) | RuntimeError::Invalid(_) => {
            MethodError::InvalidParams(e.to_string())
        }
        RuntimeError::SessionNotFound(_) => MethodError::NotFound(e.to_string()),
        RuntimeError::Store(m) => MethodError::Internal(m),
        RuntimeError::Closed => MethodError::Unavailable(e.to_string()),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AgentParams {
    message: String,
    idempotency_key: String,
    agent_id: Option<String>,
    session_key: Option<String>,
    session_id: Option<String>,
    /// Where the message came from; picks `messages.queue.byChannel` entries.
    channel: Option<String>,
    extra_system_prompt: Option<String>,
    /// Files sent with the message (see [`super::attachments`]).
    attachments: Option<Vec<super::attachments::Attachment>>,
}

/// Find the key of a session by its id (the `agent --session-id` form).
async fn key_for_session_id(rt: &AgentRuntime, agent: Option<&str>, id: &str) -> Option<String> {
    rt.list_sessions(agent)
        .await
        .ok()?
        .into_iter()
        .find(|r| r.entry.session_id == id)
        .map(|r| r.key)
}

pub async fn agent(ctx: &CallCtx, params: Value) -> MethodResult {
    let p: AgentParams = parse(params)?;
    if p.idempotency_key.trim().is_empty() {
        return Err(MethodError::InvalidParams(
            "idempotencyKey is required (any unique string, e.g. a UUID)".into(),
        ));
    }
    let rt = runtime(ctx)?;
    let mut session_key = p.session_key;
    if session_key.is_none()
        && let Some(id) = &p.session_id
    {
        session_key = key_for_session_id(rt, p.agent_id.as_deref(), id).await;
    }
    let media = super::attachments::media_for_run(
        rt,
        &ctx.state.settings.state_dir,
        &p.idempotency_key,
        p.attachments,
    )
    .await?;
    let submitted = rt
        .submit(RunRequest {
            message: p.message,
            agent_id: p.agent_id,
            session_key,
            run_id: Some(p.idempotency_key),
            queue_mode: None,
            channel: p.channel,
            extra_system_prompt: p.extra_system_prompt,
            media,
        })
        .await
        .map_err(map_err)?;
    let run_id = match submitted {
        Submitted::Done(o) => return Ok(o.to_agent_result()),
        Submitted::Accepted {
            run_id,
            accepted_at,
            ..
        } => {
            ctx.send_interim(
                json!({"runId": run_id, "status": "accepted", "acceptedAt": accepted_at}),
            )
            .await;
            run_id
        }
        Submitted::InFlight { run_id, .. } => {
            ctx.send_interim(json!({"runId": run_id, "status": "accepted", "acceptedAt": openclaw_protocol::now_ms()}))
                .await;
            run_id
        }
    };
    match rt.wait(&run_id, AGENT_FINAL_WAIT).await {
        Some(o) => Ok(o.to_agent_result()),
        None => Ok(json!({"runId": run_id, "status": "timeout", "summary": "still running"})),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WaitParams {
    run_id: String,
    timeout_ms: Option<u64>,
}

pub async fn wait(ctx: &CallCtx, params: Value) -> MethodResult {
    let p: WaitParams = parse(params)?;
    let rt = runtime(ctx)?;
    let timeout = Duration::from_millis(p.timeout_ms.unwrap_or(DEFAULT_WAIT_MS));
    Ok(match rt.wait(&p.run_id, timeout).await {
        Some(o) => {
            let status = match o.status {
                RunStatus::Ok | RunStatus::Aborted => "ok",
                RunStatus::Error => "error",
                RunStatus::Timeout => "timeout",
            };
            let mut v = json!({"runId": p.run_id, "status": status,
                               "startedAt": o.started_at, "endedAt": o.ended_at});
            if let Some(e) = &o.error {
                v["error"] = json!(e);
            }
            v
        }
        None => json!({"runId": p.run_id, "status": "timeout"}),
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct IdentityParams {
    agent_id: Option<String>,
    session_key: Option<String>,
}

pub async fn identity(ctx: &CallCtx, params: Value) -> MethodResult {
    let p: IdentityParams = parse(params)?;
    let rt = runtime(ctx)?;
    let agent = match (&p.agent_id, &p.session_key) {
        (Some(a), _) => Some(a.clone()),
        (None, Some(k)) => Some(rt.resolve_target(None, Some(k)).map_err(map_err)?.0),
        (None, None) => None,
    };
    let id = rt.identity(agent.as_deref()).await.map_err(map_err)?;
    let mut v =
        json!({"agentId": id.agent_id, "name": id.name.unwrap_or_else(|| "Assistant".into())});
    if let Some(a) = id.avatar {
        v["avatar"] = json!(a);
    }
    if let Some(e) = id.emoji {
        v["emoji"] = json!(e);
    }
    Ok(v)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SendParams {
    to: String,
    message: String,
    channel: Option<String>,
    account_id: Option<String>,
    idempotency_key: Option<String>,
}

/// Deliver a message through a channel transport (`openclaw message send`).
pub async fn send(ctx: &CallCtx, params: Value) -> MethodResult {
    let p: SendParams = parse(params)?;
    let Some(channels) = &ctx.state.services.channels else {
        return Err(MethodError::Unavailable(format!(
            "cannot deliver to {:?}: this gateway runs no channel transports; configure channels.telegram (botToken) or channels.discord (token) and start it with `openclaw gateway`",
            p.to
        )));
    };
    let run_id = p
        .idempotency_key
        .filter(|k| !k.trim().is_empty())
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    channels
        .send(
            p.channel.as_deref(),
            p.account_id.as_deref(),
            &p.to,
            &p.message,
            &run_id,
        )
        .await
        .map_err(map_channel_err)
}

fn map_channel_err(e: openclaw_channels::ChannelError) -> MethodError {
    use openclaw_channels::ChannelError as E;
    match e {
        E::UnknownChannel(_) | E::InvalidTarget { .. } | E::EmptyMessage => {
            MethodError::InvalidParams(e.to_string())
        }
        E::Unsupported(_)
        | E::NotConfigured { .. }
        | E::Proxy(_)
        | E::Api(_)
        | E::DiscordApi(_) => MethodError::Unavailable(e.to_string()),
    }
}
