//! Running commands in the sandbox container: a pure `build_exec` that turns the spec and the
//! command into an `ExecRequest`, then `run_exec` / `spawn_exec` that drive it through the Engine
//! exec API with a deadline, a cancellation token and an output cap.
//!
//! Commands run as `sh -lc <script>` with `HOME=<workdir>` and `OPENCLAW_SHELL=exec`; host env is
//! never inherited. PATH is never passed as `PATH=` (a login shell's `/etc/profile` resets it):
//! additions travel in `OPENCLAW_PREPEND_PATH` and the script exports them after the profile ran.
//!
//! Killing on timeout/cancel: the Engine API has no "kill exec". Each exec carries a unique
//! `OPENCLAW_EXEC_ID` env marker that its children inherit; to kill, we exec a small `sh` script
//! in the container that SIGKILLs every process whose `/proc/<pid>/environ` holds the marker. This
//! needs only `sh`, `tr` and `grep` (present in busybox and Debian). A process that scrubs its
//! environment escapes the sweep; the container's pids limit still bounds it.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bollard::container::LogOutput;
use bollard::exec::{CreateExecOptions, StartExecOptions, StartExecResults};
use futures::StreamExt;
use serde::Serialize;
use tokio::io::AsyncWriteExt;
use tokio_util::sync::CancellationToken;

use crate::engine::{CALL_TIMEOUT, Engine, deadline};
use crate::error::SandboxError;
use crate::mounts::MountTable;
use crate::spec::SandboxSpec;

/// Env var carrying the per-exec kill marker.
pub const EXEC_ID_ENV: &str = "OPENCLAW_EXEC_ID";
/// After a kill, how long we keep draining output: grandchildren can hold the pipes open.
const IO_DRAIN_TIMEOUT: Duration = Duration::from_secs(2);

/// A fully built exec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecRequest {
    pub argv: Vec<String>,
    /// `K=V` entries, sorted by key.
    pub env: Vec<String>,
    pub workdir: String,
    /// The kill marker (also in `env`).
    pub exec_id: String,
}

/// The result of one finished (or killed) exec.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecOutcome {
    /// `None` when killed on timeout/cancel.
    pub exit_code: Option<i64>,
    pub stdout: String,
    pub stderr: String,
    /// stdout and stderr interleaved in arrival order.
    pub aggregated: String,
    pub truncated: bool,
    pub timed_out: bool,
    pub cancelled: bool,
    pub duration_ms: u64,
}

fn next_exec_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{:x}-{:x}-{n:x}", std::process::id(), nanos)
}

/// Build the exec request. `cwd` may be a host path under a mount, a container path, or
/// workspace-relative; `path_prepend` is `tools.exec.pathPrepend`.
pub fn build_exec(
    spec: &SandboxSpec,
    table: &MountTable,
    cwd: Option<&str>,
    command: &str,
    env: &BTreeMap<String, String>,
    path_prepend: &[String],
) -> Result<ExecRequest, SandboxError> {
    build_exec_with_id(spec, table, cwd, command, env, path_prepend, next_exec_id())
}

fn build_exec_with_id(
    spec: &SandboxSpec,
    table: &MountTable,
    cwd: Option<&str>,
    command: &str,
    env: &BTreeMap<String, String>,
    path_prepend: &[String],
    exec_id: String,
) -> Result<ExecRequest, SandboxError> {
    let workdir = table.container_cwd(cwd)?;
    let mut merged: BTreeMap<String, String> = BTreeMap::new();
    merged.insert("HOME".into(), spec.docker.workdir.clone());
    let mut path_value = None;
    for (k, v) in spec.docker.env.iter().chain(env.iter()) {
        if k.contains('\0') || v.contains('\0') || k.contains('=') || k.is_empty() {
            return Err(SandboxError::config(
                format!("exec env {k:?}"),
                "invalid name or NUL byte in value",
            ));
        }
        if k == "PATH" {
            path_value = Some(v.clone());
        } else {
            merged.insert(k.clone(), v.clone());
        }
    }
    merged.insert("OPENCLAW_SHELL".into(), "exec".into());
    merged.insert(EXEC_ID_ENV.into(), exec_id.clone());
    let mut prepend: Vec<String> = path_prepend
        .iter()
        .filter(|p| !p.is_empty())
        .cloned()
        .collect();
    if let Some(p) = path_value.filter(|p| !p.is_empty()) {
        prepend.push(p);
    }
    let script = if prepend.is_empty() {
        command.to_string()
    } else {
        merged.insert("OPENCLAW_PREPEND_PATH".into(), prepend.join(":"));
        format!(
            "export PATH=\"${{OPENCLAW_PREPEND_PATH}}:$PATH\"; unset OPENCLAW_PREPEND_PATH; {command}"
        )
    };
    Ok(ExecRequest {
        argv: vec!["sh".into(), "-lc".into(), script],
        env: merged
            .into_iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect(),
        workdir,
        exec_id,
    })
}

