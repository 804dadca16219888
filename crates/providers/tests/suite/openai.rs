//! OpenAI-compatible client against the fake OpenAI server.

use std::time::Duration;

use futures::StreamExt;
use openclaw_protocol::message::{ContentBlock, Message, Usage};
use openclaw_providers::{CancellationToken, StopReason, StreamEvent, collect};
use openclaw_test_support::{Behavior, FakeOpenAi, Script};
use pretty_assertions::assert_eq;
use serde_json::json;

use super::{registry, request, tool_result};

#[tokio::test]
async fn streams_text_with_usage_and_sends_openai_wire() {
    let server = FakeOpenAi::start(Script::echo()).await;
    let reg = registry(
        &[("local", "openai-completions", &server.base_url)],
        Duration::from_secs(10),
    );
    let client = reg.client("local").unwrap();
    let mut req = request("hello");
    req.model = "mock-model".into();
    let mut stream = client.stream(req, CancellationToken::new()).await.unwrap();
    let mut events = Vec::new();
    while let Some(ev) = stream.next().await {
        events.push(ev.unwrap());
    }
    let deltas: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            StreamEvent::TextDelta(t) => Some(t.clone()),
            _ => None,
        })
        .collect();
    assert!(deltas.len() >= 2, "streamed in chunks: {deltas:?}");
    assert_eq!(deltas.concat(), "pong: hello");
    assert_eq!(
        events.first(),
        Some(&StreamEvent::ModelSelected {
            provider: "local".into(),
            model: "mock-model".into(),
            api: "openai-completions".into()
        })
    );
    assert_eq!(
        &events[events.len() - 2..],
        &[
            StreamEvent::Usage(Usage {
                input: 10,
                output: 5,
                total_tokens: 15,
                ..Usage::default()
            }),
            StreamEvent::Done {
                stop_reason: StopReason::Stop
            },
        ]
    );

    let reqs = server.requests();
    assert_eq!(reqs.len(), 1);
    let r = &reqs[0];
    assert_eq!(r.path, "/v1/chat/completions");
    assert_eq!(
        r.headers.get("authorization").map(String::as_str),
        Some("Bearer key-local")
    );
    assert_eq!(r.headers.get("x-extra").map(String::as_str), Some("yes"));
    assert_eq!(r.body["stream"], json!(true));
    assert_eq!(r.body["stream_options"], json!({"include_usage": true}));
    assert_eq!(
        r.body["messages"][0],
        json!({"role": "system", "content": "You are a test."})
    );
    assert_eq!(r.body["tools"][0]["function"]["name"], json!("exec"));
    server.shutdown().await;
}

