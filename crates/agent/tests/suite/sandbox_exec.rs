//! `exec` and `process` through the sandbox backend against the real engine.

use std::time::Duration;

use openclaw_agent::sandbox_backend::sandbox::spec::{SandboxMode, WorkspaceAccess};
use openclaw_agent::sandbox_backend::{SandboxToolOptions, sandbox_tool_context_or_refuse};
use serde_json::json;

use super::call;
use super::sandbox_support::{SandboxEnv, docker_gate};

#[tokio::test]
async fn exec_runs_inside_the_container_without_host_env() {
    let Some(engine) = docker_gate("exec_runs_inside_the_container").await else {
        return;
    };
    let env = SandboxEnv::new(engine, "exec");
    let spec = env.spec(WorkspaceAccess::None);
    let c = env
        .tool_ctx(&spec, "agent:main:telegram:dm:1")
        .await
        .unwrap();
    assert_eq!(c.exec.name(), "sandbox");
    assert_eq!(
        c.workspace,
        env.dir.path().join("sandboxes").join(
            openclaw_agent::sandbox_backend::sandbox::naming::slugify("agent:main:telegram:dm:1")
        )
    );

    let out = call(&c, "exec", json!({"command": "echo hello-from-sandbox"})).await;
    assert!(!out.is_error, "{}", out.text_content());
    assert_eq!(out.text_content(), "hello-from-sandbox");

    // PID 1 is the container's init running `sleep infinity`, not the host's init.
    let out = call(
        &c,
        "exec",
        json!({"command": "tr '\\000' ' ' < /proc/1/cmdline"}),
    )
    .await;
    assert!(
        out.text_content().contains("sleep infinity"),
        "{}",
        out.text_content()
    );
    let host_name = std::fs::read_to_string("/etc/hostname").unwrap_or_default();
    let out = call(&c, "exec", json!({"command": "hostname"})).await;
    assert_ne!(out.text_content().trim(), host_name.trim());

    // HOME is the workdir, the login shell ran, and the test process' env did not leak in.
    assert!(std::env::var("CARGO_MANIFEST_DIR").is_ok());
    let out = call(
        &c,
        "exec",
        json!({"command": "echo home=$HOME shell=$OPENCLAW_SHELL x=$X; env", "env": {"X": "y"}}),
    )
    .await;
    let text = out.text_content();
    assert!(text.starts_with("home=/workspace shell=exec x=y"), "{text}");
    assert!(!text.contains("CARGO_MANIFEST_DIR"), "{text}");

    // Host workdir under the workspace maps to the container path; outside is refused.
    std::fs::create_dir_all(c.workspace.join("sub")).unwrap();
    let out = call(&c, "exec", json!({"command": "pwd", "workdir": "sub"})).await;
    assert_eq!(out.text_content(), "/workspace/sub");
    let out = call(&c, "exec", json!({"command": "pwd", "workdir": "/etc"})).await;
    assert!(out.is_error);
    assert!(
        out.text_content().contains("Path escapes sandbox root"),
        "{}",
        out.text_content()
    );

    // Non-zero exit is reported as such.
    let out = call(&c, "exec", json!({"command": "echo oops >&2; exit 3"})).await;
    assert!(out.is_error);
    assert!(
        out.text_content().contains("exited with code 3"),
        "{}",
        out.text_content()
    );
}

