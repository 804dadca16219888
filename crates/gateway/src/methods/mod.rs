//! Method dispatch: one `match` from method name to handler, the scope each method needs,
//! and the single place where a handler's `MethodError` becomes a wire `ErrorShape`.

pub mod agent;
pub mod attachments;
pub mod channels;
pub mod chat;
pub mod config;
pub mod devices;
pub mod sandbox;
pub mod sessions;
pub mod system;

use std::net::IpAddr;
use std::sync::Arc;

use openclaw_protocol::{ErrorShape, ResponseFrame, Scope, codes, detail_codes, names};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::state::SharedState;
use crate::ws::{ConnIdentity, Outbound};

/// Methods advertised in `hello-ok.features.methods` (the ones this gateway implements).
pub const METHODS: &[&str] = &[
    "health",
    "status",
    "system-presence",
    "logs.tail",
    "channels.status",
    "channels.logout",
    "config.get",
    "config.set",
    "config.apply",
    "config.patch",
    "config.schema",
    "models.list",
    "agents.list",
    "device.pair.list",
    "device.pair.approve",
    "device.pair.reject",
    "device.pair.remove",
    "device.pair.rename",
    "device.token.rotate",
    "device.token.revoke",
    "sandbox.list",
    "sandbox.recreate",
    "sandbox.explain",
    "agent",
    "agent.wait",
    "agent.identity.get",
    "send",
    "chat.send",
    "chat.history",
    "chat.abort",
    "chat.inject",
    "sessions.list",
    "sessions.preview",
    "sessions.patch",
    "sessions.reset",
    "sessions.delete",
    "sessions.compact",
];

/// Events advertised in `hello-ok.features.events`.
pub const EVENTS: &[&str] = &[
    names::CONNECT_CHALLENGE,
    names::AGENT,
    names::CHAT,
    names::PRESENCE,
    names::TICK,
    names::SHUTDOWN,
    names::HEALTH,
    names::CONFIG_CHANGED,
    names::DEVICE_PAIR_REQUESTED,
    names::DEVICE_PAIR_RESOLVED,
];

/// Everything a handler may need about the call.
pub struct CallCtx {
    pub state: SharedState,
    pub identity: Arc<ConnIdentity>,
    pub request_id: String,
    pub out: mpsc::Sender<Outbound>,
    pub peer_ip: IpAddr,
}

impl CallCtx {
    /// Send an intermediate response for this request (two-stage methods such as `agent`
    /// answer `accepted` first and the final result later under the same id).
    pub async fn send_interim(&self, payload: Value) {
        let frame = openclaw_protocol::Frame::Res(ResponseFrame::ok(&self.request_id, payload));
        let _ = self.out.send(Outbound::Text(frame.to_text())).await;
    }
}

#[derive(Debug)]
pub enum MethodError {
    InvalidParams(String),
    NotFound(String),
    Unavailable(String),
    Internal(String),
    /// A fully-formed error (config validation with line:col, base-hash mismatch, ...).
    Shape(ErrorShape),
}

impl MethodError {
    fn into_shape(self) -> ErrorShape {
        match self {
            MethodError::InvalidParams(m) => ErrorShape::new(codes::INVALID_REQUEST, m)
                .with_details(json!({"code": detail_codes::INVALID_PARAMS})),
            MethodError::NotFound(m) => ErrorShape::new(codes::INVALID_REQUEST, m),
            MethodError::Unavailable(m) => ErrorShape::new(codes::UNAVAILABLE, m),
            MethodError::Internal(m) => {
                tracing::error!(error = %m, "method failed");
                ErrorShape::new(codes::UNAVAILABLE, format!("internal error: {m}"))
            }
            MethodError::Shape(s) => s,
        }
    }
}

pub type MethodResult = Result<Value, MethodError>;

/// Parse `params` into a typed struct; `null`/absent params parse as `{}`.
pub fn parse<T: DeserializeOwned>(params: Value) -> Result<T, MethodError> {
    let params = if params.is_null() { json!({}) } else { params };
    serde_json::from_value(params)
        .map_err(|e| MethodError::InvalidParams(format!("invalid params: {e}")))
}

