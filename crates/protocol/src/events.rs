//! Event names and the payloads of the events a run streams.
//!
//! A run emits `agent` events (streams `lifecycle`, `assistant`, `tool`) and `chat` events
//! (`delta`, `final`, `aborted`, `error`), as in the recorded 2026.2.6 turns. Each run numbers
//! its own events with `seq`; the connection adds its own top-level `seq` on delivery.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::message::{Message, Usage};

pub mod names {
    pub const CONNECT_CHALLENGE: &str = "connect.challenge";
    pub const AGENT: &str = "agent";
    pub const CHAT: &str = "chat";
    pub const PRESENCE: &str = "presence";
    pub const TICK: &str = "tick";
    pub const SHUTDOWN: &str = "shutdown";
    pub const HEALTH: &str = "health";
    pub const HEARTBEAT: &str = "heartbeat";
    pub const CRON: &str = "cron";
    pub const CONFIG_CHANGED: &str = "config.changed";
    pub const DEVICE_PAIR_REQUESTED: &str = "device.pair.requested";
    pub const DEVICE_PAIR_RESOLVED: &str = "device.pair.resolved";
    pub const NODE_PAIR_REQUESTED: &str = "node.pair.requested";
    pub const NODE_PAIR_RESOLVED: &str = "node.pair.resolved";
    pub const EXEC_APPROVAL_REQUESTED: &str = "exec.approval.requested";
    pub const EXEC_APPROVAL_RESOLVED: &str = "exec.approval.resolved";
    pub const LOG: &str = "log";
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AgentStream {
    Lifecycle,
    Assistant,
    Tool,
    Compaction,
}

/// Payload of an `agent` event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentEvent {
    pub run_id: String,
    pub stream: AgentStream,
    pub data: Value,
    pub session_key: String,
    pub seq: u64,
    pub ts: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChatState {
    Delta,
    Final,
    Aborted,
    Error,
}

/// Payload of a `chat` event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatEvent {
    pub run_id: String,
    pub session_key: String,
    pub seq: u64,
    pub state: ChatState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<Message>,
    /// Incremental text of a delta (protocol 4 only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delta_text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_kind: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TickPayload {
    pub ts: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShutdownPayload {
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restart_expected_ms: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfigChangedPayload {
    pub path: String,
    pub hash: String,
    pub ts: u64,
}
