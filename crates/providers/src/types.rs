//! Provider-neutral request and stream types.
//!
//! Every backend (OpenAI-compatible, Anthropic) turns a [`ChatRequest`] into its own wire format
//! and decodes its own stream into [`StreamEvent`]s, so the agent loop never sees a provider's
//! JSON. Transcript messages are the protocol crate's types; this module adds only what a model
//! call needs on top of them.

use openclaw_protocol::message::{Message, Usage};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One model call: the prompt, the tools the model may call and sampling limits.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatRequest {
    /// Model id as the provider knows it (the part after `provider/`).
    pub model: String,
    /// System prompt; omitted from the wire when empty.
    pub system: String,
    /// Transcript so far, oldest first.
    pub messages: Vec<Message>,
    /// Tools offered to the model; empty means no tools.
    pub tools: Vec<ToolSpec>,
    pub max_tokens: Option<u32>,
    pub temperature: Option<f32>,
}

impl ChatRequest {
    /// A request with no tools and default sampling.
    pub fn new(
        model: impl Into<String>,
        system: impl Into<String>,
        messages: Vec<Message>,
    ) -> Self {
        ChatRequest {
            model: model.into(),
            system: system.into(),
            messages,
            tools: Vec::new(),
            max_tokens: None,
            temperature: None,
        }
    }
}

/// A tool the model may call. `parameters` is a flat `type: "object"` JSON Schema.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolSpec {
    pub name: String,
    pub description: String,
    pub parameters: Value,
}

/// Why the model stopped. Serialized with the transcript's `stopReason` strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum StopReason {
    Stop,
    Length,
    ToolUse,
    Error,
    Aborted,
}

impl StopReason {
    /// The transcript string (`stop`, `length`, `toolUse`, `error`, `aborted`).
    pub fn as_str(self) -> &'static str {
        match self {
            StopReason::Stop => "stop",
            StopReason::Length => "length",
            StopReason::ToolUse => "toolUse",
            StopReason::Error => "error",
            StopReason::Aborted => "aborted",
        }
    }
}

/// One decoded piece of a model's streamed answer.
///
/// Order guarantees: `ModelSelected` (if any) comes first; a `ToolCall` follows the
/// `ToolCallStart`/`ToolCallDelta`s of the same `index`; `Usage` (final totals) precedes `Done`;
/// `Done` is the last event. A stream cancelled mid-answer ends with `Done { Aborted }`.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamEvent {
    /// Which provider/model is answering; the transcript records it on the assistant message.
    ModelSelected {
        provider: String,
        model: String,
        /// Wire API used (`openai-completions`, `anthropic-messages`).
        api: String,
    },
    TextDelta(String),
    ThinkingDelta(String),
    /// A tool call began; `index` identifies it among this answer's tool calls.
    ToolCallStart {
        index: usize,
        id: String,
        name: String,
    },
    /// A fragment of the tool call's JSON arguments (not parseable on its own).
    ToolCallDelta {
        index: usize,
        arguments_fragment: String,
    },
    /// A complete tool call. `arguments` is the parsed JSON object; if the model produced text
    /// that is not JSON it is passed through as a JSON string for the tool layer to reject.
    ToolCall {
        id: String,
        name: String,
        arguments: Value,
    },
    /// Token totals for this call (the last `Usage` event wins).
    Usage(Usage),
    Done {
        stop_reason: StopReason,
    },
}

/// Parse streamed tool arguments. Empty means "no arguments"; invalid JSON is kept as a string.
pub(crate) fn parse_arguments(raw: &str) -> Value {
    if raw.trim().is_empty() {
        return Value::Object(serde_json::Map::new());
    }
    serde_json::from_str(raw).unwrap_or_else(|_| Value::String(raw.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn stop_reason_wire_strings_match_transcript() {
        for r in [
            StopReason::Stop,
            StopReason::Length,
            StopReason::ToolUse,
            StopReason::Error,
            StopReason::Aborted,
        ] {
            assert_eq!(
                serde_json::to_value(r).unwrap(),
                Value::String(r.as_str().into())
            );
        }
        assert_eq!(StopReason::ToolUse.as_str(), "toolUse");
    }

    #[test]
    fn arguments_parse_leniently() {
        assert_eq!(parse_arguments(""), serde_json::json!({}));
        assert_eq!(parse_arguments("{\"a\":1}"), serde_json::json!({"a":1}));
        assert_eq!(parse_arguments("{\"a\":"), Value::String("{\"a\":".into()));
    }
}
