//! Anthropic Messages API: `POST {baseUrl}/v1/messages` with `stream: true`.
//!
//! The base URL omits `/v1` (as in OpenClaw config). The API is stricter than OpenAI's: the
//! system prompt is a top-level field, tool results travel as `tool_result` blocks inside a
//! *user* message, roles must alternate (consecutive same-role messages are merged here) and
//! `max_tokens` is required. Thinking blocks are not replayed: we do not keep their signatures.

use std::collections::{BTreeMap, VecDeque};

use openclaw_protocol::message::{ContentBlock, Message, Usage, UserContent};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use crate::error::ProviderError;
use crate::sse::SseEvent;
use crate::transport::{self, Decoder, Http};
use crate::types::{ChatRequest, StopReason, StreamEvent, parse_arguments};
use crate::{EventStream, ModelClient, finish_usage};

/// Wire API name recorded on assistant messages.
pub const API: &str = "anthropic-messages";
/// The `anthropic-version` header value.
pub const VERSION: &str = "2023-06-01";
/// `max_tokens` when the request does not set one (the API requires it).
pub const DEFAULT_MAX_TOKENS: u32 = 8192;

/// Client for one Anthropic-compatible endpoint.
#[derive(Clone)]
pub struct AnthropicClient {
    http: Http,
    /// Base URL without `/v1`, e.g. `https://api.anthropic.com`.
    base_url: String,
    api_key: Option<String>,
    headers: BTreeMap<String, String>,
}

impl std::fmt::Debug for AnthropicClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AnthropicClient")
            .field("provider", &self.http.provider)
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .finish_non_exhaustive()
    }
}

impl AnthropicClient {
    /// `base_url` without `/v1` (a trailing `/v1` is tolerated and stripped).
    pub fn new(
        client: reqwest::Client,
        provider: impl Into<String>,
        base_url: impl Into<String>,
        api_key: Option<String>,
        headers: BTreeMap<String, String>,
        idle_timeout: std::time::Duration,
    ) -> Self {
        let base = base_url.into();
        let base = base.trim_end_matches('/');
        let base = base.strip_suffix("/v1").unwrap_or(base).to_string();
        AnthropicClient {
            http: Http {
                client,
                provider: provider.into(),
                idle_timeout,
            },
            base_url: base,
            api_key: api_key.filter(|k| !k.is_empty()),
            headers,
        }
    }
}

#[async_trait::async_trait]
impl ModelClient for AnthropicClient {
    async fn stream(
        &self,
        req: ChatRequest,
        cancel: CancellationToken,
    ) -> Result<EventStream, ProviderError> {
        let url = format!("{}/v1/messages", self.base_url);
        let mut rb = self
            .http
            .client
            .post(&url)
            .header("anthropic-version", VERSION)
            .json(&request_body(&req));
        if let Some(key) = &self.api_key {
            rb = rb.header("x-api-key", key);
        }
        for (k, v) in &self.headers {
            rb = rb.header(k, v);
        }
        let resp = transport::send(&self.http, &url, rb, &cancel).await?;
        let head = StreamEvent::ModelSelected {
            provider: self.http.provider.clone(),
            model: req.model.clone(),
            api: API.to_string(),
        };
        let decoder = EventDecoder::new(self.http.provider.clone());
        Ok(transport::sse_stream(
            self.http.clone(),
            resp,
            decoder,
            head,
            cancel,
        ))
    }
}

/// The JSON body for a streamed Messages call.
pub fn request_body(req: &ChatRequest) -> Value {
    let mut body = json!({
        "model": req.model,
        "max_tokens": req.max_tokens.unwrap_or(DEFAULT_MAX_TOKENS),
        "messages": messages(&req.messages),
        "stream": true,
    });
    if !req.system.is_empty() {
        body["system"] = json!(req.system);
    }
    if !req.tools.is_empty() {
        body["tools"] = req
            .tools
            .iter()
            .map(|t| json!({"name": t.name, "description": t.description, "input_schema": t.parameters}))
            .collect();
    }
    if let Some(t) = req.temperature {
        body["temperature"] = json!(t);
    }
    body
}

