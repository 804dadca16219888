//! A streaming exec for callers that keep their own output buffers, deadlines and background
//! bookkeeping (the agent's job registry): output arrives through a bounded channel in arrival
//! order, stdin stays open for writes, the exit future resolves when the main process ends, and
//! a cancellation token kills the exec's whole process tree (the same marker sweep as a timeout
//! in `exec.rs`).
//!
//! Bounds: the output channel holds [`STREAM_CHANNEL_CAPACITY`] chunks; when it is full the
//! reader stops pulling from the engine, which applies back-pressure to the process. The reader
//! task ends when the engine closes the stream or the receiver is dropped, so it needs no owner.

use std::pin::Pin;
use std::time::Duration;

use bollard::container::LogOutput;
use bollard::exec::StartExecResults;
use futures::StreamExt;
use futures::future::BoxFuture;
use tokio::io::AsyncWrite;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use crate::engine::{CALL_TIMEOUT, Engine, deadline};
use crate::error::SandboxError;
use crate::exec::{ExecRequest, ensure_running, exit_code, kill_marked};

/// Capacity of the output channel of one streamed exec.
pub const STREAM_CHANNEL_CAPACITY: usize = 64;
/// How often the exit future asks the engine whether the main process ended (grandchildren
/// can keep the output stream open long after it did).
const EXIT_POLL: Duration = Duration::from_millis(250);

/// One piece of output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecChunk {
    pub stderr: bool,
    pub data: Vec<u8>,
}

/// How a streamed exec ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamExit {
    /// The exit code the engine reported (`137` after a kill).
    pub code: Option<i64>,
    /// True when `kill` fired before the process ended.
    pub killed: bool,
}

/// A started exec.
pub struct ExecStream {
    pub output: mpsc::Receiver<ExecChunk>,
    pub stdin: Pin<Box<dyn AsyncWrite + Send>>,
    /// Resolves when the main process exits; must be polled for `kill` to take effect.
    pub exit: BoxFuture<'static, Result<StreamExit, SandboxError>>,
    /// Cancel to kill the process tree.
    pub kill: CancellationToken,
}

impl std::fmt::Debug for ExecStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExecStream").finish_non_exhaustive()
    }
}

/// Create and start `req` in `container` with stdin attached.
pub async fn stream_exec(
    engine: &Engine,
    container: &str,
    req: &ExecRequest,
) -> Result<ExecStream, SandboxError> {
    let (exec_id, started) = crate::exec::start_attached(engine, container, req, true).await?;
    let StartExecResults::Attached { mut output, input } = started else {
        return Err(SandboxError::docker(
            "exec start",
            "engine returned a detached exec",
        ));
    };
    let (tx, rx) = mpsc::channel(STREAM_CHANNEL_CAPACITY);
    let (done_tx, mut done_rx) = watch::channel(false);
    tokio::spawn(async move {
        loop {
            tokio::select! {
                item = output.next() => {
                    let chunk = match item {
                        Some(Ok(LogOutput::StdOut { message } | LogOutput::Console { message })) => {
                            ExecChunk { stderr: false, data: message.to_vec() }
                        }
                        Some(Ok(LogOutput::StdErr { message })) => {
                            ExecChunk { stderr: true, data: message.to_vec() }
                        }
                        Some(Ok(LogOutput::StdIn { .. })) => continue,
                        Some(Err(e)) => {
                            tracing::debug!(error = %e, "exec stream error");
                            break;
                        }
                        None => break,
                    };
                    if tx.send(chunk).await.is_err() {
                        break;
                    }
                }
                () = tx.closed() => break,
            }
        }
        let _ = done_tx.send(true);
    });
    let kill = CancellationToken::new();
    let (engine, container, exec_id, marker, k) = (
        engine.clone(),
        container.to_string(),
        exec_id.clone(),
        req.exec_id.clone(),
        kill.clone(),
    );
    let exit = Box::pin(async move {
        let mut killed = false;
        loop {
            tokio::select! {
                ended = async { done_rx.wait_for(|d| *d).await.is_ok() } => {
                    let _ = ended;
                    break;
                }
                () = tokio::time::sleep(EXIT_POLL) => {
                    let info = deadline("exec inspect", CALL_TIMEOUT, engine.docker().inspect_exec(&exec_id)).await?;
                    if info.running != Some(true) {
                        break;
                    }
                }
                () = k.cancelled(), if !killed => {
                    killed = true;
                    kill_marked(&engine, &container, &marker).await;
                }
            }
        }
        let code = exit_code(&engine, &exec_id).await?;
        if !killed && matches!(code, Some(137) | None) {
            ensure_running(&engine, &container).await?;
        }
        Ok(StreamExit { code, killed })
    });
    Ok(ExecStream {
        output: rx,
        stdin: input,
        exit,
        kill,
    })
}
