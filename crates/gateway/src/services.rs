//! The subsystems the gateway's methods call into (config, sessions, agent runtime, devices,
//! sandbox, channels). Each is optional so a test server can start with only what it exercises; a
//! method whose service is absent answers `UNAVAILABLE` rather than dropping the socket.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::config_service::ConfigService;

#[derive(Default)]
pub struct Services {
    pub config: Option<Arc<ConfigService>>,
    pub devices: Option<Arc<openclaw_store::devices::DeviceStore>>,
    /// The agent runtime (runs, sessions); `agent`/`chat.*`/`sessions.*` need it.
    pub agent: Option<Arc<openclaw_agent::AgentRuntime>>,
    /// The Docker agent sandbox (containers, registry); `sandbox.*` need it.
    pub sandbox: Option<Arc<openclaw_sandbox::SandboxManager>>,
    /// Chat-channel transports (Telegram); started with the server when `config` is present,
    /// re-applied on every config change, stopped on shutdown. `channels.status` and `send`
    /// use it.
    pub channels: Option<Arc<openclaw_channels::ChannelManager>>,
}

impl Services {
    /// Route the agent runtime's run events onto the gateway bus: `agent` and `chat` events,
    /// with `tool` stream events flagged for `tool-events` clients only.
    pub fn attach_bus(&self, bus: &crate::events::EventBus) {
        let Some(rt) = &self.agent else { return };
        let bus = bus.clone();
        rt.set_event_sink(Arc::new(move |ev: openclaw_agent::RuntimeEvent| {
            let (name, payload, tool) = match ev {
                openclaw_agent::RuntimeEvent::Agent(a) => (
                    openclaw_protocol::names::AGENT,
                    serde_json::to_value(&a),
                    a.stream == openclaw_protocol::events::AgentStream::Tool,
                ),
                openclaw_agent::RuntimeEvent::Chat(c) => (
                    openclaw_protocol::names::CHAT,
                    serde_json::to_value(&c),
                    false,
                ),
            };
            if let Ok(payload) = payload {
                let mut e = crate::events::BusEvent::new(name, payload);
                e.tool_stream = tool;
                bus.publish(e);
            }
        }));
    }

    /// `{path, count, recent[]}` for one agent's session store.
    pub fn session_summary(&self, agent_id: &str) -> Value {
        match &self.agent {
            Some(rt) => rt.session_summary(agent_id),
            None => {
                json!({"path": format!("agents/{agent_id}/sessions/sessions.json"), "count": 0, "recent": []})
            }
        }
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
        if let Some(rt) = &self.agent {
            return rt.model_defaults();
        }
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
