//! The parts of Discord's JSON objects this adapter reads (API v10). Ids are snowflakes sent as
//! strings. Everything is tolerant: unknown fields are ignored and optional ones default, so a
//! new field on Discord's side never breaks decoding.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Gateway opcodes.
pub mod op {
    pub const DISPATCH: u8 = 0;
    pub const HEARTBEAT: u8 = 1;
    pub const IDENTIFY: u8 = 2;
    pub const RESUME: u8 = 6;
    pub const RECONNECT: u8 = 7;
    pub const INVALID_SESSION: u8 = 9;
    pub const HELLO: u8 = 10;
    pub const HEARTBEAT_ACK: u8 = 11;
}

/// Gateway intents this adapter may ask for.
pub mod intent {
    pub const GUILDS: u64 = 1 << 0;
    pub const GUILD_MEMBERS: u64 = 1 << 1;
    pub const GUILD_PRESENCES: u64 = 1 << 8;
    pub const GUILD_MESSAGES: u64 = 1 << 9;
    pub const DIRECT_MESSAGES: u64 = 1 << 12;
    pub const MESSAGE_CONTENT: u64 = 1 << 15;
}

/// Channel types (`type` of a channel object).
pub mod channel_type {
    pub const DM: u8 = 1;
    pub const GROUP_DM: u8 = 3;
    pub const ANNOUNCEMENT_THREAD: u8 = 10;
    pub const PUBLIC_THREAD: u8 = 11;
    pub const PRIVATE_THREAD: u8 = 12;
}

/// Message types that carry something a person wrote (`DEFAULT`, `REPLY`).
pub const USER_MESSAGE_TYPES: [u8; 2] = [0, 19];

/// One gateway frame: `{op, d, s, t}`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct GatewayPayload {
    pub op: u8,
    #[serde(default)]
    pub d: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub t: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
pub struct User {
    pub id: String,
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub global_name: Option<String>,
    #[serde(default)]
    pub discriminator: Option<String>,
    #[serde(default)]
    pub bot: bool,
}

impl User {
    /// `name#1234` for legacy accounts, else the username.
    pub fn tag(&self) -> String {
        match self.discriminator.as_deref() {
            Some(d) if !d.is_empty() && d != "0" => format!("{}#{d}", self.username),
            _ => self.username.clone(),
        }
    }

    pub fn display_name(&self) -> String {
        self.global_name
            .clone()
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| self.username.clone())
    }
}

/// The sender's guild membership, sent with guild messages.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Member {
    #[serde(default)]
    pub roles: Vec<String>,
    #[serde(default)]
    pub nick: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Attachment {
    #[serde(default)]
    pub filename: String,
    #[serde(default)]
    pub content_type: Option<String>,
}

impl Attachment {
    /// The placeholder the agent sees for a file it cannot open (`<media:image>`, …).
    pub fn placeholder(&self) -> &'static str {
        match self.content_type.as_deref().unwrap_or("") {
            t if t.starts_with("image/") => "<media:image>",
            t if t.starts_with("video/") => "<media:video>",
            t if t.starts_with("audio/") => "<media:audio>",
            _ => "<media:document>",
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Message {
    pub id: String,
    pub channel_id: String,
    #[serde(default)]
    pub guild_id: Option<String>,
    pub author: User,
    #[serde(default)]
    pub member: Option<Member>,
    #[serde(default)]
    pub content: String,
    #[serde(default, rename = "type")]
    pub kind: u8,
    #[serde(default)]
    pub mentions: Vec<User>,
    #[serde(default)]
    pub mention_roles: Vec<String>,
    #[serde(default)]
    pub mention_everyone: bool,
    #[serde(default)]
    pub referenced_message: Option<Box<Message>>,
    #[serde(default)]
    pub attachments: Vec<Attachment>,
}

/// A channel, thread or DM.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Channel {
    pub id: String,
    #[serde(default, rename = "type")]
    pub kind: u8,
    #[serde(default)]
    pub guild_id: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub parent_id: Option<String>,
}

impl Channel {
    pub fn is_thread(&self) -> bool {
        matches!(
            self.kind,
            channel_type::ANNOUNCEMENT_THREAD
                | channel_type::PUBLIC_THREAD
                | channel_type::PRIVATE_THREAD
        )
    }
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Application {
    pub id: String,
}

/// The `READY` dispatch.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Ready {
    pub user: User,
    pub session_id: String,
    #[serde(default)]
    pub resume_gateway_url: Option<String>,
    #[serde(default)]
    pub application: Option<Application>,
}

/// The `GUILD_CREATE` dispatch (what this adapter caches from it).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct GuildCreate {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub channels: Vec<Channel>,
    #[serde(default)]
    pub threads: Vec<Channel>,
}

/// `GET /gateway/bot`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct GatewayBot {
    pub url: String,
}

/// Discord's error body: `{"message": …, "code": …, "retry_after": …}`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct ErrorBody {
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub code: Option<u64>,
    /// Seconds (fractional) to wait after a 429.
    #[serde(default)]
    pub retry_after: Option<f64>,
}

/// A sent message, as `POST /channels/{id}/messages` returns it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Sent {
    pub id: String,
    pub channel_id: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn message_create_decodes() {
        let m: Message = serde_json::from_value(json!({
            "id": "11", "channel_id": "22", "guild_id": "33", "type": 0, "content": "<@44> hi",
            "author": {"id": "55", "username": "ada", "global_name": "Ada", "discriminator": "0"},
            "member": {"roles": ["66"], "nick": null},
            "mentions": [{"id": "44", "username": "bot", "bot": true}],
            "mention_roles": [], "mention_everyone": false, "referenced_message": null,
            "attachments": [], "embeds": [], "tts": false, "flags": 0,
        }))
        .unwrap();
        assert_eq!(m.author.tag(), "ada");
        assert_eq!(m.author.display_name(), "Ada");
        assert!(m.mentions[0].bot);
        assert_eq!(m.member.unwrap().roles, vec!["66"]);
        assert!(m.referenced_message.is_none());
    }

    #[test]
    fn legacy_tags_keep_the_discriminator() {
        let u = User {
            id: "1".into(),
            username: "old".into(),
            discriminator: Some("0420".into()),
            ..User::default()
        };
        assert_eq!(u.tag(), "old#0420");
    }
}
