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
