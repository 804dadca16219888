//! Retry and fallback across fake servers.

use std::time::Duration;

use openclaw_protocol::message::ContentBlock;
use openclaw_providers::{CancellationToken, ModelClient, ProviderError, collect};
use openclaw_test_support::{Behavior, FakeAnthropic, FakeOpenAi, Script};
use pretty_assertions::assert_eq;

use super::{fast_policy, registry, request};

#[tokio::test]
async fn rate_limit_is_retried_on_the_same_model() {
    let server = FakeOpenAi::start(Script::echo().at(
        0,
        Behavior::RateLimited {
            retry_after: Duration::from_millis(30),
        },
    ))
    .await;
    let reg = registry(
        &[("p", "openai-completions", &server.base_url)],
        Duration::from_secs(10),
    );
    let client = reg
        .failover("p/primary", &["p/backup".to_string()], fast_policy(2))
        .unwrap();
    let msg = collect(
        client
            .stream(request("hi"), CancellationToken::new())
            .await
            .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(msg.content, vec![ContentBlock::text("pong: hi")]);
    assert_eq!(msg.model.as_deref(), Some("primary"));
    let models: Vec<_> = server
        .requests()
        .iter()
        .map(|r| r.body["model"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(models, vec!["primary", "primary"]);
    server.shutdown().await;
}

#[tokio::test]
async fn server_error_on_primary_falls_back_to_other_provider() {
    let primary = FakeOpenAi::start(Script::always(Behavior::Status(500))).await;
    let backup = FakeAnthropic::start(Script::echo()).await;
    let reg = registry(
        &[
            ("oa", "openai-completions", &primary.base_url),
            ("an", "anthropic-messages", &backup.base_url),
        ],
        Duration::from_secs(10),
    );
    let client = reg
        .failover(
            "oa/gpt-main",
            &["an/claude-backup".to_string()],
            fast_policy(1),
        )
        .unwrap();
    let msg = collect(
        client
            .stream(request("hi"), CancellationToken::new())
            .await
            .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(msg.content, vec![ContentBlock::text("pong: hi")]);
    assert_eq!(
        (msg.provider.as_deref(), msg.model.as_deref()),
        (Some("an"), Some("claude-backup"))
    );
    assert_eq!(
        primary.requests().len(),
        2,
        "one try plus one retry on the primary"
    );
    assert_eq!(backup.requests().len(), 1);
    primary.shutdown().await;
    backup.shutdown().await;
}

#[tokio::test]
async fn stall_falls_back() {
    let primary = FakeOpenAi::start(Script::always(Behavior::Stall)).await;
    let backup = FakeOpenAi::start(Script::echo()).await;
    let reg = registry(
        &[
            ("a", "openai-completions", &primary.base_url),
            ("b", "openai-completions", &backup.base_url),
        ],
        Duration::from_millis(300),
    );
    let client = reg
        .failover("a/m1", &["b/m2".to_string()], fast_policy(0))
        .unwrap();
    let msg = collect(
        client
            .stream(request("hi"), CancellationToken::new())
            .await
            .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(msg.content, vec![ContentBlock::text("pong: hi")]);
    assert_eq!(msg.provider.as_deref(), Some("b"));
    primary.shutdown().await;
    backup.shutdown().await;
}

#[tokio::test]
async fn all_candidates_failing_gives_one_error_listing_attempts() {
    let a = FakeOpenAi::start(Script::always(Behavior::Status(503))).await;
    let b = FakeAnthropic::start(Script::always(Behavior::RateLimited {
        retry_after: Duration::from_millis(10),
    }))
    .await;
    let reg = registry(
        &[
            ("a", "openai-completions", &a.base_url),
            ("b", "anthropic-messages", &b.base_url),
        ],
        Duration::from_secs(10),
    );
    let client = reg
        .failover("a/one", &["b/two".to_string()], fast_policy(1))
        .unwrap();
    let err = client
        .stream(request("hi"), CancellationToken::new())
        .await
        .err()
        .unwrap();
    let ProviderError::AllCandidatesFailed { attempts } = &err else {
        panic!("expected AllCandidatesFailed, got {err}")
    };
    let models: Vec<_> = attempts.iter().map(|a| a.model.as_str()).collect();
    assert_eq!(models, vec!["a/one", "a/one", "b/two", "b/two"]);
    let text = err.to_string();
    let first = text.lines().next().unwrap();
    assert!(
        first.starts_with("all models failed (a/one, b/two)"),
        "{first}"
    );
    assert!(
        text.contains("HTTP 503") && text.contains("HTTP 429"),
        "{text}"
    );
    assert_eq!(text.lines().count(), 5);
    a.shutdown().await;
    b.shutdown().await;
}

#[tokio::test]
async fn client_error_does_not_fall_back() {
    let a = FakeOpenAi::start(Script::always(Behavior::Status(400))).await;
    let b = FakeOpenAi::start(Script::echo()).await;
    let reg = registry(
        &[
            ("a", "openai-completions", &a.base_url),
            ("b", "openai-completions", &b.base_url),
        ],
        Duration::from_secs(10),
    );
    let client = reg
        .failover("a/one", &["b/two".to_string()], fast_policy(2))
        .unwrap();
    let err = client
        .stream(request("hi"), CancellationToken::new())
        .await
        .err()
        .unwrap();
    assert!(
        matches!(err, ProviderError::Status { status: 400, .. }),
        "{err}"
    );
    assert_eq!(a.requests().len(), 1);
    assert_eq!(b.requests().len(), 0);
    a.shutdown().await;
    b.shutdown().await;
}

#[tokio::test]
async fn error_after_first_event_is_not_retried() {
    let a = FakeOpenAi::start(Script::always(Behavior::ErrorMidStream)).await;
    let b = FakeOpenAi::start(Script::echo()).await;
    let reg = registry(
        &[
            ("a", "openai-completions", &a.base_url),
            ("b", "openai-completions", &b.base_url),
        ],
        Duration::from_secs(10),
    );
    let client = reg
        .failover("a/one", &["b/two".to_string()], fast_policy(2))
        .unwrap();
    let stream = client
        .stream(request("hi"), CancellationToken::new())
        .await
        .unwrap();
    let err = collect(stream).await.unwrap_err();
    assert!(matches!(err, ProviderError::Remote { .. }), "{err}");
    assert_eq!(a.requests().len(), 1);
    assert_eq!(b.requests().len(), 0);
    a.shutdown().await;
    b.shutdown().await;
}

#[tokio::test]
async fn cancel_during_backoff_aborts_without_fallback() {
    let a = FakeOpenAi::start(Script::always(Behavior::RateLimited {
        retry_after: Duration::from_secs(5),
    }))
    .await;
    let b = FakeOpenAi::start(Script::echo()).await;
    let reg = registry(
        &[
            ("a", "openai-completions", &a.base_url),
            ("b", "openai-completions", &b.base_url),
        ],
        Duration::from_secs(10),
    );
    let mut policy = fast_policy(3);
    policy.max_retry_after = Duration::from_secs(30);
    let client = reg
        .failover("a/one", &["b/two".to_string()], policy)
        .unwrap();
    let cancel = CancellationToken::new();
    let task = tokio::spawn({
        let cancel = cancel.clone();
        async move { client.stream(request("hi"), cancel).await.err() }
    });
    while a.requests().is_empty() {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    cancel.cancel();
    let err = tokio::time::timeout(Duration::from_secs(2), task)
        .await
        .expect("abort is prompt")
        .unwrap()
        .unwrap();
    assert!(matches!(err, ProviderError::Aborted), "{err}");
    assert_eq!(b.requests().len(), 0);
    a.shutdown().await;
    b.shutdown().await;
}
