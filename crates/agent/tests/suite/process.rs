use pretty_assertions::assert_eq;
use serde_json::json;

use super::{call, ctx};

async fn start(c: &openclaw_agent::ToolContext, cmd: &str) -> String {
    let out = call(c, "exec", json!({"command": cmd, "background": true})).await;
    assert!(!out.is_error, "{}", out.text_content());
    out.details.unwrap()["sessionId"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn write_then_poll_then_exit() {
    let ws = tempfile::tempdir().unwrap();
    let c = ctx(ws.path(), false);
    let id = start(&c, "while read line; do echo got:$line; done; echo bye").await;
    let out = call(
        &c,
        "process",
        json!({"action": "write", "sessionId": id, "data": "one\n"}),
    )
    .await;
    assert!(!out.is_error, "{}", out.text_content());
    let out = call(
        &c,
        "process",
        json!({"action": "poll", "sessionId": id, "timeout": 10000}),
    )
    .await;
    assert!(
        out.text_content().starts_with("got:one"),
        "{}",
        out.text_content()
    );
    assert!(out.text_content().ends_with("Process still running."));
    call(
        &c,
        "process",
        json!({"action": "write", "sessionId": id, "data": "two\n", "eof": true}),
    )
    .await;
    // Poll until exit; each poll returns only new output.
    let mut seen = String::new();
    let mut status = String::new();
    for _ in 0..20 {
        let out = call(
            &c,
            "process",
            json!({"action": "poll", "sessionId": id, "timeout": 5000}),
        )
        .await;
        let d = out.details.unwrap();
        seen.push_str(d["aggregated"].as_str().unwrap());
        status = d["status"].as_str().unwrap().to_string();
        if status != "running" {
            break;
        }
    }
    assert_eq!(status, "completed");
    assert_eq!(seen, "got:two\nbye\n");
    let out = call(
        &c,
        "process",
        json!({"action": "write", "sessionId": id, "data": "x"}),
    )
    .await;
    assert!(out.is_error);
}

#[tokio::test]
async fn log_windows_and_list() {
    let ws = tempfile::tempdir().unwrap();
    let c = ctx(ws.path(), false);
    let id = start(&c, "seq 1 500").await;
    let job = c.jobs.get(&id).unwrap();
    job.wait(None, &tokio_util::sync::CancellationToken::new())
        .await;
    let out = call(&c, "process", json!({"action": "log", "sessionId": id})).await;
    let text = out.text_content();
    assert_eq!(text.lines().count(), 200);
    assert!(text.starts_with("301\n") && text.ends_with("\n500"));
    let out = call(
        &c,
        "process",
        json!({"action": "log", "sessionId": id, "offset": 10, "limit": 3}),
    )
    .await;
    assert_eq!(out.text_content(), "11\n12\n13");
    let out = call(&c, "process", json!({"action": "list"})).await;
    let sessions = out.details.unwrap()["sessions"].as_array().unwrap().clone();
    assert_eq!(sessions.len(), 1);
    assert_eq!(sessions[0]["status"], "completed");
    assert_eq!(sessions[0]["command"], "seq 1 500");
    let out = call(&c, "process", json!({"action": "clear", "sessionId": id})).await;
    assert!(!out.is_error);
    assert!(c.jobs.list().is_empty());
}

#[tokio::test]
async fn kill_remove_and_unknown_ids() {
    let ws = tempfile::tempdir().unwrap();
    let c = ctx(ws.path(), false);
    let id = start(&c, "sleep 30").await;
    let out = call(&c, "process", json!({"action": "clear", "sessionId": id})).await;
    assert!(out.is_error && out.text_content().contains("still running"));
    let out = call(&c, "process", json!({"action": "kill", "sessionId": id})).await;
    assert_eq!(out.details.unwrap()["status"], "killed");
    let id2 = start(&c, "sleep 30").await;
    let out = call(&c, "process", json!({"action": "remove", "sessionId": id2})).await;
    assert!(!out.is_error);
    assert!(c.jobs.get(&id2).is_none());
    let out = call(
        &c,
        "process",
        json!({"action": "poll", "sessionId": "nope"}),
    )
    .await;
    assert!(out.is_error && out.text_content().contains("action \"list\""));
    let out = call(&c, "process", json!({"action": "dance"})).await;
    assert!(out.is_error);
}

#[tokio::test]
async fn finished_jobs_are_bounded() {
    let ws = tempfile::tempdir().unwrap();
    let mut c = ctx(ws.path(), false);
    c.jobs = std::sync::Arc::new(openclaw_agent::tools::JobRegistry::new(
        openclaw_agent::tools::JobLimits {
            max_finished: 2,
            ..Default::default()
        },
    ));
    let mut ids = Vec::new();
    for i in 0..4 {
        let id = start(&c, &format!("echo {i}")).await;
        c.jobs
            .get(&id)
            .unwrap()
            .wait(None, &tokio_util::sync::CancellationToken::new())
            .await;
        ids.push(id);
    }
    let left: Vec<String> = c.jobs.list().iter().map(|j| j.id.clone()).collect();
    assert_eq!(left, ids[2..].to_vec());
}