#[tokio::test]
async fn background_poll_and_kill_in_the_container() {
    let Some(engine) = docker_gate("background_poll_and_kill").await else {
        return;
    };
    let env = SandboxEnv::new(engine, "bg");
    let spec = env.spec(WorkspaceAccess::None);
    let c = env.tool_ctx(&spec, "agent:main:bg").await.unwrap();

    // yieldMs hands a slow command to the registry; poll until it finishes.
    let out = call(
        &c,
        "exec",
        json!({"command": "sleep 1; echo done-late", "yieldMs": 100}),
    )
    .await;
    let d = out.details.clone().unwrap();
    assert_eq!(d["status"], "running", "{}", out.text_content());
    let id = d["sessionId"].as_str().unwrap().to_string();
    let mut seen = String::new();
    let mut status = String::new();
    for _ in 0..30 {
        let out = call(
            &c,
            "process",
            json!({"action": "poll", "sessionId": id, "timeout": 2000}),
        )
        .await;
        let d = out.details.unwrap();
        seen.push_str(d["aggregated"].as_str().unwrap_or(""));
        status = d["status"].as_str().unwrap().to_string();
        if status != "running" {
            break;
        }
    }
    assert_eq!(status, "completed");
    assert!(seen.contains("done-late"), "{seen}");

    // stdin reaches the container process.
    let out = call(
        &c,
        "exec",
        json!({"command": "read line; echo got:$line", "background": true}),
    )
    .await;
    let id = out.details.unwrap()["sessionId"]
        .as_str()
        .unwrap()
        .to_string();
    call(
        &c,
        "process",
        json!({"action": "write", "sessionId": id, "data": "ping\n", "eof": true}),
    )
    .await;
    let mut seen = String::new();
    for _ in 0..30 {
        let out = call(
            &c,
            "process",
            json!({"action": "poll", "sessionId": id, "timeout": 2000}),
        )
        .await;
        let d = out.details.unwrap();
        seen.push_str(d["aggregated"].as_str().unwrap_or(""));
        if d["status"] != "running" {
            break;
        }
    }
    assert!(seen.contains("got:ping"), "{seen}");

    // kill ends the container-side process tree.
    let out = call(
        &c,
        "exec",
        json!({"command": "sleep 300 & sleep 301; echo never", "background": true}),
    )
    .await;
    let id = out.details.unwrap()["sessionId"]
        .as_str()
        .unwrap()
        .to_string();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let out = call(&c, "process", json!({"action": "kill", "sessionId": id})).await;
    assert!(!out.is_error, "{}", out.text_content());
    let mut gone = false;
    for _ in 0..50 {
        let ps = call(&c, "exec", json!({"command": "for d in /proc/[0-9]*; do tr '\\000' ' ' < $d/cmdline 2>/dev/null; echo; done | grep -c '^sleep 30[01]' || true"})).await;
        if ps.text_content().trim() == "0" {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(gone, "sleep processes survived the kill");
}

#[tokio::test]
async fn fail_closed_when_the_image_is_missing() {
    let Some(engine) = docker_gate("fail_closed_when_the_image_is_missing").await else {
        return;
    };
    let env = SandboxEnv::new(engine, "closed");
    let mut spec = env.spec(WorkspaceAccess::Rw);
    spec.docker.image = "openclaw-sandbox-test:no-such-image".into();
    let err = env.tool_ctx(&spec, "agent:main:x").await.unwrap_err();
    assert!(err.to_string().contains("Sandbox image not found"), "{err}");

    let c = sandbox_tool_context_or_refuse(
        &env.manager,
        &spec,
        "main",
        "agent:main:x",
        &env.agent_ws(),
        env.base(),
        &SandboxToolOptions::default(),
    )
    .await;
    let marker = env.agent_ws().join("ran-on-host");
    let out = call(
        &c,
        "exec",
        json!({"command": format!("touch {}", marker.display())}),
    )
    .await;
    assert!(out.is_error);
    assert!(
        out.text_content().contains("Sandbox image not found"),
        "{}",
        out.text_content()
    );
    assert!(!marker.exists(), "the command ran on the host");
    let out = call(&c, "write", json!({"path": "f.txt", "content": "x"})).await;
    assert!(out.is_error && out.text_content().contains("Sandbox unavailable"));
    assert!(!env.agent_ws().join("f.txt").exists());
}

#[tokio::test]
async fn main_session_is_not_sandboxed_under_non_main() {
    let Some(engine) = docker_gate("main_session_is_not_sandboxed").await else {
        return;
    };
    let env = SandboxEnv::new(engine, "main");
    let mut spec = env.spec(WorkspaceAccess::None);
    spec.mode = SandboxMode::NonMain;
    let c = env.tool_ctx(&spec, "agent:main:main").await.unwrap();
    assert_eq!(c.exec.name(), "gateway");
    assert_eq!(c.workspace, env.agent_ws());
    assert!(env.manager.registry().entries().await.unwrap().is_empty());
}
