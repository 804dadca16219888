//! The sandbox browser container against the real engine, with a fake browser image (busybox
//! httpd answering CDP's `/json/version`): readiness, loopback-only ports, labels and posture,
//! list/recreate/prune through the browser registry, drift, and the failure paths.

use std::time::Duration;

use bollard::Docker;
use openclaw_sandbox::browser::probe_cdp;
use openclaw_sandbox::exec::{ExecRequest, run_exec};
use openclaw_sandbox::manage::{RecreateTarget, list};
use openclaw_sandbox::naming::{container_name, scope_slug};
use openclaw_sandbox::prune::prune_browsers_now;
use openclaw_sandbox::spec::{DEFAULT_BROWSER_IMAGE, PruneSpec, SandboxSpec};
use openclaw_sandbox::{BrowserEndpoint, SandboxError};
use tokio_util::sync::CancellationToken;

use super::support::{BROWSER_TEST_IMAGE, TestEnv, docker_gate};

const MIN: i64 = 60_000;

/// The test env's spec with the browser on, the fake image and a prefix `TestEnv` cleans up.
fn browser_spec(env: &TestEnv) -> SandboxSpec {
    let mut spec = env.spec();
    spec.browser.enabled = true;
    spec.browser.image = BROWSER_TEST_IMAGE.into();
    spec.browser.container_prefix = format!("{}browser-", env.prefix);
    spec
}

async fn ensure(env: &TestEnv, spec: &SandboxSpec, session: &str) -> BrowserEndpoint {
    env.manager
        .ensure_browser(spec, "main", session, &env.agent_ws())
        .await
        .unwrap()
        .expect("browser enabled and session sandboxed")
}

async fn sh(env: &TestEnv, container: &str, cmd: &str) -> String {
    let req = ExecRequest {
        argv: vec!["sh".into(), "-c".into(), cmd.into()],
        env: Vec::new(),
        workdir: "/workspace".into(),
        exec_id: "browser-test".into(),
    };
    let out = run_exec(
        &env.engine,
        container,
        &req,
        Duration::from_secs(30),
        &CancellationToken::new(),
        64 * 1024,
    )
    .await
    .unwrap();
    out.aggregated
}

async fn age_browser(env: &TestEnv, name: &str, created_ago: i64, used_ago: i64) {
    let reg = env.manager.browser_registry();
    let mut e = reg.get(name).await.unwrap().unwrap();
    let now = chrono::Utc::now().timestamp_millis();
    e.created_at_ms = now - created_ago;
    e.last_used_at_ms = now - used_ago;
    reg.remove(name).await.unwrap();
    reg.upsert(e).await.unwrap();
}

