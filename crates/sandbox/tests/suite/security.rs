//! Try to break the posture from inside a real container. Each test fails if its protection is
//! removed from `posture`/`validate`/`fs_bridge`.

use openclaw_sandbox::SandboxError;
use openclaw_sandbox::spec::{MemorySize, SandboxScope, WorkspaceAccess};

use super::support::{TEST_IMAGE, TestEnv, docker_gate, sh};

#[tokio::test]
async fn posture_holds_inside_the_container() {
    let Some(engine) = docker_gate("posture_holds_inside_the_container", TEST_IMAGE).await else {
        return;
    };
    let env = TestEnv::new(engine, "posture");
    let ctx = env.ctx(&env.spec(), "agent:main:sec").await;

    let route = sh(&ctx, "cat /proc/net/route").await;
    assert_eq!(route.exit_code, Some(0), "{route:?}");
    assert_eq!(
        route
            .stdout
            .lines()
            .skip(1)
            .filter(|l| !l.trim().is_empty())
            .count(),
        0,
        "route table: {}",
        route.stdout
    );
    let ifaces = sh(&ctx, "cat /proc/net/dev").await;
    assert!(!ifaces.stdout.contains("eth0"), "{}", ifaces.stdout);

    let ro = sh(&ctx, "echo x > /etc/x").await;
    assert_ne!(ro.exit_code, Some(0), "root fs must be read-only: {ro:?}");
    assert!(ro.stderr.to_lowercase().contains("read-only"), "{ro:?}");

    let status = sh(&ctx, "cat /proc/self/status").await.stdout;
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .map(|l| l[name.len()..].trim().to_string())
            .unwrap()
    };
    assert_eq!(field("CapEff:"), "0000000000000000");
    assert_eq!(field("CapBnd:"), "0000000000000000");
    assert_eq!(field("NoNewPrivs:"), "1");

    let id = sh(&ctx, "id -u; id -g").await;
    assert_eq!(id.stdout, "1234\n1234\n");

    let sock = sh(&ctx, "ls /var/run/docker.sock /run/docker.sock 2>&1; test ! -e /var/run/docker.sock && test ! -e /run/docker.sock").await;
    assert_eq!(sock.exit_code, Some(0), "docker.sock visible: {sock:?}");

    let tmp = sh(
        &ctx,
        "echo ok > /tmp/t && cat /tmp/t && echo w > /workspace/w && cat /workspace/w",
    )
    .await;
    assert_eq!(
        tmp.stdout, "ok\nw\n",
        "tmpfs and the `none` workspace stay writable: {tmp:?}"
    );
}

#[tokio::test]
async fn docker_sock_bind_is_refused() {
    let Some(engine) = docker_gate("docker_sock_bind_is_refused", TEST_IMAGE).await else {
        return;
    };
    let env = TestEnv::new(engine, "sock");
    let mut spec = env.spec();
    spec.docker.binds = vec!["/var/run/docker.sock:/var/run/docker.sock".into()];
    spec.docker.dangerously_allow_external_bind_sources = true;
    let err = env
        .manager
        .context(&spec, "main", "agent:main:s", &env.agent_ws())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("Docker socket"), "{err}");
    assert!(
        env.engine
            .list_sandbox_containers(None)
            .await
            .unwrap()
            .iter()
            .all(|n| !n.starts_with(&env.prefix))
    );
}

