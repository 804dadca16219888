//! Anthropic client against the fake Anthropic server.

use std::time::Duration;

use openclaw_protocol::message::{ContentBlock, Message, Usage};
use openclaw_providers::{CancellationToken, ProviderError, collect};
use openclaw_test_support::{Behavior, FakeAnthropic, Script};
use pretty_assertions::assert_eq;
use serde_json::json;

use super::{registry, request, tool_result};

#[tokio::test]
async fn text_and_tool_round_trip_on_messages_api() {
    let server = FakeAnthropic::start(Script::echo()).await;
    let reg = registry(
        &[("anthropic", "anthropic-messages", &server.base_url)],
        Duration::from_secs(10),
    );
    let client = reg.client("anthropic").unwrap();

    let mut req = request("hello");
    req.model = "claude-test".into();
    let msg = collect(
        client
            .stream(req.clone(), CancellationToken::new())
            .await
            .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(msg.content, vec![ContentBlock::text("pong: hello")]);
    assert_eq!(
        msg.usage,
        Some(Usage {
            input: 10,
            output: 5,
            total_tokens: 15,
            ..Usage::default()
        })
    );
    assert_eq!(
        (msg.provider.as_deref(), msg.model.as_deref()),
        (Some("anthropic"), Some("claude-test"))
    );
    assert_eq!(msg.api.as_deref(), Some("anthropic-messages"));

    req.messages
        .push(Message::user_text("TOOL exec {\"command\":\"echo hi\"}", 2));
    let call = collect(
        client
            .stream(req.clone(), CancellationToken::new())
            .await
            .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(call.stop_reason.as_deref(), Some("toolUse"));
    let (id, name, args) = call.tool_calls().next().unwrap();
    assert_eq!(
        (id, name, args.clone()),
        ("toolu_1", "exec", json!({"command": "echo hi"}))
    );

    req.messages.push(Message::Assistant(call.clone()));
    req.messages.push(tool_result("toolu_1", "hi"));
    let done = collect(client.stream(req, CancellationToken::new()).await.unwrap())
        .await
        .unwrap();
    assert_eq!(done.content, vec![ContentBlock::text("tool said: hi")]);

    let reqs = server.requests();
    let r = &reqs[2];
    assert_eq!(r.path, "/v1/messages");
    assert_eq!(
        r.headers.get("x-api-key").map(String::as_str),
        Some("key-anthropic")
    );
    assert_eq!(
        r.headers.get("anthropic-version").map(String::as_str),
        Some("2023-06-01")
    );
    assert_eq!(r.body["system"], json!("You are a test."));
    assert_eq!(r.body["tools"][0]["input_schema"]["type"], json!("object"));
    let msgs = r.body["messages"].as_array().unwrap();
    // user(hello) and user(TOOL …) merged; roles alternate.
    let roles: Vec<_> = msgs.iter().map(|m| m["role"].as_str().unwrap()).collect();
    assert_eq!(roles, vec!["user", "assistant", "user"]);
    assert_eq!(msgs[2]["content"][0]["type"], json!("tool_result"));
    assert_eq!(msgs[2]["content"][0]["tool_use_id"], json!("toolu_1"));
    server.shutdown().await;
}

#[tokio::test]
async fn in_stream_error_event_is_remote_error() {
    let server = FakeAnthropic::start(Script::always(Behavior::ErrorMidStream)).await;
    let reg = registry(
        &[("anthropic", "anthropic-messages", &server.base_url)],
        Duration::from_secs(10),
    );
    let stream = reg
        .client("anthropic")
        .unwrap()
        .stream(request("x"), CancellationToken::new())
        .await
        .unwrap();
    match collect(stream).await {
        Err(ProviderError::Remote { kind, .. }) => assert_eq!(kind, "overloaded_error"),
        other => panic!("expected a remote error, got {other:?}"),
    }
    server.shutdown().await;
}

#[tokio::test]
async fn client_error_status_is_reported_with_message() {
    let server = FakeAnthropic::start(Script::always(Behavior::Status(401))).await;
    let reg = registry(
        &[("anthropic", "anthropic-messages", &server.base_url)],
        Duration::from_secs(10),
    );
    let err = reg
        .client("anthropic")
        .unwrap()
        .stream(request("x"), CancellationToken::new())
        .await
        .err()
        .unwrap();
    let text = err.to_string();
    assert!(
        text.contains("HTTP 401") && text.contains("injected failure") && text.contains("API key"),
        "{text}"
    );
    assert!(!err.is_retryable() && !err.allows_fallback());
    server.shutdown().await;
}