#[tokio::test]
async fn browser_is_ready_hardened_and_published_on_loopback_only() {
    let Some(engine) = docker_gate(
        "browser_is_ready_hardened_and_published_on_loopback_only",
        BROWSER_TEST_IMAGE,
    )
    .await
    else {
        return;
    };
    let env = TestEnv::new(engine, "brw");
    let key = "agent:main:brw";
    let mut off = browser_spec(&env);
    off.browser.enabled = false;
    let none = env
        .manager
        .ensure_browser(&off, "main", key, &env.agent_ws())
        .await
        .unwrap();
    assert_eq!(none, None, "browser.enabled off: no container");

    let spec = browser_spec(&env);
    let ep = ensure(&env, &spec, key).await;
    assert!(ep.created && ep.ready, "{ep:?}");
    assert_eq!(
        ep.container,
        format!("{}browser-{}", env.prefix, scope_slug(spec.scope, key))
    );
    assert_eq!(
        ep.container.strip_prefix(&spec.browser.container_prefix),
        container_name(&spec.docker.container_prefix, spec.scope, key)
            .strip_prefix(&spec.docker.container_prefix),
        "same slug as the scope's sandbox container"
    );
    assert_eq!(ep.cdp_url, format!("http://127.0.0.1:{}", ep.cdp_port));
    assert_eq!(
        ep.version.as_ref().and_then(|v| v.browser.as_deref()),
        Some("FakeChrome/1.0")
    );
    assert!(probe_cdp(ep.cdp_port).await.is_some());
    let no_vnc = ep.no_vnc_port.expect("noVNC published when not headless");
    assert_ne!(no_vnc, ep.cdp_port);
    assert_eq!(
        ep.no_vnc_url.as_deref(),
        Some(format!("http://127.0.0.1:{no_vnc}/vnc.html?autoconnect=1&resize=remote").as_str())
    );

    // What the engine says: loopback-only bindings, the posture, the labels, the network.
    let docker = Docker::connect_with_defaults()
        .unwrap()
        .negotiate_version()
        .await
        .unwrap();
    let c = docker.inspect_container(&ep.container, None).await.unwrap();
    let hc = c.host_config.unwrap();
    assert_eq!(hc.network_mode.as_deref(), Some("openclaw-sandbox-browser"));
    assert_eq!(hc.readonly_rootfs, Some(true));
    assert_eq!(hc.cap_drop, Some(vec!["ALL".to_string()]));
    assert_eq!(hc.init, Some(true));
    assert!(
        hc.security_opt
            .unwrap_or_default()
            .contains(&"no-new-privileges".to_string())
    );
    let ports = c.network_settings.unwrap().ports.unwrap();
    let mut published = Vec::new();
    for (port, bindings) in ports {
        for b in bindings.unwrap_or_default() {
            assert_eq!(b.host_ip.as_deref(), Some("127.0.0.1"), "{port}: {b:?}");
            published.push(port.clone());
        }
    }
    published.sort();
    assert_eq!(published, vec!["6080/tcp".to_string(), "9222/tcp".into()]);
    let config = c.config.unwrap();
    assert_eq!(config.user.as_deref(), Some("1234:1234"));
    let gw = env
        .engine
        .network_gateway("openclaw-sandbox-browser")
        .await
        .unwrap()
        .expect("bridge gateway");
    assert!(
        config
            .env
            .unwrap_or_default()
            .contains(&format!("OPENCLAW_BROWSER_CDP_SOURCE_RANGE={gw}/32")),
        "CDP limited to the network gateway by default"
    );
    let labels = config.labels.unwrap();
    assert_eq!(labels["openclaw.sandbox"], "1");
    assert_eq!(labels["openclaw.sandboxBrowser"], "1");
    assert_eq!(labels["openclaw.sessionKey"], key);
    assert_eq!(labels["openclaw.configHash"], ep.config_hash);
    let mounts = c.mounts.unwrap();
    let ws = mounts
        .iter()
        .find(|m| m.destination.as_deref() == Some("/workspace"))
        .expect("workspace mounted");
    assert_eq!(
        ws.source.as_deref().map(std::path::Path::new),
        Some(
            spec.workspace_root
                .join(scope_slug(spec.scope, key))
                .as_path()
        )
    );
    let net = docker
        .inspect_network("openclaw-sandbox-browser", None)
        .await
        .unwrap();
    assert_eq!(net.driver.as_deref(), Some("bridge"));

    // From inside: no capabilities, no new privileges, read-only root, the configured user.
    let status = sh(&env, &ep.container, "id -u; grep -E '^(CapEff|CapBnd|NoNewPrivs):' /proc/self/status; (echo x > /etc/x) 2>/dev/null || echo ro").await;
    assert!(status.starts_with("1234\n"), "{status}");
    assert!(
        status.contains("CapEff:\t0000000000000000") && status.contains("NoNewPrivs:\t1"),
        "{status}"
    );
    assert!(status.trim_end().ends_with("ro"), "{status}");

    // Registry entry with the published ports; the second call reuses the container.
    let entry = env
        .manager
        .browser_registry()
        .get(&ep.container)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            entry.cdp_port,
            entry.no_vnc_port,
            entry.session_key.as_str()
        ),
        (Some(ep.cdp_port), Some(no_vnc), key)
    );
    assert!(
        env.manager
            .registry()
            .get(&ep.container)
            .await
            .unwrap()
            .is_none(),
        "browsers stay out of the container registry"
    );
    let again = ensure(&env, &spec, key).await;
    assert!(!again.created && again.ready);
    assert_eq!(again.cdp_port, ep.cdp_port);
}

