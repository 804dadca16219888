//! `openclaw agent` through the gateway and in-process (`--local`), and `openclaw sessions`.

use openclaw_test_support::{FakeOpenAi, Script};
use serde_json::{Value, json};

use super::harness::{Home, free_port};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_turns_through_the_gateway_and_locally() {
    let fake = FakeOpenAi::start(Script::echo()).await;
    let h = Home::new();
    let port = free_port();
    h.onboard(port, "T");
    let provider = json!({"baseUrl": fake.base_url, "api": "openai-completions", "apiKey": "k",
                          "models": [{"id": "mock-model"}]});
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

    let gw = h.gateway(port);
    let out = h.ok(&["agent", "-m", "hello there"]);
    assert_eq!(out.trim(), "pong: hello there");
    let v: Value = serde_json::from_str(&h.ok(&[
        "agent",
        "-m",
        r#"TOOL exec {"command":"echo from-exec"}"#,
        "--json",
    ]))
    .unwrap();
    assert_eq!(v["status"], "ok", "{v}");
    assert_eq!(v["result"]["payloads"][0]["text"], "tool said: from-exec");
    let sessions: Value = serde_json::from_str(&h.ok(&["sessions", "--json"])).unwrap();
    assert_eq!(
        sessions["sessions"][0]["key"], "agent:main:main",
        "{sessions}"
    );
    assert!(gw.stop().success());

    // No gateway: the same session continues in-process.
    let out = h.ok(&["agent", "--local", "-m", "offline"]);
    assert_eq!(out.trim(), "pong: offline");
    let transcript_dir = h.state().join("agents/main/sessions");
    let files: Vec<_> = std::fs::read_dir(&transcript_dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().extension().is_some_and(|x| x == "jsonl"))
        .collect();
    assert_eq!(files.len(), 1, "one session, one transcript");
    let text = std::fs::read_to_string(files[0].path()).unwrap();
    for line in text.lines() {
        serde_json::from_str::<Value>(line).unwrap();
    }
    assert!(text.contains("pong: offline") && text.contains("pong: hello there"));
}