#[tokio::test]
async fn tool_call_round_trip() {
    let server = FakeOpenAi::start(Script::echo()).await;
    let reg = registry(
        &[("local", "openai-completions", &server.base_url)],
        Duration::from_secs(10),
    );
    let client = reg.client("local").unwrap();

    let mut req = request("TOOL exec {\"command\":\"echo seed-era 0\"}");
    let first = collect(
        client
            .stream(req.clone(), CancellationToken::new())
            .await
            .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(first.stop_reason.as_deref(), Some("toolUse"));
    let calls: Vec<_> = first
        .tool_calls()
        .map(|(i, n, a)| (i.to_string(), n.to_string(), a.clone()))
        .collect();
    assert_eq!(
        calls,
        vec![(
            "call_0".to_string(),
            "exec".to_string(),
            json!({"command": "echo seed-era 0"})
        )]
    );

    req.messages.push(Message::Assistant(first));
    req.messages.push(tool_result("call_0", "seed-era 0"));
    let second = collect(client.stream(req, CancellationToken::new()).await.unwrap())
        .await
        .unwrap();
    assert_eq!(
        second.content,
        vec![ContentBlock::text("tool said: seed-era 0")]
    );
    assert_eq!(second.stop_reason.as_deref(), Some("stop"));

    // What the client sent for the second call: assistant tool_calls, then the tool message.
    let body = &server.requests()[1].body;
    let msgs = body["messages"].as_array().unwrap();
    assert_eq!(msgs[2]["tool_calls"][0]["id"], json!("call_0"));
    assert_eq!(
        msgs[2]["tool_calls"][0]["function"]["arguments"],
        json!("{\"command\":\"echo seed-era 0\"}")
    );
    assert_eq!(
        msgs[3],
        json!({"role": "tool", "tool_call_id": "call_0", "content": "seed-era 0"})
    );
    server.shutdown().await;
}

#[tokio::test]
async fn ollama_api_appends_v1_and_sends_no_auth() {
    let server = FakeOpenAi::start(Script::echo()).await;
    let base = server.base_url.trim_end_matches("/v1").to_string();
    let reg = openclaw_providers::ProviderRegistry::new(
        vec![openclaw_providers::ProviderConfig {
            id: "ollama".into(),
            base_url: Some(base),
            api: Some("ollama".into()),
            ..Default::default()
        }],
        Default::default(),
        Default::default(),
    )
    .unwrap();
    let msg = collect(
        reg.client("ollama")
            .unwrap()
            .stream(request("hi"), CancellationToken::new())
            .await
            .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(msg.content, vec![ContentBlock::text("pong: hi")]);
    let r = &server.requests()[0];
    assert_eq!(r.path, "/v1/chat/completions");
    assert!(!r.headers.contains_key("authorization"));
    server.shutdown().await;
}

#[tokio::test]
async fn error_mid_stream_reaches_the_caller() {
    let server = FakeOpenAi::start(Script::always(Behavior::ErrorMidStream)).await;
    let reg = registry(
        &[("local", "openai-completions", &server.base_url)],
        Duration::from_secs(10),
    );
    let stream = reg
        .client("local")
        .unwrap()
        .stream(request("x"), CancellationToken::new())
        .await
        .unwrap();
    let err = collect(stream).await.unwrap_err();
    assert!(
        err.to_string().contains("injected mid-stream failure"),
        "{err}"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn cancel_mid_stream_stops_promptly() {
    let server = FakeOpenAi::start(Script::always(Behavior::Slow {
        chunks: 1000,
        delay: Duration::from_millis(20),
    }))
    .await;
    let reg = registry(
        &[("local", "openai-completions", &server.base_url)],
        Duration::from_secs(10),
    );
    let cancel = CancellationToken::new();
    let mut stream = reg
        .client("local")
        .unwrap()
        .stream(request("x"), cancel.clone())
        .await
        .unwrap();
    let mut texts = 0;
    let mut last = None;
    while let Some(ev) = stream.next().await {
        let ev = ev.unwrap();
        if matches!(ev, StreamEvent::TextDelta(_)) {
            texts += 1;
            if texts == 2 {
                cancel.cancel();
            }
        }
        last = Some(ev);
    }
    assert_eq!(texts, 2, "no text after the cancel");
    assert_eq!(
        last,
        Some(StreamEvent::Done {
            stop_reason: StopReason::Aborted
        })
    );
    server.shutdown().await;
}

#[tokio::test]
async fn cancel_before_response_is_aborted_error() {
    let server = FakeOpenAi::start(Script::always(Behavior::Stall)).await;
    let reg = registry(
        &[("local", "openai-completions", &server.base_url)],
        Duration::from_secs(10),
    );
    let cancel = CancellationToken::new();
    cancel.cancel();
    let err = reg
        .client("local")
        .unwrap()
        .stream(request("x"), cancel)
        .await
        .err()
        .unwrap();
    assert!(
        matches!(err, openclaw_providers::ProviderError::Aborted),
        "{err}"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn stall_after_headers_is_reported_as_stall() {
    let server = FakeOpenAi::start(Script::always(Behavior::Stall)).await;
    let reg = registry(
        &[("local", "openai-completions", &server.base_url)],
        Duration::from_millis(200),
    );
    let err = match reg
        .client("local")
        .unwrap()
        .stream(request("x"), CancellationToken::new())
        .await
    {
        Ok(stream) => collect(stream).await.unwrap_err(),
        Err(e) => e,
    };
    assert!(
        matches!(err, openclaw_providers::ProviderError::Stalled { .. }),
        "{err}"
    );
    assert!(err.is_retryable() && err.allows_fallback());
    server.shutdown().await;
}

#[tokio::test]
async fn unreachable_server_is_a_connect_error() {
    // Bind then drop a listener to get a port nobody listens on.
    let port = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let reg = registry(
        &[(
            "local",
            "openai-completions",
            &format!("http://127.0.0.1:{port}/v1"),
        )],
        Duration::from_secs(5),
    );
    let err = reg
        .client("local")
        .unwrap()
        .stream(request("x"), CancellationToken::new())
        .await
        .err()
        .unwrap();
    assert!(
        matches!(err, openclaw_providers::ProviderError::Connect { .. }),
        "{err}"
    );
    assert!(
        err.to_string().contains("models.providers.local.baseUrl"),
        "{err}"
    );
}
