//! Smaller root sections: `meta`, `wizard`, `commands`, `logging`, `hooks`, `bindings[]`.

use super::common::{SecretInput, StringOrNumber};

config_struct! {
    /// Stamped by OpenClaw on every write it makes.
    pub struct Meta {
        pub last_touched_version: Option<String>,
        pub last_touched_at: Option<String>,
    }
}

config_struct! {
    pub struct Wizard {
        pub last_run_at: Option<String>,
        pub last_run_version: Option<String>,
        pub last_run_commit: Option<String>,
        pub last_run_command: Option<String>,
        pub last_run_mode: Option<String>,
    }
}

config_struct! {
    pub struct CommandsConfig {
        /// `true`, `false` or `"auto"`.
        pub native: Option<serde_json::Value>,
        pub native_skills: Option<serde_json::Value>,
        pub text: Option<bool>,
        pub bash: Option<bool>,
        pub bash_foreground_ms: Option<u64>,
        pub config: Option<bool>,
        pub debug: Option<bool>,
        pub restart: Option<bool>,
        pub use_access_groups: Option<bool>,
        pub owner_allow_from: Option<Vec<StringOrNumber>>,
        pub allow_from: Option<serde_json::Value>,
    }
}

config_struct! {
    pub struct LoggingConfig {
        pub level: Option<String>,
        pub file: Option<String>,
        pub console_level: Option<String>,
        pub console_style: Option<String>,
        pub redact_sensitive: Option<String>,
        pub redact_patterns: Option<Vec<String>>,
    }
}

config_struct! {
    pub struct HooksConfig {
        pub enabled: Option<bool>,
        pub path: Option<String>,
        pub token: Option<SecretInput>,
        pub presets: Option<Vec<String>>,
        pub transforms_dir: Option<String>,
        pub mappings: Option<serde_json::Value>,
        pub gmail: Option<serde_json::Value>,
        pub internal: Option<serde_json::Value>,
        pub max_body_bytes: Option<u64>,
        pub default_session_key: Option<String>,
        pub allow_request_session_key: Option<bool>,
        pub allowed_session_key_prefixes: Option<Vec<String>>,
        pub allowed_agent_ids: Option<Vec<String>>,
    }
}

config_struct! {
    /// Routes inbound messages to an agent.
    pub struct Binding {
        pub agent_id: Option<String>,
        #[serde(rename = "match")]
        pub match_: Option<BindingMatch>,
        pub session: Option<serde_json::Value>,
        #[serde(rename = "type")]
        pub kind: Option<String>,
        pub comment: Option<String>,
    }
}

config_struct! {
    pub struct BindingMatch {
        pub channel: Option<String>,
        pub account_id: Option<String>,
        pub peer: Option<BindingPeer>,
        pub guild_id: Option<String>,
        pub team_id: Option<String>,
        pub roles: Option<Vec<String>>,
    }
}

config_struct! {
    pub struct BindingPeer {
        /// `direct`, `group` or `channel` (`dm` accepted as legacy).
        pub kind: Option<String>,
        pub id: Option<String>,
    }
}
