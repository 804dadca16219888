//! `messages`: queueing while a run is active, inbound debounce, acks and prefixes.

use std::collections::BTreeMap;

use super::agents::GroupChat;

config_enum! {
    /// What happens to a message that arrives while a run is active.
    pub enum QueueMode { Collect, Followup, Steer, SteerBacklog, Interrupt, Queue }
}

config_enum! {
    pub enum QueueDrop { Old, New, Summarize }
}

config_enum! {
    pub enum AckReactionScope { GroupMentions, GroupAll, Direct, All }
}

config_struct! {
    pub struct MessagesConfig {
        pub queue: Option<MessageQueue>,
        pub inbound: Option<InboundDebounce>,
        pub ack_reaction: Option<String>,
        pub ack_reaction_scope: Option<AckReactionScope>,
        pub remove_ack_after_reply: Option<bool>,
        pub response_prefix: Option<String>,
        pub message_prefix: Option<String>,
        pub group_chat: Option<GroupChat>,
        pub suppress_tool_errors: Option<bool>,
        pub tts: Option<serde_json::Value>,
    }
}

config_struct! {
    pub struct MessageQueue {
        pub mode: Option<QueueMode>,
        pub debounce_ms: Option<u64>,
        pub cap: Option<u32>,
        pub drop: Option<QueueDrop>,
        pub by_channel: Option<BTreeMap<String, QueueMode>>,
        pub debounce_ms_by_channel: Option<BTreeMap<String, u64>>,
    }
}

config_struct! {
    pub struct InboundDebounce {
        pub debounce_ms: Option<u64>,
        pub by_channel: Option<BTreeMap<String, u64>>,
    }
}
