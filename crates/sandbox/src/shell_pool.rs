//! Warm shells: a few long-lived `sh` processes per container that run foreground commands
//! without a new Engine exec each.
//!
//! Why: an Engine exec costs ~50 ms on its own (runc sets up a process inside the container's
//! namespaces each time), which is most of a sandboxed agent turn. A shell started once through
//! one exec forks the next command in a millisecond or two.
//!
//! Protocol (gateway → shell, one request at a time per shell): a single line
//! `oc '<id>' '<cwd>' <n> 'K=V'… 'sh' '-lc' '<script>'` (`<n>` variables to export), every
//! word single-quoted (newlines travel as `'"$nl"'`), which the shell `eval`s. `oc` runs the
//! command in a subshell with stdin from `/dev/null`, then writes `\x1eOCEND <id> <rc> <linger>\x1e` on stdout and `\x1eOCEND <id>\x1e`
//! on stderr. Everything a stream carried before its end marker is the command's output; `<id>` is
//! unique per command, so output cannot forge a marker. `<linger>` is 1 when a process carrying
//! the command's kill marker (`OPENCLAW_EXEC_ID=<id>`) is still alive (`cmd &`): its later output
//! would leak into the next command, so that shell is retired instead of reused. Only processes
//! that appeared during the command are checked (a `/proc` listing before and after, shell
//! builtins only), so the usual command costs no exec beyond its own `sh -lc`.
//!
//! Semantics match a dedicated exec (same env, user, cwd, `sh -lc`, kill sweep by marker, exit
//! code) except stdin, which is `/dev/null`: interactive commands (pty, `background`, explicit
//! `yieldMs`) keep using a dedicated exec with stdin attached.
//!
//! Liveness: each shell is a task that also watches its stream while idle; when the container
//! stops or is removed the stream ends and the shell marks itself dead. The manager also empties
//! the pool whenever it (re)starts the container.

use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Poll};
use std::time::Duration;

use bollard::container::LogOutput;
use bollard::exec::StartExecResults;
use futures::{Stream, StreamExt};
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use crate::engine::Engine;
use crate::error::SandboxError;
use crate::exec::{ExecRequest, ensure_running, kill_marked, start_attached};
use crate::stream::{ExecChunk, ExecStream, STREAM_CHANNEL_CAPACITY, StreamExit};

/// Idle shells kept per container; more run concurrently when tools run in parallel.
const MAX_IDLE: usize = 2;
/// An idle shell exits after this long without work (it holds a connection to the engine).
const IDLE_EXPIRY: Duration = Duration::from_secs(600);

/// The shell program. `oc` is the only entry point; the gateway never sends anything else.
const SERVER_SCRIPT: &str = r#"nl='
'
oc() {
  oc_id=$1; oc_dir=$2; oc_n=$3; shift 3
  oc_pids=' '
  for oc_p in /proc/[0-9]*; do oc_pids="$oc_pids${oc_p#/proc/} "; done
  (
    cd "$oc_dir" 2>/dev/null || { printf 'sh: cd: %s: No such file or directory\n' "$oc_dir" >&2; exit 2; }
    while [ "$oc_n" -gt 0 ]; do export "$1" || exit 126; shift; oc_n=$((oc_n - 1)); done
    exec "$@"
  ) </dev/null
  oc_rc=$?
  oc_l=0
  oc_new=
  for oc_p in /proc/[0-9]*; do
    case $oc_pids in *" ${oc_p#/proc/} "*) ;; *) oc_new="$oc_new $oc_p/environ" ;; esac
  done
  if [ -n "$oc_new" ] && grep -qsxz "OPENCLAW_EXEC_ID=$oc_id" $oc_new; then oc_l=1; fi
  printf '\036OCEND %s %s %s\036' "$oc_id" "$oc_rc" "$oc_l"
  printf '\036OCEND %s\036' "$oc_id" >&2
}
while IFS= read -r oc_line; do eval "$oc_line"; done
"#;

