//! Transcript messages (pi-coding-agent "AgentMessage" shapes), shared by the transcript
//! store, the agent loop, `chat.history` and `chat` events.
//!
//! Parsing is tolerant: transcripts written by OpenClaw carry fields we do not model, and a
//! state dir from 2026.2 must load. Unknown content blocks are kept as raw JSON.

use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "role", rename_all = "camelCase")]
pub enum Message {
    User(UserMessage),
    Assistant(AssistantMessage),
    ToolResult(ToolResultMessage),
}

impl Message {
    pub fn user_text(text: impl Into<String>, timestamp: u64) -> Self {
        Message::User(UserMessage {
            content: UserContent::Text(text.into()),
            timestamp,
        })
    }

    pub fn timestamp(&self) -> u64 {
        match self {
            Message::User(m) => m.timestamp,
            Message::Assistant(m) => m.timestamp,
            Message::ToolResult(m) => m.timestamp,
        }
    }

    /// All plain text in the message, joined; what a preview or a channel reply shows.
    pub fn text(&self) -> String {
        match self {
            Message::User(m) => match &m.content {
                UserContent::Text(t) => t.clone(),
                UserContent::Blocks(b) => blocks_text(b),
            },
            Message::Assistant(m) => blocks_text(&m.content),
            Message::ToolResult(m) => blocks_text(&m.content),
        }
    }
}

fn blocks_text(blocks: &[ContentBlock]) -> String {
    let mut out = String::new();
    for b in blocks {
        if let ContentBlock::Text { text } = b {
            out.push_str(text);
        }
    }
    out
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserMessage {
    pub content: UserContent,
    #[serde(default)]
    pub timestamp: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum UserContent {
    Text(String),
    Blocks(Vec<ContentBlock>),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssistantMessage {
    pub content: Vec<ContentBlock>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    #[serde(default)]
    pub timestamp: u64,
}

impl AssistantMessage {
    pub fn tool_calls(&self) -> impl Iterator<Item = (&str, &str, &Value)> {
        self.content.iter().filter_map(|b| match b {
            ContentBlock::ToolCall {
                id,
                name,
                arguments,
            } => Some((id.as_str(), name.as_str(), arguments)),
            _ => None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolResultMessage {
    pub tool_call_id: String,
    pub tool_name: String,
    pub content: Vec<ContentBlock>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<Value>,
    #[serde(default)]
    pub is_error: bool,
    #[serde(default)]
    pub timestamp: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum ContentBlock {
    Text {
        text: String,
    },
    Thinking {
        thinking: String,
    },
    ToolCall {
        id: String,
        name: String,
        arguments: Value,
    },
    Image {
        data: String,
        #[serde(rename = "mimeType")]
        mime_type: String,
    },
}

impl ContentBlock {
    pub fn text(text: impl Into<String>) -> Self {
        ContentBlock::Text { text: text.into() }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Usage {
    #[serde(default)]
    pub input: u64,
    #[serde(default)]
    pub output: u64,
    #[serde(default)]
    pub cache_read: u64,
    #[serde(default)]
    pub cache_write: u64,
    #[serde(default)]
    pub total_tokens: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_recorded_history_messages() {
        let text = r#"[{"role": "assistant", "content": [{"type": "toolCall", "id": "call_1", "name": "exec",
              "arguments": {"command": "echo run 9"}}], "api": "openai-completions", "provider": "mock",
              "model": "mock-model", "usage": {"input": 10, "output": 5, "cacheRead": 0, "cacheWrite": 0,
              "totalTokens": 15, "cost": {"input": 0, "output": 0, "cacheRead": 0, "cacheWrite": 0, "total": 0}},
              "stopReason": "toolUse", "timestamp": 1795499098772},
            {"role": "toolResult", "toolCallId": "call_1", "toolName": "exec", "content": [{"type": "text", "text": "run 9"}],
              "details": {"status": "completed", "exitCode": 0}, "isError": false, "timestamp": 1795499098795},
            {"role": "user", "content": "hi", "timestamp": 1}]"#;
        let msgs: Vec<Message> = serde_json::from_str(text).unwrap();
        assert_eq!(msgs.len(), 3);
        let Message::Assistant(a) = &msgs[0] else {
            panic!("assistant expected")
        };
        let calls: Vec<_> = a.tool_calls().collect();
        assert_eq!(calls.len(), 1);
        assert_eq!(calls[0].1, "exec");
        assert_eq!(msgs[1].text(), "run 9");
        assert_eq!(msgs[2].text(), "hi");
    }
}