/// Transcript messages → Anthropic messages, merging consecutive same-role turns.
pub fn messages(transcript: &[Message]) -> Vec<Value> {
    let mut out: Vec<(&'static str, Vec<Value>)> = Vec::new();
    for m in transcript {
        let (role, blocks) = match m {
            Message::User(u) => ("user", user_blocks(&u.content)),
            Message::Assistant(a) => ("assistant", assistant_blocks(&a.content)),
            Message::ToolResult(r) => {
                let mut content: Vec<Value> = r.content.iter().filter_map(media_block).collect();
                if content.is_empty() {
                    content.push(json!({"type": "text", "text": "(no output)"}));
                }
                let mut block = json!({"type": "tool_result", "tool_use_id": r.tool_call_id, "content": content});
                if r.is_error {
                    block["is_error"] = json!(true);
                }
                ("user", vec![block])
            }
        };
        if blocks.is_empty() {
            continue;
        }
        match out.last_mut() {
            Some((last, prev)) if *last == role => prev.extend(blocks),
            _ => out.push((role, blocks)),
        }
    }
    out.into_iter()
        .map(|(role, content)| json!({"role": role, "content": content}))
        .collect()
}

fn media_block(b: &ContentBlock) -> Option<Value> {
    match b {
        ContentBlock::Text { text } if !text.is_empty() => {
            Some(json!({"type": "text", "text": text}))
        }
        ContentBlock::Image { data, mime_type } => Some(json!({
            "type": "image",
            "source": {"type": "base64", "media_type": mime_type, "data": data},
        })),
        ContentBlock::Text { .. }
        | ContentBlock::Thinking { .. }
        | ContentBlock::ToolCall { .. } => None,
    }
}

fn user_blocks(c: &UserContent) -> Vec<Value> {
    match c {
        UserContent::Text(t) if t.is_empty() => Vec::new(),
        UserContent::Text(t) => vec![json!({"type": "text", "text": t})],
        UserContent::Blocks(b) => b.iter().filter_map(media_block).collect(),
    }
}

fn assistant_blocks(content: &[ContentBlock]) -> Vec<Value> {
    content
        .iter()
        .filter_map(|b| match b {
            ContentBlock::ToolCall {
                id,
                name,
                arguments,
            } => {
                let input = if arguments.is_object() {
                    arguments.clone()
                } else {
                    json!({})
                };
                Some(json!({"type": "tool_use", "id": id, "name": name, "input": input}))
            }
            other => media_block(other).filter(|v| v["type"] == "text"),
        })
        .collect()
}

#[derive(Debug)]
enum Block {
    Text,
    Thinking,
    Tool {
        id: String,
        name: String,
        json: String,
    },
    Other,
}

/// Decodes Messages stream events.
#[derive(Debug)]
pub(crate) struct EventDecoder {
    provider: String,
    blocks: BTreeMap<usize, Block>,
    usage: Usage,
    stop: Option<StopReason>,
    done: bool,
}

impl EventDecoder {
    pub(crate) fn new(provider: String) -> Self {
        EventDecoder {
            provider,
            blocks: BTreeMap::new(),
            usage: Usage::default(),
            stop: None,
            done: false,
        }
    }

    fn decode_err(&self, detail: impl Into<String>) -> ProviderError {
        ProviderError::Decode {
            provider: self.provider.clone(),
            detail: detail.into(),
        }
    }

    fn read_usage(&mut self, u: &Value) {
        let n = |k: &str| u.get(k).and_then(Value::as_u64);
        if let Some(v) = n("input_tokens") {
            self.usage.input = v;
        }
        if let Some(v) = n("output_tokens") {
            self.usage.output = v;
        }
        if let Some(v) = n("cache_read_input_tokens") {
            self.usage.cache_read = v;
        }
        if let Some(v) = n("cache_creation_input_tokens") {
            self.usage.cache_write = v;
        }
    }

    fn on_json(&mut self, v: Value, out: &mut VecDeque<StreamEvent>) -> Result<(), ProviderError> {
        let index = v.get("index").and_then(Value::as_u64).unwrap_or(0) as usize;
        match v.get("type").and_then(Value::as_str).unwrap_or("") {
            "message_start" => {
                if let Some(u) = v.pointer("/message/usage") {
                    self.read_usage(u);
                }
            }
            "content_block_start" => {
                let b = v.get("content_block").cloned().unwrap_or(Value::Null);
                let block = match b.get("type").and_then(Value::as_str).unwrap_or("") {
                    "text" => {
                        if let Some(t) = b
                            .get("text")
                            .and_then(Value::as_str)
                            .filter(|t| !t.is_empty())
                        {
                            out.push_back(StreamEvent::TextDelta(t.to_string()));
                        }
                        Block::Text
                    }
                    "thinking" => Block::Thinking,
                    "tool_use" => {
                        let id = b
                            .get("id")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_string();
                        let name = b
                            .get("name")
                            .and_then(Value::as_str)
                            .ok_or_else(|| self.decode_err("tool_use block without a name"))?
                            .to_string();
                        out.push_back(StreamEvent::ToolCallStart {
                            index,
                            id: id.clone(),
                            name: name.clone(),
                        });
                        Block::Tool {
                            id,
                            name,
                            json: String::new(),
                        }
                    }
                    _ => Block::Other,
                };
                self.blocks.insert(index, block);
            }
            "content_block_delta" => {
                let d = v.get("delta").cloned().unwrap_or(Value::Null);
                let s = |k: &str| {
                    d.get(k)
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string()
                };
                match d.get("type").and_then(Value::as_str).unwrap_or("") {
                    "text_delta" => out.push_back(StreamEvent::TextDelta(s("text"))),
                    "thinking_delta" => out.push_back(StreamEvent::ThinkingDelta(s("thinking"))),
                    "input_json_delta" => {
                        let frag = s("partial_json");
                        if let Some(Block::Tool { json, .. }) = self.blocks.get_mut(&index) {
                            json.push_str(&frag);
                        } else {
                            return Err(self.decode_err(format!(
                                "input_json_delta for block {index} which is not a tool_use"
                            )));
                        }
                        if !frag.is_empty() {
                            out.push_back(StreamEvent::ToolCallDelta {
                                index,
                                arguments_fragment: frag,
                            });
                        }
                    }
                    _ => {}
                }
            }
            "content_block_stop" => {
                if let Some(Block::Tool { id, name, json }) = self.blocks.remove(&index) {
                    out.push_back(StreamEvent::ToolCall {
                        id,
                        name,
                        arguments: parse_arguments(&json),
                    });
                }
            }
            "message_delta" => {
                if let Some(u) = v.get("usage") {
                    self.read_usage(u);
                }
                if let Some(r) = v.pointer("/delta/stop_reason").and_then(Value::as_str) {
                    self.stop = Some(match r {
                        "tool_use" => StopReason::ToolUse,
                        "max_tokens" | "model_context_window_exceeded" => StopReason::Length,
                        "refusal" => StopReason::Error,
                        _ => StopReason::Stop,
                    });
                }
            }
            "message_stop" => self.complete(out),
            "error" => {
                let e = v.get("error").cloned().unwrap_or(Value::Null);
                return Err(ProviderError::Remote {
                    provider: self.provider.clone(),
                    kind: e
                        .get("type")
                        .and_then(Value::as_str)
                        .unwrap_or("error")
                        .to_string(),
                    message: e
                        .get("message")
                        .and_then(Value::as_str)
                        .unwrap_or("unknown error")
                        .to_string(),
                });
            }
            // `ping` and event types added later are ignored.
            _ => {}
        }
        Ok(())
    }

    fn complete(&mut self, out: &mut VecDeque<StreamEvent>) {
        // A tool block never stopped still counts: the message did end.
        let blocks = std::mem::take(&mut self.blocks);
        for (_, b) in blocks {
            if let Block::Tool { id, name, json } = b {
                out.push_back(StreamEvent::ToolCall {
                    id,
                    name,
                    arguments: parse_arguments(&json),
                });
            }
        }
        out.push_back(StreamEvent::Usage(finish_usage(self.usage)));
        out.push_back(StreamEvent::Done {
            stop_reason: self.stop.unwrap_or(StopReason::Stop),
        });
        self.done = true;
    }
}

impl Decoder for EventDecoder {
    fn on_event(
        &mut self,
        ev: SseEvent,
        out: &mut VecDeque<StreamEvent>,
    ) -> Result<(), ProviderError> {
        let data = ev.data.trim();
        if data.is_empty() {
            return Ok(());
        }
        let v: Value = serde_json::from_str(data).map_err(|e| {
            self.decode_err(format!(
                "invalid JSON event ({e}): {}",
                data.chars().take(200).collect::<String>()
            ))
        })?;
        self.on_json(v, out)
    }

    fn on_eof(&mut self, out: &mut VecDeque<StreamEvent>) -> Result<(), ProviderError> {
        if self.stop.is_some() {
            self.complete(out);
            Ok(())
        } else {
            Err(self.decode_err("stream ended before message_stop"))
        }
    }

    fn finished(&self) -> bool {
        self.done
    }
}

#[cfg(test)]
#[path = "anthropic_tests.rs"]
mod tests;
