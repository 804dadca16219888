//! Warm shells (`shell_pool`): a foreground command runs on a long-lived shell in the container
//! and behaves like a dedicated exec (env, cwd, exit code, separate streams, kill), a command
//! that leaves a background process retires its shell, and a dying container is an error that
//! the next ensure repairs.

use std::time::Duration;

use openclaw_sandbox::spec::DEFAULT_IMAGE;
use openclaw_sandbox::stream::ExecStream;
use openclaw_sandbox::{ExecOptions, SandboxContext, SandboxError};
use tokio::io::AsyncWriteExt;

use super::support::*;

struct Ran {
    stdout: String,
    stderr: String,
    code: Option<i64>,
    killed: bool,
}

async fn collect(s: ExecStream) -> Result<Ran, SandboxError> {
    let ExecStream {
        mut output,
        exit,
        kill,
        ..
    } = s;
    let _keep = kill;
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    let read = async {
        while let Some(c) = output.recv().await {
            if c.stderr {
                stderr.extend(c.data);
            } else {
                stdout.extend(c.data);
            }
        }
    };
    let (_, end) = tokio::join!(read, exit);
    let end = end?;
    Ok(Ran {
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
        code: end.code,
        killed: end.killed,
    })
}

async fn run(ctx: &SandboxContext, cmd: &str, opts: &ExecOptions) -> Ran {
    collect(ctx.stream_exec(cmd, opts).await.unwrap())
        .await
        .unwrap()
}

/// The pid of the process that started the command: the warm shell, or 0 for a dedicated exec
/// (its parent is outside the container's pid namespace).
async fn parent(ctx: &SandboxContext) -> String {
    run(ctx, "echo $PPID", &ExecOptions::default())
        .await
        .stdout
        .trim()
        .to_string()
}

#[tokio::test]
async fn warm_shell_behaves_like_an_exec_and_is_reused() {
    let Some(engine) = docker_gate("warm_shell_behaves_like_an_exec", TEST_IMAGE).await else {
        return;
    };
    let env = TestEnv::new(engine, "warm");
    let ctx = env.ctx(&env.spec(), "agent:main:warm").await;

    let first = parent(&ctx).await;
    assert_ne!(first, "0", "a foreground command runs on a warm shell");
    assert_eq!(parent(&ctx).await, first, "the shell is reused");

    let mut opts = ExecOptions::default();
    opts.env
        .insert("GREETING".into(), "it's \"quoted\"\nand two lines".into());
    opts.cwd = Some("sub".into());
    run(&ctx, "mkdir -p sub", &ExecOptions::default()).await;
    let r = run(
        &ctx,
        "printf '%s|' \"$GREETING\" \"$HOME\" \"$(pwd)\"; echo oops >&2; printf 'no newline'; exit 3",
        &opts,
    )
    .await;
    assert_eq!(
        r.stdout,
        "it's \"quoted\"\nand two lines|/workspace|/workspace/sub|no newline"
    );
    assert_eq!(r.stderr, "oops\n");
    assert_eq!(r.code, Some(3));
    assert!(!r.killed);

    // A multi-line script with quotes, and output large enough to span many frames.
    let r = run(
        &ctx,
        "i=0\nwhile [ $i -lt 20000 ]; do echo \"line $i 'q'\"; i=$((i+1)); done",
        &ExecOptions::default(),
    )
    .await;
    assert_eq!(r.stdout.lines().count(), 20000);
    assert_eq!(r.stdout.lines().last(), Some("line 19999 'q'"));

    // A missing working directory is a command failure, not a broken shell.
    let opts = ExecOptions {
        cwd: Some("/workspace/missing".into()),
        ..Default::default()
    };
    let r = run(&ctx, "echo never", &opts).await;
    assert_eq!(r.code, Some(2));
    assert!(r.stderr.contains("/workspace/missing"), "{}", r.stderr);
    assert_eq!(parent(&ctx).await, first);

    // The gateway's environment never leaks (cargo sets CARGO_PKG_NAME for this test process),
    // and stdin is closed.
    assert!(std::env::var("CARGO_PKG_NAME").is_ok());
    let r = run(
        &ctx,
        "cat; echo \"[$CARGO_PKG_NAME]\"",
        &ExecOptions::default(),
    )
    .await;
    assert_eq!(r.stdout, "[]\n");
    let s = ctx
        .stream_exec("sleep 1", &ExecOptions::default())
        .await
        .unwrap();
    let mut stdin = s.stdin;
    let err = stdin.write_all(b"x").await.unwrap_err();
    assert!(err.to_string().contains("background: true"), "{err}");
}