/// Capped output accumulator shared with background readers.
#[derive(Debug, Default)]
struct OutputBuf {
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    aggregated: Vec<u8>,
    truncated: bool,
    cap: usize,
}

impl OutputBuf {
    fn push(&mut self, bytes: &[u8], is_err: bool) {
        let cap = self.cap;
        let take = |dst: &mut Vec<u8>, truncated: &mut bool| {
            let room = cap.saturating_sub(dst.len());
            if bytes.len() > room {
                *truncated = true;
            }
            dst.extend_from_slice(&bytes[..bytes.len().min(room)]);
        };
        let mut t = self.truncated;
        take(
            if is_err {
                &mut self.stderr
            } else {
                &mut self.stdout
            },
            &mut t,
        );
        take(&mut self.aggregated, &mut t);
        self.truncated = t;
    }
}

enum Stop {
    Finished,
    TimedOut,
    Cancelled,
}

/// Create and start `req` in `container` with stdout/stderr (and stdin when asked) attached.
pub(crate) async fn start_attached(
    engine: &Engine,
    container: &str,
    req: &ExecRequest,
    attach_stdin: bool,
) -> Result<(String, StartExecResults), SandboxError> {
    let docker = engine.docker();
    let opts = CreateExecOptions {
        attach_stdin: Some(attach_stdin),
        attach_stdout: Some(true),
        attach_stderr: Some(true),
        env: Some(req.env.clone()),
        cmd: Some(req.argv.clone()),
        working_dir: Some(req.workdir.clone()),
        ..Default::default()
    };
    let created = deadline(
        "exec create",
        CALL_TIMEOUT,
        docker.create_exec(container, opts),
    )
    .await
    .map_err(|e| gone_or(container, e))?;
    let started = deadline(
        "exec start",
        CALL_TIMEOUT,
        docker.start_exec(&created.id, None::<StartExecOptions>),
    )
    .await?;
    Ok((created.id, started))
}

