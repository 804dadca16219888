//! `kill -9` of a real gateway mid-turn, then a restart on the same state dir: the transcript
//! stays loadable and the session continues with its history.

use std::time::{Duration, Instant};

use openclaw_test_support::{Behavior, FakeOpenAi, Script};
use serde_json::{Value, json};

use super::harness::{Home, free_port};

fn call(h: &Home, method: &str, params: Value) -> Value {
    let out = h.ok(&[
        "gateway",
        "call",
        method,
        "--params",
        &params.to_string(),
        "--json",
    ]);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{method}: {e}: {out}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_mid_turn_keeps_transcript_valid_and_session_continues() {
    let slow = Behavior::Slow {
        chunks: 400,
        delay: Duration::from_millis(50),
    };
    let fake = FakeOpenAi::start(Script::replies(vec![slow])).await;
    let h = Home::new();
    let port = free_port();
    h.onboard(port, "T");
    let provider = json!({"baseUrl": fake.base_url, "api": "openai-completions", "apiKey": "k",
                          "models": [{"id": "mock-model", "contextWindow": 128000}]});
    h.ok(&[
        "config",
        "set",
        "models.providers.mock",
        &provider.to_string(),
        "--strict-json",
    ]);
    h.ok(&[
        "config",
        "set",
        "agents.defaults.model.primary",
        "mock/mock-model",
    ]);

    let mut gw = h.gateway(port);
    let r = call(
        &h,
        "chat.send",
        json!({"sessionKey": "main", "message": "first", "idempotencyKey": "c-1"}),
    );
    assert_eq!(r["status"], "started", "{r}");
    let deadline = Instant::now() + Duration::from_secs(20);
    while fake.requests().is_empty() {
        assert!(Instant::now() < deadline, "the model was never called");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Let the streamed answer start and the session index reach the disk, then SIGKILL.
    tokio::time::sleep(Duration::from_millis(400)).await;
    gw.child.kill().unwrap();
    gw.child.wait().unwrap();
    drop(gw);

    let sessions = h.state().join("agents/main/sessions");
    let index: Value =
        serde_json::from_str(&std::fs::read_to_string(sessions.join("sessions.json")).unwrap())
            .unwrap();
    let session_id = index["agent:main:main"]["sessionId"]
        .as_str()
        .unwrap()
        .to_string();
    let path = sessions.join(format!("{session_id}.jsonl"));
    let t = openclaw_store::transcript::load(&path).await.unwrap();
    assert_eq!(t.skipped_lines, 0);
    assert_eq!(t.messages()[0].text(), "first");

    let _gw = h.gateway(port);
    let out = h.ok(&[
        "gateway",
        "call",
        "agent",
        "--expect-final",
        "--json",
        "--params",
        &json!({"message": "second", "idempotencyKey": "c-2"}).to_string(),
    ]);
    let fin: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(fin["status"], "ok", "{fin}");
    assert_eq!(fin["result"]["payloads"][0]["text"], "pong: second");
    assert_eq!(
        fin["result"]["meta"]["agentMeta"]["sessionId"],
        session_id.as_str()
    );
    let hist = call(&h, "chat.history", json!({"sessionKey": "main"}));
    let texts: Vec<String> = hist["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["role"] == "user")
        .map(|m| m["content"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(texts, vec!["first", "second"]);
    let t = openclaw_store::transcript::load(&path).await.unwrap();
    assert_eq!(t.skipped_lines, 0);
    assert!(!t.torn_tail);
}
