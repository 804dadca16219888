//! The per-agent registry of running and backgrounded commands, shared by `exec` and `process`.
//!
//! Every command `exec` starts becomes a [`Job`]: one monitor task owns the backend's output
//! stream and exit future, enforces the deadline (killing the whole process group), bounds the
//! pipe drain after exit ([`IO_DRAIN_TIMEOUT`]) and keeps capped output. Foreground commands are
//! removed when they finish; backgrounded ones stay for `process` until removed or expired.
//!
//! Bounds: retained output per job is the tail of `max_output_chars` bytes (a byte cap at a char
//! boundary, so never more than that many chars); pending (unpolled) output is the tail of
//! `pending_max_chars` per stream; at most `max_finished` finished jobs and
//! `max_finished_total_chars` of their output are kept, each for at most `finished_ttl`; at most
//! `max_jobs` jobs exist at once. The registry is in memory only and lost on restart.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::backend::{
    BackendError, ExitInfo, IO_DRAIN_TIMEOUT, OutputStream, ProcessKiller, SpawnedProcess,
};

/// Limits of one registry (one agent).
#[derive(Debug, Clone, PartialEq)]
pub struct JobLimits {
    pub max_output_chars: usize,
    pub pending_max_chars: usize,
    pub max_finished: usize,
    pub max_finished_total_chars: usize,
    pub finished_ttl: Duration,
    pub max_jobs: usize,
}

impl Default for JobLimits {
    fn default() -> Self {
        Self {
            max_output_chars: 200_000,
            pending_max_chars: 30_000,
            max_finished: 50,
            max_finished_total_chars: 2_000_000,
            finished_ttl: Duration::from_secs(30 * 60),
            max_jobs: 128,
        }
    }
}

/// Where a job stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobStatus {
    Running,
    Exited(ExitInfo),
    TimedOut,
    Killed,
    /// The backend lost track of the process (wait failed).
    Failed(String),
}

impl JobStatus {
    /// The `details.status` word: `running`, `completed`, `failed`, `timeout`, `killed`.
    pub fn as_str(&self) -> &'static str {
        match self {
            JobStatus::Running => "running",
            JobStatus::Exited(e) if e.code == Some(0) => "completed",
            JobStatus::Exited(_) | JobStatus::Failed(_) => "failed",
            JobStatus::TimedOut => "timeout",
            JobStatus::Killed => "killed",
        }
    }

    pub fn exit_code(&self) -> Option<i32> {
        match self {
            JobStatus::Exited(e) => e.code,
            _ => None,
        }
    }

    pub fn is_running(&self) -> bool {
        matches!(self, JobStatus::Running)
    }
}

/// Output kept for one stream or for the aggregate: the tail, capped in bytes.
#[derive(Debug, Default)]
struct Tail {
    text: String,
    dropped: bool,
}

impl Tail {
    fn push(&mut self, s: &str, cap: usize) {
        self.text.push_str(s);
        if self.text.len() > cap {
            let mut cut = self.text.len() - cap;
            while !self.text.is_char_boundary(cut) {
                cut += 1;
            }
            self.text.drain(..cut);
            self.dropped = true;
        }
    }
}

#[derive(Debug, Default)]
struct Utf8Carry(Vec<u8>);

impl Utf8Carry {
    /// Decode as much as possible, keeping an incomplete trailing sequence for the next chunk.
    fn decode(&mut self, data: &[u8]) -> String {
        self.0.extend_from_slice(data);
        let keep = match std::str::from_utf8(&self.0) {
            Ok(_) => 0,
            Err(e) if e.error_len().is_none() => self.0.len() - e.valid_up_to(),
            Err(_) => 0,
        };
        let rest = self.0.split_off(self.0.len() - keep);
        let out = String::from_utf8_lossy(&self.0).into_owned();
        self.0 = rest;
        out
    }
}

#[derive(Debug)]
struct JobState {
    status: JobStatus,
    aggregated: Tail,
    pending_out: Tail,
    pending_err: Tail,
    backgrounded: bool,
    kill_requested: bool,
    finished_at: Option<Instant>,
    duration: Option<Duration>,
}

/// One command started by `exec`.
pub struct Job {
    pub id: String,
    pub command: String,
    pub cwd: PathBuf,
    pub pid: Option<u32>,
    /// Unix milliseconds.
    pub started_at_ms: u64,
    started: Instant,
    limits: JobLimits,
    state: Mutex<JobState>,
    version: watch::Sender<u64>,
    stdin: tokio::sync::Mutex<Option<Pin<Box<dyn AsyncWrite + Send>>>>,
    killer: Arc<dyn ProcessKiller>,
    monitor: Mutex<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job")
            .field("id", &self.id)
            .field("command", &self.command)
            .finish_non_exhaustive()
    }
}

