//! The worker protocol: newline-delimited JSON over the worker's stdin (requests) and stdout
//! (events).
//!
//! The gateway never links llama.cpp; it spawns `openclaw local-model-worker --model PATH` and
//! speaks this protocol, so a C++ abort inside inference kills only the worker. One request is in
//! flight at a time. After loading the model the worker prints one `ready` line; each `generate`
//! request is answered by zero or more `token` lines, at most one `tool_call`, then exactly one
//! `done` or `error` line.
//!
//! ```text
//! → {"type":"generate","messages":[{"role":"user","content":"hi"}],"tools":[],"force_tool":false,"max_tokens":256}
//! ← {"type":"token","text":"Hello"}
//! ← {"type":"done","stop_reason":"stop","usage":{"input":12,"output":9}}
//! ```

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One chat message as the model sees it: role `system`, `user` or `assistant`, plain text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireMessage {
    pub role: String,
    pub content: String,
}

impl WireMessage {
    pub fn new(role: impl Into<String>, content: impl Into<String>) -> Self {
        WireMessage {
            role: role.into(),
            content: content.into(),
        }
    }
}

/// A tool the model may call; `parameters` is a JSON Schema (`type: "object"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WireTool {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub parameters: Value,
}

/// A request from the gateway to the worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum WorkerRequest {
    /// Run one completion. With `force_tool` the output is constrained by a grammar built from
    /// `tools` to one tool call; otherwise the model answers in free text.
    Generate {
        messages: Vec<WireMessage>,
        #[serde(default)]
        tools: Vec<WireTool>,
        #[serde(default)]
        force_tool: bool,
        #[serde(default)]
        max_tokens: Option<u32>,
        #[serde(default)]
        temperature: Option<f32>,
    },
}

/// Token counts of one generation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireUsage {
    pub input: u64,
    pub output: u64,
}

/// Why a generation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WireStopReason {
    /// End-of-generation token.
    Stop,
    /// `max_tokens` (or the context window) reached.
    Length,
    /// A tool call was emitted.
    ToolUse,
}

/// An event from the worker to the gateway.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum WorkerEvent {
    /// The model is loaded; requests are accepted from now on.
    Ready { model: String, load_ms: u64 },
    /// A piece of free-text answer.
    Token { text: String },
    /// The (grammar-constrained) tool call; `arguments` is a JSON object.
    ToolCall { name: String, arguments: Value },
    Done {
        stop_reason: WireStopReason,
        usage: WireUsage,
    },
    /// The request failed; the worker stays usable.
    Error { message: String },
}

/// A line that is not a protocol message.
#[derive(Debug, thiserror::Error)]
#[error("bad worker protocol line {line:?}: {source}")]
pub struct WireError {
    pub line: String,
    #[source]
    pub source: serde_json::Error,
}

fn clip(line: &str) -> String {
    line.chars().take(200).collect()
}

impl WorkerEvent {
    /// Parse one stdout line of the worker.
    pub fn parse(line: &str) -> Result<Self, WireError> {
        serde_json::from_str(line.trim()).map_err(|source| WireError {
            line: clip(line),
            source,
        })
    }

    /// The event as one line, without the trailing newline.
    pub fn to_line(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|e| {
            format!(r#"{{"type":"error","message":"cannot encode event: {e}"}}"#)
        })
    }
}

impl WorkerRequest {
    /// Parse one stdin line of the worker.
    pub fn parse(line: &str) -> Result<Self, WireError> {
        serde_json::from_str(line.trim()).map_err(|source| WireError {
            line: clip(line),
            source,
        })
    }

    /// The request as one line, without the trailing newline.
    pub fn to_line(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;
    use serde_json::json;

    #[test]
    fn generate_request_round_trips_with_defaults() {
        let req = WorkerRequest::parse(
            r#"{"type":"generate","messages":[{"role":"user","content":"hi"}]}"#,
        )
        .unwrap();
        assert_eq!(
            req,
            WorkerRequest::Generate {
                messages: vec![WireMessage::new("user", "hi")],
                tools: vec![],
                force_tool: false,
                max_tokens: None,
                temperature: None,
            }
        );
        let line = req.to_line().unwrap();
        assert!(!line.contains('\n'));
        assert_eq!(WorkerRequest::parse(&line).unwrap(), req);
    }

    #[test]
    fn events_parse_from_the_documented_shapes() {
        assert_eq!(
            WorkerEvent::parse(r#"{"type":"token","text":"Hel"}"#).unwrap(),
            WorkerEvent::Token { text: "Hel".into() }
        );
        assert_eq!(
            WorkerEvent::parse(
                r#"{"type":"tool_call","name":"exec","arguments":{"command":"uname -a"}}"#
            )
            .unwrap(),
            WorkerEvent::ToolCall {
                name: "exec".into(),
                arguments: json!({"command": "uname -a"})
            }
        );
        assert_eq!(
            WorkerEvent::parse(
                r#"{"type":"done","stop_reason":"tool_use","usage":{"input":3,"output":4}}"#
            )
            .unwrap(),
            WorkerEvent::Done {
                stop_reason: WireStopReason::ToolUse,
                usage: WireUsage {
                    input: 3,
                    output: 4
                }
            }
        );
        let ev = WorkerEvent::Error {
            message: "boom\nline".into(),
        };
        let line = ev.to_line();
        assert!(!line.contains('\n'), "{line}");
        assert_eq!(WorkerEvent::parse(&line).unwrap(), ev);
    }

    #[test]
    fn garbage_lines_are_errors_naming_the_line() {
        let e = WorkerEvent::parse("llama.cpp says hello").unwrap_err();
        assert!(e.to_string().contains("llama.cpp says hello"), "{e}");
        assert!(WorkerEvent::parse(r#"{"type":"nope"}"#).is_err());
        assert!(WorkerRequest::parse(r#"{"type":"generate"}"#).is_err());
    }
}
