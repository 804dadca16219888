//! Lifecycle behaviour against the real engine: recreate on drift, hot-container hint, prune,
//! a container killed mid-exec, exec timeouts and cancellation, background exec, image/daemon errors.

use std::time::Duration;

use openclaw_sandbox::engine::Engine;
use openclaw_sandbox::manage::RecreateTarget;
use openclaw_sandbox::prune::prune_now;
use openclaw_sandbox::spec::{DEFAULT_IMAGE, PruneSpec};
use openclaw_sandbox::{ExecOptions, SandboxError};
use tokio_util::sync::CancellationToken;

use super::support::{TEST_IMAGE, TestEnv, docker_gate, exists, sh};

const MIN: i64 = 60_000;

async fn container_id(env: &TestEnv, name: &str) -> String {
    env.engine
        .inspect(name)
        .await
        .unwrap()
        .expect("container exists")
        .id
}

async fn age_registry(env: &TestEnv, name: &str, created_ago: i64, used_ago: i64) {
    let reg = env.manager.registry();
    let mut e = reg.get(name).await.unwrap().unwrap();
    let now = chrono::Utc::now().timestamp_millis();
    e.created_at_ms = now - created_ago;
    e.last_used_at_ms = now - used_ago;
    reg.remove(name).await.unwrap();
    reg.upsert(e).await.unwrap();
}

#[tokio::test]
async fn config_change_recreates_idle_and_keeps_hot_with_hint() {
    let Some(engine) = docker_gate(
        "config_change_recreates_idle_and_keeps_hot_with_hint",
        TEST_IMAGE,
    )
    .await
    else {
        return;
    };
    let env = TestEnv::new(engine, "drift");
    let key = "agent:main:drift";
    let spec = env.spec();
    let first = env.ctx(&spec, key).await;
    assert!(first.handle().created);
    let name = first.container_name().to_string();
    let id1 = container_id(&env, &name).await;

    // Same config: reused.
    let again = env.ctx(&spec, key).await;
    assert!(!again.handle().created);
    assert_eq!(container_id(&env, &name).await, id1);

    // Changed config while hot: kept, with the exact recreate command.
    let mut changed = spec.clone();
    changed.docker.env.insert("NEW_VAR".into(), "1".into());
    let hot = env.ctx(&changed, key).await;
    assert!(!hot.handle().created);
    assert_eq!(container_id(&env, &name).await, id1);
    let warning = hot.warning().expect("hot container warning");
    assert!(
        warning.contains(&format!("openclaw sandbox recreate --session {key}")),
        "{warning}"
    );
    let kept = env.engine.inspect(&name).await.unwrap().unwrap();
    assert_ne!(
        kept.config_hash(),
        Some(hot.handle().config_hash.as_str()),
        "old container still carries the old hash"
    );
    let entry = env.manager.registry().get(&name).await.unwrap().unwrap();
    assert_eq!(
        entry.config_hash.as_deref(),
        kept.config_hash(),
        "registry keeps the old hash so drift is seen again"
    );

    // Idle for more than 5 minutes: recreated with the new config.
    age_registry(&env, &name, 10 * MIN, 6 * MIN).await;
    let fresh = env.ctx(&changed, key).await;
    assert!(fresh.handle().created);
    assert!(fresh.warning().is_none());
    assert_ne!(container_id(&env, &name).await, id1);
    assert_eq!(sh(&fresh, "echo $NEW_VAR").await.stdout, "1\n");
    let labels = env.engine.inspect(&name).await.unwrap().unwrap();
    assert_eq!(
        labels.config_hash(),
        Some(fresh.handle().config_hash.as_str())
    );
    assert_eq!(labels.scope_key(), Some(key));
}

#[tokio::test]
async fn prune_by_idle_and_by_age() {
    let Some(engine) = docker_gate("prune_by_idle_and_by_age", TEST_IMAGE).await else {
        return;
    };
    let env = TestEnv::new(engine, "prune");
    let spec = env.spec();
    let idle = env.ctx(&spec, "agent:main:idle").await;
    let old = env.ctx(&spec, "agent:main:old").await;
    let fresh = env.ctx(&spec, "agent:main:fresh").await;
    let (idle_n, old_n, fresh_n) = (
        idle.container_name().to_string(),
        old.container_name().to_string(),
        fresh.container_name().to_string(),
    );
    age_registry(&env, &idle_n, 26 * 60 * MIN, 25 * 60 * MIN).await;
    age_registry(&env, &old_n, 8 * 24 * 60 * MIN, MIN).await;
    let never = prune_now(
        &env.engine,
        env.manager.registry(),
        PruneSpec {
            idle_hours: 0.0,
            max_age_days: 0.0,
        },
        &spec.workspace_root,
        chrono::Utc::now().timestamp_millis(),
    )
    .await
    .unwrap();
    assert!(never.is_empty());
    let mut removed = prune_now(
        &env.engine,
        env.manager.registry(),
        spec.prune,
        &spec.workspace_root,
        chrono::Utc::now().timestamp_millis(),
    )
    .await
    .unwrap();
    removed.sort();
    let mut expected = vec![idle_n.clone(), old_n.clone()];
    expected.sort();
    assert_eq!(removed, expected);
    assert!(env.engine.inspect(&idle_n).await.unwrap().is_none());
    assert!(env.engine.inspect(&old_n).await.unwrap().is_none());
    assert!(env.engine.inspect(&fresh_n).await.unwrap().is_some());
    assert!(!exists(idle.workspace_dir()), "scope workspace removed");
    assert!(exists(fresh.workspace_dir()));
    let names: Vec<String> = env
        .manager
        .registry()
        .entries()
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.container_name)
        .collect();
    assert_eq!(names, vec![fresh_n]);
}

