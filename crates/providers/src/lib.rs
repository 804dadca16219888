//! Model providers: one provider-neutral streaming API over the wire formats OpenClaw speaks.
//!
//! - [`ModelClient`] is the seam the agent loop calls: a [`ChatRequest`] in, a stream of
//!   [`StreamEvent`]s out, cancellable through a [`CancellationToken`].
//! - [`openai::OpenAiClient`] speaks OpenAI-compatible `/chat/completions` (OpenAI, Ollama,
//!   LiteLLM, llama.cpp, vLLM…); [`anthropic::AnthropicClient`] speaks the Anthropic Messages API;
//!   [`local::LocalClient`] runs the embedded GGUF model in a worker process (`api: "local-gguf"`).
//! - [`registry::ProviderRegistry`] builds clients from provider config data (it does not read
//!   config files or the environment) and resolves `provider/model` refs.
//! - [`failover::FailoverClient`] retries and falls back along primary → fallbacks, but only
//!   before the first event reached the caller: a half-streamed answer is never replayed.
//!
//! This crate does not run tools, store transcripts or decide prompts.

pub mod anthropic;
pub mod error;
pub mod failover;
pub mod local;
pub mod openai;
pub mod registry;
pub mod sse;
mod transport;
pub mod types;

pub use error::{AttemptError, ProviderError};
pub use failover::{Candidate, FailoverClient, FailoverPolicy};
pub use registry::{
    BuiltinKeys, ModelInfo, ModelRef, ProviderConfig, ProviderRegistry, RegistryOptions,
    resolve_model_ref,
};
pub use types::{ChatRequest, StopReason, StreamEvent, ToolSpec};

pub use futures::stream::BoxStream;
pub use tokio_util::sync::CancellationToken;

use futures::StreamExt;
use openclaw_protocol::message::{AssistantMessage, ContentBlock, Usage};

/// The stream a [`ModelClient`] returns.
pub type EventStream = BoxStream<'static, Result<StreamEvent, ProviderError>>;

/// A model backend. Implementations must be cheap to share (`Arc<dyn ModelClient>`).
#[async_trait::async_trait]
pub trait ModelClient: Send + Sync {
    /// Start one model call. Resolves once the provider accepted the request (HTTP success);
    /// the answer then arrives on the stream. Cancelling `cancel` before that returns
    /// `Err(Aborted)`; cancelling later ends the stream with `Done { Aborted }`.
    async fn stream(
        &self,
        req: ChatRequest,
        cancel: CancellationToken,
    ) -> Result<EventStream, ProviderError>;
}

/// Builds an [`AssistantMessage`] from stream events, in arrival order.
///
/// Consecutive text (or thinking) deltas extend one block; each complete `ToolCall` becomes a
/// `toolCall` block. `ToolCallStart`/`ToolCallDelta` are progress only and are not stored.
#[derive(Debug, Default, Clone)]
pub struct Accumulator {
    content: Vec<ContentBlock>,
    provider: Option<String>,
    model: Option<String>,
    api: Option<String>,
    usage: Option<Usage>,
    stop_reason: Option<StopReason>,
    error_message: Option<String>,
}

