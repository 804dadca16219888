//! Docker unreachable while sandboxing is on: the real gateway keeps serving, a sandboxed tool
//! call fails with an error naming the cause and the fix, and `openclaw doctor` reports it.
//! Runs everywhere: it points `DOCKER_HOST` at a socket that does not exist.

use std::process::Stdio;

use openclaw_test_support::{FakeOpenAi, Script};
use serde_json::{Value, json};

use super::harness::{Gateway, Home, free_port};

const NO_DOCKER: &str = "unix:///nonexistent/openclaw-test/docker.sock";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandboxed_turn_with_docker_unreachable_fails_clearly_and_the_gateway_lives() {
    let fake = FakeOpenAi::start(Script::echo()).await;
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
    h.ok(&["config", "set", "agents.defaults.sandbox.mode", "all"]);

    let child = h
        .cmd(&["gateway"])
        .env("DOCKER_HOST", NO_DOCKER)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let gw = Gateway { child, port };
    gw.wait_ready();

    let agent = |msg: &str, key: &str| {
        let out = h.ok(&[
            "gateway",
            "call",
            "agent",
            "--expect-final",
            "--json",
            "--params",
            &json!({"message": msg, "idempotencyKey": key}).to_string(),
        ]);
        serde_json::from_str::<Value>(&out).unwrap()
    };
    let fin = agent(r#"TOOL exec {"command":"echo hi"}"#, "d-1");
    let text = fin.to_string();
    assert!(text.contains("cannot reach Docker"), "{fin}");
    assert!(text.contains(NO_DOCKER), "{fin}");
    assert!(text.contains("agents.defaults.sandbox.mode"), "{fin}");
    // The command never ran anywhere (it would have said "hi").
    assert!(!text.contains("tool said: hi"), "{fin}");

    // The gateway is alive and still answers, turns included.
    let health: Value = serde_json::from_str(&h.ok(&["health", "--json"])).unwrap();
    assert_eq!(health["ok"], true, "{health}");
    let fin = agent("still there?", "d-2");
    assert_eq!(fin["status"], "ok", "{fin}");

    let out = h
        .cmd(&["doctor", "--json"])
        .env("DOCKER_HOST", NO_DOCKER)
        .output()
        .unwrap();
    let doctor: Value = serde_json::from_slice(&out.stdout).unwrap();
    let docker = doctor["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "docker")
        .unwrap_or_else(|| panic!("no docker check: {doctor}"));
    assert_eq!(docker["ok"], false, "{docker}");
    assert!(
        docker["fix"]
            .as_str()
            .unwrap()
            .contains("agents.defaults.sandbox.mode"),
        "{docker}"
    );
    drop(gw);
}
