//! `openclaw sandbox list | recreate | explain` without a gateway, against the real Docker
//! engine (skipped with `SKIP:` without a daemon or the offline busybox test image;
//! `OPENCLAW_REQUIRE_DOCKER=1` makes that a failure).

use std::time::Duration;

use openclaw_agent::sandbox_backend::config::AgentSandbox;
use openclaw_agent::sandbox_backend::sandbox::SandboxManager;
use openclaw_agent::sandbox_backend::sandbox::engine::Engine;
use serde_json::{Value, json};

use super::harness::Home;

const TEST_IMAGE: &str = "openclaw-sandbox-test:busybox";
/// The fake sandbox browser image (busybox httpd answering CDP's `/json/version`).
const BROWSER_TEST_IMAGE: &str = "openclaw-sandbox-browser-test:busybox";

async fn docker_gate(test: &str) -> Option<Engine> {
    docker_gate_for(test, TEST_IMAGE).await
}

async fn docker_gate_for(test: &str, image: &str) -> Option<Engine> {
    let require = std::env::var("OPENCLAW_REQUIRE_DOCKER").is_ok_and(|v| v == "1");
    let reason = match tokio::time::timeout(Duration::from_secs(8), Engine::connect()).await {
        Ok(Ok(e)) => match e.image_exists(image).await {
            Ok(true) => return Some(e),
            Ok(false) => {
                format!("image {image} is missing; build it with scripts/test-images.sh")
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
async fn list_explain_and_recreate_without_a_gateway() {
    let Some(engine) = docker_gate("list_explain_and_recreate_without_a_gateway").await else {
        return;
    };
    let home = Home::new();
    std::fs::create_dir_all(home.state()).unwrap();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let prefix = format!("oc-cli-{:06x}-", nanos & 0xff_ffff);
    let config = json!({"agents": {"defaults": {"sandbox": {
        "mode": "all", "scope": "agent",
        "docker": {"image": TEST_IMAGE, "containerPrefix": prefix, "user": "1234:1234", "network": "none"}
    }}}});
    std::fs::write(home.config_path(), config.to_string()).unwrap();

    // Make the agent's container the way the runtime does.
    let mut env = openclaw_config::EnvMap::new();
    env.insert("HOME".into(), home.path().display().to_string());
    let paths = openclaw_config::Paths::from_env(&env).unwrap();
    let loaded = openclaw_config::load(&paths, &env).unwrap();
    let agent = AgentSandbox::resolve(&loaded, &paths, "main").unwrap();
    std::fs::create_dir_all(&agent.agent_workspace).unwrap();
    let manager = SandboxManager::with_engine(paths.state_dir.clone(), engine.clone())
        .with_path_translation(None);
    let name = manager
        .context(
            &agent.spec,
            "main",
            "agent:main:main",
            &agent.agent_workspace,
        )
        .await
        .unwrap()
        .expect("mode all")
        .container_name()
        .to_string();
    assert!(name.starts_with(&prefix));

    let out = home.ok(&["sandbox", "list", "--json"]);
    let v: Value = serde_json::from_str(&out).unwrap();
    let rows = v["containers"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{v}");
    assert_eq!(rows[0]["containerName"], name.as_str());
    assert_eq!(rows[0]["sessionKey"], "agent:main");
    assert_eq!(rows[0]["running"], true);
    assert_eq!(rows[0]["imageMatch"], true);
    let text = home.ok(&["sandbox", "list"]);
    assert!(text.contains(&name) && text.contains("running"), "{text}");

    let out = home.ok(&["sandbox", "explain", "--agent", "main", "--json"]);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["runtime"], "sandboxed", "{v}");
    assert_eq!(v["containerName"], name.as_str());
    assert_eq!(v["scope"], "agent");
    let text = home.ok(&["sandbox", "explain"]);
    assert!(
        text.contains("tools blocked:") && text.contains("browser"),
        "{text}"
    );

    // Not a TTY and no --force: refuse, remove nothing.
    let out = home.run(&["sandbox", "recreate", "--all"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--force"));
    assert!(engine.inspect(&name).await.unwrap().is_some());
    // Exactly one target.
    let out = home.run(&["sandbox", "recreate", "--all", "--agent", "main", "--force"]);
    assert_eq!(out.status.code(), Some(2));
    let out = home.run(&["sandbox", "recreate", "--force"]);
    assert_eq!(out.status.code(), Some(1));

    let out = home.ok(&["sandbox", "recreate", "--all", "--force"]);
    assert!(out.contains(&format!("removed {name}")), "{out}");
    assert!(engine.inspect(&name).await.unwrap().is_none());
    let v: Value = serde_json::from_str(&home.ok(&["sandbox", "list", "--json"])).unwrap();
    assert_eq!(v["containers"], json!([]));
}

#[tokio::test]
async fn browser_list_and_recreate_without_a_gateway() {
    let Some(engine) = docker_gate_for(
        "browser_list_and_recreate_without_a_gateway",
        BROWSER_TEST_IMAGE,
    )
    .await
    else {
        return;
    };
    let home = Home::new();
    std::fs::create_dir_all(home.state()).unwrap();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let prefix = format!("oc-cli-brw-{:06x}-", nanos & 0xff_ffff);
    let config = json!({"agents": {"defaults": {"sandbox": {
        "mode": "all", "scope": "agent",
        "docker": {"image": TEST_IMAGE, "user": "1234:1234"},
        "browser": {"enabled": true, "image": BROWSER_TEST_IMAGE, "containerPrefix": prefix,
                    "headless": true}
    }}}});
    std::fs::write(home.config_path(), config.to_string()).unwrap();

    // Make the agent's browser the way the runtime does.
    let mut env = openclaw_config::EnvMap::new();
    env.insert("HOME".into(), home.path().display().to_string());
    let paths = openclaw_config::Paths::from_env(&env).unwrap();
    let loaded = openclaw_config::load(&paths, &env).unwrap();
    let agent = AgentSandbox::resolve(&loaded, &paths, "main").unwrap();
    std::fs::create_dir_all(&agent.agent_workspace).unwrap();
    let manager = SandboxManager::with_engine(paths.state_dir.clone(), engine.clone())
        .with_path_translation(None);
    let ep = manager
        .ensure_browser(
            &agent.spec,
            "main",
            "agent:main:main",
            &agent.agent_workspace,
        )
        .await
        .unwrap()
        .expect("browser enabled");
    assert!(ep.container.starts_with(&prefix));

    let v: Value =
        serde_json::from_str(&home.ok(&["sandbox", "list", "--browser", "--json"])).unwrap();
    let rows = v["containers"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{v}");
    assert_eq!(rows[0]["containerName"], ep.container.as_str());
    assert_eq!(rows[0]["sessionKey"], "agent:main");
    assert_eq!(rows[0]["running"], true);
    assert_eq!(rows[0]["imageMatch"], true);
    assert_eq!(rows[0]["cdpPort"], ep.cdp_port);
    assert!(rows[0].get("noVncPort").is_none(), "headless: {v}");
    let text = home.ok(&["sandbox", "list", "--browser"]);
    assert!(
        text.contains(&ep.container) && text.contains(&format!("cdp 127.0.0.1:{}", ep.cdp_port)),
        "{text}"
    );
    let v: Value = serde_json::from_str(&home.ok(&["sandbox", "list", "--json"])).unwrap();
    assert_eq!(
        v["containers"],
        json!([]),
        "browsers are listed with --browser only"
    );

    let out = home.ok(&["sandbox", "recreate", "--all", "--force"]);
    assert!(!out.contains(&ep.container), "{out}");
    assert!(engine.inspect(&ep.container).await.unwrap().is_some());
    let out = home.ok(&[
        "sandbox",
        "recreate",
        "--agent",
        "main",
        "--browser",
        "--force",
    ]);
    assert!(out.contains(&format!("removed {}", ep.container)), "{out}");
    assert!(engine.inspect(&ep.container).await.unwrap().is_none());
    let v: Value =
        serde_json::from_str(&home.ok(&["sandbox", "list", "--browser", "--json"])).unwrap();
    assert_eq!(v["containers"], json!([]));
}
