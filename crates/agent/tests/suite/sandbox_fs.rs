//! File tools through the sandbox fs bridge, `workspaceAccess` and the sandbox tool policy.

use std::path::Path;

use openclaw_agent::sandbox_backend::config::{AgentSandbox, explain_for};
use openclaw_agent::sandbox_backend::sandbox::spec::WorkspaceAccess;
use serde_json::json;

use super::call;
use super::sandbox_support::{SandboxEnv, docker_gate};

#[tokio::test]
async fn file_tools_land_in_the_sandbox_workspace() {
    let Some(engine) = docker_gate("file_tools_land_in_the_sandbox_workspace").await else {
        return;
    };
    let env = SandboxEnv::new(engine, "fs");
    let spec = env.spec(WorkspaceAccess::None);
    let c = env.tool_ctx(&spec, "agent:main:fs").await.unwrap();
    let ws = c.workspace.clone();
    assert!(ws.starts_with(env.dir.path().join("sandboxes")));

    let out = call(
        &c,
        "write",
        json!({"path": "notes/a.txt", "content": "one\ntwo\n"}),
    )
    .await;
    assert!(!out.is_error, "{}", out.text_content());
    assert_eq!(
        std::fs::read_to_string(ws.join("notes/a.txt")).unwrap(),
        "one\ntwo\n"
    );
    assert!(
        !env.agent_ws().join("notes").exists(),
        "agent workspace untouched"
    );
    // The container sees the same file at /workspace.
    let out = call(&c, "exec", json!({"command": "cat /workspace/notes/a.txt"})).await;
    assert_eq!(out.text_content(), "one\ntwo");

    // Container paths work too.
    let out = call(
        &c,
        "read",
        json!({"path": "/workspace/notes/a.txt", "offset": 2}),
    )
    .await;
    assert_eq!(out.text_content(), "two");

    let out = call(
        &c,
        "edit",
        json!({"path": "notes/a.txt", "oldText": "two", "newText": "deux"}),
    )
    .await;
    assert!(!out.is_error, "{}", out.text_content());
    assert_eq!(
        std::fs::read_to_string(ws.join("notes/a.txt")).unwrap(),
        "one\ndeux\n"
    );

    let patch = "*** Begin Patch\n*** Add File: p/new.txt\n+patched\n*** Update File: notes/a.txt\n@@\n one\n-deux\n+drei\n*** End Patch";
    let out = call(&c, "apply_patch", json!({"input": patch})).await;
    assert!(!out.is_error, "{}", out.text_content());
    assert_eq!(
        std::fs::read_to_string(ws.join("p/new.txt")).unwrap(),
        "patched\n"
    );
    assert_eq!(
        std::fs::read_to_string(ws.join("notes/a.txt")).unwrap(),
        "one\ndrei\n"
    );

    // A file written inside the container is readable by the file tools.
    call(&c, "exec", json!({"command": "echo from-exec > made.txt"})).await;
    let out = call(&c, "read", json!({"path": "made.txt"})).await;
    assert_eq!(out.text_content(), "from-exec");

    // Escapes are refused: host paths outside the mounts, `..`, container system paths.
    for p in ["/etc/passwd", "../../outside.txt", "/home/elsewhere/f.txt"] {
        let out = call(&c, "write", json!({"path": p, "content": "x"})).await;
        assert!(out.is_error, "{p}");
        assert!(
            out.text_content().contains("Path escapes sandbox root"),
            "{p}: {}",
            out.text_content()
        );
    }
    // A host path of the (unmounted) agent workspace is just a container path: under the
    // container's own /tmp here, never the host file.
    let host_path = env.agent_ws().join("x");
    call(
        &c,
        "write",
        json!({"path": host_path.display().to_string(), "content": "x"}),
    )
    .await;
    let out = call(&c, "read", json!({"path": "/etc/passwd"})).await;
    assert!(out.text_content().contains("Path escapes sandbox root"));
    assert!(!env.agent_ws().join("x").exists());
    // A symlink planted in the workspace that points outside is not followed.
    std::os::unix::fs::symlink("/etc", ws.join("etc-link")).unwrap();
    let out = call(&c, "read", json!({"path": "etc-link/hostname"})).await;
    assert!(out.is_error, "{}", out.text_content());
    let out = call(&c, "read", json!({"path": "missing.txt"})).await;
    assert!(
        out.is_error && out.text_content().contains("not found"),
        "{}",
        out.text_content()
    );
}

