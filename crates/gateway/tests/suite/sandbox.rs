//! `sandbox.list`, `sandbox.explain`, `sandbox.recreate` over the WebSocket against the real
//! Docker engine (skipped with `SKIP:` without a daemon or the offline busybox test image;
//! `OPENCLAW_REQUIRE_DOCKER=1` makes that a failure).

use std::sync::Arc;
use std::time::Duration;

use openclaw_agent::sandbox_backend::config::AgentSandbox;
use openclaw_gateway::config_service::ConfigService;
use openclaw_gateway::{AuthConfig, Secret, ServerSettings, Services};
use openclaw_sandbox::SandboxManager;
use openclaw_sandbox::engine::Engine;
use serde_json::json;

use super::client::*;

const TEST_IMAGE: &str = "openclaw-sandbox-test:busybox";

async fn docker_gate(test: &str) -> Option<Engine> {
    let require = std::env::var("OPENCLAW_REQUIRE_DOCKER").is_ok_and(|v| v == "1");
    let reason = match tokio::time::timeout(Duration::from_secs(8), Engine::connect()).await {
        Ok(Ok(e)) => match e.image_exists(TEST_IMAGE).await {
            Ok(true) => return Some(e),
            Ok(false) => {
                format!("image {TEST_IMAGE} is missing; build it with scripts/test-images.sh")
            }
            Err(err) => err.to_string(),
        },
        Ok(Err(e)) => e.to_string(),
        Err(_) => "Docker ping timed out".into(),
    };
    assert!(
        !require,
        "{test}: Docker required (OPENCLAW_REQUIRE_DOCKER=1) but {reason}"
    );
    eprintln!("SKIP: {test}: {reason}");
    None
}

#[tokio::test]
async fn sandbox_methods_over_websocket() {
    let Some(engine) = docker_gate("sandbox_methods_over_websocket").await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    std::fs::create_dir_all(&state).unwrap();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let prefix = format!("oc-gw-{:06x}-", nanos & 0xff_ffff);
    let config = json!({"agents": {"defaults": {"sandbox": {
        "mode": "non-main", "scope": "session", "workspaceAccess": "none",
        "workspaceRoot": dir.path().join("sandboxes"),
        "docker": {"image": TEST_IMAGE, "containerPrefix": prefix, "user": "1234:1234", "network": "none"}
    }}}});
    std::fs::write(state.join("openclaw.json"), config.to_string()).unwrap();
    let mut env = openclaw_config::EnvMap::new();
    env.insert("HOME".into(), dir.path().display().to_string());
    env.insert("OPENCLAW_STATE_DIR".into(), state.display().to_string());
    let paths = openclaw_config::Paths::from_env(&env).unwrap();
    let loaded = openclaw_config::load(&paths, &env).unwrap();

    // A sandboxed session's container, made the way the runtime makes it.
    let manager = Arc::new(
        SandboxManager::with_engine(state.clone(), engine.clone()).with_path_translation(None),
    );
    let agent = AgentSandbox::resolve(&loaded, &paths, "main").unwrap();
    std::fs::create_dir_all(&agent.agent_workspace).unwrap();
    let session = "agent:main:telegram:dm:42";
    let ctx = manager
        .context(&agent.spec, "main", session, &agent.agent_workspace)
        .await
        .unwrap()
        .expect("sandboxed");
    let name = ctx.container_name().to_string();
    assert!(name.starts_with(&prefix));

    #[allow(clippy::needless_update)]
    let services = Services {
        config: Some(Arc::new(ConfigService::new(paths, env, loaded))),
        sandbox: Some(manager.clone()),
        ..Default::default()
    };
    let settings = ServerSettings::for_tests(state.clone(), AuthConfig::Token(Secret::new("T")));
    let gw = openclaw_gateway::start(settings, services).await.unwrap();
    let url = format!("ws://{}/", gw.local_addr());
    let mut ws = connected(&url, "T", &["operator.admin"]).await;

    let res = call(&mut ws, "1", "sandbox.list", json!({})).await;
    assert_eq!(res["ok"], true, "{res}");
    let rows = res["payload"]["containers"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{res}");
    let row = &rows[0];
    assert_eq!(row["containerName"], name.as_str());
    assert_eq!(row["sessionKey"], session);
    assert_eq!(row["agentId"], "main");
    assert_eq!(row["image"], TEST_IMAGE);
    assert_eq!(row["imageMatch"], true);
    assert_eq!(row["running"], true);
    for k in ["createdAtMs", "lastUsedAtMs", "ageMs", "idleMs"] {
        assert!(row[k].is_i64(), "{k}: {row}");
    }
    let res = call(&mut ws, "2", "sandbox.list", json!({"browser": true})).await;
    assert_eq!(res["payload"]["containers"], json!([]));

    let res = call(
        &mut ws,
        "3",
        "sandbox.explain",
        json!({"sessionKey": session}),
    )
    .await;
    let p = &res["payload"];
    assert_eq!(p["runtime"], "sandboxed", "{res}");
    assert_eq!(p["sandboxed"], true);
    assert_eq!(p["mode"], "non-main");
    assert_eq!(p["scope"], "session");
    assert_eq!(p["workspaceAccess"], "none");
    assert_eq!(p["image"], TEST_IMAGE);
    assert_eq!(p["containerName"], name.as_str());
    let browser = p["toolPolicy"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["tool"] == "exec")
        .cloned();
    assert_eq!(browser.unwrap()["allowed"], true, "{p}");
    let res = call(&mut ws, "4", "sandbox.explain", json!({"agentId": "main"})).await;
    assert_eq!(res["payload"]["runtime"], "direct", "{res}");

    let res = call(&mut ws, "5", "sandbox.recreate", json!({})).await;
    assert_eq!(res["ok"], false, "exactly one target: {res}");
    let res = call(
        &mut ws,
        "6",
        "sandbox.recreate",
        json!({"session": session}),
    )
    .await;
    assert_eq!(res["payload"]["removed"], json!([name.clone()]), "{res}");
    assert!(engine.inspect(&name).await.unwrap().is_none());
    let res = call(&mut ws, "7", "sandbox.list", json!({})).await;
    assert_eq!(res["payload"]["containers"], json!([]));

    // A read-scoped client may list but not recreate.
    let mut ro = connected(&url, "T", &["operator.read"]).await;
    let res = call(&mut ro, "8", "sandbox.recreate", json!({"all": true})).await;
    assert_eq!(res["ok"], false);
    assert_eq!(res["error"]["code"], "FORBIDDEN", "{res}");
    drop(gw);
}
