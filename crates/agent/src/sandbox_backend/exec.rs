//! [`SandboxExec`]: `exec` inside the session's container.
//!
//! Each command runs as `sh -lc <command>` through the Engine exec API with `HOME=/workspace`,
//! the sandbox's `docker.env`, the call's `env` and `OPENCLAW_SHELL=exec`; the gateway's own
//! environment never enters the container. The host working directory is mapped to its
//! container path (`<workspace>/sub` → `/workspace/sub`); a directory outside every mount is
//! refused. Output, stdin, exit and kill travel through the same `SpawnedProcess` seam as on the
//! host, so foreground, `yieldMs`, `background` and `process` work unchanged; the job registry
//! owns deadlines and kills the container-side process tree through the killer.
//!
//! Plain foreground commands run on one of the container's warm shells (no new Engine exec, see
//! `openclaw_sandbox::shell_pool`) with stdin closed; `background`, an explicit `yieldMs` or
//! `pty` get a dedicated exec whose stdin `process write` can use.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures::FutureExt;
use openclaw_sandbox::{ExecOptions, SandboxContext};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::tools::backend::{
    BackendError, ExecBackend, ExecRequest, ExitInfo, OUTPUT_CHANNEL_CAPACITY, OUTPUT_CHUNK_BYTES,
    OutputChunk, OutputStream, ProcessKiller, SpawnedProcess,
};

/// The job registry enforces the tool's deadline; this only bounds a stream nobody kills.
const BACKSTOP_TIMEOUT: Duration = Duration::from_secs(24 * 3600);

/// Runs commands in a sandbox container.
#[derive(Debug, Clone)]
pub struct SandboxExec {
    ctx: Arc<SandboxContext>,
    path_prepend: Vec<String>,
}

impl SandboxExec {
    pub fn new(ctx: Arc<SandboxContext>, path_prepend: Vec<String>) -> Self {
        Self { ctx, path_prepend }
    }

    pub fn context(&self) -> &SandboxContext {
        &self.ctx
    }
}

struct TokenKiller(CancellationToken);

impl ProcessKiller for TokenKiller {
    fn kill(&self) {
        self.0.cancel();
    }
}

pub(crate) fn refused(e: openclaw_sandbox::SandboxError) -> BackendError {
    BackendError::Refused {
        message: e.to_string(),
    }
}

#[async_trait]
impl ExecBackend for SandboxExec {
    fn name(&self) -> &'static str {
        "sandbox"
    }

    async fn spawn(&self, req: ExecRequest) -> Result<SpawnedProcess, BackendError> {
        let opts = ExecOptions {
            cwd: Some(req.workdir.to_string_lossy().into_owned()),
            env: req.env.clone(),
            path_prepend: self.path_prepend.clone(),
            timeout: BACKSTOP_TIMEOUT,
            interactive: req.interactive,
            ..ExecOptions::default()
        };
        let openclaw_sandbox::stream::ExecStream {
            mut output,
            stdin,
            exit,
            kill,
        } = self
            .ctx
            .stream_exec(&req.command, &opts)
            .await
            .map_err(refused)?;
        let (tx, rx) = mpsc::channel(OUTPUT_CHANNEL_CAPACITY);
        // Ends when the container stream ends or the job monitor drops the receiver.
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    c = output.recv() => {
                        let Some(c) = c else { break };
                        let kind = if c.stderr { OutputStream::Stderr } else { OutputStream::Stdout };
                        for part in c.data.chunks(OUTPUT_CHUNK_BYTES) {
                            if tx.send(OutputChunk { stream: kind, data: part.to_vec() }).await.is_err() {
                                return;
                            }
                        }
                    }
                    () = tx.closed() => return,
                }
            }
        });
        let exit = exit
            .map(|r| match r {
                Ok(e) if e.killed => Ok(ExitInfo {
                    code: None,
                    signal: Some(9),
                }),
                Ok(e) => Ok(ExitInfo {
                    code: e.code.and_then(|c| i32::try_from(c).ok()),
                    signal: None,
                }),
                Err(e) => Err(refused(e)),
            })
            .boxed();
        Ok(SpawnedProcess {
            pid: None,
            output: rx,
            stdin: Some(stdin),
            exit,
            killer: Arc::new(TokenKiller(kill)),
        })
    }
}