/// Drive one exec to completion, writing output into `buf`.
async fn drive(
    engine: &Engine,
    container: &str,
    req: &ExecRequest,
    timeout: Duration,
    cancel: &CancellationToken,
    buf: &Mutex<OutputBuf>,
    stdin: Option<Vec<u8>>,
) -> Result<(Option<i64>, bool, bool), SandboxError> {
    let (exec_id, started) = start_attached(engine, container, req, stdin.is_some()).await?;
    let StartExecResults::Attached {
        mut output,
        mut input,
    } = started
    else {
        return Err(SandboxError::docker(
            "exec start",
            "engine returned a detached exec",
        ));
    };
    if let Some(bytes) = stdin {
        let write = async {
            input.write_all(&bytes).await?;
            input.shutdown().await
        };
        tokio::time::timeout(CALL_TIMEOUT, write)
            .await
            .map_err(|_| SandboxError::Timeout {
                op: "exec stdin",
                after: CALL_TIMEOUT,
            })?
            .map_err(|e| SandboxError::docker("exec stdin", e))?;
    }
    let sleep = tokio::time::sleep(timeout);
    tokio::pin!(sleep);
    let stop = loop {
        tokio::select! {
            item = output.next() => match item {
                Some(Ok(LogOutput::StdOut { message } | LogOutput::Console { message })) => lock(buf).push(&message, false),
                Some(Ok(LogOutput::StdErr { message })) => lock(buf).push(&message, true),
                Some(Ok(LogOutput::StdIn { .. })) => {}
                Some(Err(e)) => {
                    tracing::debug!(error = %e, "exec stream error");
                    break Stop::Finished;
                }
                None => break Stop::Finished,
            },
            _ = &mut sleep => break Stop::TimedOut,
            _ = cancel.cancelled() => break Stop::Cancelled,
        }
    };
    match stop {
        Stop::Finished => match exit_code(engine, &exec_id).await {
            Ok(Some(0)) => Ok((Some(0), false, false)),
            // Non-zero or unknown: distinguish "the command failed" from "the container died".
            other => {
                if matches!(other, Ok(Some(137)) | Ok(None) | Err(_)) {
                    // SIGKILL or no code: the container may be dying; give the engine a moment
                    // to report it before calling this an ordinary command failure.
                    for _ in 0..5 {
                        ensure_running(engine, container).await?;
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                }
                ensure_running(engine, container).await?;
                other.map(|code| (code, false, false))
            }
        },
        Stop::TimedOut | Stop::Cancelled => {
            kill_marked(engine, container, &req.exec_id).await;
            // Bounded drain: keep what the dying process still prints.
            let _ = tokio::time::timeout(IO_DRAIN_TIMEOUT, async {
                while let Some(Ok(item)) = output.next().await {
                    match item {
                        LogOutput::StdErr { message } => lock(buf).push(&message, true),
                        LogOutput::StdOut { message } | LogOutput::Console { message } => {
                            lock(buf).push(&message, false)
                        }
                        LogOutput::StdIn { .. } => {}
                    }
                }
            })
            .await;
            Ok((
                None,
                matches!(stop, Stop::TimedOut),
                matches!(stop, Stop::Cancelled),
            ))
        }
    }
}

pub(crate) fn gone_or(container: &str, e: SandboxError) -> SandboxError {
    match &e {
        SandboxError::Docker { detail, .. }
            if detail.contains("is not running") || detail.contains("No such container") =>
        {
            SandboxError::ContainerGone {
                container: container.to_string(),
                detail: detail.clone(),
            }
        }
        _ => e,
    }
}

fn lock(buf: &Mutex<OutputBuf>) -> std::sync::MutexGuard<'_, OutputBuf> {
    buf.lock().unwrap_or_else(|p| p.into_inner())
}

