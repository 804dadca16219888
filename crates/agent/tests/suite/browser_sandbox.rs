//! The `browser` tool in sandboxed sessions: the sandbox tool policy, the refusals that name
//! their config keys, and (with Docker and the fake browser image) the scope's browser
//! container reached on its published loopback port.

use std::path::PathBuf;
use std::sync::Arc;

use openclaw_agent::policy::ToolPolicyInput;
use openclaw_agent::sandbox_backend::AgentSandbox;
use openclaw_agent::sandbox_backend::sandbox::SandboxManager;
use openclaw_agent::sandbox_backend::sandbox::spec::{SandboxMode, SandboxSpec, WorkspaceAccess};
use openclaw_agent::tools::browser::{
    BrowserAccess, BrowserService, BrowserSettings, SandboxBrowser,
};
use openclaw_agent::tools::{ToolRouter, builtin_tools};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use super::sandbox_support::{SandboxEnv, docker_gate};
use super::{call, ctx};

/// Built offline by `scripts/test-images.sh`: busybox httpd answering `/json/version`.
const BROWSER_TEST_IMAGE: &str = "openclaw-sandbox-browser-test:busybox";

fn agent_sandbox(dir: &std::path::Path, tools: Value, browser_enabled: bool) -> Arc<AgentSandbox> {
    let mut spec = SandboxSpec::defaults(&dir.join("state"));
    spec.mode = SandboxMode::All;
    spec.browser.enabled = browser_enabled;
    Arc::new(AgentSandbox {
        agent_id: "main".into(),
        spec,
        agent_workspace: PathBuf::from(dir),
        main_session_key: "agent:main:main".into(),
        main_key: "main".into(),
        tools: ToolPolicyInput::from_values(Some(&tools), None).unwrap(),
    })
}

#[tokio::test]
async fn sandboxed_session_without_browser_allowed_names_the_policy_key() {
    let dir = tempfile::tempdir().unwrap();
    let sb = agent_sandbox(dir.path(), json!({}), true);
    let key = "agent:main:telegram:dm:1";
    let router = ToolRouter::new(builtin_tools(), &sb.effective_policy(key));
    assert!(!router.is_enabled("browser"));
    let c = ctx(dir.path(), false);
    let out = router
        .dispatch(
            &c,
            "browser",
            json!({"action": "status"}),
            CancellationToken::new(),
        )
        .await;
    assert!(out.is_error);
    assert_eq!(
        out.text_content(),
        "Tool \"browser\" blocked by sandbox tool policy (mode=all): remove it from tools.sandbox.tools.deny or add it to tools.sandbox.tools.allow, or set agents.defaults.sandbox.mode=\"off\"; see openclaw sandbox explain"
    );
    // Unsandboxed sessions get the tool.
    let host = ToolRouter::new(builtin_tools(), &ToolPolicyInput::default().resolve(None));
    assert!(host.is_enabled("browser"));
}

#[tokio::test]
async fn sandbox_browser_refusals_name_their_keys() {
    let dir = tempfile::tempdir().unwrap();
    let key = "agent:main:telegram:dm:1";
    let tools = json!({"sandbox": {"tools": {"alsoAllow": ["browser"]}}});
    let access = |enabled: bool| BrowserAccess {
        service: Arc::new(BrowserService::new()),
        host: Ok(Arc::new(BrowserSettings::default())),
        sandbox: Some(SandboxBrowser {
            manager: Arc::new(SandboxManager::new(dir.path().join("state"))),
            sandbox: agent_sandbox(dir.path(), tools.clone(), enabled),
            session_key: key.into(),
        }),
    };
    let sb = agent_sandbox(dir.path(), tools.clone(), false);
    let router = ToolRouter::new(builtin_tools(), &sb.effective_policy(key));
    assert!(router.is_enabled("browser"));
    let mut c = ctx(dir.path(), false);
    c.browser = Some(access(false));
    let out = router
        .dispatch(
            &c,
            "browser",
            json!({"action": "open", "targetUrl": "https://example.com"}),
            CancellationToken::new(),
        )
        .await;
    assert!(out.is_error);
    assert!(
        out.text_content().starts_with(
            "The sandbox browser is disabled: set agents.defaults.sandbox.browser.enabled to true"
        ),
        "{}",
        out.text_content()
    );
    c.browser = Some(access(true));
    let out = call(&c, "browser", json!({"action": "tabs", "target": "host"})).await;
    assert!(out.is_error);
    assert!(
        out.text_content()
            .contains("set agents.defaults.sandbox.browser.allowHostControl to true"),
        "{}",
        out.text_content()
    );
}

#[tokio::test]
async fn sandboxed_browser_is_reached_on_its_containers_loopback_port() {
    let test = "sandboxed_browser_is_reached_on_its_containers_loopback_port";
    let Some(engine) = docker_gate(test).await else {
        return;
    };
    if !engine
        .image_exists(BROWSER_TEST_IMAGE)
        .await
        .unwrap_or(false)
    {
        let why =
            format!("image {BROWSER_TEST_IMAGE} is missing; build it with scripts/test-images.sh");
        if std::env::var("OPENCLAW_REQUIRE_DOCKER").as_deref() == Ok("1") {
            panic!("{test}: {why}");
        }
        eprintln!("SKIP: {test}: {why}");
        return;
    }
    let env = SandboxEnv::new(engine, "brw");
    let mut spec = env.spec(WorkspaceAccess::None);
    spec.browser.enabled = true;
    spec.browser.image = BROWSER_TEST_IMAGE.into();
    let prefix = format!("{}browser-", env.prefix);
    spec.browser.container_prefix = prefix.clone();
    let key = "agent:main:brw";
    let mut c = env.base();
    c.browser = Some(BrowserAccess {
        service: Arc::new(BrowserService::new()),
        host: Ok(Arc::new(BrowserSettings::default())),
        sandbox: Some(SandboxBrowser {
            manager: env.manager.clone(),
            sandbox: Arc::new(AgentSandbox {
                agent_id: "main".into(),
                spec,
                agent_workspace: env.agent_ws(),
                main_session_key: "agent:main:main".into(),
                main_key: "main".into(),
                tools: ToolPolicyInput::default(),
            }),
            session_key: key.into(),
        }),
    });
    let out = call(&c, "browser", json!({"action": "tabs"})).await;
    let entries = env.manager.browser_registry().entries().await.unwrap();
    let entry = entries
        .iter()
        .find(|e| e.container_name.starts_with(&prefix))
        .unwrap_or_else(|| panic!("no browser container; tool said: {}", out.text_content()));
    let port = entry.cdp_port.unwrap();
    // The fake image answers /json/version but speaks no CDP: the tool got as far as the
    // container's published loopback port (not the port the browser reports inside).
    assert!(out.is_error);
    assert!(
        out.text_content().starts_with(&format!(
            "cannot connect to the browser at ws://127.0.0.1:{port}/devtools/browser/fake"
        )),
        "{}",
        out.text_content()
    );
}