#[tokio::test]
async fn killed_container_mid_exec_errors_then_recreates() {
    let Some(engine) = docker_gate(
        "killed_container_mid_exec_errors_then_recreates",
        TEST_IMAGE,
    )
    .await
    else {
        return;
    };
    let env = TestEnv::new(engine, "killed");
    let spec = env.spec();
    let key = "agent:main:killed";
    let ctx = env.ctx(&spec, key).await;
    let opts = ExecOptions {
        timeout: Duration::from_secs(60),
        ..Default::default()
    };
    let cancel = CancellationToken::new();
    let run = ctx.exec("echo started; sleep 30; echo done", &opts, &cancel);
    let kill = async {
        tokio::time::sleep(Duration::from_millis(700)).await;
        env.engine.remove(ctx.container_name()).await.unwrap();
    };
    let (res, ()) = tokio::join!(run, kill);
    match res {
        Err(SandboxError::ContainerGone { .. }) | Err(SandboxError::Docker { .. }) => {}
        other => panic!("expected an error after the container died, got {other:?}"),
    }
    let next = env.ctx(&spec, key).await;
    assert!(next.handle().created, "next ensure recreates");
    assert_eq!(sh(&next, "echo back").await.stdout, "back\n");
}

#[tokio::test]
async fn exec_timeout_and_cancel_kill_the_process() {
    let Some(engine) = docker_gate("exec_timeout_and_cancel_kill_the_process", TEST_IMAGE).await
    else {
        return;
    };
    let env = TestEnv::new(engine, "timeout");
    let ctx = env.ctx(&env.spec(), "agent:main:t").await;
    let opts = ExecOptions {
        timeout: Duration::from_millis(800),
        ..Default::default()
    };
    let out = ctx
        .exec(
            "echo before; sleep 47; echo after",
            &opts,
            &CancellationToken::new(),
        )
        .await
        .unwrap();
    assert!(out.timed_out);
    assert_eq!(out.exit_code, None);
    assert_eq!(out.stdout, "before\n");
    let left = sh(&ctx, "pgrep -f 'sleep 47' || echo none").await;
    assert_eq!(left.stdout, "none\n", "timed-out process still running");

    let cancel = CancellationToken::new();
    let long = ExecOptions {
        timeout: Duration::from_secs(60),
        ..Default::default()
    };
    let c2 = cancel.clone();
    let canceller = async move {
        tokio::time::sleep(Duration::from_millis(500)).await;
        c2.cancel();
    };
    let (out, ()) = tokio::join!(ctx.exec("sleep 48", &long, &cancel), canceller);
    let out = out.unwrap();
    assert!(out.cancelled && !out.timed_out);
    assert_eq!(
        sh(&ctx, "pgrep -f 'sleep 48' || echo none").await.stdout,
        "none\n"
    );

    // Output cap.
    let capped = ExecOptions {
        max_output_bytes: 1000,
        ..long.clone()
    };
    let big = ctx
        .exec(
            "head -c 50000 /dev/zero | tr '\\000' x; echo; echo tail >&2",
            &capped,
            &CancellationToken::new(),
        )
        .await
        .unwrap();
    assert!(big.truncated);
    assert_eq!(big.stdout.len(), 1000);
    assert_eq!(big.exit_code, Some(0));

    // Exit codes, env, cwd mapping.
    let mut env_opts = long.clone();
    env_opts.env.insert("GREETING".into(), "hi".into());
    env_opts.cwd = Some("sub".into());
    ctx.mkdir("sub").await.unwrap();
    let o = ctx
        .exec(
            "echo $GREETING $HOME $OPENCLAW_SHELL; pwd; exit 3",
            &env_opts,
            &CancellationToken::new(),
        )
        .await
        .unwrap();
    assert_eq!(o.exit_code, Some(3));
    assert_eq!(o.stdout, "hi /workspace exec\n/workspace/sub\n");
}

