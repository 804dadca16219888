//! The root object of `openclaw.json`.

use std::collections::BTreeMap;

use super::agents::AgentsConfig;
use super::channels::ChannelsConfig;
use super::gateway::GatewayConfig;
use super::messages::MessagesConfig;
use super::misc::{Binding, CommandsConfig, HooksConfig, LoggingConfig, Meta, Wizard};
use super::models::ModelsConfig;
use super::session::SessionConfig;
use super::tools::ToolsConfig;

type FreeForm = Option<serde_json::Value>;

config_struct! {
    /// The whole config file. Unknown root keys are errors; `$schema` is allowed.
    pub struct OpenClawConfig {
        #[serde(rename = "$schema")]
        pub schema: Option<String>,
        pub meta: Option<Meta>,
        pub wizard: Option<Wizard>,
        /// Extra environment: `vars.*` and inline `KEY: "value"` entries (fill only missing vars).
        pub env: Option<BTreeMap<String, serde_json::Value>>,
        pub gateway: Option<GatewayConfig>,
        pub agents: Option<AgentsConfig>,
        pub models: Option<ModelsConfig>,
        pub tools: Option<ToolsConfig>,
        pub session: Option<SessionConfig>,
        pub messages: Option<MessagesConfig>,
        pub channels: Option<ChannelsConfig>,
        pub bindings: Option<Vec<Binding>>,
        pub commands: Option<CommandsConfig>,
        pub logging: Option<LoggingConfig>,
        pub hooks: Option<HooksConfig>,
        pub plugins: FreeForm,
        pub skills: FreeForm,
        pub cron: FreeForm,
        pub browser: FreeForm,
        pub ui: FreeForm,
        pub talk: FreeForm,
        pub audio: FreeForm,
        pub discovery: FreeForm,
        pub auth: FreeForm,
        pub secrets: FreeForm,
        pub diagnostics: FreeForm,
        pub update: FreeForm,
        pub web: FreeForm,
        pub canvas_host: FreeForm,
        pub node_host: FreeForm,
        pub broadcast: FreeForm,
        pub approvals: FreeForm,
        pub memory: FreeForm,
        pub identity: FreeForm,
        pub mcp: FreeForm,
    }
}
