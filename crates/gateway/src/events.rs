//! The gateway's broadcast bus: every event a client may receive passes through here once,
//! and each connection filters it by scope and capability before numbering it.
//!
//! The bus is a bounded `broadcast` channel. A connection that falls behind by more than the
//! capacity gets `Lagged` and is closed with a reason instead of being buffered forever; events
//! are never replayed (clients re-fetch on a gap, as the protocol says).

use std::sync::Arc;

use openclaw_protocol::{Scope, names};
use serde_json::Value;
use tokio::sync::broadcast;

/// How many events may be queued for the slowest subscriber before it is dropped.
pub const BUS_CAPACITY: usize = 4096;

#[derive(Debug, Clone)]
pub struct BusEvent {
    pub event: String,
    pub payload: Value,
    /// Set on `agent` events of the `tool` stream: delivered only to clients with the
    /// `tool-events` capability (the 2026.2.6 baseline filters them the same way).
    pub tool_stream: bool,
    /// Set on `health`/`presence` events: the version counters after this update.
    pub state_version: Option<openclaw_protocol::StateVersion>,
}

impl BusEvent {
    pub fn new(event: impl Into<String>, payload: Value) -> Self {
        Self {
            event: event.into(),
            payload,
            tool_stream: false,
            state_version: None,
        }
    }

    /// The scope a connection needs to see this event; `None` = everyone.
    /// Unknown event families are gated behind admin (fail closed).
    pub fn required_scope(&self) -> Option<Scope> {
        match self.event.as_str() {
            names::TICK | names::SHUTDOWN | names::PRESENCE | names::HEALTH | names::HEARTBEAT => {
                None
            }
            names::AGENT | names::CHAT | names::CRON | names::CONFIG_CHANGED | names::LOG => {
                Some(Scope::Read)
            }
            names::DEVICE_PAIR_REQUESTED
            | names::DEVICE_PAIR_RESOLVED
            | names::NODE_PAIR_REQUESTED
            | names::NODE_PAIR_RESOLVED => Some(Scope::Pairing),
            names::EXEC_APPROVAL_REQUESTED | names::EXEC_APPROVAL_RESOLVED => {
                Some(Scope::Approvals)
            }
            _ => Some(Scope::Admin),
        }
    }
}

#[derive(Clone)]
pub struct EventBus {
    tx: broadcast::Sender<Arc<BusEvent>>,
}

impl Default for EventBus {
    fn default() -> Self {
        Self::new()
    }
}

impl EventBus {
    pub fn new() -> Self {
        let (tx, _) = broadcast::channel(BUS_CAPACITY);
        Self { tx }
    }

    pub fn publish(&self, event: BusEvent) {
        // No subscribers is normal (no clients connected).
        let _ = self.tx.send(Arc::new(event));
    }

    pub fn emit(&self, event: &str, payload: Value) {
        self.publish(BusEvent::new(event, payload));
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<BusEvent>> {
        self.tx.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_events_need_admin() {
        assert_eq!(
            BusEvent::new("weird.thing", Value::Null).required_scope(),
            Some(Scope::Admin)
        );
        assert_eq!(BusEvent::new("tick", Value::Null).required_scope(), None);
        assert_eq!(
            BusEvent::new("chat", Value::Null).required_scope(),
            Some(Scope::Read)
        );
        assert_eq!(
            BusEvent::new("device.pair.requested", Value::Null).required_scope(),
            Some(Scope::Pairing)
        );
    }
}
