//! OpenAI-compatible `POST {baseUrl}/chat/completions` with `stream: true`.
//!
//! The lowest common denominator of model servers: OpenAI itself, Ollama (`/v1`), LiteLLM,
//! vLLM, llama.cpp. We therefore send only widely supported fields (`max_tokens`, not
//! `max_completion_tokens`; no `developer` role) and decode leniently: tool-call deltas are keyed
//! by `index`, ids may be missing, `finish_reason` may be absent before `[DONE]`.

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
pub const API: &str = "openai-completions";

/// Client for one OpenAI-compatible endpoint.
#[derive(Clone)]
pub struct OpenAiClient {
    http: Http,
    /// Base URL including the version path, e.g. `https://api.openai.com/v1`.
    base_url: String,
    api_key: Option<String>,
    headers: BTreeMap<String, String>,
}

impl std::fmt::Debug for OpenAiClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenAiClient")
            .field("provider", &self.http.provider)
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .finish_non_exhaustive()
    }
}

impl OpenAiClient {
    /// `base_url` includes the version segment (`…/v1`); no key means no `Authorization`.
    pub fn new(
        client: reqwest::Client,
        provider: impl Into<String>,
        base_url: impl Into<String>,
        api_key: Option<String>,
        headers: BTreeMap<String, String>,
        idle_timeout: std::time::Duration,
    ) -> Self {
        OpenAiClient {
            http: Http {
                client,
                provider: provider.into(),
                idle_timeout,
            },
            base_url: base_url.into().trim_end_matches('/').to_string(),
            api_key: api_key.filter(|k| !k.is_empty()),
            headers,
        }
    }
}