/// A point-in-time view of a job.
#[derive(Debug, Clone, PartialEq)]
pub struct JobSnapshot {
    pub status: JobStatus,
    pub aggregated: String,
    pub output_truncated: bool,
    pub backgrounded: bool,
    pub duration: Duration,
}

/// Why [`Job::wait`] returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitOutcome {
    Finished,
    TimedOut,
    Cancelled,
}

fn lock(m: &Mutex<JobState>) -> MutexGuard<'_, JobState> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Job {
    fn bump(&self) {
        self.version.send_modify(|v| *v = v.wrapping_add(1));
    }

    pub fn snapshot(&self) -> JobSnapshot {
        let s = lock(&self.state);
        JobSnapshot {
            status: s.status.clone(),
            aggregated: s.aggregated.text.clone(),
            output_truncated: s.aggregated.dropped,
            backgrounded: s.backgrounded,
            duration: s.duration.unwrap_or_else(|| self.started.elapsed()),
        }
    }

    pub fn status(&self) -> JobStatus {
        lock(&self.state).status.clone()
    }

    /// The last `max` chars of retained output.
    pub fn tail(&self, max: usize) -> String {
        let s = lock(&self.state);
        let t = &s.aggregated.text;
        let mut cut = t.len().saturating_sub(max);
        while !t.is_char_boundary(cut) {
            cut += 1;
        }
        t[cut..].to_string()
    }

    /// Mark as backgrounded: it stays in the registry after it finishes. Pending output up to
    /// now is considered seen (the caller shows a tail).
    pub fn set_backgrounded(&self) {
        let mut s = lock(&self.state);
        s.backgrounded = true;
        s.pending_out = Tail::default();
        s.pending_err = Tail::default();
    }

    /// Output since the last call (stdout then stderr), with the status at that moment.
    pub fn take_pending(&self) -> (String, String, JobStatus) {
        let mut s = lock(&self.state);
        let out = std::mem::take(&mut s.pending_out).text;
        let err = std::mem::take(&mut s.pending_err).text;
        (out, err, s.status.clone())
    }

    fn has_pending(&self) -> bool {
        let s = lock(&self.state);
        !s.pending_out.text.is_empty() || !s.pending_err.text.is_empty()
    }

    /// Kill the process group. The status becomes `Killed` once the process is gone.
    pub fn kill(&self) {
        let running = {
            let mut s = lock(&self.state);
            if s.status.is_running() {
                s.kill_requested = true;
            }
            s.status.is_running()
        };
        if running {
            self.killer.kill();
        }
    }

    /// Wait until the job finishes, `deadline` passes or `cancel` fires.
    pub async fn wait(&self, deadline: Option<Instant>, cancel: &CancellationToken) -> WaitOutcome {
        self.wait_for(deadline, cancel, false).await
    }

    /// Wait until there is new output, the job finishes, `deadline` passes or `cancel` fires.
    pub async fn wait_output(
        &self,
        deadline: Option<Instant>,
        cancel: &CancellationToken,
    ) -> WaitOutcome {
        self.wait_for(deadline, cancel, true).await
    }

    async fn wait_for(
        &self,
        deadline: Option<Instant>,
        cancel: &CancellationToken,
        output: bool,
    ) -> WaitOutcome {
        let mut rx = self.version.subscribe();
        loop {
            if !self.status().is_running() || (output && self.has_pending()) {
                return WaitOutcome::Finished;
            }
            let sleep = async {
                match deadline {
                    Some(d) => tokio::time::sleep_until(d.into()).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                r = rx.changed() => if r.is_err() { return WaitOutcome::Finished },
                () = sleep => return WaitOutcome::TimedOut,
                () = cancel.cancelled() => return WaitOutcome::Cancelled,
            }
        }
    }

    /// Write to stdin; `eof` closes it afterwards.
    pub async fn write_stdin(&self, data: &[u8], eof: bool) -> Result<(), String> {
        if !self.status().is_running() {
            return Err(format!(
                "Process {} has already exited; nothing to write to.",
                self.id
            ));
        }
        let mut guard = self.stdin.lock().await;
        let Some(stdin) = guard.as_mut() else {
            return Err(format!(
                "stdin of process {} is closed (an earlier write sent eof).",
                self.id
            ));
        };
        let write = async {
            stdin.write_all(data).await?;
            stdin.flush().await
        };
        match tokio::time::timeout(Duration::from_secs(10), write).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(format!("write to process {} failed: {e}", self.id)),
            Err(_) => {
                return Err(format!(
                    "write to process {} timed out after 10s (it is not reading stdin)",
                    self.id
                ));
            }
        }
        if eof {
            *guard = None;
        }
        Ok(())
    }

    fn append(&self, stream: OutputStream, text: &str) {
        if text.is_empty() {
            return;
        }
        {
            let mut s = lock(&self.state);
            s.aggregated.push(text, self.limits.max_output_chars);
            let cap = self.limits.pending_max_chars;
            match stream {
                OutputStream::Stdout => s.pending_out.push(text, cap),
                OutputStream::Stderr => s.pending_err.push(text, cap),
            }
        }
        self.bump();
    }

    fn finish(&self, status: JobStatus) {
        {
            let mut s = lock(&self.state);
            s.status = if s.kill_requested && !matches!(status, JobStatus::TimedOut) {
                JobStatus::Killed
            } else {
                status
            };
            s.finished_at = Some(Instant::now());
            s.duration = Some(self.started.elapsed());
        }
        self.bump();
    }
}