/// The scope a method requires, or `None` when the method is unknown.
pub fn required_scope(method: &str) -> Option<Scope> {
    // Reserved prefixes always need admin.
    for prefix in ["config.", "exec.approvals.", "wizard.", "update."] {
        if method.starts_with(prefix) {
            return Some(Scope::Admin);
        }
    }
    let scope = match method {
        "health" | "status" | "system-presence" | "models.list" | "agents.list"
        | "agent.identity.get" | "sessions.list" | "sessions.preview" | "chat.history"
        | "channels.status" | "node.list" | "logs.tail" | "last-heartbeat" | "agent.wait"
        | "sandbox.list" | "sandbox.explain" | "cron.status" | "cron.list" | "skills.status"
        | "usage.status" | "usage.cost" | "sessions.usage" => Scope::Read,
        "chat.send" | "chat.abort" | "chat.inject" | "agent" | "send" | "sessions.patch"
        | "sessions.reset" | "sessions.delete" | "sessions.compact" | "wake"
        | "web.login.start" | "web.login.wait" => Scope::Write,
        "sandbox.recreate" | "channels.logout" => Scope::Admin,
        m if m.starts_with("device.pair.")
            || m.starts_with("device.token.")
            || m.starts_with("node.pair.") =>
        {
            Scope::Pairing
        }
        m if m.starts_with("exec.approval.") => Scope::Approvals,
        _ => return None,
    };
    Some(scope)
}

pub async fn dispatch(ctx: &CallCtx, method: &str, params: Value) -> ResponseFrame {
    let id = ctx.request_id.clone();
    let Some(scope) = required_scope(method) else {
        return ResponseFrame::err(
            id,
            ErrorShape::new(codes::INVALID_REQUEST, format!("unknown method: {method}"))
                .with_details(json!({"code": detail_codes::METHOD_NOT_FOUND, "method": method})),
        );
    };
    if !ctx.identity.has_scope(scope) {
        return ResponseFrame::err(
            id,
            ErrorShape::new(
                codes::FORBIDDEN,
                format!("missing scope: {}", scope.as_str()),
            )
            .with_details(
                json!({"code": detail_codes::MISSING_SCOPE, "missingScope": scope.as_str(),
                       "requiredScopes": [scope.as_str()]}),
            ),
        );
    }
    let result = match method {
        "health" => system::health(ctx, params).await,
        "status" => system::status(ctx, params).await,
        "system-presence" => system::presence(ctx, params).await,
        "logs.tail" => system::logs_tail(ctx, params).await,
        "channels.status" => channels::status(ctx, params).await,
        "channels.logout" => channels::logout(ctx, params).await,
        "config.get" => config::get(ctx, params).await,
        "config.set" | "config.apply" => config::set(ctx, params).await,
        "config.patch" => config::patch(ctx, params).await,
        "config.schema" => config::schema(ctx, params).await,
        "models.list" => config::models_list(ctx, params).await,
        "agents.list" => config::agents_list(ctx, params).await,
        "device.pair.list" => devices::list(ctx, params).await,
        "device.pair.approve" => devices::approve(ctx, params).await,
        "device.pair.reject" => devices::reject(ctx, params).await,
        "device.pair.remove" => devices::remove(ctx, params).await,
        "device.pair.rename" => devices::rename(ctx, params).await,
        "device.token.rotate" => devices::rotate(ctx, params).await,
        "device.token.revoke" => devices::revoke(ctx, params).await,
        "sandbox.list" => sandbox::list(ctx, params).await,
        "sandbox.recreate" => sandbox::recreate(ctx, params).await,
        "sandbox.explain" => sandbox::explain(ctx, params).await,
        "agent" => agent::agent(ctx, params).await,
        "agent.wait" => agent::wait(ctx, params).await,
        "agent.identity.get" => agent::identity(ctx, params).await,
        "send" => agent::send(ctx, params).await,
        "chat.send" => chat::send(ctx, params).await,
        "chat.history" => chat::history(ctx, params).await,
        "chat.abort" => chat::abort(ctx, params).await,
        "chat.inject" => chat::inject(ctx, params).await,
        "sessions.list" => sessions::list(ctx, params).await,
        "sessions.preview" => sessions::preview(ctx, params).await,
        "sessions.patch" => sessions::patch(ctx, params).await,
        "sessions.reset" => sessions::reset(ctx, params).await,
        "sessions.delete" => sessions::delete(ctx, params).await,
        "sessions.compact" => sessions::compact(ctx, params).await,
        _ => Err(MethodError::Unavailable(format!(
            "method {method} is not available on this gateway yet"
        ))),
    };
    match result {
        Ok(payload) => ResponseFrame::ok(id, payload),
        Err(e) => ResponseFrame::err(id, e.into_shape()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_advertised_method_has_a_scope() {
        for m in METHODS {
            assert!(required_scope(m).is_some(), "{m} has no scope");
        }
    }

    #[test]
    fn reserved_prefixes_need_admin() {
        assert_eq!(required_scope("config.get"), Some(Scope::Admin));
        assert_eq!(required_scope("config.anything"), Some(Scope::Admin));
        assert_eq!(required_scope("health"), Some(Scope::Read));
        assert_eq!(required_scope("chat.send"), Some(Scope::Write));
        assert_eq!(required_scope("nope"), None);
    }
}
