//! LocalClient against a fake worker (a shell script speaking the worker protocol), so the
//! process handling is tested without llama.cpp or a model.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use futures::StreamExt;
use openclaw_protocol::message::{ContentBlock, Message};
use serde_json::json;

use super::*;
use crate::types::ToolSpec;

const FAKE_WORKER: &str = r#"#!/bin/sh
[ "$1" = "local-model-worker" ] && [ "$2" = "--model" ] || { echo "bad args: $*" >&2; exit 2; }
echo start >> "$(dirname "$3")/starts.log"
echo '{"type":"ready","model":"fake","load_ms":1}'
while IFS= read -r line; do
  case "$line" in
    *die*) exit 3 ;;
    *'"name":"exec"'*'"force_tool":true'*)
      echo '{"type":"tool_call","name":"exec","arguments":{"command":"uname -a"}}'
      echo '{"type":"done","stop_reason":"tool_use","usage":{"input":5,"output":7}}' ;;
    *) echo '{"type":"token","text":"Hel"}'
       echo '{"type":"token","text":"lo"}'
       echo '{"type":"done","stop_reason":"stop","usage":{"input":5,"output":2}}' ;;
  esac
done
"#;

fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, body).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    p
}

fn setup(worker_body: &str) -> (tempfile::TempDir, LocalClient) {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("model.gguf");
    std::fs::write(&model, b"GGUF").unwrap();
    let exe = script(dir.path(), "worker.sh", worker_body);
    let client = LocalClient::new("local", model, exe, Duration::from_secs(10));
    (dir, client)
}

fn req(text: &str, tools: Vec<ToolSpec>) -> ChatRequest {
    let mut r = ChatRequest::new(
        "smollm2-135m",
        "Be brief.",
        vec![Message::user_text(text, 0)],
    );
    r.tools = tools;
    r
}

fn exec_tool() -> ToolSpec {
    ToolSpec {
        name: "exec".into(),
        description: "Run a shell command".into(),
        parameters: json!({"type":"object","properties":{"command":{"type":"string"}},"required":["command"]}),
    }
}

fn starts(dir: &Path) -> usize {
    std::fs::read_to_string(dir.join("starts.log"))
        .unwrap_or_default()
        .lines()
        .count()
}

#[tokio::test]
async fn streams_text_and_reuses_one_worker() {
    let (dir, client) = setup(FAKE_WORKER);
    for _ in 0..2 {
        let s = client
            .stream(req("hello", vec![exec_tool()]), CancellationToken::new())
            .await
            .unwrap();
        let msg = crate::collect(s).await.unwrap();
        assert_eq!(msg.content, vec![ContentBlock::text("Hello")]);
        assert_eq!(msg.api.as_deref(), Some(API));
        assert_eq!(msg.provider.as_deref(), Some("local"));
        assert_eq!(msg.model.as_deref(), Some("smollm2-135m"));
        assert_eq!(msg.stop_reason.as_deref(), Some("stop"));
        assert_eq!(msg.usage.unwrap().total_tokens, 7);
    }
    assert_eq!(starts(dir.path()), 1);
}

#[tokio::test]
async fn forced_tool_call_becomes_a_tool_call_block() {
    let (_dir, client) = setup(FAKE_WORKER);
    let s = client
        .stream(
            req("run the command `uname -a`", vec![exec_tool()]),
            CancellationToken::new(),
        )
        .await
        .unwrap();
    let msg = crate::collect(s).await.unwrap();
    assert_eq!(msg.stop_reason.as_deref(), Some("toolUse"));
    match &msg.content[..] {
        [
            ContentBlock::ToolCall {
                name,
                arguments,
                id,
            },
        ] => {
            assert_eq!(name, "exec");
            assert_eq!(arguments, &json!({"command": "uname -a"}));
            assert!(id.starts_with("local_call_"));
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_dead_worker_is_reported_and_restarted() {
    let (dir, client) = setup(FAKE_WORKER);
    let mut s = client
        .stream(req("please die", vec![]), CancellationToken::new())
        .await
        .unwrap();
    let mut err = None;
    while let Some(ev) = s.next().await {
        if let Err(e) = ev {
            err = Some(e.to_string());
        }
    }
    let err = err.unwrap();
    assert!(err.contains("exited mid-answer"), "{err}");
    let msg = crate::collect(
        client
            .stream(req("hello", vec![]), CancellationToken::new())
            .await
            .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(msg.content, vec![ContentBlock::text("Hello")]);
    assert_eq!(starts(dir.path()), 2);
}

#[tokio::test]
async fn missing_model_and_broken_worker_name_the_fix() {
    let (dir, client) = setup(FAKE_WORKER);
    std::fs::remove_file(dir.path().join("model.gguf")).unwrap();
    let e = client
        .stream(req("hi", vec![]), CancellationToken::new())
        .await
        .err()
        .unwrap();
    assert!(matches!(e, ProviderError::Config(_)), "{e}");
    assert!(e.to_string().contains("openclaw models pull"), "{e}");

    let (_dir, client) =
        setup("#!/bin/sh\necho 'error: this build has no local model support' >&2\nexit 1\n");
    let e = client
        .stream(req("hi", vec![]), CancellationToken::new())
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("this build has no local model support"), "{e}");
    assert!(e.contains("--features local-model"), "{e}");
}

#[tokio::test]
async fn cancel_mid_answer_ends_with_aborted_and_kills_the_worker() {
    let slow = "#!/bin/sh\necho start >> \"$(dirname \"$3\")/starts.log\"\necho '{\"type\":\"ready\",\"model\":\"f\",\"load_ms\":1}'\nread line\necho '{\"type\":\"token\",\"text\":\"a\"}'\nsleep 30\n";
    let (dir, client) = setup(slow);
    let cancel = CancellationToken::new();
    let mut s = client
        .stream(req("hi", vec![]), cancel.clone())
        .await
        .unwrap();
    let mut seen = Vec::new();
    while let Some(ev) = s.next().await {
        let ev = ev.unwrap();
        if matches!(ev, StreamEvent::TextDelta(_)) {
            cancel.cancel();
        }
        seen.push(ev);
    }
    assert_eq!(
        seen.last(),
        Some(&StreamEvent::Done {
            stop_reason: StopReason::Aborted
        })
    );
    // the next request needs a new worker
    let _ = client
        .stream(req("hi", vec![]), CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(starts(dir.path()), 2);
}