/// The monitor: owns output, exit, deadline and drain for one job.
async fn monitor(job: Arc<Job>, mut proc: SpawnedProcessParts, timeout: Option<Duration>) {
    let deadline = timeout.map(|t| tokio::time::Instant::now() + t);
    let mut out_carry = Utf8Carry::default();
    let mut err_carry = Utf8Carry::default();
    let mut exit_result: Option<Result<ExitInfo, BackendError>> = None;
    let mut output_open = true;
    let mut timed_out = false;
    let mut drain_deadline: Option<tokio::time::Instant> = None;
    loop {
        if exit_result.is_some() && !output_open {
            break;
        }
        tokio::select! {
            chunk = proc.output.recv(), if output_open => match chunk {
                Some(c) => {
                    let text = match c.stream {
                        OutputStream::Stdout => out_carry.decode(&c.data),
                        OutputStream::Stderr => err_carry.decode(&c.data),
                    };
                    job.append(c.stream, &text);
                }
                None => output_open = false,
            },
            r = &mut proc.exit, if exit_result.is_none() => {
                exit_result = Some(r);
                drain_deadline = Some(tokio::time::Instant::now() + IO_DRAIN_TIMEOUT);
            },
            () = async { match deadline { Some(d) => tokio::time::sleep_until(d).await, None => std::future::pending().await } },
                if exit_result.is_none() && !timed_out => {
                timed_out = true;
                job.killer.kill();
            },
            () = async { match drain_deadline { Some(d) => tokio::time::sleep_until(d).await, None => std::future::pending().await } },
                if output_open && drain_deadline.is_some() => {
                // Grandchildren still hold the pipes; stop reading (the backend's readers notice
                // the closed channel and let go of the pipes).
                break;
            },
        }
    }
    drop(proc.output);
    let status = match exit_result {
        _ if timed_out => JobStatus::TimedOut,
        Some(Ok(info)) => JobStatus::Exited(info),
        Some(Err(e)) => JobStatus::Failed(e.to_string()),
        None => JobStatus::Failed("process state unknown".into()),
    };
    job.finish(status);
}

struct SpawnedProcessParts {
    output: tokio::sync::mpsc::Receiver<super::backend::OutputChunk>,
    exit: futures::future::BoxFuture<'static, Result<ExitInfo, BackendError>>,
}

/// Jobs of one agent.
#[derive(Debug, Default)]
pub struct JobRegistry {
    limits: JobLimits,
    jobs: Mutex<BTreeMap<String, Arc<Job>>>,
}

impl JobRegistry {
    pub fn new(limits: JobLimits) -> Self {
        Self {
            limits,
            jobs: Mutex::new(BTreeMap::new()),
        }
    }

    pub fn limits(&self) -> &JobLimits {
        &self.limits
    }

