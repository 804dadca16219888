//! `channels`: Telegram, Discord and WhatsApp are typed; any other channel id (Slack, Signal,
//! plugin channels, `defaults`) is accepted as free-form JSON for the plugin that owns it.

use std::collections::BTreeMap;
use std::fmt;

use schemars::JsonSchema;
use serde::Deserialize;
use serde::de::{Deserializer, MapAccess, Visitor};

use super::common::{SecretInput, StringOrNumber};

config_enum! {
    /// Who may DM the bot.
    pub enum DmPolicy { Pairing, Allowlist, Open, Disabled }
}

config_enum! {
    /// Which groups the bot answers in.
    pub enum GroupPolicy { Open, Allowlist, Disabled }
}

config_enum! {
    pub enum ChunkMode { Length, Newline }
}

config_enum! {
    pub enum ReplyToMode { Off, First, All }
}

/// A channel struct: the keys every channel shares plus its own.
macro_rules! channel_struct {
    ($(#[$m:meta])* pub struct $name:ident { $($extra:tt)* }) => {
        config_struct! {
            $(#[$m])*
            pub struct $name {
                pub enabled: Option<bool>,
                pub name: Option<String>,
                /// `pairing` (default), `allowlist`, `open` (needs `allowFrom: ["*"]`) or `disabled`.
                pub dm_policy: Option<DmPolicy>,
                pub allow_from: Option<Vec<StringOrNumber>>,
                pub group_policy: Option<GroupPolicy>,
                pub group_allow_from: Option<Vec<StringOrNumber>>,
                /// Per-group settings keyed by group id (or `"*"`).
                pub groups: Option<BTreeMap<String, serde_json::Value>>,
                /// Extra accounts keyed by account id; account keys override channel keys.
                pub accounts: Option<BTreeMap<String, $name>>,
                pub default_account: Option<String>,
                pub streaming: Option<serde_json::Value>,
                pub stream_mode: Option<String>,
                pub text_chunk_limit: Option<u32>,
                pub chunk_mode: Option<ChunkMode>,
                pub media_max_mb: Option<f64>,
                pub history_limit: Option<u32>,
                pub dm_history_limit: Option<u32>,
                pub dms: Option<serde_json::Value>,
                pub reply_to_mode: Option<ReplyToMode>,
                pub response_prefix: Option<String>,
                pub ack_reaction: Option<String>,
                pub config_writes: Option<bool>,
                pub exec_approvals: Option<serde_json::Value>,
                pub actions: Option<serde_json::Value>,
                pub markdown: Option<serde_json::Value>,
                pub capabilities: Option<serde_json::Value>,
                pub heartbeat: Option<serde_json::Value>,
                pub block_streaming: Option<bool>,
                pub block_streaming_coalesce: Option<serde_json::Value>,
                pub proxy: Option<String>,
                pub retry: Option<serde_json::Value>,
                pub commands: Option<serde_json::Value>,
                $($extra)*
            }
        }
    };
}

channel_struct! {
    pub struct TelegramConfig {
        /// Bot token (or `${TELEGRAM_BOT_TOKEN}`; env fallback for the default account).
        pub bot_token: Option<SecretInput>,
        pub token_file: Option<String>,
        pub webhook_url: Option<String>,
        pub webhook_secret: Option<SecretInput>,
        pub webhook_path: Option<String>,
        pub webhook_host: Option<String>,
        pub webhook_port: Option<u16>,
        pub link_preview: Option<bool>,
        pub custom_commands: Option<serde_json::Value>,
        pub reaction_notifications: Option<String>,
        pub reaction_level: Option<String>,
        pub error_policy: Option<String>,
        pub error_cooldown_ms: Option<u64>,
        pub timeout_seconds: Option<u64>,
        pub network: Option<serde_json::Value>,
        pub draft_chunk: Option<serde_json::Value>,
    }
}

channel_struct! {
    pub struct DiscordConfig {
        /// Bot token (or env `DISCORD_BOT_TOKEN` for the default account).
        pub token: Option<SecretInput>,
        pub intents: Option<serde_json::Value>,
        pub dm: Option<serde_json::Value>,
        pub guilds: Option<serde_json::Value>,
        pub allow_bots: Option<serde_json::Value>,
        pub max_lines_per_message: Option<u32>,
        pub voice: Option<serde_json::Value>,
        pub dangerously_allow_name_matching: Option<bool>,
        // Accepted so upstream configs load; not acted on by this build.
        pub pluralkit: Option<serde_json::Value>,
        pub agent_components: Option<serde_json::Value>,
        pub ui: Option<serde_json::Value>,
        pub slash_command: Option<serde_json::Value>,
        pub thread_bindings: Option<serde_json::Value>,
        pub thread: Option<serde_json::Value>,
        pub default_to: Option<String>,
        pub ack_reaction_scope: Option<String>,
        pub activity: Option<String>,
        pub activity_type: Option<u8>,
        pub activity_url: Option<String>,
        pub status: Option<String>,
        pub auto_presence: Option<serde_json::Value>,
        pub health_monitor: Option<serde_json::Value>,
    }
}

channel_struct! {
    pub struct WhatsAppConfig {
        pub self_chat_mode: Option<bool>,
        pub send_read_receipts: Option<bool>,
        pub auth_dir: Option<String>,
        pub debounce_ms: Option<u64>,
        pub message_prefix: Option<String>,
    }
}

/// All channels. Hand-written `Deserialize` (serde's `flatten` would lose error paths).
#[derive(Debug, Clone, Default, PartialEq, JsonSchema)]
pub struct ChannelsConfig {
    pub telegram: Option<TelegramConfig>,
    pub discord: Option<DiscordConfig>,
    pub whatsapp: Option<WhatsAppConfig>,
    /// Any other channel id, kept as JSON.
    #[serde(flatten)]
    pub other: BTreeMap<String, serde_json::Value>,
}

impl<'de> Deserialize<'de> for ChannelsConfig {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ChannelsConfig;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object of channel id → channel settings")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<ChannelsConfig, A::Error> {
                let mut out = ChannelsConfig::default();
                while let Some(k) = m.next_key::<String>()? {
                    match k.as_str() {
                        "telegram" => out.telegram = m.next_value()?,
                        "discord" => out.discord = m.next_value()?,
                        "whatsapp" => out.whatsapp = m.next_value()?,
                        _ => {
                            let v = m.next_value()?;
                            out.other.insert(k, v);
                        }
                    }
                }
                Ok(out)
            }
        }
        d.deserialize_map(V)
    }
}
