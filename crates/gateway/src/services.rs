//! The subsystems the gateway's methods call into (config, sessions, agent runtime, devices,
//! sandbox). Each is optional so a test server can start with only what it exercises; a
//! method whose service is absent answers `UNAVAILABLE` rather than dropping the socket.

use serde_json::{Value, json};

#[derive(Default)]
pub struct Services {}

impl Services {
    /// `{path, count, recent[]}` for one agent's session store.
    pub fn session_summary(&self, agent_id: &str) -> Value {
        json!({"path": format!("agents/{agent_id}/sessions/sessions.json"), "count": 0, "recent": []})
    }

    pub fn agent_ids(&self, default_agent: &str) -> Vec<String> {
        vec![default_agent.to_string()]
    }

    pub fn model_defaults(&self) -> Value {
        json!({"model": null, "contextTokens": null})
    }
}
