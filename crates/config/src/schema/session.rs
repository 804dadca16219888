//! `session`: session keys, reset rules, the session store.

use std::collections::BTreeMap;

config_enum! {
    pub enum SessionScope { PerSender, Global }
}

config_enum! {
    /// How direct messages map onto sessions.
    pub enum DmScope { Main, PerPeer, PerChannelPeer, PerAccountChannelPeer }
}

config_enum! {
    pub enum ResetMode { Daily, Idle }
}

config_struct! {
    pub struct SessionConfig {
        pub scope: Option<SessionScope>,
        pub dm_scope: Option<DmScope>,
        /// Main session key suffix (default `main`).
        pub main_key: Option<String>,
        pub reset: Option<SessionReset>,
        pub reset_by_type: Option<BTreeMap<String, SessionReset>>,
        pub reset_by_channel: Option<BTreeMap<String, SessionReset>>,
        pub reset_triggers: Option<Vec<String>>,
        pub idle_minutes: Option<u64>,
        /// Session store path (`{agentId}` expands).
        pub store: Option<String>,
        pub identity_links: Option<BTreeMap<String, Vec<String>>>,
        pub maintenance: Option<serde_json::Value>,
        pub send_policy: Option<serde_json::Value>,
        pub agent_to_agent: Option<serde_json::Value>,
        pub typing_interval_seconds: Option<u64>,
        pub typing_mode: Option<String>,
    }
}

config_struct! {
    pub struct SessionReset {
        pub mode: Option<ResetMode>,
        pub at_hour: Option<u8>,
        pub idle_minutes: Option<u64>,
    }
}
