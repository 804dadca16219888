//! Shared setup: registries pointed at fake servers, request builders.

mod anthropic;
mod failover;
mod openai;

use std::collections::BTreeMap;
use std::time::Duration;

use openclaw_protocol::message::{ContentBlock, Message, ToolResultMessage};
use openclaw_providers::{
    BuiltinKeys, ChatRequest, FailoverPolicy, ProviderConfig, ProviderRegistry, RegistryOptions,
    ToolSpec,
};
use serde_json::json;

/// A registry with the given `(id, api, base_url)` providers and a short stall window.
pub fn registry(providers: &[(&str, &str, &str)], idle: Duration) -> ProviderRegistry {
    let configs = providers
        .iter()
        .map(|(id, api, base)| ProviderConfig {
            id: id.to_string(),
            base_url: Some(base.to_string()),
            api: Some(api.to_string()),
            api_key: Some(format!("key-{id}")),
            headers: BTreeMap::from([("x-extra".to_string(), "yes".to_string())]),
            ..Default::default()
        })
        .collect();
    ProviderRegistry::new(
        configs,
        BuiltinKeys::default(),
        RegistryOptions {
            connect_timeout: Duration::from_secs(2),
            idle_timeout: idle,
        },
    )
    .unwrap()
}

/// Fast retries for tests.
pub fn fast_policy(retries: u32) -> FailoverPolicy {
    FailoverPolicy {
        retries_per_candidate: retries,
        base_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(50),
        max_retry_after: Duration::from_millis(500),
    }
}

pub fn exec_tool() -> ToolSpec {
    ToolSpec {
        name: "exec".into(),
        description: "Run a shell command".into(),
        parameters: json!({"type": "object", "properties": {"command": {"type": "string"}}, "required": ["command"]}),
    }
}

pub fn request(text: &str) -> ChatRequest {
    let mut req = ChatRequest::new(
        "ignored",
        "You are a test.",
        vec![Message::user_text(text, 1)],
    );
    req.tools.push(exec_tool());
    req
}

pub fn tool_result(id: &str, output: &str) -> Message {
    Message::ToolResult(ToolResultMessage {
        tool_call_id: id.into(),
        tool_name: "exec".into(),
        content: vec![ContentBlock::text(output)],
        details: None,
        is_error: false,
        timestamp: 3,
    })
}
