//! A full agent turn in a sandboxed session: the model's `exec` runs inside the session's
//! container (real Docker engine, offline busybox test image), and the main session stays on
//! the host under `mode: non-main`.

use std::sync::Arc;
use std::time::Duration;

use openclaw_agent::{AgentRuntime, RunRequest, RunStatus, RuntimeOptions};
use openclaw_config::EnvMap;
use openclaw_test_support::{FakeOpenAi, Script};

use super::runtime::paths;
use super::sandbox_support::{SandboxEnv, TEST_IMAGE, docker_gate};

#[tokio::test]
async fn sandboxed_session_runs_exec_in_its_container() {
    let Some(engine) = docker_gate("sandboxed_session_runs_exec_in_its_container").await else {
        return;
    };
    let env = SandboxEnv::new(engine, "rt");
    let fake = FakeOpenAi::start(Script::echo()).await;
    let home = tempfile::tempdir().unwrap();
    let paths = paths(home.path());
    let config = format!(
        r#"{{
  models: {{ providers: {{ mock: {{ baseUrl: "{}", api: "openai-completions", apiKey: "k",
    models: [{{ id: "mock-model" }}] }} }} }},
  agents: {{ defaults: {{
    model: {{ primary: "mock/mock-model" }},
    sandbox: {{ mode: "non-main", scope: "session", workspaceRoot: "{}",
      docker: {{ image: "{TEST_IMAGE}", containerPrefix: "{}" }} }},
  }} }},
}}"#,
        fake.base_url,
        env.dir.path().join("sandboxes").display(),
        env.prefix
    );
    let loaded = openclaw_config::parse_str(&config, &paths.config_path, &EnvMap::new()).unwrap();
    let rt = AgentRuntime::with_options(&loaded, &paths, &EnvMap::new(), RuntimeOptions::default());
    assert!(rt.set_sandbox_manager(env.manager.clone()));

    let exec = r#"TOOL exec {"command":"tr '\\000' ' ' < /proc/1/cmdline"}"#;
    let run = |key: &str, id: &str| RunRequest {
        message: exec.into(),
        session_key: Some(key.into()),
        run_id: Some(id.into()),
        ..RunRequest::default()
    };
    rt.submit(run("agent:main:work", "s1")).await.unwrap();
    let o: Arc<openclaw_agent::RunOutcome> = rt.wait("s1", Duration::from_secs(60)).await.unwrap();
    assert_eq!(o.status, RunStatus::Ok, "{o:?}");
    assert!(
        o.text().contains("sleep infinity"),
        "exec must run in the sandbox container: {}",
        o.text()
    );

    rt.submit(run("agent:main:main", "m1")).await.unwrap();
    let o = rt.wait("m1", Duration::from_secs(60)).await.unwrap();
    assert_eq!(o.status, RunStatus::Ok, "{o:?}");
    assert!(
        !o.text().contains("sleep infinity"),
        "the main session is not sandboxed: {}",
        o.text()
    );
    rt.flush().await;
}

#[tokio::test]
async fn sandboxed_session_sees_staged_media_not_the_host_path() {
    let Some(engine) = docker_gate("sandboxed_session_sees_staged_media_not_the_host_path").await
    else {
        return;
    };
    let env = SandboxEnv::new(engine, "media");
    let fake = FakeOpenAi::start(Script::echo()).await;
    let home = tempfile::tempdir().unwrap();
    let paths = paths(home.path());
    let config = format!(
        r#"{{
  models: {{ providers: {{ mock: {{ baseUrl: "{}", api: "openai-completions", apiKey: "k",
    models: [{{ id: "mock-model", input: ["text", "image"] }}] }} }} }},
  agents: {{ defaults: {{
    model: {{ primary: "mock/mock-model" }},
    sandbox: {{ mode: "all", scope: "session", workspaceRoot: "{}",
      docker: {{ image: "{TEST_IMAGE}", containerPrefix: "{}" }} }},
  }} }},
}}"#,
        fake.base_url,
        env.dir.path().join("sandboxes").display(),
        env.prefix
    );
    let loaded = openclaw_config::parse_str(&config, &paths.config_path, &EnvMap::new()).unwrap();
    let rt = AgentRuntime::with_options(&loaded, &paths, &EnvMap::new(), RuntimeOptions::default());
    assert!(rt.set_sandbox_manager(env.manager.clone()));

    let saved = openclaw_store::media::save_inbound(
        &paths.state_dir,
        b"hello from the host\n".to_vec(),
        Some("text/plain"),
        Some("notes.txt"),
    )
    .await
    .unwrap();
    let key = "agent:main:work";
    rt.submit(RunRequest {
        message: "read it".into(),
        session_key: Some(key.into()),
        run_id: Some("m1".into()),
        media: vec![saved.clone()],
        ..RunRequest::default()
    })
    .await
    .unwrap();
    let o = rt.wait("m1", Duration::from_secs(60)).await.unwrap();
    assert_eq!(o.status, RunStatus::Ok, "{o:?}");

    let reqs = fake.requests();
    let body = reqs[0].body.to_string();
    let host = saved.path.display().to_string();
    assert!(!body.contains(&host), "the host path leaked: {body}");
    let media_root = paths.state_dir.join("media").display().to_string();
    assert!(!body.contains(&media_root), "{body}");
    // Nothing of the host's layout at all: the system prompt names the container workdir.
    let home_dir = home.path().display().to_string();
    assert!(!body.contains(&home_dir), "a host path leaked: {body}");
    assert!(body.contains("working directory is /workspace."), "{body}");
    let user = reqs[0].body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|m| m["role"] == "user")
        .unwrap()["content"]
        .as_str()
        .unwrap()
        .to_string();
    let stem = saved
        .path
        .file_stem()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let rel = user
        .strip_prefix("[media attached: ")
        .and_then(|r| r.split(' ').next())
        .unwrap_or_default()
        .to_string();
    assert!(
        rel.starts_with(&format!("media/inbound/{stem}-")) && rel.ends_with(".txt"),
        "{user}"
    );
    assert_eq!(
        user,
        format!("[media attached: {rel} (text/plain) | {rel}]\nread it")
    );

    // The staged copy is inside the container at /workspace/<rel>.
    let cat = format!(r#"TOOL exec {{"command":"cat /workspace/{rel}"}}"#);
    rt.submit(RunRequest {
        message: cat,
        session_key: Some(key.into()),
        run_id: Some("m2".into()),
        ..RunRequest::default()
    })
    .await
    .unwrap();
    let o = rt.wait("m2", Duration::from_secs(60)).await.unwrap();
    assert_eq!(o.status, RunStatus::Ok, "{o:?}");
    assert!(
        o.text().contains("hello from the host"),
        "exec must read the staged file: {}",
        o.text()
    );
    rt.flush().await;
}
