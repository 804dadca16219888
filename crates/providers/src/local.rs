//! `api: "local-gguf"`: the embedded model, run by a worker process.
//!
//! [`LocalClient`] holds ONE worker (`<current exe> local-model-worker --model PATH`, the
//! `openclaw` binary built with `--features local-model`) and talks to it over stdin/stdout with
//! the newline-delimited JSON protocol of `openclaw_local_model::wire`. llama.cpp can abort the
//! whole process on misuse, so it never runs inside the gateway. Requests are serialized (one
//! worker, one generation at a time); a worker that died, or was killed because its request was
//! cancelled or its stream dropped mid-answer, is restarted on the next request (loading takes
//! ~0.1 s).
//!
//! The model cannot decide to call tools itself; [`heuristic`] decides gateway-side when a tool
//! call is forced (see that module's doc), and flattens the transcript into plain chat messages.

pub mod heuristic;
pub mod pull;

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use openclaw_local_model::wire::{WireStopReason, WorkerEvent, WorkerRequest};
use openclaw_protocol::message::Usage;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};
use tokio::sync::{Mutex, OwnedMutexGuard, mpsc};
use tokio_util::sync::CancellationToken;

use crate::error::ProviderError;
use crate::types::{ChatRequest, StopReason, StreamEvent};
use crate::{EventStream, ModelClient};

/// Wire API name recorded on assistant messages.
pub const API: &str = "local-gguf";

/// The hidden subcommand that runs the worker.
pub const WORKER_SUBCOMMAND: &str = "local-model-worker";

/// How long the worker may take to load the model and print `ready`.
const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// Default answer budget.
const DEFAULT_MAX_TOKENS: u32 = 512;

struct Worker {
    child: Child,
    stdin: ChildStdin,
    stdout: Lines<BufReader<ChildStdout>>,
}

/// Client for the embedded model. Cheap to share; all clones use the same worker.
#[derive(Clone)]
pub struct LocalClient {
    provider: String,
    model_path: PathBuf,
    worker_exe: PathBuf,
    idle_timeout: Duration,
    worker: Arc<Mutex<Option<Worker>>>,
}

impl std::fmt::Debug for LocalClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalClient")
            .field("provider", &self.provider)
            .field("model_path", &self.model_path)
            .field("worker_exe", &self.worker_exe)
            .finish_non_exhaustive()
    }
}

impl LocalClient {
    /// `worker_exe` is the `openclaw` binary (normally `std::env::current_exe()`);
    /// `idle_timeout` bounds the wait for each worker event.
    pub fn new(
        provider: impl Into<String>,
        model_path: impl Into<PathBuf>,
        worker_exe: impl Into<PathBuf>,
        idle_timeout: Duration,
    ) -> Self {
        LocalClient {
            provider: provider.into(),
            model_path: model_path.into(),
            worker_exe: worker_exe.into(),
            idle_timeout,
            worker: Arc::new(Mutex::new(None)),
        }
    }

    fn worker_error(&self, message: impl Into<String>) -> ProviderError {
        ProviderError::Remote {
            provider: self.provider.clone(),
            kind: "local_model_error".into(),
            message: message.into(),
        }
    }