#[tokio::test]
async fn interactive_commands_get_a_dedicated_exec_with_stdin() {
    let Some(engine) = docker_gate("interactive_commands_get_stdin", TEST_IMAGE).await else {
        return;
    };
    let env = TestEnv::new(engine, "interactive");
    let ctx = env.ctx(&env.spec(), "agent:main:i").await;
    let opts = ExecOptions {
        interactive: true,
        ..Default::default()
    };
    assert_eq!(run(&ctx, "echo $PPID", &opts).await.stdout.trim(), "0");
    let mut s = ctx.stream_exec("cat", &opts).await.unwrap();
    s.stdin.write_all(b"typed\n").await.unwrap();
    s.stdin.shutdown().await.unwrap();
    let r = collect(s).await.unwrap();
    assert_eq!(r.stdout, "typed\n");
}

#[tokio::test]
async fn kill_stops_the_command_and_keeps_the_shell() {
    let Some(engine) = docker_gate("warm_kill", TEST_IMAGE).await else {
        return;
    };
    let env = TestEnv::new(engine, "warmkill");
    let ctx = env.ctx(&env.spec(), "agent:main:k").await;
    let first = parent(&ctx).await;
    let s = ctx
        .stream_exec("echo begun; sleep 30; echo never", &ExecOptions::default())
        .await
        .unwrap();
    let kill = s.kill.clone();
    let killer = async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        kill.cancel();
    };
    let (r, ()) = tokio::join!(collect(s), killer);
    let r = r.unwrap();
    assert!(r.killed);
    assert_eq!(r.stdout, "begun\n");
    assert_ne!(r.code, Some(0));
    assert_eq!(
        parent(&ctx).await,
        first,
        "the shell survives a killed command"
    );
}

#[tokio::test]
async fn a_lingering_background_process_retires_the_shell() {
    let Some(engine) = docker_gate("warm_linger", TEST_IMAGE).await else {
        return;
    };
    let env = TestEnv::new(engine, "linger");
    let ctx = env.ctx(&env.spec(), "agent:main:l").await;
    let first = parent(&ctx).await;
    let r = run(
        &ctx,
        "(sleep 1; echo late) & echo now",
        &ExecOptions::default(),
    )
    .await;
    assert_eq!(r.stdout, "now\n");
    let next = parent(&ctx).await;
    assert_ne!(
        next, first,
        "a shell whose command left a process behind is not reused"
    );
    tokio::time::sleep(Duration::from_millis(1500)).await;
    // The late output went nowhere near the next command.
    let r = run(&ctx, "echo clean", &ExecOptions::default()).await;
    assert_eq!(r.stdout, "clean\n");
}

#[tokio::test]
async fn container_removed_under_a_warm_shell_errors_then_recreates() {
    let Some(engine) = docker_gate("warm_container_removed", TEST_IMAGE).await else {
        return;
    };
    let env = TestEnv::new(engine, "warmgone");
    let spec = env.spec();
    let key = "agent:main:gone";
    let ctx = env.ctx(&spec, key).await;
    parent(&ctx).await;
    let s = ctx
        .stream_exec("echo started; sleep 30", &ExecOptions::default())
        .await
        .unwrap();
    let remove = async {
        tokio::time::sleep(Duration::from_millis(700)).await;
        env.engine.remove(ctx.container_name()).await.unwrap();
    };
    let (r, ()) = tokio::join!(collect(s), remove);
    match r {
        Err(SandboxError::ContainerGone { .. }) => {}
        Err(other) => panic!("expected ContainerGone, got {other}"),
        Ok(r) => panic!("expected an error, got exit {:?}", r.code),
    }
    let next = env.ctx(&spec, key).await;
    assert!(next.handle().created, "next ensure recreates");
    assert_eq!(
        run(&next, "echo back", &ExecOptions::default())
            .await
            .stdout,
        "back\n"
    );
}

#[tokio::test]
async fn warm_shell_on_the_real_image() {
    let Some(engine) = docker_gate("warm_shell_on_the_real_image", DEFAULT_IMAGE).await else {
        return;
    };
    let env = TestEnv::new(engine, "warmreal");
    let mut spec = env.spec();
    spec.docker.image = DEFAULT_IMAGE.into();
    spec.docker.user = None;
    let ctx = env.ctx(&spec, "agent:main:wr").await;
    let first = parent(&ctx).await;
    assert_ne!(first, "0");
    let r = run(&ctx, "id -un; echo \"$HOME\"", &ExecOptions::default()).await;
    assert_eq!(r.stdout, "sandbox\n/workspace\n");
    assert_eq!(parent(&ctx).await, first, "reused on dash + GNU grep too");
    run(&ctx, "sleep 2 &", &ExecOptions::default()).await;
    assert_ne!(
        parent(&ctx).await,
        first,
        "a lingering process retires the shell"
    );
}
