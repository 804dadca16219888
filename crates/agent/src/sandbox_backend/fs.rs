//! [`SandboxFs`]: the file tools (`read`, `write`, `edit`, `apply_patch`) over the sandbox
//! crate's file bridge, and [`RefusingBackend`], the fail-closed stand-in used when the sandbox
//! cannot be honoured.
//!
//! Paths are as the model wrote them: relative ones resolve under `/workspace`; absolute ones
//! may be container paths (`/workspace/...`, `/agent/...`, bind targets, tmpfs) or host paths
//! under a mount. The bridge maps them, refuses anything else ("Path escapes sandbox root") and
//! refuses writes to read-only mounts naming `agents.defaults.sandbox.workspaceAccess`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use openclaw_sandbox::{SandboxContext, SandboxError};

use super::exec::refused;
use crate::tools::backend::{
    BackendError, ExecBackend, ExecRequest, FileKind, FileStat, FsBackend, SpawnedProcess,
    TextWindow, read_line_window,
};

/// Files of a sandboxed session.
#[derive(Debug, Clone)]
pub struct SandboxFs {
    ctx: Arc<SandboxContext>,
}

impl SandboxFs {
    pub fn new(ctx: Arc<SandboxContext>) -> Self {
        Self { ctx }
    }
}

fn path_str(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

fn map_err(e: SandboxError, path: &Path) -> BackendError {
    match e {
        SandboxError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
            BackendError::NotFound {
                path: path_str(path),
            }
        }
        other => refused(other),
    }
}

impl SandboxFs {
    async fn existing(
        &self,
        path: &Path,
    ) -> Result<openclaw_sandbox::fs_bridge::FileStat, BackendError> {
        match self.ctx.stat(&path_str(path)).await {
            Ok(Some(st)) => Ok(st),
            Ok(None) => Err(BackendError::NotFound {
                path: path_str(path),
            }),
            Err(e) => Err(map_err(e, path)),
        }
    }

    async fn read_all(&self, path: &Path, max_total: u64) -> Result<Vec<u8>, BackendError> {
        let st = self.existing(path).await?;
        if st.is_dir {
            return Err(BackendError::Refused {
                message: format!(
                    "{} is a directory; use exec with ls to list it",
                    path.display()
                ),
            });
        }
        if st.size > max_total {
            return Err(BackendError::TooLarge {
                path: path_str(path),
                size: st.size,
                limit: max_total,
            });
        }
        self.ctx
            .read_file(&path_str(path))
            .await
            .map_err(|e| map_err(e, path))
    }
}

#[async_trait]
impl FsBackend for SandboxFs {
    fn root(&self) -> &Path {
        self.ctx.workspace_dir()
    }

    async fn read_bytes(
        &self,
        path: &Path,
        offset: u64,
        limit: Option<u64>,
        max_total: u64,
    ) -> Result<Vec<u8>, BackendError> {
        let st = self.existing(path).await?;
        let want = limit.unwrap_or(st.size.saturating_sub(offset));
        if limit.is_none() && want > max_total {
            return Err(BackendError::TooLarge {
                path: path_str(path),
                size: st.size,
                limit: max_total,
            });
        }
        let bytes = self.read_all(path, u64::MAX).await?;
        let start = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(bytes.len());
        let len = usize::try_from(want.min(max_total)).unwrap_or(usize::MAX);
        let end = start.saturating_add(len).min(bytes.len());
        Ok(bytes[start..end].to_vec())
    }

    async fn read_text(
        &self,
        path: &Path,
        offset: usize,
        limit: Option<usize>,
        max_bytes: usize,
    ) -> Result<TextWindow, BackendError> {
        let bytes = self.read_all(path, u64::MAX).await?;
        read_line_window(bytes.as_slice(), offset, limit, max_bytes).map_err(|source| {
            BackendError::Io {
                op: "read",
                path: path_str(path),
                source,
            }
        })
    }

    async fn write(&self, path: &Path, bytes: Vec<u8>) -> Result<(), BackendError> {
        self.ctx
            .write_file(&path_str(path), &bytes)
            .await
            .map_err(|e| map_err(e, path))
    }

    async fn create_dir_all(&self, path: &Path) -> Result<(), BackendError> {
        self.ctx
            .mkdir(&path_str(path))
            .await
            .map_err(|e| map_err(e, path))
    }

    async fn remove_file(&self, path: &Path) -> Result<(), BackendError> {
        let st = self.existing(path).await?;
        if st.is_dir {
            return Err(BackendError::Refused {
                message: format!(
                    "{} is a directory; only files can be removed",
                    path.display()
                ),
            });
        }
        self.ctx
            .remove(&path_str(path), false)
            .await
            .map_err(|e| map_err(e, path))
    }

    async fn stat(&self, path: &Path) -> Result<FileStat, BackendError> {
        let st = self.existing(path).await?;
        Ok(FileStat {
            kind: if st.is_dir {
                FileKind::Dir
            } else {
                FileKind::File
            },
            size: st.size,
            modified_ms: st.mtime_ms,
        })
    }
}

/// Refuses every call with one message: the backends of a session whose sandbox could not be
/// set up. Nothing runs, on the host or anywhere else.
#[derive(Debug, Clone)]
pub struct RefusingBackend {
    message: String,
    root: PathBuf,
}

impl RefusingBackend {
    pub fn new(message: String, root: PathBuf) -> Self {
        Self { message, root }
    }

    fn refuse<T>(&self) -> Result<T, BackendError> {
        Err(BackendError::Refused {
            message: self.message.clone(),
        })
    }
}

#[async_trait]
impl ExecBackend for RefusingBackend {
    fn name(&self) -> &'static str {
        "sandbox"
    }

    async fn spawn(&self, _req: ExecRequest) -> Result<SpawnedProcess, BackendError> {
        self.refuse()
    }
}

#[async_trait]
impl FsBackend for RefusingBackend {
    fn root(&self) -> &Path {
        &self.root
    }
    async fn read_bytes(
        &self,
        _: &Path,
        _: u64,
        _: Option<u64>,
        _: u64,
    ) -> Result<Vec<u8>, BackendError> {
        self.refuse()
    }
    async fn read_text(
        &self,
        _: &Path,
        _: usize,
        _: Option<usize>,
        _: usize,
    ) -> Result<TextWindow, BackendError> {
        self.refuse()
    }
    async fn write(&self, _: &Path, _: Vec<u8>) -> Result<(), BackendError> {
        self.refuse()
    }
    async fn create_dir_all(&self, _: &Path) -> Result<(), BackendError> {
        self.refuse()
    }
    async fn remove_file(&self, _: &Path) -> Result<(), BackendError> {
        self.refuse()
    }
    async fn stat(&self, _: &Path) -> Result<FileStat, BackendError> {
        self.refuse()
    }
}