#[tokio::test]
async fn list_recreate_and_prune_use_the_browser_registry() {
    let Some(engine) = docker_gate(
        "list_recreate_and_prune_use_the_browser_registry",
        BROWSER_TEST_IMAGE,
    )
    .await
    else {
        return;
    };
    let env = TestEnv::new(engine, "brl");
    let mut spec = browser_spec(&env);
    spec.browser.headless = true;
    let a = ensure(&env, &spec, "agent:main:a").await;
    let b = ensure(&env, &spec, "agent:main:b").await;
    assert_eq!(a.no_vnc_port, None, "headless: CDP only");

    let rows = list(
        &env.engine,
        env.manager.browser_registry(),
        BROWSER_TEST_IMAGE,
    )
    .await
    .unwrap();
    let mut names: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
    names.sort();
    let mut expected = vec![a.container.as_str(), b.container.as_str()];
    expected.sort();
    assert_eq!(names, expected);
    assert!(rows.iter().all(|r| r.running && r.image_match));
    assert!(
        env.manager
            .list(BROWSER_TEST_IMAGE)
            .await
            .unwrap()
            .is_empty(),
        "plain `sandbox list` does not show browsers"
    );

    // `recreate` without --browser leaves browsers alone; with it, the target goes.
    assert!(
        env.manager
            .recreate(&RecreateTarget::All)
            .await
            .unwrap()
            .is_empty()
    );
    let removed = env
        .manager
        .recreate_browsers(&RecreateTarget::Session("agent:main:a".into()))
        .await
        .unwrap();
    assert_eq!(removed, vec![a.container.clone()]);
    assert!(env.engine.inspect(&a.container).await.unwrap().is_none());
    assert!(env.engine.inspect(&b.container).await.unwrap().is_some());

    // Prune: an idle browser goes, its scope workspace stays (it belongs to the sandbox).
    let fresh = ensure(&env, &spec, "agent:main:fresh").await;
    age_browser(&env, &b.container, 26 * 60 * MIN, 25 * 60 * MIN).await;
    let now = chrono::Utc::now().timestamp_millis();
    let never = PruneSpec {
        idle_hours: 0.0,
        max_age_days: 0.0,
    };
    let reg = env.manager.browser_registry();
    assert!(
        prune_browsers_now(&env.engine, reg, never, now)
            .await
            .unwrap()
            .is_empty()
    );
    let pruned = prune_browsers_now(&env.engine, reg, spec.prune, now)
        .await
        .unwrap();
    assert_eq!(pruned, vec![b.container.clone()]);
    assert!(env.engine.inspect(&b.container).await.unwrap().is_none());
    assert!(
        env.engine
            .inspect(&fresh.container)
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        spec.workspace_root
            .join(scope_slug(spec.scope, "agent:main:b"))
            .exists(),
        "browser prune leaves the scope workspace"
    );
    let left: Vec<String> = reg
        .entries()
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.container_name)
        .collect();
    assert_eq!(left, vec![fresh.container.clone()]);
}

#[tokio::test]
async fn browser_config_drift_recreates_idle_and_keeps_hot() {
    let Some(engine) = docker_gate(
        "browser_config_drift_recreates_idle_and_keeps_hot",
        BROWSER_TEST_IMAGE,
    )
    .await
    else {
        return;
    };
    let env = TestEnv::new(engine, "brd");
    let key = "agent:main:drift";
    let spec = browser_spec(&env);
    let first = ensure(&env, &spec, key).await;
    let id = |env: &TestEnv, name: String| {
        let engine = env.engine.clone();
        async move { engine.inspect(&name).await.unwrap().unwrap().id }
    };
    let id1 = id(&env, first.container.clone()).await;

    let mut changed = spec.clone();
    changed.browser.headless = true;
    let hot = ensure(&env, &changed, key).await;
    assert!(!hot.created);
    assert_eq!(id(&env, first.container.clone()).await, id1);
    let warning = hot.warning.expect("hot browser warning");
    assert!(
        warning.contains(&format!(
            "openclaw sandbox recreate --session {key} --browser"
        )),
        "{warning}"
    );

    age_browser(&env, &first.container, 10 * MIN, 6 * MIN).await;
    let fresh = ensure(&env, &changed, key).await;
    assert!(fresh.created && fresh.ready && fresh.warning.is_none());
    assert_ne!(id(&env, first.container.clone()).await, id1);
    assert_eq!(fresh.no_vnc_port, None, "the new headless config applies");
}