    /// Start the worker and wait for its `ready` line.
    async fn spawn(&self) -> Result<Worker, ProviderError> {
        if !self.model_path.is_file() {
            return Err(ProviderError::Config(format!(
                "local model file {} not found — run `openclaw models pull` (or fix models.providers.{}.modelPath)",
                self.model_path.display(),
                self.provider
            )));
        }
        let mut child = Command::new(&self.worker_exe)
            .arg(WORKER_SUBCOMMAND)
            .arg("--model")
            .arg(&self.model_path)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| {
                self.worker_error(format!(
                    "cannot start the local model worker {}: {e}",
                    self.worker_exe.display()
                ))
            })?;
        let (Some(stdin), Some(stdout), Some(mut stderr)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            return Err(self.worker_error("local model worker has no stdio pipes"));
        };
        let mut stdout = BufReader::new(stdout).lines();
        let first = tokio::time::timeout(READY_TIMEOUT, stdout.next_line()).await;
        let failure = match first {
            Ok(Ok(Some(line))) => match WorkerEvent::parse(&line) {
                Ok(WorkerEvent::Ready { .. }) => {
                    // Keep stderr drained so a chatty worker never blocks on a full pipe.
                    tokio::spawn(async move {
                        let mut sink = [0u8; 4096];
                        while matches!(stderr.read(&mut sink).await, Ok(n) if n > 0) {}
                    });
                    return Ok(Worker {
                        child,
                        stdin,
                        stdout,
                    });
                }
                Ok(WorkerEvent::Error { message }) => message,
                Ok(other) => format!("unexpected first event {other:?}"),
                Err(e) => e.to_string(),
            },
            Ok(Ok(None)) | Ok(Err(_)) => {
                let mut err = String::new();
                let _ = tokio::time::timeout(
                    Duration::from_secs(2),
                    (&mut stderr).take(4096).read_to_string(&mut err),
                )
                .await;
                let err = err.trim();
                if err.contains("--features local-model") {
                    format!("the worker exited before loading the model: {err}")
                } else {
                    format!(
                        "the worker exited before loading the model: {err} — is this `openclaw` built with `--features local-model`?"
                    )
                }
            }
            Err(_) => format!(
                "the worker did not load the model within {}s",
                READY_TIMEOUT.as_secs()
            ),
        };
        let _ = child.kill().await;
        Err(self.worker_error(failure))
    }

    /// The request line for `req`, plus whether a tool call is forced.
    fn request(req: &ChatRequest) -> WorkerRequest {
        let forced = heuristic::forced_tools(&req.messages, &req.tools);
        // A forced call sees only the latest user message: earlier turns derail the small model.
        let context = match forced {
            Some(_) => &req.messages[req.messages.len().saturating_sub(1)..],
            None => &req.messages[..],
        };
        WorkerRequest::Generate {
            messages: heuristic::flatten(&req.system, context, forced.is_some()),
            tools: forced
                .as_deref()
                .map(heuristic::wire_tools)
                .unwrap_or_default(),
            force_tool: forced.is_some(),
            max_tokens: Some(req.max_tokens.unwrap_or(DEFAULT_MAX_TOKENS)),
            temperature: req.temperature,
        }
    }
}

#[async_trait::async_trait]
impl ModelClient for LocalClient {
    async fn stream(
        &self,
        req: ChatRequest,
        cancel: CancellationToken,
    ) -> Result<EventStream, ProviderError> {
        let mut guard = tokio::select! {
            g = self.worker.clone().lock_owned() => g,
            _ = cancel.cancelled() => return Err(ProviderError::Aborted),
        };
        let alive = match guard.as_mut() {
            Some(w) => matches!(w.child.try_wait(), Ok(None)),
            None => false,
        };
        if !alive {
            *guard = None;
            let w = tokio::select! {
                w = self.spawn() => w?,
                _ = cancel.cancelled() => return Err(ProviderError::Aborted),
            };
            *guard = Some(w);
        }
        let line = Self::request(&req)
            .to_line()
            .map_err(|e| self.worker_error(format!("cannot encode the request: {e}")))?;
        let Some(worker) = guard.as_mut() else {
            return Err(self.worker_error("local model worker is not running"));
        };
        let write = async {
            worker.stdin.write_all(line.as_bytes()).await?;
            worker.stdin.write_all(b"\n").await?;
            worker.stdin.flush().await
        };
        if let Err(e) = write.await {
            *guard = None;
            return Err(self.worker_error(format!("the local model worker died: {e}")));
        }
        let (tx, rx) = mpsc::channel(64);
        tokio::spawn(pump(self.clone(), guard, req.model.clone(), tx, cancel));
        Ok(Box::pin(futures::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|ev| (ev, rx))
        })))
    }
}

type Tx = mpsc::Sender<Result<StreamEvent, ProviderError>>;

