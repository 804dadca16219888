//! The subsystems the gateway's methods call into (config, sessions, agent runtime, devices,
//! sandbox). Each is optional so a test server can start with only what it exercises; a
//! method whose service is absent answers `UNAVAILABLE` rather than dropping the socket.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::config_service::ConfigService;

#[derive(Default)]
pub struct Services {
    pub config: Option<Arc<ConfigService>>,
    pub devices: Option<Arc<openclaw_store::devices::DeviceStore>>,
}

impl Services {
    /// `{path, count, recent[]}` for one agent's session store.
    pub fn session_summary(&self, agent_id: &str) -> Value {
        json!({"path": format!("agents/{agent_id}/sessions/sessions.json"), "count": 0, "recent": []})
    }

    pub fn agent_ids(&self, default_agent: &str) -> Vec<String> {
        match &self.config {
            Some(cfg) => {
                let snap = cfg.snapshot();
                openclaw_config::resolve::AgentSettings::resolve(&snap.config, &cfg.paths)
                    .agents
                    .into_iter()
                    .map(|a| a.id)
                    .collect()
            }
            None => vec![default_agent.to_string()],
        }
    }

    pub fn model_defaults(&self) -> Value {
        let primary = self.config.as_ref().and_then(|c| {
            c.snapshot()
                .value
                .pointer("/agents/defaults/model/primary")
                .and_then(Value::as_str)
                .map(str::to_string)
        });
        json!({"model": primary, "contextTokens": null})
    }
}