pub(crate) async fn exit_code(engine: &Engine, exec_id: &str) -> Result<Option<i64>, SandboxError> {
    // The stream can close a moment before the engine records the exit code.
    for _ in 0..50 {
        let info = deadline(
            "exec inspect",
            CALL_TIMEOUT,
            engine.docker().inspect_exec(exec_id),
        )
        .await?;
        if info.running != Some(true) {
            return Ok(info.exit_code);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(None)
}

pub(crate) async fn ensure_running(engine: &Engine, container: &str) -> Result<(), SandboxError> {
    match engine.inspect(container).await? {
        Some(info) if info.running => Ok(()),
        Some(info) => Err(SandboxError::ContainerGone {
            container: container.to_string(),
            detail: if info.oom_killed {
                "killed by the memory limit".into()
            } else {
                "stopped".into()
            },
        }),
        None => Err(SandboxError::ContainerGone {
            container: container.to_string(),
            detail: "removed".into(),
        }),
    }
}

/// SIGKILL every process in the container carrying `OPENCLAW_EXEC_ID=<exec_id>`.
pub(crate) async fn kill_marked(engine: &Engine, container: &str, exec_id: &str) {
    // Collect first, then SIGSTOP everything before SIGKILL: killing one by one would let a
    // parent shell run its next command between two kills.
    let script = format!(
        "m=\"{EXEC_ID_ENV}=$1\"; p=''; for d in /proc/[0-9]*; do [ \"$d\" = \"/proc/$$\" ] && continue; \
         if tr '\\000' '\\n' < \"$d/environ\" 2>/dev/null | grep -qx \"$m\"; then p=\"$p ${{d#/proc/}}\"; fi; done; \
         [ -n \"$p\" ] && kill -STOP $p 2>/dev/null; [ -n \"$p\" ] && kill -9 $p 2>/dev/null; true"
    );
    let req = ExecRequest {
        argv: vec![
            "sh".into(),
            "-c".into(),
            script,
            "openclaw-kill".into(),
            exec_id.into(),
        ],
        env: Vec::new(),
        workdir: "/".into(),
        exec_id: String::new(),
    };
    let buf = Mutex::new(OutputBuf {
        cap: 4096,
        ..Default::default()
    });
    let never = CancellationToken::new();
    let res = Box::pin(drive(
        engine,
        container,
        &req,
        Duration::from_secs(10),
        &never,
        &buf,
        None,
    ))
    .await;
    if let Err(e) = res {
        tracing::warn!(container, error = %e, "could not kill timed-out exec");
    }
}

fn outcome(
    buf: &Mutex<OutputBuf>,
    res: (Option<i64>, bool, bool),
    started: Instant,
) -> ExecOutcome {
    let b = lock(buf);
    ExecOutcome {
        exit_code: res.0,
        stdout: String::from_utf8_lossy(&b.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&b.stderr).into_owned(),
        aggregated: String::from_utf8_lossy(&b.aggregated).into_owned(),
        truncated: b.truncated,
        timed_out: res.1,
        cancelled: res.2,
        duration_ms: started.elapsed().as_millis() as u64,
    }
}

/// Run `req` in `container`, waiting at most `timeout`, keeping at most `max_output_bytes` per
/// stream. On timeout or cancellation the process is killed and the outcome says so.
pub async fn run_exec(
    engine: &Engine,
    container: &str,
    req: &ExecRequest,
    timeout: Duration,
    cancel: &CancellationToken,
    max_output_bytes: usize,
) -> Result<ExecOutcome, SandboxError> {
    let started = Instant::now();
    let buf = Mutex::new(OutputBuf {
        cap: max_output_bytes,
        ..Default::default()
    });
    let res = drive(engine, container, req, timeout, cancel, &buf, None).await?;
    Ok(outcome(&buf, res, started))
}

/// Run an argv with optional stdin (used by the fs bridge for container-only paths).
pub(crate) async fn run_argv(
    engine: &Engine,
    container: &str,
    argv: Vec<String>,
    stdin: Option<Vec<u8>>,
    max_output_bytes: usize,
) -> Result<ExecOutcome, SandboxError> {
    let started = Instant::now();
    let req = ExecRequest {
        argv,
        env: Vec::new(),
        workdir: "/".into(),
        exec_id: String::new(),
    };
    let buf = Mutex::new(OutputBuf {
        cap: max_output_bytes,
        ..Default::default()
    });
    let never = CancellationToken::new();
    let res = drive(engine, container, &req, CALL_TIMEOUT, &never, &buf, stdin).await?;
    Ok(outcome(&buf, res, started))
}

/// A running background exec (for `exec` background/yield and `process poll/log/kill`).
/// Dropping the handle aborts the reader task; the process itself is killed only by `kill`.
#[derive(Debug)]
pub struct BackgroundExec {
    buf: Arc<Mutex<OutputBuf>>,
    cancel: CancellationToken,
    done: tokio::sync::watch::Receiver<Option<Result<ExecOutcome, String>>>,
    task: tokio::task::JoinHandle<()>,
}

/// A poll snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecPoll {
    /// Aggregated output after `offset`.
    pub output: String,
    /// Offset to pass to the next poll.
    pub next_offset: usize,
    pub finished: bool,
    pub exit_code: Option<i64>,
    pub truncated: bool,
}

/// Start `req` in the background with the same deadline/cap rules as `run_exec`.
pub fn spawn_exec(
    engine: Engine,
    container: String,
    req: ExecRequest,
    timeout: Duration,
    max_output_bytes: usize,
) -> BackgroundExec {
    let buf = Arc::new(Mutex::new(OutputBuf {
        cap: max_output_bytes,
        ..Default::default()
    }));
    let cancel = CancellationToken::new();
    let (tx, rx) = tokio::sync::watch::channel(None);
    let (b, c) = (buf.clone(), cancel.clone());
    let task = tokio::spawn(async move {
        let started = Instant::now();
        let res = drive(&engine, &container, &req, timeout, &c, &b, None).await;
        let res = res
            .map(|r| outcome(&b, r, started))
            .map_err(|e| e.to_string());
        let _ = tx.send(Some(res));
    });
    BackgroundExec {
        buf,
        cancel,
        done: rx,
        task,
    }
}

impl BackgroundExec {
    /// New aggregated output since `offset` and the current status.
    pub fn poll(&self, offset: usize) -> ExecPoll {
        let b = lock(&self.buf);
        let start = offset.min(b.aggregated.len());
        let done = self.done.borrow();
        let exit_code = match &*done {
            Some(Ok(o)) => o.exit_code,
            _ => None,
        };
        ExecPoll {
            output: String::from_utf8_lossy(&b.aggregated[start..]).into_owned(),
            next_offset: b.aggregated.len(),
            finished: done.is_some(),
            exit_code,
            truncated: b.truncated,
        }
    }

    /// Kill the process (same sweep as a timeout) and wait for the outcome.
    pub async fn kill(&mut self) -> Result<ExecOutcome, SandboxError> {
        self.cancel.cancel();
        self.wait().await
    }

    /// Wait for completion.
    pub async fn wait(&mut self) -> Result<ExecOutcome, SandboxError> {
        let r = self
            .done
            .wait_for(|v| v.is_some())
            .await
            .map_err(|_| SandboxError::Cancelled)?
            .clone();
        match r {
            Some(Ok(o)) => Ok(o),
            Some(Err(detail)) => Err(SandboxError::Docker { op: "exec", detail }),
            None => Err(SandboxError::Cancelled),
        }
    }
}

impl Drop for BackgroundExec {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::posture::WorkspaceMounts;
    use crate::spec::WorkspaceAccess;
    use pretty_assertions::assert_eq;
    use std::path::Path;

    fn setup() -> (SandboxSpec, MountTable) {
        let spec = SandboxSpec::defaults(Path::new("/s"));
        let mounts =
            WorkspaceMounts::for_access(WorkspaceAccess::None, "/s/sbx".into(), "/ws".into());
        let table = MountTable::new(&spec, &mounts).unwrap();
        (spec, table)
    }

    #[test]
    fn builds_login_shell_exec() {
        let (spec, table) = setup();
        let env = BTreeMap::from([("FOO".to_string(), "bar".to_string())]);
        let req = build_exec_with_id(
            &spec,
            &table,
            Some("/s/sbx/src"),
            "ls -la",
            &env,
            &[],
            "id1".into(),
        )
        .unwrap();
        assert_eq!(
            req,
            ExecRequest {
                argv: vec!["sh".into(), "-lc".into(), "ls -la".into()],
                env: vec![
                    "FOO=bar".into(),
                    "HOME=/workspace".into(),
                    "LANG=C.UTF-8".into(),
                    "OPENCLAW_EXEC_ID=id1".into(),
                    "OPENCLAW_SHELL=exec".into(),
                ],
                workdir: "/workspace/src".into(),
                exec_id: "id1".into(),
            }
        );
    }

    #[test]
    fn path_travels_in_prepend_var() {
        let (mut spec, table) = setup();
        spec.docker.env.insert("PATH".into(), "/custom/bin".into());
        let req = build_exec_with_id(
            &spec,
            &table,
            None,
            "tool",
            &BTreeMap::new(),
            &["/opt/x".into()],
            "i".into(),
        )
        .unwrap();
        assert!(
            req.env
                .contains(&"OPENCLAW_PREPEND_PATH=/opt/x:/custom/bin".to_string())
        );
        assert!(!req.env.iter().any(|e| e.starts_with("PATH=")));
        assert_eq!(
            req.argv[2],
            "export PATH=\"${OPENCLAW_PREPEND_PATH}:$PATH\"; unset OPENCLAW_PREPEND_PATH; tool"
        );
        assert_eq!(req.workdir, "/workspace");
    }

    #[test]
    fn refuses_cwd_outside_mounts_and_nul_env() {
        let (spec, table) = setup();
        let err =
            build_exec(&spec, &table, Some("/home/me"), "ls", &BTreeMap::new(), &[]).unwrap_err();
        assert!(
            err.to_string().contains("Path escapes sandbox root"),
            "{err}"
        );
        let env = BTreeMap::from([("A".to_string(), "x\0y".to_string())]);
        assert!(build_exec(&spec, &table, None, "ls", &env, &[]).is_err());
    }

    #[test]
    fn output_cap() {
        let mut b = OutputBuf {
            cap: 4,
            ..Default::default()
        };
        b.push(b"abc", false);
        b.push(b"de", true);
        assert_eq!(
            (
                b.stdout.as_slice(),
                b.stderr.as_slice(),
                b.aggregated.as_slice()
            ),
            (&b"abc"[..], &b"de"[..], &b"abcd"[..])
        );
        assert!(b.truncated);
    }
}