#[async_trait::async_trait]
impl ModelClient for OpenAiClient {
    async fn stream(
        &self,
        req: ChatRequest,
        cancel: CancellationToken,
    ) -> Result<EventStream, ProviderError> {
        let url = format!("{}/chat/completions", self.base_url);
        let mut rb = self.http.client.post(&url).json(&request_body(&req));
        if let Some(key) = &self.api_key {
            rb = rb.bearer_auth(key);
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
        let decoder = ChunkDecoder::new(self.http.provider.clone());
        Ok(transport::sse_stream(
            self.http.clone(),
            resp,
            decoder,
            head,
            cancel,
        ))
    }
}

/// The JSON body for a streamed chat completion.
pub fn request_body(req: &ChatRequest) -> Value {
    let mut body = json!({
        "model": req.model,
        "messages": messages(&req.system, &req.messages),
        "stream": true,
        "stream_options": { "include_usage": true },
    });
    if !req.tools.is_empty() {
        body["tools"] = req
            .tools
            .iter()
            .map(|t| {
                json!({"type": "function", "function": {
                    "name": t.name, "description": t.description, "parameters": t.parameters,
                }})
            })
            .collect();
    }
    if let Some(n) = req.max_tokens {
        body["max_tokens"] = json!(n);
    }
    if let Some(t) = req.temperature {
        body["temperature"] = json!(t);
    }
    body
}

/// Transcript messages → OpenAI chat messages (system first).
pub fn messages(system: &str, transcript: &[Message]) -> Vec<Value> {
    let mut out = Vec::with_capacity(transcript.len() + 1);
    if !system.is_empty() {
        out.push(json!({"role": "system", "content": system}));
    }
    for m in transcript {
        match m {
            Message::User(u) => {
                out.push(json!({"role": "user", "content": user_content(&u.content)}))
            }
            Message::Assistant(a) => {
                let text: String = a
                    .content
                    .iter()
                    .filter_map(|b| match b {
                        ContentBlock::Text { text } => Some(text.as_str()),
                        _ => None,
                    })
                    .collect();
                let calls: Vec<Value> = a
                    .tool_calls()
                    .map(|(id, name, args)| {
                        json!({"id": id, "type": "function", "function": {
                            "name": name, "arguments": arguments_string(args),
                        }})
                    })
                    .collect();
                if text.is_empty() && calls.is_empty() {
                    // Failed or aborted turns with nothing said are not worth a message.
                    continue;
                }
                let mut msg = json!({"role": "assistant"});
                msg["content"] = if text.is_empty() {
                    Value::Null
                } else {
                    Value::String(text)
                };
                if !calls.is_empty() {
                    msg["tool_calls"] = Value::Array(calls);
                }
                out.push(msg);
            }
            Message::ToolResult(r) => out.push(json!({
                "role": "tool",
                "tool_call_id": r.tool_call_id,
                "content": Message::ToolResult(r.clone()).text(),
            })),
        }
    }
    out
}

fn arguments_string(args: &Value) -> String {
    match args {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn user_content(c: &UserContent) -> Value {
    match c {
        UserContent::Text(t) => Value::String(t.clone()),
        UserContent::Blocks(blocks) => {
            if blocks
                .iter()
                .all(|b| matches!(b, ContentBlock::Text { .. }))
            {
                let text: String = blocks
                    .iter()
                    .filter_map(|b| match b {
                        ContentBlock::Text { text } => Some(text.as_str()),
                        _ => None,
                    })
                    .collect();
                return Value::String(text);
            }
            blocks
                .iter()
                .filter_map(|b| match b {
                    ContentBlock::Text { text } => Some(json!({"type": "text", "text": text})),
                    ContentBlock::Image { data, mime_type } => Some(json!({
                        "type": "image_url",
                        "image_url": {"url": format!("data:{mime_type};base64,{data}")},
                    })),
                    ContentBlock::Thinking { .. } | ContentBlock::ToolCall { .. } => None,
                })
                .collect()
        }
    }
}

#[derive(Debug, Default)]
struct PartialCall {
    id: String,
    name: String,
    arguments: String,
}

/// Decodes `chat.completion.chunk` events.
#[derive(Debug)]
pub(crate) struct ChunkDecoder {
    provider: String,
    calls: BTreeMap<usize, PartialCall>,
    finish: Option<StopReason>,
    usage: Option<Usage>,
    done: bool,
}

impl ChunkDecoder {
    pub(crate) fn new(provider: String) -> Self {
        ChunkDecoder {
            provider,
            calls: BTreeMap::new(),
            finish: None,
            usage: None,
            done: false,
        }
    }

    fn decode_err(&self, detail: impl Into<String>) -> ProviderError {
        ProviderError::Decode {
            provider: self.provider.clone(),
            detail: detail.into(),
        }
    }

    fn complete(&mut self, out: &mut VecDeque<StreamEvent>) {
        let calls = std::mem::take(&mut self.calls);
        let had_calls = !calls.is_empty();
        for (_, c) in calls {
            out.push_back(StreamEvent::ToolCall {
                id: c.id,
                name: c.name,
                arguments: parse_arguments(&c.arguments),
            });
        }
        if let Some(u) = self.usage.take() {
            out.push_back(StreamEvent::Usage(finish_usage(u)));
        }
        let mut stop = self.finish.unwrap_or(StopReason::Stop);
        // Some servers say "stop" while returning tool calls.
        if had_calls && stop == StopReason::Stop {
            stop = StopReason::ToolUse;
        }
        out.push_back(StreamEvent::Done { stop_reason: stop });
        self.done = true;
    }

    fn on_chunk(&mut self, v: Value, out: &mut VecDeque<StreamEvent>) -> Result<(), ProviderError> {
        if let Some(err) = v.get("error") {
            return Err(ProviderError::Remote {
                provider: self.provider.clone(),
                kind: err
                    .get("type")
                    .or_else(|| err.get("code"))
                    .and_then(Value::as_str)
                    .unwrap_or("error")
                    .to_string(),
                message: err
                    .get("message")
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .unwrap_or_else(|| err.to_string()),
            });
        }
        if let Some(u) = v.get("usage").filter(|u| !u.is_null()) {
            let n = |p: &str| u.pointer(p).and_then(Value::as_u64).unwrap_or(0);
            let cached = n("/prompt_tokens_details/cached_tokens");
            self.usage = Some(Usage {
                input: n("/prompt_tokens").saturating_sub(cached),
                output: n("/completion_tokens"),
                cache_read: cached,
                cache_write: 0,
                total_tokens: n("/total_tokens"),
            });
        }
        let Some(choices) = v.get("choices").and_then(Value::as_array) else {
            return Ok(());
        };
        for choice in choices {
            if let Some(delta) = choice.get("delta") {
                self.on_delta(delta, out)?;
            }
            if let Some(reason) = choice.get("finish_reason").and_then(Value::as_str) {
                self.finish = Some(match reason {
                    "length" => StopReason::Length,
                    "tool_calls" | "function_call" => StopReason::ToolUse,
                    "content_filter" => StopReason::Error,
                    _ => StopReason::Stop,
                });
            }
        }
        Ok(())
    }

    fn on_delta(
        &mut self,
        delta: &Value,
        out: &mut VecDeque<StreamEvent>,
    ) -> Result<(), ProviderError> {
        for key in ["reasoning_content", "reasoning"] {
            if let Some(t) = delta
                .get(key)
                .and_then(Value::as_str)
                .filter(|t| !t.is_empty())
            {
                out.push_back(StreamEvent::ThinkingDelta(t.to_string()));
            }
        }
        if let Some(t) = delta
            .get("content")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
        {
            out.push_back(StreamEvent::TextDelta(t.to_string()));
        }
        let Some(calls) = delta.get("tool_calls").and_then(Value::as_array) else {
            return Ok(());
        };
        for (pos, call) in calls.iter().enumerate() {
            let index = call
                .get("index")
                .and_then(Value::as_u64)
                .map(|i| i as usize)
                .unwrap_or(pos);
            let f = call.get("function");
            let name = f.and_then(|f| f.get("name")).and_then(Value::as_str);
            let id = call.get("id").and_then(Value::as_str);
            let args = f.and_then(|f| f.get("arguments")).and_then(Value::as_str);
            if !self.calls.contains_key(&index) {
                let name = name.ok_or_else(|| {
                    self.decode_err(format!("tool call {index} started without a function name"))
                })?;
                let id = id
                    .map(str::to_string)
                    .unwrap_or_else(|| format!("call_{index}"));
                out.push_back(StreamEvent::ToolCallStart {
                    index,
                    id: id.clone(),
                    name: name.to_string(),
                });
                self.calls.insert(
                    index,
                    PartialCall {
                        id,
                        name: name.to_string(),
                        arguments: String::new(),
                    },
                );
            }
            if let (Some(a), Some(c)) = (args.filter(|a| !a.is_empty()), self.calls.get_mut(&index))
            {
                c.arguments.push_str(a);
                out.push_back(StreamEvent::ToolCallDelta {
                    index,
                    arguments_fragment: a.to_string(),
                });
            }
        }
        Ok(())
    }
}

impl Decoder for ChunkDecoder {
    fn on_event(
        &mut self,
        ev: SseEvent,
        out: &mut VecDeque<StreamEvent>,
    ) -> Result<(), ProviderError> {
        let data = ev.data.trim();
        if data == "[DONE]" {
            self.complete(out);
            return Ok(());
        }
        if data.is_empty() {
            return Ok(());
        }
        let v: Value = serde_json::from_str(data)
            .map_err(|e| self.decode_err(format!("invalid JSON chunk ({e}): {}", clip(data))))?;
        self.on_chunk(v, out)
    }

    fn on_eof(&mut self, out: &mut VecDeque<StreamEvent>) -> Result<(), ProviderError> {
        if self.finish.is_some() {
            self.complete(out);
            Ok(())
        } else {
            Err(self.decode_err("stream ended before finish_reason or [DONE]"))
        }
    }

    fn finished(&self) -> bool {
        self.done
    }
}

fn clip(s: &str) -> String {
    s.chars().take(200).collect()
}

#[cfg(test)]
#[path = "openai_tests.rs"]
mod tests;