#[tokio::test]
async fn fork_bomb_is_stopped_by_pids_limit() {
    let Some(engine) = docker_gate("fork_bomb_is_stopped_by_pids_limit", TEST_IMAGE).await else {
        return;
    };
    let env = TestEnv::new(engine, "pids");
    let mut spec = env.spec();
    spec.docker.pids_limit = Some(48);
    let ctx = env.ctx(&spec, "agent:main:pids").await;
    let out = sh(
        &ctx,
        "i=0; while [ $i -lt 120 ]; do sleep 3 >/dev/null 2>&1 & i=$((i+1)); done; echo spawned",
    )
    .await;
    let text = out.aggregated.to_lowercase();
    assert!(
        text.contains("fork") || out.exit_code != Some(0),
        "120 processes spawned despite pidsLimit 48: {out:?}"
    );
    // The container survives and recovers once the short-lived sleepers are gone (while the
    // pid budget is exhausted even `docker exec` cannot start a process).
    let opts = openclaw_sandbox::ExecOptions::default();
    let mut recovered = false;
    for _ in 0..40 {
        if let Ok(o) = ctx.exec("echo alive", &opts, &Default::default()).await
            && o.stdout == "alive\n"
        {
            recovered = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    assert!(recovered, "container did not recover after the fork bomb");
}

#[tokio::test]
async fn memory_bomb_is_killed_by_the_memory_limit() {
    let Some(engine) = docker_gate("memory_bomb_is_killed_by_the_memory_limit", TEST_IMAGE).await
    else {
        return;
    };
    let env = TestEnv::new(engine, "mem");
    let mut spec = env.spec();
    spec.docker.memory = Some(MemorySize::Text("32m".into()));
    spec.docker.memory_swap = Some(MemorySize::Text("32m".into()));
    let ctx = env.ctx(&spec, "agent:main:mem").await;
    let out = sh(
        &ctx,
        "x=$(head -c 100000000 /dev/zero | tr '\\000' a); echo survived ${#x}",
    )
    .await;
    assert!(
        !out.stdout.contains("survived"),
        "100 MB allocated under a 32 MB limit: {out:?}"
    );
    assert_ne!(out.exit_code, Some(0));
    assert_eq!(sh(&ctx, "echo alive").await.stdout, "alive\n");
}

#[tokio::test]
async fn fs_bridge_refuses_escapes_in_a_live_container() {
    let Some(engine) =
        docker_gate("fs_bridge_refuses_escapes_in_a_live_container", TEST_IMAGE).await
    else {
        return;
    };
    let env = TestEnv::new(engine, "fs");
    let ctx = env.ctx(&env.spec(), "agent:main:fs").await;
    // The model plants symlinks from inside the container.
    let plant = sh(&ctx, "ln -s /etc /workspace/etclink && ln -s / /workspace/rootlink && ln -s ../../../../ /workspace/up").await;
    assert_eq!(plant.exit_code, Some(0), "{plant:?}");
    for bad in [
        "../../etc/passwd",
        "etclink/passwd",
        "rootlink/etc/hostname",
        "up/etc/passwd",
        "/etc/passwd",
        "/workspace/../etc/passwd",
    ] {
        let err = ctx.read_file(bad).await.unwrap_err();
        assert!(
            matches!(err, SandboxError::PathEscape { .. }),
            "read {bad}: {err}"
        );
        let err = ctx.write_file(bad, b"pwned").await.unwrap_err();
        assert!(
            matches!(err, SandboxError::PathEscape { .. }),
            "write {bad}: {err}"
        );
    }
    ctx.write_file("dir/ok.txt", b"fine").await.unwrap();
    assert_eq!(sh(&ctx, "cat /workspace/dir/ok.txt").await.stdout, "fine");
    // Container-only tmpfs paths go through exec.
    ctx.write_file("/tmp/x/y.txt", b"in tmpfs").await.unwrap();
    assert_eq!(ctx.read_file("/tmp/x/y.txt").await.unwrap(), b"in tmpfs");
    assert_eq!(sh(&ctx, "cat /tmp/x/y.txt").await.stdout, "in tmpfs");
    // Files the bridge creates are usable by the container user.
    assert_eq!(
        sh(&ctx, "echo more >> /workspace/dir/ok.txt && echo ok")
            .await
            .stdout,
        "ok\n"
    );
}

#[tokio::test]
async fn ro_access_refuses_writes() {
    let Some(engine) = docker_gate("ro_access_refuses_writes", TEST_IMAGE).await else {
        return;
    };
    let env = TestEnv::new(engine, "ro");
    std::fs::write(env.agent_ws().join("AGENTS.md"), "agent rules").unwrap();
    std::fs::write(env.agent_ws().join("data.txt"), "live").unwrap();
    let mut spec = env.spec();
    spec.workspace_access = WorkspaceAccess::Ro;
    let ctx = env.ctx(&spec, "agent:main:ro").await;
    assert_eq!(ctx.read_file("/agent/data.txt").await.unwrap(), b"live");
    assert_eq!(
        ctx.read_file("AGENTS.md").await.unwrap(),
        b"agent rules",
        "seeded copy"
    );
    for p in ["new.txt", "/agent/data.txt"] {
        let err = ctx.write_file(p, b"x").await.unwrap_err();
        assert!(matches!(err, SandboxError::ReadOnly { .. }), "{p}: {err}");
        assert!(err.to_string().contains("workspaceAccess"), "{err}");
    }
    let touch = sh(&ctx, "touch /agent/x").await;
    assert_ne!(
        touch.exit_code,
        Some(0),
        "/agent must be mounted read-only: {touch:?}"
    );
    assert_eq!(
        std::fs::read_to_string(env.agent_ws().join("data.txt")).unwrap(),
        "live"
    );
}

#[tokio::test]
async fn session_scope_isolates_and_shared_scope_shares() {
    let Some(engine) =
        docker_gate("session_scope_isolates_and_shared_scope_shares", TEST_IMAGE).await
    else {
        return;
    };
    let env = TestEnv::new(engine, "scope");
    let spec = env.spec();
    let a = env.ctx(&spec, "agent:main:a").await;
    let b = env.ctx(&spec, "agent:main:b").await;
    assert_ne!(a.container_name(), b.container_name());
    assert_eq!(
        sh(&a, "echo secret-a > /workspace/a.txt && echo ok")
            .await
            .stdout,
        "ok\n"
    );
    let seen = sh(&b, "cat /workspace/a.txt").await;
    assert_ne!(
        seen.exit_code,
        Some(0),
        "session b saw session a's file: {seen:?}"
    );
    assert!(matches!(
        b.read_file("a.txt").await,
        Err(SandboxError::Io { .. })
    ));

    let mut shared = env.spec();
    shared.scope = SandboxScope::Shared;
    shared.workspace_root = env.dir.path().join("shared-root");
    let sa = env.ctx(&shared, "agent:main:a").await;
    let sb = env.ctx(&shared, "agent:main:b").await;
    assert_eq!(sa.container_name(), sb.container_name());
    assert_eq!(
        sh(&sa, "echo shared > /workspace/s.txt && echo ok")
            .await
            .stdout,
        "ok\n"
    );
    assert_eq!(sh(&sb, "cat /workspace/s.txt").await.stdout, "shared\n");
}