/// Single-quote `s` for the shell, with newlines as `"$nl"` so a request stays one line.
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        match c {
            '\'' => out.push_str("'\\''"),
            '\n' => out.push_str("'\"$nl\"'"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// The request line for `req`.
fn request_line(req: &ExecRequest) -> String {
    // Variables the shell can `export` cost no exec; any other name (`env` accepts more) goes
    // through `env`, like a dedicated exec would.
    let exportable = req.env.iter().all(|kv| {
        kv.split_once('=').is_some_and(|(k, _)| {
            let mut b = k.bytes();
            b.next()
                .is_some_and(|c| c == b'_' || c.is_ascii_alphabetic())
                && b.all(|c| c == b'_' || c.is_ascii_alphanumeric())
        })
    });
    let (n, via_env) = if exportable {
        (req.env.len(), None)
    } else {
        (0, Some("env".to_string()))
    };
    let mut line = format!("oc {} {} {n}", quote(&req.exec_id), quote(&req.workdir));
    for word in via_env.iter().chain(req.env.iter()).chain(req.argv.iter()) {
        line.push(' ');
        line.push_str(&quote(word));
    }
    line.push('\n');
    line
}

/// Splits one stream at its end marker `\x1eOCEND <id>…\x1e`, holding back only a tail that
/// could be the start of the marker.
#[derive(Debug)]
struct Framer {
    prefix: Vec<u8>,
    pending: Vec<u8>,
    /// What followed the id up to the closing `\x1e`, once seen.
    trailer: Option<String>,
}

impl Framer {
    fn new(id: &str) -> Framer {
        Framer {
            prefix: format!("\x1eOCEND {id}").into_bytes(),
            pending: Vec::new(),
            trailer: None,
        }
    }

    fn finished(&self) -> bool {
        self.trailer.is_some()
    }

    /// Feed bytes; returns the command output they release.
    fn push(&mut self, data: &[u8]) -> Vec<u8> {
        if self.finished() {
            return Vec::new();
        }
        self.pending.extend_from_slice(data);
        let p = &self.prefix;
        if let Some(pos) = find(&self.pending, p) {
            let after = pos + p.len();
            if let Some(end) = self.pending[after..].iter().position(|b| *b == 0x1e) {
                self.trailer = Some(
                    String::from_utf8_lossy(&self.pending[after..after + end])
                        .trim()
                        .to_string(),
                );
                let mut out = std::mem::take(&mut self.pending);
                out.truncate(pos);
                return out;
            }
            return self.pending.drain(..pos).collect();
        }
        // Keep the longest suffix that is a proper prefix of the marker.
        let keep = (1..p.len().min(self.pending.len() + 1))
            .rev()
            .find(|k| self.pending.ends_with(&p[..*k]))
            .unwrap_or(0);
        let emit = self.pending.len() - keep;
        self.pending.drain(..emit).collect()
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

type Output = Pin<Box<dyn Stream<Item = Result<LogOutput, bollard::errors::Error>> + Send>>;
type Input = Pin<Box<dyn AsyncWrite + Send>>;

/// How a command on a shell ended.
#[derive(Debug)]
enum JobEnd {
    Exited {
        code: i64,
        linger: bool,
    },
    /// The shell's stream ended (or its stdin broke) before the end markers.
    ShellDied,
}

struct Job {
    /// The shell running this job; the task puts it back into the pool when the job is done,
    /// whether or not anyone still awaits the result.
    shell: Option<Shell>,
    line: String,
    id: String,
    out: mpsc::Sender<ExecChunk>,
    done: oneshot::Sender<JobEnd>,
}

/// A handle on one shell task.
#[derive(Debug, Clone)]
struct Shell {
    jobs: mpsc::Sender<Job>,
    alive: Arc<AtomicBool>,
}

/// The warm shells of one container.
pub struct ShellPool {
    engine: Engine,
    container: String,
    idle: Mutex<Vec<Shell>>,
}

impl std::fmt::Debug for ShellPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShellPool")
            .field("container", &self.container)
            .finish_non_exhaustive()
    }
}

impl ShellPool {
    pub fn new(engine: Engine, container: String) -> ShellPool {
        ShellPool {
            engine,
            container,
            idle: Mutex::new(Vec::new()),
        }
    }

    /// Drop every idle shell (the container was recreated or removed).
    pub fn clear(&self) {
        self.lock().clear();
    }

    /// Idle shells that are still alive (for tests and diagnostics).
    pub fn idle_len(&self) -> usize {
        let mut idle = self.lock();
        idle.retain(|s| s.alive.load(Ordering::Acquire));
        idle.len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Shell>> {
        self.idle.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn take_idle(&self) -> Option<Shell> {
        let mut idle = self.lock();
        while let Some(s) = idle.pop() {
            if s.alive.load(Ordering::Acquire) {
                return Some(s);
            }
        }
        None
    }

    fn put_back(&self, shell: Shell) {
        let mut idle = self.lock();
        if shell.alive.load(Ordering::Acquire) && idle.len() < MAX_IDLE {
            idle.push(shell);
        }
    }

    async fn spawn_shell(self: &Arc<Self>) -> Result<Shell, SandboxError> {
        let req = ExecRequest {
            argv: vec!["sh".into(), "-c".into(), SERVER_SCRIPT.into()],
            env: Vec::new(),
            workdir: "/".into(),
            exec_id: String::new(),
        };
        let (_, started) = start_attached(&self.engine, &self.container, &req, true).await?;
        let StartExecResults::Attached { output, input } = started else {
            return Err(SandboxError::docker(
                "exec start",
                "engine returned a detached exec",
            ));
        };
        let (tx, rx) = mpsc::channel(1);
        let alive = Arc::new(AtomicBool::new(true));
        tokio::spawn(shell_task(
            Arc::downgrade(self),
            output,
            input,
            rx,
            alive.clone(),
        ));
        Ok(Shell { jobs: tx, alive })
    }

    /// Run `req` on a warm shell (starting one when none is idle). Same contract as
    /// `stream::stream_exec`, except that stdin is closed.
    pub async fn stream_exec(
        self: &Arc<Self>,
        req: &ExecRequest,
    ) -> Result<ExecStream, SandboxError> {
        let (out_tx, out_rx) = mpsc::channel(STREAM_CHANNEL_CAPACITY);
        let (done_tx, done_rx) = oneshot::channel();
        let mut job = Job {
            shell: None,
            line: request_line(req),
            id: req.exec_id.clone(),
            out: out_tx,
            done: done_tx,
        };
        // An idle shell can die between the liveness check and the send; then try the next.
        loop {
            match self.take_idle() {
                Some(s) => {
                    job.shell = Some(s.clone());
                    match s.jobs.send(job).await {
                        Ok(()) => break,
                        Err(mpsc::error::SendError(j)) => job = j,
                    }
                }
                None => {
                    let s = self.spawn_shell().await?;
                    job.shell = Some(s.clone());
                    s.jobs.send(job).await.map_err(|_| {
                        SandboxError::docker("sandbox shell", "shell ended at start")
                    })?;
                    break;
                }
            }
        }
        let kill = CancellationToken::new();
        let (pool, k, id) = (self.clone(), kill.clone(), req.exec_id.clone());
        let exit = Box::pin(async move {
            let mut done_rx = done_rx;
            let mut killed = false;
            let end = loop {
                tokio::select! {
                    end = &mut done_rx => break end.unwrap_or(JobEnd::ShellDied),
                    () = k.cancelled(), if !killed => {
                        killed = true;
                        kill_marked(&pool.engine, &pool.container, &id).await;
                    }
                }
            };
            match end {
                JobEnd::Exited { code, .. } => Ok(StreamExit {
                    code: Some(code),
                    killed,
                }),
                JobEnd::ShellDied => {
                    // The engine can report the container running for a moment after the
                    // stream broke; give it time to say what happened.
                    for _ in 0..10 {
                        ensure_running(&pool.engine, &pool.container).await?;
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                    Err(SandboxError::docker(
                        "sandbox shell",
                        "the shell running the command ended unexpectedly",
                    ))
                }
            }
        });
        Ok(ExecStream {
            output: out_rx,
            stdin: Box::pin(ClosedStdin),
            exit,
            kill,
        })
    }
}

/// One shell: runs jobs one at a time; while idle, watches the stream for the container's end.
async fn shell_task(
    pool: Weak<ShellPool>,
    mut output: Output,
    mut input: Input,
    mut jobs: mpsc::Receiver<Job>,
    alive: Arc<AtomicBool>,
) {
    loop {
        let job = tokio::select! {
            job = jobs.recv() => match job {
                Some(j) => j,
                None => break, // dropped from the pool: close stdin, the shell exits
            },
            item = output.next() => match item {
                Some(Ok(_)) => continue, // stray output while idle
                Some(Err(_)) | None => break,
            },
            () = tokio::time::sleep(IDLE_EXPIRY) => break,
        };
        match run_job(&mut output, &mut input, &job).await {
            JobEnd::Exited { code, linger } => {
                let _ = job.done.send(JobEnd::Exited { code, linger });
                if linger {
                    break;
                }
                if let (Some(p), Some(shell)) = (pool.upgrade(), job.shell) {
                    p.put_back(shell);
                }
            }
            JobEnd::ShellDied => {
                alive.store(false, Ordering::Release);
                let _ = job.done.send(JobEnd::ShellDied);
                break;
            }
        }
    }
    alive.store(false, Ordering::Release);
    let _ = input.shutdown().await;
}

async fn run_job(output: &mut Output, input: &mut Input, job: &Job) -> JobEnd {
    if input.write_all(job.line.as_bytes()).await.is_err() || input.flush().await.is_err() {
        return JobEnd::ShellDied;
    }
    let (mut out, mut err) = (Framer::new(&job.id), Framer::new(&job.id));
    // Keep draining when the reader went away, so the shell stays in step.
    let mut reader_gone = false;
    while !(out.finished() && err.finished()) {
        let (data, is_err) = match output.next().await {
            Some(Ok(LogOutput::StdOut { message } | LogOutput::Console { message })) => {
                (out.push(&message), false)
            }
            Some(Ok(LogOutput::StdErr { message })) => (err.push(&message), true),
            Some(Ok(LogOutput::StdIn { .. })) => continue,
            Some(Err(_)) | None => return JobEnd::ShellDied,
        };
        if !data.is_empty() && !reader_gone {
            let chunk = ExecChunk {
                stderr: is_err,
                data,
            };
            reader_gone = job.out.send(chunk).await.is_err();
        }
    }
    let trailer = out.trailer.unwrap_or_default();
    let mut parts = trailer.split_whitespace();
    let code = parts.next().and_then(|c| c.parse().ok()).unwrap_or(-1);
    let linger = parts.next() == Some("1");
    JobEnd::Exited { code, linger }
}

/// stdin of a pooled command: closed (the command reads `/dev/null`).
struct ClosedStdin;

impl AsyncWrite for ClosedStdin {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        _: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Poll::Ready(Err(std::io::Error::new(
            std::io::ErrorKind::BrokenPipe,
            "stdin is closed for this sandboxed command; start it with background: true to write to it",
        )))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quote_survives_quotes_and_newlines() {
        assert_eq!(quote("a b"), "'a b'");
        assert_eq!(quote("it's"), "'it'\\''s'");
        assert_eq!(quote("a\nb"), "'a'\"$nl\"'b'");
    }

    #[test]
    fn request_line_is_one_line() {
        let req = ExecRequest {
            argv: vec!["sh".into(), "-lc".into(), "echo 'x'\necho y".into()],
            env: vec!["HOME=/workspace".into(), "OPENCLAW_EXEC_ID=abc".into()],
            workdir: "/workspace".into(),
            exec_id: "abc".into(),
        };
        let line = request_line(&req);
        assert_eq!(line.matches('\n').count(), 1);
        assert!(line.starts_with("oc 'abc' '/workspace' 2 'HOME=/workspace' "));
        // A name `export` refuses goes through `env`.
        let odd = ExecRequest {
            env: vec!["A-B=1".into()],
            ..req
        };
        assert!(request_line(&odd).starts_with("oc 'abc' '/workspace' 0 'env' 'A-B=1' 'sh' "));
    }

    #[test]
    fn framer_splits_at_marker_across_chunks() {
        let mut f = Framer::new("id1");
        let mut got = f.push(b"hello\n\x1eOCE");
        assert_eq!(got, b"hello\n");
        assert!(!f.finished());
        got = f.push(b"ND id1 0 ");
        assert!(got.is_empty());
        got = f.push(b"0\x1e");
        assert!(got.is_empty());
        assert_eq!(f.trailer.as_deref(), Some("0 0"));
    }

    #[test]
    fn framer_releases_lookalikes() {
        let mut f = Framer::new("id1");
        // A record separator that does not start our marker is output.
        let got = f.push(b"a\x1eb");
        assert_eq!(got, b"a\x1eb");
        // A marker for another id is output too; only a trailing separator (which could start
        // our marker) waits for the next bytes.
        let got = f.push(b"\x1eOCEND id2 0 0\x1e");
        assert_eq!(got, b"\x1eOCEND id2 0 0");
        let got = f.push(b"tail\x1eOCEND id1\x1e");
        assert_eq!(got, b"\x1etail");
        assert_eq!(f.trailer.as_deref(), Some(""));
    }
}
