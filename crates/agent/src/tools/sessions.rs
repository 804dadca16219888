//! Session tools: `sessions_list`, `sessions_history`, `sessions_send`, `sessions_spawn`,
//! `session_status`, `agents_list`.
//!
//! The tools validate parameters, shape output and word errors; the work is done by a
//! [`SessionsApi`] that the agent runtime implements (it owns sessions, runs and visibility
//! rules). Like OpenClaw, results are JSON: the text block holds the pretty-printed JSON and
//! `details` the same value. History is sanitized before the model sees it: thinking blocks
//! are dropped, tool calls and results only appear with `includeTools`, long texts are cut.

use std::time::Duration;

use async_trait::async_trait;
use openclaw_protocol::{ContentBlock, Message, UserContent};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use super::{Tool, ToolContext, ToolOutput, args};

/// Who is calling (the agent and session the tool runs for).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionCaller {
    pub agent_id: String,
    pub session_key: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListQuery {
    /// Empty = all kinds (`main`, `group`, `cron`, `hook`, `node`, `other`).
    pub kinds: Vec<String>,
    pub limit: Option<usize>,
    pub active_minutes: Option<u64>,
    /// Last messages to include per row (0..=20).
    pub message_limit: usize,
    pub label: Option<String>,
    pub agent_id: Option<String>,
    pub search: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionRow {
    pub key: String,
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub messages: Vec<Message>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SendRequest {
    pub session_key: Option<String>,
    pub label: Option<String>,
    pub agent_id: Option<String>,
    pub message: String,
    /// `None` = fire-and-forget (`timeoutSeconds: 0`).
    pub wait: Option<Duration>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(
    tag = "status",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum SendOutcome {
    /// Queued without waiting.
    Accepted { run_id: String, session_key: String },
    /// The target answered within the wait.
    Ok {
        run_id: String,
        session_key: String,
        reply: String,
    },
    /// Still running when the wait ended.
    Timeout { run_id: String, session_key: String },
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SpawnRequest {
    pub task: String,
    pub label: Option<String>,
    pub agent_id: Option<String>,
    pub model: Option<String>,
    pub thinking: Option<String>,
    pub run_timeout_seconds: Option<u64>,
    /// `delete` or `keep` (default).
    pub cleanup: String,
    /// `run` (default) or `session`.
    pub mode: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SpawnOutcome {
    pub status: String,
    pub run_id: String,
    pub child_session_key: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentInfo {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default)]
    pub default: bool,
}

/// Failures of the runtime side; the message is shown to the model.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SessionsError {
    #[error("Session not found: {0}; use sessions_list to see available sessions")]
    NotFound(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Unavailable(String),
}

/// Session operations the runtime provides to the tools.
#[async_trait]
pub trait SessionsApi: Send + Sync {
    async fn list(
        &self,
        caller: &SessionCaller,
        query: ListQuery,
    ) -> Result<Vec<SessionRow>, SessionsError>;
    /// The last `limit` messages of a session, oldest first.
    async fn history(
        &self,
        caller: &SessionCaller,
        session_key: &str,
        limit: usize,
    ) -> Result<Vec<Message>, SessionsError>;
    async fn send(
        &self,
        caller: &SessionCaller,
        req: SendRequest,
        cancel: CancellationToken,
    ) -> Result<SendOutcome, SessionsError>;
    async fn spawn(
        &self,
        caller: &SessionCaller,
        req: SpawnRequest,
    ) -> Result<SpawnOutcome, SessionsError>;
    /// A status card for `session_key` (`None` = the caller's); `model` switches the model
    /// (`"default"` clears an override).
    async fn status(
        &self,
        caller: &SessionCaller,
        session_key: Option<&str>,
        model: Option<&str>,
    ) -> Result<Value, SessionsError>;
    /// Agents the caller may target with `sessions_spawn`.
    async fn agents(&self, caller: &SessionCaller) -> Result<Vec<AgentInfo>, SessionsError>;
}

/// Longest text kept per message in `sessions_history` output.
pub const HISTORY_TEXT_MAX_CHARS: usize = 4_000;
/// Default and maximum `limit` of `sessions_history`.
pub const HISTORY_DEFAULT_LIMIT: usize = 20;
pub const HISTORY_MAX_LIMIT: usize = 200;

fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max).collect();
    out.push_str("… [truncated]");
    out
}

/// Strip thinking, optionally tool traffic, and cut long texts.
pub fn sanitize_history(messages: Vec<Message>, include_tools: bool) -> Vec<Message> {
    let clean = |blocks: Vec<ContentBlock>| -> Vec<ContentBlock> {
        blocks
            .into_iter()
            .filter_map(|b| match b {
                ContentBlock::Thinking { .. } => None,
                ContentBlock::ToolCall { .. } if !include_tools => None,
                ContentBlock::Text { text } => Some(ContentBlock::Text {
                    text: cut(&text, HISTORY_TEXT_MAX_CHARS),
                }),
                ContentBlock::Image { mime_type, .. } => Some(ContentBlock::Text {
                    text: format!("[image {mime_type} omitted]"),
                }),
                other => Some(other),
            })
            .collect()
    };
    messages
        .into_iter()
        .filter_map(|m| match m {
            Message::ToolResult(_) if !include_tools => None,
            Message::ToolResult(mut r) => {
                r.content = clean(r.content);
                r.details = None;
                Some(Message::ToolResult(r))
            }
            Message::Assistant(mut a) => {
                a.content = clean(a.content);
                (!a.content.is_empty()).then_some(Message::Assistant(a))
            }
            Message::User(mut u) => {
                u.content = match u.content {
                    UserContent::Text(t) => UserContent::Text(cut(&t, HISTORY_TEXT_MAX_CHARS)),
                    UserContent::Blocks(b) => UserContent::Blocks(clean(b)),
                };
                Some(Message::User(u))
            }
        })
        .collect()
}

fn json_output(v: Value) -> ToolOutput {
    let text = serde_json::to_string_pretty(&v).unwrap_or_else(|_| v.to_string());
    ToolOutput::text(text).with_details(v)
}

fn api(
    ctx: &ToolContext,
    tool: &str,
) -> Result<(std::sync::Arc<dyn SessionsApi>, SessionCaller), ToolOutput> {
    let api = ctx.sessions.clone().ok_or_else(|| {
        ToolOutput::error(format!(
            "{tool} is unavailable here: session tools need the gateway's agent runtime"
        ))
    })?;
    Ok((
        api,
        SessionCaller {
            agent_id: ctx.agent_id.clone(),
            session_key: ctx.session_key.clone(),
        },
    ))
}

fn to_value<T: Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

macro_rules! session_tool {
    ($ty:ident, $name:literal, $desc:literal, $schema:expr, $run:ident) => {
        #[doc = concat!("`", $name, "`.")]
        #[derive(Debug, Default, Clone, Copy)]
        pub struct $ty;

        #[async_trait]
        impl Tool for $ty {
            fn name(&self) -> &str {
                $name
            }
            fn description(&self) -> &str {
                $desc
            }
            fn parameters(&self) -> Value {
                $schema
            }
            async fn call(
                &self,
                ctx: &ToolContext,
                a: Value,
                cancel: CancellationToken,
            ) -> ToolOutput {
                let (api, caller) = match api(ctx, $name) {
                    Ok(x) => x,
                    Err(e) => return e,
                };
                match $run(api.as_ref(), &caller, &a, cancel).await {
                    Ok(out) => out,
                    Err(e) => ToolOutput::error(e),
                }
            }
        }
    };
}

const KINDS: [&str; 6] = ["main", "group", "cron", "hook", "node", "other"];

async fn run_list(
    api: &dyn SessionsApi,
    caller: &SessionCaller,
    a: &Value,
    _c: CancellationToken,
) -> Result<ToolOutput, String> {
    let kinds: Vec<String> = match a.get("kinds") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|k| {
                k.as_str()
                    .map(str::to_ascii_lowercase)
                    .filter(|k| KINDS.contains(&k.as_str()))
                    .ok_or_else(|| {
                        format!(
                            "sessions_list: kinds entries must be one of {}",
                            KINDS.join(", ")
                        )
                    })
            })
            .collect::<Result<_, _>>()?,
        Some(_) => return Err("sessions_list: \"kinds\" must be an array".into()),
    };
    let query = ListQuery {
        kinds,
        limit: args::usize(a, "limit", "sessions_list")?,
        active_minutes: args::f64(a, "activeMinutes", "sessions_list")?.map(|v| v as u64),
        message_limit: args::usize(a, "messageLimit", "sessions_list")?
            .unwrap_or(0)
            .min(20),
        label: args::str(a, &["label"]).map(str::to_string),
        agent_id: args::str(a, &["agentId"]).map(str::to_string),
        search: args::str(a, &["search"]).map(str::to_string),
    };
    let rows = api.list(caller, query).await.map_err(|e| e.to_string())?;
    let rows: Vec<SessionRow> = rows
        .into_iter()
        .map(|mut r| {
            r.messages = sanitize_history(std::mem::take(&mut r.messages), false);
            r
        })
        .collect();
    Ok(json_output(
        json!({"count": rows.len(), "sessions": to_value(&rows)}),
    ))
}

async fn run_history(
    api: &dyn SessionsApi,
    caller: &SessionCaller,
    a: &Value,
    _c: CancellationToken,
) -> Result<ToolOutput, String> {
    let key = args::required_str(a, &["sessionKey"], "sessions_history")?;
    let limit = args::usize(a, "limit", "sessions_history")?
        .unwrap_or(HISTORY_DEFAULT_LIMIT)
        .clamp(1, HISTORY_MAX_LIMIT);
    let include_tools = args::bool(a, "includeTools", "sessions_history")?.unwrap_or(false);
    let messages = api
        .history(caller, key, limit)
        .await
        .map_err(|e| e.to_string())?;
    let messages = sanitize_history(messages, include_tools);
    Ok(json_output(
        json!({"sessionKey": key, "messages": to_value(&messages)}),
    ))
}

async fn run_send(
    api: &dyn SessionsApi,
    caller: &SessionCaller,
    a: &Value,
    c: CancellationToken,
) -> Result<ToolOutput, String> {
    let session_key = args::str(a, &["sessionKey"]).map(str::to_string);
    let label = args::str(a, &["label"]).map(str::to_string);
    if session_key.is_none() && label.is_none() {
        return Err("sessions_send: give \"sessionKey\" or \"label\" (see sessions_list)".into());
    }
    let message = args::required_str(a, &["message"], "sessions_send")?;
    if message.trim().is_empty() {
        return Err("sessions_send: \"message\" is empty".into());
    }
    let secs = args::f64(a, "timeoutSeconds", "sessions_send")?.unwrap_or(30.0);
    let req = SendRequest {
        session_key,
        label,
        agent_id: args::str(a, &["agentId"]).map(str::to_string),
        message: message.to_string(),
        wait: (secs > 0.0).then(|| Duration::from_secs_f64(secs)),
    };
    let out = api.send(caller, req, c).await.map_err(|e| e.to_string())?;
    Ok(json_output(to_value(&out)))
}

async fn run_spawn(
    api: &dyn SessionsApi,
    caller: &SessionCaller,
    a: &Value,
    _c: CancellationToken,
) -> Result<ToolOutput, String> {
    let task = args::required_str(a, &["task"], "sessions_spawn")?;
    if task.trim().is_empty() {
        return Err("sessions_spawn: \"task\" is empty".into());
    }
    let cleanup = args::str(a, &["cleanup"]).unwrap_or("keep");
    if !matches!(cleanup, "keep" | "delete") {
        return Err(format!(
            "sessions_spawn: cleanup must be \"keep\" or \"delete\", got {cleanup:?}"
        ));
    }
    let mode = args::str(a, &["mode"]).unwrap_or("run");
    if !matches!(mode, "run" | "session") {
        return Err(format!(
            "sessions_spawn: mode must be \"run\" or \"session\", got {mode:?}"
        ));
    }
    let timeout = args::f64(a, "runTimeoutSeconds", "sessions_spawn")?.or(args::f64(
        a,
        "timeoutSeconds",
        "sessions_spawn",
    )?);
    let req = SpawnRequest {
        task: task.to_string(),
        label: args::str(a, &["label"]).map(str::to_string),
        agent_id: args::str(a, &["agentId"]).map(str::to_string),
        model: args::str(a, &["model"]).map(str::to_string),
        thinking: args::str(a, &["thinking"]).map(str::to_string),
        run_timeout_seconds: timeout.map(|v| v as u64),
        cleanup: cleanup.to_string(),
        mode: mode.to_string(),
    };
    let out = api.spawn(caller, req).await.map_err(|e| e.to_string())?;
    Ok(json_output(to_value(&out)))
}

async fn run_status(
    api: &dyn SessionsApi,
    caller: &SessionCaller,
    a: &Value,
    _c: CancellationToken,
) -> Result<ToolOutput, String> {
    let key = args::str(a, &["sessionKey"]).filter(|k| *k != "current");
    let model = args::str(a, &["model"]);
    let v = api
        .status(caller, key, model)
        .await
        .map_err(|e| e.to_string())?;
    Ok(json_output(v))
}

async fn run_agents(
    api: &dyn SessionsApi,
    caller: &SessionCaller,
    _a: &Value,
    _c: CancellationToken,
) -> Result<ToolOutput, String> {
    let agents = api.agents(caller).await.map_err(|e| e.to_string())?;
    Ok(json_output(json!({"agents": to_value(&agents)})))
}

session_tool!(
    SessionsListTool,
    "sessions_list",
    "List sessions with optional filters and last messages.",
    json!({"type": "object", "properties": {
        "kinds": {"type": "array", "items": {"type": "string"}, "description": "Session kinds: main, group, cron, hook, node, other"},
        "limit": {"type": "number"}, "activeMinutes": {"type": "number"},
        "messageLimit": {"type": "number", "description": "Last messages per session (max 20)"},
        "label": {"type": "string"}, "agentId": {"type": "string"}, "search": {"type": "string"}}}),
    run_list
);
session_tool!(
    SessionsHistoryTool,
    "sessions_history",
    "Fetch message history for a session.",
    json!({"type": "object", "properties": {
        "sessionKey": {"type": "string"}, "limit": {"type": "number"},
        "includeTools": {"type": "boolean", "description": "Include tool calls and results (default false)"}},
        "required": ["sessionKey"]}),
    run_history
);
session_tool!(
    SessionsSendTool,
    "sessions_send",
    "Send a message into another session and optionally wait for the reply (timeoutSeconds, default 30; 0 = fire-and-forget).",
    json!({"type": "object", "properties": {
        "sessionKey": {"type": "string"}, "label": {"type": "string"}, "agentId": {"type": "string"},
        "message": {"type": "string"}, "timeoutSeconds": {"type": "number"}},
        "required": ["message"]}),
    run_send
);
session_tool!(
    SessionsSpawnTool,
    "sessions_spawn",
    "Spawn a sub-agent run for a task; returns immediately with the child session key and announces completion back.",
    json!({"type": "object", "properties": {
        "task": {"type": "string"}, "label": {"type": "string"}, "agentId": {"type": "string"},
        "model": {"type": "string"}, "thinking": {"type": "string"}, "runTimeoutSeconds": {"type": "number"},
        "cleanup": {"type": "string", "enum": ["delete", "keep"]}, "mode": {"type": "string", "enum": ["run", "session"]}},
        "required": ["task"]}),
    run_spawn
);
session_tool!(
    SessionStatusTool,
    "session_status",
    "Show the status card of a session (default: current); optionally set the model (\"default\" clears the override).",
    json!({"type": "object", "properties": {"sessionKey": {"type": "string"}, "model": {"type": "string"}}}),
    run_status
);
session_tool!(
    AgentsListTool,
    "agents_list",
    "List agent ids you may target with sessions_spawn.",
    json!({"type": "object", "properties": {}}),
    run_agents
);

#[cfg(test)]
mod tests {
    use super::*;
    use openclaw_protocol::{AssistantMessage, ToolResultMessage};
    use pretty_assertions::assert_eq;

    #[test]
    fn history_strips_thinking_and_tools() {
        let msgs = vec![
            Message::user_text("hi", 1),
            Message::Assistant(AssistantMessage {
                content: vec![
                    ContentBlock::Thinking {
                        thinking: "secret plan".into(),
                    },
                    ContentBlock::ToolCall {
                        id: "c".into(),
                        name: "exec".into(),
                        arguments: json!({}),
                    },
                    ContentBlock::text("x".repeat(HISTORY_TEXT_MAX_CHARS + 10)),
                ],
                api: None,
                provider: None,
                model: None,
                usage: None,
                stop_reason: None,
                error_message: None,
                timestamp: 2,
            }),
            Message::ToolResult(ToolResultMessage {
                tool_call_id: "c".into(),
                tool_name: "exec".into(),
                content: vec![ContentBlock::text("out")],
                details: Some(json!({"a": 1})),
                is_error: false,
                timestamp: 3,
            }),
        ];
        let out = sanitize_history(msgs.clone(), false);
        assert_eq!(out.len(), 2);
        let Message::Assistant(a) = &out[1] else {
            panic!()
        };
        assert_eq!(a.content.len(), 1);
        assert!(a.content[0] != ContentBlock::text("x".repeat(HISTORY_TEXT_MAX_CHARS + 10)));
        assert!(!serde_json::to_string(&out).unwrap().contains("secret plan"));
        let with_tools = sanitize_history(msgs, true);
        assert_eq!(with_tools.len(), 3);
    }
}