    fn jobs(&self) -> MutexGuard<'_, BTreeMap<String, Arc<Job>>> {
        self.jobs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Register a spawned process and start its monitor. `timeout: None` = no deadline.
    pub fn start(
        &self,
        proc: SpawnedProcess,
        command: &str,
        cwd: PathBuf,
        timeout: Option<Duration>,
    ) -> Result<Arc<Job>, String> {
        self.sweep();
        if self.jobs().len() >= self.limits.max_jobs {
            proc.killer.kill();
            return Err(format!(
                "Too many processes ({}) for this agent; kill or remove finished ones with the process tool (action list/remove).",
                self.limits.max_jobs
            ));
        }
        let id = new_session_id();
        let job = Arc::new(Job {
            id: id.clone(),
            command: command.to_string(),
            cwd,
            pid: proc.pid,
            started_at_ms: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
                .unwrap_or(0),
            started: Instant::now(),
            limits: self.limits.clone(),
            state: Mutex::new(JobState {
                status: JobStatus::Running,
                aggregated: Tail::default(),
                pending_out: Tail::default(),
                pending_err: Tail::default(),
                backgrounded: false,
                kill_requested: false,
                finished_at: None,
                duration: None,
            }),
            version: watch::channel(0).0,
            stdin: tokio::sync::Mutex::new(proc.stdin),
            killer: proc.killer,
            monitor: Mutex::new(None),
        });
        let parts = SpawnedProcessParts {
            output: proc.output,
            exit: proc.exit,
        };
        let handle = tokio::spawn(monitor(job.clone(), parts, timeout));
        *job.monitor
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(handle);
        self.jobs().insert(id, job.clone());
        Ok(job)
    }

    pub fn get(&self, id: &str) -> Option<Arc<Job>> {
        self.sweep();
        self.jobs().get(id).cloned()
    }

    /// Backgrounded jobs, oldest first.
    pub fn list(&self) -> Vec<Arc<Job>> {
        self.sweep();
        let mut v: Vec<_> = self
            .jobs()
            .values()
            .filter(|j| lock(&j.state).backgrounded)
            .cloned()
            .collect();
        v.sort_by_key(|j| j.started);
        v
    }

    /// Forget a job; kills it first if it still runs.
    pub fn remove(&self, id: &str) -> Option<Arc<Job>> {
        let job = self.jobs().remove(id)?;
        job.kill();
        Some(job)
    }

    /// Drop expired finished jobs and enforce the finished-job count and size caps.
    fn sweep(&self) {
        let now = Instant::now();
        let mut jobs = self.jobs();
        jobs.retain(|_, j| {
            let s = lock(&j.state);
            s.finished_at
                .is_none_or(|t| now.duration_since(t) <= self.limits.finished_ttl)
        });
        let mut finished: Vec<(Instant, String, usize)> = jobs
            .iter()
            .filter_map(|(id, j)| {
                let s = lock(&j.state);
                s.finished_at
                    .map(|t| (t, id.clone(), s.aggregated.text.len()))
            })
            .collect();
        finished.sort();
        let mut total: usize = finished.iter().map(|f| f.2).sum();
        let mut count = finished.len();
        for (_, id, len) in finished {
            if count <= self.limits.max_finished && total <= self.limits.max_finished_total_chars {
                break;
            }
            jobs.remove(&id);
            count -= 1;
            total -= len;
        }
    }
}

impl Drop for JobRegistry {
    fn drop(&mut self) {
        for job in self.jobs().values() {
            job.kill();
            if let Some(h) = job
                .monitor
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .take()
            {
                h.abort();
            }
        }
    }
}

fn new_session_id() -> String {
    let u = uuid::Uuid::new_v4().simple().to_string();
    u[..8].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn tail_keeps_end_at_char_boundary() {
        let mut t = Tail::default();
        t.push("ab", 4);
        t.push("é€x", 4);
        assert!(t.text.len() <= 4);
        assert!(t.text.ends_with('x'));
        assert!(t.dropped);
    }

    #[test]
    fn utf8_carry_joins_split_sequences() {
        let mut c = Utf8Carry::default();
        let bytes = "€".as_bytes();
        assert_eq!(c.decode(&bytes[..1]), "");
        assert_eq!(c.decode(&bytes[1..]), "€");
        assert_eq!(c.decode(b"\xffok"), "\u{fffd}ok");
    }

    #[test]
    fn status_words() {
        assert_eq!(
            JobStatus::Exited(ExitInfo {
                code: Some(0),
                signal: None
            })
            .as_str(),
            "completed"
        );
        assert_eq!(
            JobStatus::Exited(ExitInfo {
                code: Some(2),
                signal: None
            })
            .as_str(),
            "failed"
        );
        assert_eq!(JobStatus::TimedOut.as_str(), "timeout");
    }
}
