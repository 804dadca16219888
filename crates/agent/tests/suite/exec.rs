use pretty_assertions::assert_eq;
use serde_json::json;

use super::{call, ctx, process_dead};

#[tokio::test]
async fn foreground_completes_with_trace_shaped_details() {
    let ws = tempfile::tempdir().unwrap();
    let c = ctx(ws.path(), false);
    let out = call(&c, "exec", json!({"command": "echo run 9"})).await;
    assert!(!out.is_error);
    assert_eq!(out.text_content(), "run 9");
    let d = out.details.unwrap();
    let keys: Vec<&str> = d.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        vec!["status", "exitCode", "durationMs", "aggregated", "cwd"]
    );
    assert_eq!(d["status"], "completed");
    assert_eq!(d["exitCode"], 0);
    assert_eq!(d["aggregated"], "run 9");
    assert_eq!(d["cwd"], ws.path().display().to_string());
    // Foreground jobs do not linger in the registry.
    assert!(c.jobs.list().is_empty());
}

#[tokio::test]
async fn failure_reports_code_and_stderr() {
    let ws = tempfile::tempdir().unwrap();
    let c = ctx(ws.path(), false);
    let out = call(&c, "exec", json!({"command": "echo oops >&2; exit 3"})).await;
    assert!(out.is_error);
    assert_eq!(out.text_content(), "oops\n\n(Command exited with code 3)");
    let d = out.details.unwrap();
    assert_eq!(
        (d["status"].as_str(), d["exitCode"].as_i64()),
        (Some("failed"), Some(3))
    );
}

#[tokio::test]
async fn workdir_and_env_rules() {
    let ws = tempfile::tempdir().unwrap();
    std::fs::create_dir(ws.path().join("sub")).unwrap();
    let c = ctx(ws.path(), false);
    let out = call(&c, "exec", json!({"command": "pwd; echo $FOO; echo $OPENCLAW_SHELL; test -n \"$PATH\" && echo inherited", "workdir": "sub", "env": {"FOO": "bar"}})).await;
    assert!(!out.is_error, "{}", out.text_content());
    let sub = ws.path().join("sub").canonicalize().unwrap();
    assert_eq!(
        out.text_content(),
        format!("{}\nbar\nexec\ninherited", sub.display())
    );
    for bad in [
        json!({"PATH": "/tmp"}),
        json!({"LD_PRELOAD": "x"}),
        json!({"DYLD_LIBRARY_PATH": "x"}),
    ] {
        let out = call(&c, "exec", json!({"command": "true", "env": bad})).await;
        assert!(out.is_error);
        assert!(
            out.text_content().contains("cannot be overridden"),
            "{}",
            out.text_content()
        );
    }
    let out = call(
        &c,
        "exec",
        json!({"command": "true", "workdir": "missing-dir"}),
    )
    .await;
    assert!(
        out.is_error && out.text_content().contains("failed to start"),
        "{}",
        out.text_content()
    );
}

#[tokio::test]
async fn timeout_kills_grandchildren() {
    let ws = tempfile::tempdir().unwrap();
    let c = ctx(ws.path(), false);
    let out = call(
        &c,
        "exec",
        json!({"command": "sleep 60 & echo $!; wait", "timeout": 1}),
    )
    .await;
    assert!(out.is_error);
    let d = out.details.clone().unwrap();
    assert_eq!(d["status"], "timeout");
    assert!(d["exitCode"].is_null());
    let text = out.text_content();
    assert!(text.contains("timed out after 1 seconds"), "{text}");
    let pid: u32 = text.lines().next().unwrap().trim().parse().unwrap();
    // SIGKILL was sent to the group before the result came back; the kernel delivers it
    // before the parent's wait returned, so the grandchild is gone or a zombie.
    let mut dead = false;
    for _ in 0..100 {
        if process_dead(pid) {
            dead = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(dead, "grandchild {pid} survived the timeout");
}

#[tokio::test]
async fn daemonized_grandchild_holding_pipes_does_not_hang_exec() {
    let ws = tempfile::tempdir().unwrap();
    let c = ctx(ws.path(), false);
    // The grandchild keeps stdout open; exec must return after the bounded drain.
    let out = call(
        &c,
        "exec",
        json!({"command": "(sleep 30 &) ; echo done", "timeout": 0}),
    )
    .await;
    assert!(!out.is_error, "{}", out.text_content());
    assert_eq!(out.text_content(), "done");
}

#[tokio::test]
async fn output_is_capped_keeping_the_tail() {
    let ws = tempfile::tempdir().unwrap();
    let c = ctx(ws.path(), false);
    let out = call(&c, "exec", json!({"command": "seq 1 60000; echo END"})).await;
    assert!(!out.is_error);
    let d = out.details.unwrap();
    let agg = d["aggregated"].as_str().unwrap();
    assert!(agg.ends_with("60000\nEND"), "tail kept");
    assert!(agg.starts_with("[output truncated"));
    assert!(agg.len() <= 200_000 + 100);
    assert!(!agg.contains("\n1\n2\n3\n"));
}

#[tokio::test]
async fn background_and_yield() {
    let ws = tempfile::tempdir().unwrap();
    let c = ctx(ws.path(), false);
    let out = call(
        &c,
        "exec",
        json!({"command": "echo started; sleep 30", "background": true}),
    )
    .await;
    assert!(!out.is_error);
    let d = out.details.unwrap();
    assert_eq!(d["status"], "running");
    let id = d["sessionId"].as_str().unwrap().to_string();
    assert_eq!(c.jobs.list().len(), 1);

    let out = call(
        &c,
        "exec",
        json!({"command": "echo early; sleep 30", "yieldMs": 200}),
    )
    .await;
    let d = out.details.unwrap();
    assert_eq!(d["status"], "running");
    assert!(d["tail"].as_str().unwrap().contains("early"));
    assert_eq!(c.jobs.list().len(), 2);
    c.jobs.remove(&id);
    c.jobs.remove(d["sessionId"].as_str().unwrap());
    assert!(c.jobs.list().is_empty());
}

#[tokio::test]
async fn no_background_when_process_tool_is_denied() {
    let ws = tempfile::tempdir().unwrap();
    let mut c = ctx(ws.path(), false);
    c.exec_settings.background_allowed = false;
    let out = call(
        &c,
        "exec",
        json!({"command": "sleep 0.3; echo finished", "background": true, "yieldMs": 10}),
    )
    .await;
    assert_eq!(out.details.clone().unwrap()["status"], "completed");
    assert_eq!(out.text_content(), "finished");
}

#[tokio::test]
async fn cancel_kills_the_command() {
    let ws = tempfile::tempdir().unwrap();
    let c = ctx(ws.path(), false);
    let cancel = tokio_util::sync::CancellationToken::new();
    let tool = super::tool("exec");
    let canceller = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        canceller.cancel();
    });
    let out = tool
        .call(&c, json!({"command": "sleep 30", "timeout": 0}), cancel)
        .await;
    assert!(out.is_error);
    assert_eq!(out.details.unwrap()["status"], "killed");
}

#[tokio::test]
async fn pty_falls_back_with_a_warning() {
    let ws = tempfile::tempdir().unwrap();
    let c = ctx(ws.path(), false);
    let out = call(&c, "exec", json!({"command": "echo hi", "pty": true})).await;
    assert!(!out.is_error);
    assert!(
        out.text_content()
            .starts_with("Warning: pty is not supported")
    );
    assert!(out.text_content().ends_with("hi"));
}