#[tokio::test]
async fn read_only_access_refuses_writes_naming_the_key() {
    let Some(engine) = docker_gate("read_only_access_refuses_writes").await else {
        return;
    };
    let env = SandboxEnv::new(engine, "ro");
    std::fs::write(env.agent_ws().join("AGENTS.md"), "agent rules\n").unwrap();
    let spec = env.spec(WorkspaceAccess::Ro);
    let c = env.tool_ctx(&spec, "agent:main:ro").await.unwrap();

    // The agent workspace is readable at /agent and the seed copy at /workspace.
    let out = call(&c, "read", json!({"path": "/agent/AGENTS.md"})).await;
    assert_eq!(out.text_content(), "agent rules");
    let out = call(&c, "read", json!({"path": "AGENTS.md"})).await;
    assert_eq!(out.text_content(), "agent rules");

    for (tool, args) in [
        ("write", json!({"path": "new.txt", "content": "x"})),
        (
            "edit",
            json!({"path": "AGENTS.md", "oldText": "agent", "newText": "x"}),
        ),
        (
            "apply_patch",
            json!({"input": "*** Begin Patch\n*** Add File: p.txt\n+x\n*** End Patch"}),
        ),
        ("write", json!({"path": "/agent/AGENTS.md", "content": "x"})),
    ] {
        let out = call(&c, tool, args).await;
        assert!(out.is_error, "{tool}");
        assert!(
            out.text_content()
                .contains("agents.defaults.sandbox.workspaceAccess"),
            "{tool}: {}",
            out.text_content()
        );
    }
    assert!(!c.workspace.join("new.txt").exists());
    assert_eq!(
        std::fs::read_to_string(env.agent_ws().join("AGENTS.md")).unwrap(),
        "agent rules\n"
    );
}

fn loaded(dir: &Path, text: &str) -> (openclaw_config::LoadedConfig, openclaw_config::Paths) {
    let env = openclaw_config::EnvMap::from([
        ("HOME".to_string(), dir.display().to_string()),
        (
            "OPENCLAW_STATE_DIR".to_string(),
            dir.join("state").display().to_string(),
        ),
    ]);
    let paths = openclaw_config::Paths::from_env(&env).unwrap();
    let loaded = openclaw_config::parse_str(text, &paths.config_path, &env).unwrap();
    (loaded, paths)
}

#[test]
fn blocked_tool_names_the_config_key() {
    let dir = tempfile::tempdir().unwrap();
    let (cfg, paths) = loaded(
        dir.path(),
        r#"{agents: {defaults: {sandbox: {mode: "non-main", workspaceAccess: "ro"}},
            list: [{id: "main", default: true}, {id: "work", sandbox: {mode: "all", scope: "session"},
                    tools: {sandbox: {tools: {allow: ["read"]}}}}]}}"#,
    );
    let main = AgentSandbox::resolve(&cfg, &paths, "main").unwrap();
    assert!(!main.is_sandboxed("agent:main:main"));
    assert!(main.is_sandboxed("agent:main:telegram:dm:1"));
    let p = main.effective_policy("agent:main:telegram:dm:1");
    let b = p.allowed("browser").unwrap_err();
    assert!(
        b.message.contains("tools.sandbox.tools.deny"),
        "{}",
        b.message
    );
    assert!(p.allowed("exec").is_ok());
    assert!(
        main.effective_policy("agent:main:main")
            .allowed("browser")
            .is_ok()
    );

    let work = AgentSandbox::resolve(&cfg, &paths, "work").unwrap();
    let p = work.effective_policy("agent:work:main");
    let b = p.allowed("exec").unwrap_err();
    assert!(
        b.message.contains("agents.list[1].tools.sandbox.tools"),
        "{}",
        b.message
    );

    let e = explain_for(&cfg, &paths, Some("agent:work:x"), None).unwrap();
    let v = serde_json::to_value(&e).unwrap();
    assert_eq!(v["agentId"], "work");
    assert_eq!(v["runtime"], "sandboxed");
    assert_eq!(v["sandboxed"], true);
    assert_eq!(v["scope"], "session");
    assert_eq!(v["workspaceAccess"], "ro");
    assert_eq!(v["mode"], "all");
    assert!(!v["toolPolicy"]["layers"].as_array().unwrap().is_empty());
    let e = explain_for(&cfg, &paths, None, Some("main")).unwrap();
    assert_eq!(e.sandbox.runtime, "direct");
    assert!(e.sandbox.why.contains("main session"), "{}", e.sandbox.why);
}
