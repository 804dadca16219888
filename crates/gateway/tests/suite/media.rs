//! Inbound media over the WebSocket: `chat.send`/`agent` attachments are saved under
//! `<state>/media/inbound/` and reach the (fake) model as OpenClaw's media note plus an image
//! block; a bad attachment fails the call and writes nothing.

use std::path::{Path, PathBuf};

use openclaw_agent::{AgentRuntime, RuntimeOptions};
use openclaw_config::EnvMap;
use openclaw_gateway::{ServerSettings, Services};
use openclaw_test_support::{FakeOpenAi, FakeServer, Script};
use serde_json::{Value, json};

use super::agent_turns::{AgentServer, connect_caps, paths};
use super::client::{self, TestServer, Ws, next_json, send};

/// A real 1×1 PNG.
const PNG_1X1: &str =
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mP8/woAAn8B9FD5fHAAAAAASUVORK5CYII=";

/// A gateway whose model declares image input.
async fn start(model: FakeServer) -> (AgentServer, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let paths = paths(dir.path());
    let text = format!(
        r#"{{ models: {{ providers: {{ mock: {{ baseUrl: "{}", api: "openai-completions", apiKey: "k",
              models: [{{ id: "mock-model", input: ["text", "image"] }}] }} }} }},
            agents: {{ defaults: {{ model: {{ primary: "mock/mock-model" }} }} }} }}"#,
        model.base_url
    );
    let loaded = openclaw_config::parse_str(&text, &paths.config_path, &EnvMap::new()).unwrap();
    let rt = AgentRuntime::with_options(&loaded, &paths, &EnvMap::new(), RuntimeOptions::default());
    let settings = ServerSettings::for_tests(paths.state_dir.clone(), TestServer::token("tok"));
    let services = Services {
        agent: Some(rt),
        ..Services::default()
    };
    let gw = openclaw_gateway::start(settings, services).await.unwrap();
    let url = format!("ws://{}/", gw.local_addr());
    let inbound = paths.state_dir.join("media").join("inbound");
    let server = AgentServer {
        _gw: gw,
        url,
        _fakes: vec![model],
        _dir: dir,
    };
    (server, inbound)
}

fn files_in(dir: &Path) -> Vec<PathBuf> {
    match std::fs::read_dir(dir) {
        Ok(rd) => rd.map(|e| e.unwrap().path()).collect(),
        Err(_) => Vec::new(),
    }
}

/// The content of the last user message of a recorded OpenAI request.
fn last_user_content(body: &Value) -> Value {
    body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|m| m["role"] == "user")
        .unwrap()["content"]
        .clone()
}

async fn wait_ok(ws: &mut Ws, run_id: &str) {
    let w = client::call(
        ws,
        &format!("w-{run_id}"),
        "agent.wait",
        json!({"runId": run_id, "timeoutMs": 20000}),
    )
    .await;
    assert_eq!(w["payload"]["status"], "ok", "{w}");
}

#[tokio::test]
async fn chat_send_attachment_is_saved_and_shown_to_the_model() {
    let model = FakeOpenAi::start(Script::echo()).await;
    let (s, inbound) = start(model).await;
    let mut ws = connect_caps(&s.url, &[]).await;
    let r = client::call(
        &mut ws,
        "s1",
        "chat.send",
        json!({"sessionKey": "main", "message": "what is in this picture?", "idempotencyKey": "img-1",
               "attachments": [{"type": "image", "mimeType": "image/png", "fileName": "dot.png", "content": PNG_1X1}]}),
    )
    .await;
    assert_eq!(r["payload"]["status"], "started", "{r}");
    wait_ok(&mut ws, "img-1").await;

    let files = files_in(&inbound);
    assert_eq!(files.len(), 1, "{files:?}");
    let saved = &files[0];
    assert_eq!(saved.extension().unwrap(), "png");
    use base64::Engine;
    let png = base64::engine::general_purpose::STANDARD
        .decode(PNG_1X1)
        .unwrap();
    assert_eq!(std::fs::read(saved).unwrap(), png);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(saved).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    let reqs = s._fakes[0].requests();
    assert_eq!(reqs.len(), 1);
    let content = last_user_content(&reqs[0].body);
    let p = saved.display();
    assert_eq!(
        content,
        json!([
            {"type": "text", "text": format!("[media attached: {p} (image/png) | {p}]\nwhat is in this picture?")},
            {"type": "image_url", "image_url": {"url": format!("data:image/png;base64,{PNG_1X1}")}},
        ])
    );
}

#[tokio::test]
async fn bad_attachments_fail_with_invalid_request_and_write_nothing() {
    let model = FakeOpenAi::start(Script::echo()).await;
    let (s, inbound) = start(model).await;
    let mut ws = connect_caps(&s.url, &[]).await;
    let r = client::call(
        &mut ws,
        "s1",
        "chat.send",
        json!({"sessionKey": "main", "message": "look", "idempotencyKey": "bad-1",
               "attachments": [
                   {"type": "image", "mimeType": "image/png", "fileName": "ok.png", "content": PNG_1X1},
                   {"type": "image", "mimeType": "image/png", "fileName": "bad.png", "content": "not*base64"}]}),
    )
    .await;
    assert_eq!(r["ok"], false, "{r}");
    assert_eq!(r["error"]["code"], "INVALID_REQUEST");
    let msg = r["error"]["message"].as_str().unwrap();
    assert!(
        msg.starts_with("attachment bad.png: invalid base64 content"),
        "{msg}"
    );
    let r = client::call(
        &mut ws,
        "s2",
        "chat.send",
        json!({"sessionKey": "main", "message": "look", "idempotencyKey": "bad-2",
               "attachments": [{"fileName": "n.txt", "content": 7}]}),
    )
    .await;
    assert_eq!(r["error"]["code"], "INVALID_REQUEST", "{r}");
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap()
            .contains("content must be a base64 string"),
        "{r}"
    );
    assert!(files_in(&inbound).is_empty(), "nothing may be written");
    assert!(s._fakes[0].requests().is_empty(), "no run may start");
}

#[tokio::test]
async fn agent_method_takes_attachments_too() {
    let model = FakeOpenAi::start(Script::echo()).await;
    let (s, inbound) = start(model).await;
    let mut ws = connect_caps(&s.url, &[]).await;
    send(
        &mut ws,
        &json!({"type": "req", "id": "a1", "method": "agent", "params": {
            "message": "", "idempotencyKey": "doc-1",
            "attachments": [{"type": "file", "mimeType": "text/plain", "fileName": "notes.txt",
                             "content": "data:text/plain;base64,aGVsbG8gbm90ZXMK"}]}}),
    )
    .await;
    let fin = loop {
        let f = next_json(&mut ws).await;
        if f["type"] == "res" && f["id"] == "a1" && f["payload"]["status"] != "accepted" {
            break f;
        }
    };
    assert_eq!(fin["payload"]["status"], "ok", "{fin}");
    let files = files_in(&inbound);
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(files[0].extension().unwrap(), "txt");
    assert_eq!(std::fs::read(&files[0]).unwrap(), b"hello notes\n");
    // Not an image: the note only, as plain text.
    let content = last_user_content(&s._fakes[0].requests()[0].body);
    let p = files[0].display();
    assert_eq!(
        content,
        json!(format!("[media attached: {p} (text/plain) | {p}]"))
    );
}