/// Forward worker events for one request. Owns the worker lock until the request ends; kills the
/// worker when the request is cancelled, the caller goes away or the protocol breaks.
async fn pump(
    client: LocalClient,
    mut guard: OwnedMutexGuard<Option<Worker>>,
    model: String,
    tx: Tx,
    cancel: CancellationToken,
) {
    let keep = forward(&client, &mut guard, model, &tx, &cancel).await;
    if !keep && let Some(mut w) = guard.take() {
        let _ = w.child.kill().await;
    }
}

/// Returns whether the worker is still usable.
async fn forward(
    client: &LocalClient,
    guard: &mut OwnedMutexGuard<Option<Worker>>,
    model: String,
    tx: &Tx,
    cancel: &CancellationToken,
) -> bool {
    let Some(worker) = guard.as_mut() else {
        return false;
    };
    let selected = StreamEvent::ModelSelected {
        provider: client.provider.clone(),
        model,
        api: API.into(),
    };
    if tx.send(Ok(selected)).await.is_err() {
        return false;
    }
    let mut tool_calls = 0usize;
    loop {
        let next = tokio::select! {
            n = tokio::time::timeout(client.idle_timeout, worker.stdout.next_line()) => n,
            _ = cancel.cancelled() => {
                let _ = tx.send(Ok(StreamEvent::Done { stop_reason: StopReason::Aborted })).await;
                return false;
            }
        };
        let line = match next {
            Ok(Ok(Some(line))) => line,
            Ok(Ok(None)) | Ok(Err(_)) => {
                let _ = tx
                    .send(Err(client.worker_error(
                        "the local model worker exited mid-answer (it is restarted on the next message)",
                    )))
                    .await;
                return false;
            }
            Err(_) => {
                let _ = tx
                    .send(Err(ProviderError::Stalled {
                        provider: client.provider.clone(),
                        idle: client.idle_timeout,
                    }))
                    .await;
                return false;
            }
        };
        let event = match WorkerEvent::parse(&line) {
            Ok(ev) => ev,
            Err(e) => {
                let _ = tx
                    .send(Err(ProviderError::Decode {
                        provider: client.provider.clone(),
                        detail: e.to_string(),
                    }))
                    .await;
                return false;
            }
        };
        let out: Vec<Result<StreamEvent, ProviderError>> = match event {
            WorkerEvent::Ready { .. } => Vec::new(),
            WorkerEvent::Token { text } => vec![Ok(StreamEvent::TextDelta(text))],
            WorkerEvent::ToolCall { name, arguments } => {
                let id = format!("local_call_{}", uuid_like(tool_calls));
                let index = tool_calls;
                tool_calls += 1;
                vec![
                    Ok(StreamEvent::ToolCallStart {
                        index,
                        id: id.clone(),
                        name: name.clone(),
                    }),
                    Ok(StreamEvent::ToolCall {
                        id,
                        name,
                        arguments,
                    }),
                ]
            }
            WorkerEvent::Done { stop_reason, usage } => {
                let stop_reason = match stop_reason {
                    WireStopReason::Stop => StopReason::Stop,
                    WireStopReason::Length => StopReason::Length,
                    WireStopReason::ToolUse => StopReason::ToolUse,
                };
                let usage = Usage {
                    input: usage.input,
                    output: usage.output,
                    total_tokens: usage.input + usage.output,
                    ..Usage::default()
                };
                let _ = tx.send(Ok(StreamEvent::Usage(usage))).await;
                let _ = tx.send(Ok(StreamEvent::Done { stop_reason })).await;
                return true;
            }
            WorkerEvent::Error { message } => {
                let _ = tx.send(Err(client.worker_error(message))).await;
                return true;
            }
        };
        for ev in out {
            if tx.send(ev).await.is_err() {
                return false;
            }
        }
    }
}

/// A call id unique within this process.
fn uuid_like(index: usize) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    format!("{}_{index}", NEXT.fetch_add(1, Ordering::Relaxed))
}

#[cfg(test)]
#[path = "local_tests.rs"]
mod tests;