#[tokio::test]
async fn background_exec_streams_and_kills() {
    let Some(engine) = docker_gate("background_exec_streams_and_kills", TEST_IMAGE).await else {
        return;
    };
    let env = TestEnv::new(engine, "bg");
    let ctx = env.ctx(&env.spec(), "agent:main:bg").await;
    let opts = ExecOptions {
        timeout: Duration::from_secs(60),
        ..Default::default()
    };
    let mut bg = ctx
        .spawn_exec("echo one; sleep 49; echo two", &opts)
        .unwrap();
    let mut seen = String::new();
    for _ in 0..100 {
        let p = bg.poll(0);
        seen = p.output;
        if seen.contains("one") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(seen, "one\n");
    assert!(!bg.poll(0).finished);
    let out = bg.kill().await.unwrap();
    assert!(out.cancelled);
    assert!(bg.poll(0).finished);
    assert_eq!(
        sh(&ctx, "pgrep -f 'sleep 49' || echo none").await.stdout,
        "none\n"
    );
    let mut quick = ctx.spawn_exec("echo fast", &opts).unwrap();
    let done = quick.wait().await.unwrap();
    assert_eq!((done.exit_code, done.stdout.as_str()), (Some(0), "fast\n"));
}

#[tokio::test]
async fn list_recreate_and_setup_command() {
    let Some(engine) = docker_gate("list_recreate_and_setup_command", TEST_IMAGE).await else {
        return;
    };
    let env = TestEnv::new(engine, "manage");
    let mut spec = env.spec();
    spec.docker.setup_command = Some("echo setup-ran > /workspace/.setup".into());
    let ctx = env.ctx(&spec, "agent:main:m1").await;
    assert_eq!(
        sh(&ctx, "cat /workspace/.setup").await.stdout,
        "setup-ran\n"
    );
    let rows = env.manager.list(TEST_IMAGE).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert!(rows[0].running && rows[0].image_match);
    assert_eq!(rows[0].session_key, "agent:main:m1");
    let removed = env
        .manager
        .recreate(&RecreateTarget::Agent("main".into()))
        .await
        .unwrap();
    assert_eq!(removed, vec![ctx.container_name().to_string()]);
    assert!(
        env.engine
            .inspect(ctx.container_name())
            .await
            .unwrap()
            .is_none()
    );

    // A failing setupCommand fails the call and leaves no container behind.
    let mut bad = env.spec();
    bad.docker.setup_command = Some("echo boom >&2; exit 7".into());
    let err = env
        .manager
        .context(&bad, "main", "agent:main:m2", &env.agent_ws())
        .await
        .unwrap_err();
    match &err {
        SandboxError::SetupFailed {
            exit_code, output, ..
        } => {
            assert_eq!(*exit_code, Some(7));
            assert!(output.contains("boom"));
        }
        other => panic!("{other}"),
    }
    let left: Vec<String> = env
        .engine
        .list_sandbox_containers(None)
        .await
        .unwrap()
        .into_iter()
        .filter(|n| n.starts_with(&env.prefix))
        .collect();
    assert!(left.is_empty(), "half-made container left: {left:?}");
}

#[tokio::test]
async fn missing_image_and_unreachable_daemon_fail_clearly() {
    let err = Engine::connect_to(Some("unix:///nonexistent/docker.sock"))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("cannot reach Docker at unix:///nonexistent/docker.sock"),
        "{err}"
    );
    assert!(err.contains("agents.defaults.sandbox.mode"), "{err}");

    let Some(engine) = docker_gate(
        "missing_image_and_unreachable_daemon_fail_clearly",
        TEST_IMAGE,
    )
    .await
    else {
        return;
    };
    let env = TestEnv::new(engine, "img");
    let mut spec = env.spec();
    spec.docker.image = "openclaw-no-such-image:never".into();
    let err = env
        .manager
        .context(&spec, "main", "agent:main:i", &env.agent_ws())
        .await
        .unwrap_err();
    assert!(matches!(err, SandboxError::ImageMissing { .. }), "{err}");
    if !env.engine.image_exists(DEFAULT_IMAGE).await.unwrap() {
        let err = env
            .engine
            .ensure_image(DEFAULT_IMAGE)
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("scripts/sandbox-setup.sh"), "{err}");
    }
}

#[tokio::test]
async fn real_image_none_workspace_is_writable_by_image_user() {
    let Some(engine) = docker_gate(
        "real_image_none_workspace_is_writable_by_image_user",
        DEFAULT_IMAGE,
    )
    .await
    else {
        return;
    };
    let env = TestEnv::new(engine, "real");
    let mut spec = env.spec();
    spec.docker.image = DEFAULT_IMAGE.into();
    spec.docker.user = None;
    std::fs::write(env.agent_ws().join("AGENTS.md"), "rules\n").unwrap();
    let ctx = env.ctx(&spec, "agent:main:real").await;
    let out = sh(&ctx, "id -un; cat AGENTS.md; echo hi > /workspace/n.txt && cat n.txt; command -v python3 rg git jq >/dev/null && echo tools").await;
    assert_eq!(out.stdout, "sandbox\nrules\nhi\ntools\n", "{out:?}");
    ctx.write_file("from-bridge.txt", b"b\n").await.unwrap();
    assert_eq!(
        sh(&ctx, "echo more >> from-bridge.txt && cat from-bridge.txt")
            .await
            .stdout,
        "b\nmore\n"
    );
}