#[tokio::test]
async fn missing_image_and_dead_browser_fail_clearly_and_leave_nothing() {
    let Some(engine) = docker_gate(
        "missing_image_and_dead_browser_fail_clearly_and_leave_nothing",
        BROWSER_TEST_IMAGE,
    )
    .await
    else {
        return;
    };
    let env = TestEnv::new(engine, "brf");
    let mut spec = browser_spec(&env);
    spec.browser.image = "openclaw-no-such-browser:never".into();
    let err = env
        .manager
        .ensure_browser(&spec, "main", "agent:main:img", &env.agent_ws())
        .await
        .unwrap_err();
    assert!(matches!(err, SandboxError::ImageMissing { .. }), "{err}");
    assert!(
        err.to_string().contains("scripts/sandbox-browser-setup.sh"),
        "{err}"
    );
    let name = format!(
        "{}{}",
        spec.browser.container_prefix,
        scope_slug(spec.scope, "agent:main:img")
    );
    assert!(env.engine.inspect(&name).await.unwrap().is_none());

    // A browser that never answers CDP is removed at autoStartTimeoutMs, with its output.
    let mut spec = browser_spec(&env);
    spec.browser.auto_start_timeout_ms = 1500;
    spec.docker
        .env
        .insert("OPENCLAW_TEST_BROWSER_HANG".into(), "1".into());
    let key = "agent:main:hang";
    let err = env
        .manager
        .ensure_browser(&spec, "main", key, &env.agent_ws())
        .await
        .unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, SandboxError::BrowserNotReady { .. }), "{msg}");
    assert!(
        msg.contains("within 1500 ms") && msg.contains("autoStartTimeoutMs"),
        "{msg}"
    );
    assert!(msg.contains("fake browser: not answering"), "{msg}");
    let name = format!(
        "{}{}",
        spec.browser.container_prefix,
        scope_slug(spec.scope, key)
    );
    assert!(env.engine.inspect(&name).await.unwrap().is_none());
    assert!(
        env.manager
            .browser_registry()
            .get(&name)
            .await
            .unwrap()
            .is_none()
    );

    // `network: none` is refused before anything is created.
    let mut spec = browser_spec(&env);
    spec.browser.network = "none".into();
    let err = env
        .manager
        .ensure_browser(&spec, "main", "agent:main:none", &env.agent_ws())
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("cannot work for the sandbox browser"), "{err}");
}

/// The real image (scripts/sandbox-browser-setup.sh, Chromium): CDP through socat under the full
/// posture as an arbitrary uid, with the default gateway-only source range, and noVNC. CI does
/// not build this image, so a missing one is a visible skip even when Docker is required.
#[tokio::test]
async fn real_chromium_answers_through_the_published_port() {
    let test = "real_chromium_answers_through_the_published_port";
    let Some(engine) = docker_gate(test, BROWSER_TEST_IMAGE).await else {
        return;
    };
    if !engine.image_exists(DEFAULT_BROWSER_IMAGE).await.unwrap() {
        eprintln!(
            "SKIP: {test}: image {DEFAULT_BROWSER_IMAGE} is missing; build it with scripts/sandbox-browser-setup.sh"
        );
        return;
    }
    let env = TestEnv::new(engine, "brc");
    let mut spec = browser_spec(&env);
    spec.browser.image = DEFAULT_BROWSER_IMAGE.into();
    spec.browser.auto_start_timeout_ms = 60_000;
    let ep = ensure(&env, &spec, "agent:main:chromium").await;
    let version = ep.version.clone().expect("ready");
    assert!(
        version
            .browser
            .as_deref()
            .is_some_and(|b| b.starts_with("Chrome/")),
        "{version:?}"
    );
    assert!(
        version.web_socket_debugger_url.as_deref().is_some_and(
            |u| u.starts_with(&format!("ws://127.0.0.1:{}/devtools/browser/", ep.cdp_port))
        ),
        "{version:?}"
    );
    let no_vnc = ep.no_vnc_port.expect("noVNC when not headless");
    let mut page = String::new();
    for _ in 0..100 {
        page = http_get(no_vnc, "/vnc.html").await;
        if page.starts_with("HTTP/1.1 200") || page.starts_with("HTTP/1.0 200") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(page.contains("noVNC"), "{page}");
}

async fn http_get(port: u16, path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let Ok(mut s) = tokio::net::TcpStream::connect(("127.0.0.1", port)).await else {
        return String::new();
    };
    let req = format!("GET {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n\r\n");
    if s.write_all(req.as_bytes()).await.is_err() {
        return String::new();
    }
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut buf)).await;
    String::from_utf8_lossy(&buf).into_owned()
}
