//! The slice of the Bot API's objects this adapter reads. Telegram adds fields often: every
//! struct ignores unknown keys and every field it may omit is optional.

use serde::{Deserialize, Serialize};

/// The `{"ok": …}` envelope of every Bot API answer.
#[derive(Debug, Clone, Deserialize)]
pub struct Envelope<T> {
    pub ok: bool,
    pub result: Option<T>,
    pub description: Option<String>,
    pub error_code: Option<u16>,
    pub parameters: Option<ResponseParameters>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ResponseParameters {
    /// Flood control: seconds to wait before retrying.
    pub retry_after: Option<u64>,
    pub migrate_to_chat_id: Option<i64>,
}

/// `getMe` and message senders.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    pub id: i64,
    #[serde(default)]
    pub is_bot: bool,
    #[serde(default)]
    pub first_name: String,
    pub last_name: Option<String>,
    pub username: Option<String>,
    pub can_join_groups: Option<bool>,
    pub can_read_all_group_messages: Option<bool>,
    pub supports_inline_queries: Option<bool>,
}

impl User {
    /// `First Last`, or the username, or the id.
    pub fn display_name(&self) -> String {
        let full = match &self.last_name {
            Some(l) if !l.is_empty() => format!("{} {l}", self.first_name),
            _ => self.first_name.clone(),
        };
        let full = full.trim().to_string();
        if !full.is_empty() {
            full
        } else if let Some(u) = &self.username {
            u.clone()
        } else {
            self.id.to_string()
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Chat {
    pub id: i64,
    /// `private`, `group`, `supergroup` or `channel`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: Option<String>,
    pub username: Option<String>,
    #[serde(default)]
    pub is_forum: bool,
}

impl Chat {
    pub fn is_group(&self) -> bool {
        self.kind == "group" || self.kind == "supergroup"
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct MessageEntity {
    /// `mention`, `text_mention`, `bot_command`, …
    #[serde(rename = "type")]
    pub kind: String,
    /// In UTF-16 code units.
    pub offset: usize,
    pub length: usize,
    pub user: Option<User>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Message {
    pub message_id: i64,
    #[serde(default)]
    pub date: i64,
    pub chat: Chat,
    pub from: Option<User>,
    pub message_thread_id: Option<i64>,
    #[serde(default)]
    pub is_topic_message: bool,
    pub text: Option<String>,
    pub caption: Option<String>,
    #[serde(default)]
    pub entities: Vec<MessageEntity>,
    #[serde(default)]
    pub caption_entities: Vec<MessageEntity>,
    pub reply_to_message: Option<Box<Message>>,
    pub photo: Option<serde_json::Value>,
    pub video: Option<serde_json::Value>,
    pub video_note: Option<serde_json::Value>,
    pub voice: Option<serde_json::Value>,
    pub audio: Option<serde_json::Value>,
    pub document: Option<serde_json::Value>,
    pub sticker: Option<serde_json::Value>,
    pub location: Option<serde_json::Value>,
}

impl Message {
    /// The text the user wrote (text or media caption), and its entities.
    pub fn body(&self) -> (&str, &[MessageEntity]) {
        match (&self.text, &self.caption) {
            (Some(t), _) => (t.as_str(), &self.entities),
            (None, Some(c)) => (c.as_str(), &self.caption_entities),
            (None, None) => ("", &[]),
        }
    }

    /// `<media:image>`-style placeholder for media the adapter does not download.
    pub fn media_placeholder(&self) -> Option<&'static str> {
        if self.photo.is_some() {
            Some("<media:image>")
        } else if self.video.is_some() || self.video_note.is_some() {
            Some("<media:video>")
        } else if self.voice.is_some() || self.audio.is_some() {
            Some("<media:audio>")
        } else if self.sticker.is_some() {
            Some("<media:sticker>")
        } else if self.document.is_some() {
            Some("<media:document>")
        } else if self.location.is_some() {
            Some("<media:location>")
        } else {
            None
        }
    }

    /// The forum topic of a supergroup message, if any.
    pub fn topic_id(&self) -> Option<i64> {
        if self.chat.is_forum {
            // Messages in the General topic carry no thread id; it is topic 1.
            Some(
                self.message_thread_id
                    .filter(|_| self.is_topic_message)
                    .unwrap_or(1),
            )
        } else {
            None
        }
    }
}

/// `getFile`'s answer: where to download a file from (`<root>/file/bot<token>/<file_path>`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct File {
    pub file_id: String,
    pub file_unique_id: Option<String>,
    pub file_size: Option<u64>,
    /// Absent when Telegram cannot serve the file (over the Bot API's 20 MB download limit).
    pub file_path: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Update {
    pub update_id: i64,
    pub message: Option<Message>,
}