impl Accumulator {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, event: &StreamEvent) {
        match event {
            StreamEvent::ModelSelected {
                provider,
                model,
                api,
            } => {
                self.provider = Some(provider.clone());
                self.model = Some(model.clone());
                self.api = Some(api.clone()).filter(|a| !a.is_empty());
            }
            StreamEvent::TextDelta(t) => match self.content.last_mut() {
                Some(ContentBlock::Text { text }) => text.push_str(t),
                _ => self.content.push(ContentBlock::Text { text: t.clone() }),
            },
            StreamEvent::ThinkingDelta(t) => match self.content.last_mut() {
                Some(ContentBlock::Thinking { thinking }) => thinking.push_str(t),
                _ => self.content.push(ContentBlock::Thinking {
                    thinking: t.clone(),
                }),
            },
            StreamEvent::ToolCallStart { .. } | StreamEvent::ToolCallDelta { .. } => {}
            StreamEvent::ToolCall {
                id,
                name,
                arguments,
            } => self.content.push(ContentBlock::ToolCall {
                id: id.clone(),
                name: name.clone(),
                arguments: arguments.clone(),
            }),
            StreamEvent::Usage(u) => self.usage = Some(*u),
            StreamEvent::Done { stop_reason } => self.stop_reason = Some(*stop_reason),
        }
    }

    /// Record a failure: the message ends with `stopReason: "error"` and the error text.
    pub fn fail(&mut self, error: &ProviderError) {
        self.stop_reason = Some(match error {
            ProviderError::Aborted => StopReason::Aborted,
            _ => StopReason::Error,
        });
        self.error_message = Some(error.to_string());
    }

    /// The stop reason seen so far (`None` until `Done` or `fail`).
    pub fn stop_reason(&self) -> Option<StopReason> {
        self.stop_reason
    }

    /// The finished message; a stream that ended without `Done` counts as an error.
    pub fn finish(self, timestamp: u64) -> AssistantMessage {
        let stop = self.stop_reason.unwrap_or(StopReason::Error);
        let error_message = match (&self.error_message, self.stop_reason) {
            (Some(m), _) => Some(m.clone()),
            (None, None) => Some("model stream ended without a stop reason".to_string()),
            (None, Some(_)) => None,
        };
        AssistantMessage {
            content: self.content,
            api: self.api,
            provider: self.provider,
            model: self.model,
            usage: self.usage,
            stop_reason: Some(stop.as_str().to_string()),
            error_message,
            timestamp,
        }
    }
}

/// Drain a stream into an [`AssistantMessage`] (timestamp = now, unix ms).
///
/// A stream error is returned as `Err`; use [`Accumulator`] directly to keep partial output.
pub async fn collect(mut stream: EventStream) -> Result<AssistantMessage, ProviderError> {
    let mut acc = Accumulator::new();
    while let Some(ev) = stream.next().await {
        acc.push(&ev?);
    }
    Ok(acc.finish(now_ms()))
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// `total_tokens` as the transcript records it: every counted token.
pub(crate) fn finish_usage(mut u: Usage) -> Usage {
    if u.total_tokens == 0 {
        u.total_tokens = u.input + u.output + u.cache_read + u.cache_write;
    }
    u
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;
    use serde_json::json;

    #[tokio::test]
    async fn collect_builds_assistant_message() {
        let events = vec![
            StreamEvent::ModelSelected {
                provider: "mock".into(),
                model: "m".into(),
                api: "openai-completions".into(),
            },
            StreamEvent::ThinkingDelta("hm".into()),
            StreamEvent::TextDelta("po".into()),
            StreamEvent::TextDelta("ng".into()),
            StreamEvent::ToolCallStart {
                index: 0,
                id: "c1".into(),
                name: "exec".into(),
            },
            StreamEvent::ToolCallDelta {
                index: 0,
                arguments_fragment: "{}".into(),
            },
            StreamEvent::ToolCall {
                id: "c1".into(),
                name: "exec".into(),
                arguments: json!({"command":"ls"}),
            },
            StreamEvent::Usage(Usage {
                input: 10,
                output: 5,
                total_tokens: 15,
                ..Usage::default()
            }),
            StreamEvent::Done {
                stop_reason: StopReason::ToolUse,
            },
        ];
        let s = futures::stream::iter(events.into_iter().map(Ok)).boxed();
        let mut msg = collect(s).await.unwrap();
        msg.timestamp = 0;
        assert_eq!(
            msg,
            AssistantMessage {
                content: vec![
                    ContentBlock::Thinking {
                        thinking: "hm".into()
                    },
                    ContentBlock::text("pong"),
                    ContentBlock::ToolCall {
                        id: "c1".into(),
                        name: "exec".into(),
                        arguments: json!({"command":"ls"})
                    },
                ],
                api: Some("openai-completions".into()),
                provider: Some("mock".into()),
                model: Some("m".into()),
                usage: Some(Usage {
                    input: 10,
                    output: 5,
                    total_tokens: 15,
                    ..Usage::default()
                }),
                stop_reason: Some("toolUse".into()),
                error_message: None,
                timestamp: 0,
            }
        );
    }

    #[test]
    fn truncated_stream_is_an_error_message() {
        let mut acc = Accumulator::new();
        acc.push(&StreamEvent::TextDelta("partial".into()));
        let msg = acc.finish(1);
        assert_eq!(msg.stop_reason.as_deref(), Some("error"));
        assert!(msg.error_message.is_some());
    }
}
