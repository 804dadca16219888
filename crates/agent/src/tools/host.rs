//! Host implementations of the execution seam: commands and files on the gateway machine.
//!
//! Commands run as `/bin/sh -c <command>` (not `$SHELL -lc`: login shells re-read profile files
//! on every call, which is slow and can reset `PATH`), each in its own process group so that a
//! timeout or cancel can kill the whole tree. The gateway's environment is inherited and the
//! request's variables are laid over it.
//!
//! Files: with `workspace_only` every path goes through [`ConfinedRoot`]; without it, relative
//! paths resolve against the workspace and absolute paths are used as given.

use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;

use async_trait::async_trait;
use futures::FutureExt;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::sync::mpsc;

use super::backend::{
    BackendError, ExecBackend, ExecRequest, ExitInfo, FileKind, FileStat, FsBackend,
    OUTPUT_CHANNEL_CAPACITY, OUTPUT_CHUNK_BYTES, OutputChunk, OutputStream, ProcessKiller,
    SpawnedProcess, TextWindow, read_line_window,
};
use super::confined::ConfinedRoot;

/// Runs commands on the gateway host.
#[derive(Debug, Default, Clone)]
pub struct HostExec;

struct GroupKiller {
    pgid: Option<u32>,
}

impl ProcessKiller for GroupKiller {
    fn kill(&self) {
        let Some(pid) = self
            .pgid
            .and_then(|p| i32::try_from(p).ok())
            .and_then(rustix::process::Pid::from_raw)
        else {
            return;
        };
        // ESRCH (already gone) is fine: kill is idempotent.
        let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
    }
}

async fn pump(
    mut reader: impl AsyncRead + Unpin,
    stream: OutputStream,
    tx: mpsc::Sender<OutputChunk>,
) {
    let mut buf = vec![0u8; OUTPUT_CHUNK_BYTES];
    loop {
        tokio::select! {
            r = reader.read(&mut buf) => match r {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if tx.send(OutputChunk { stream, data: buf[..n].to_vec() }).await.is_err() {
                        break;
                    }
                }
            },
            // The consumer stopped listening (drain deadline passed): stop holding the pipe.
            () = tx.closed() => break,
        }
    }
}

#[async_trait]
impl ExecBackend for HostExec {
    fn name(&self) -> &'static str {
        "gateway"
    }

    async fn spawn(&self, req: ExecRequest) -> Result<SpawnedProcess, BackendError> {
        let mut cmd = tokio::process::Command::new("/bin/sh");
        cmd.arg("-c")
            .arg(&req.command)
            .current_dir(&req.workdir)
            .envs(&req.env)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(true);
        let mut child = cmd.spawn().map_err(|source| BackendError::Spawn {
            command: req.command.clone(),
            source,
        })?;
        let pid = child.id();
        let (tx, rx) = mpsc::channel(OUTPUT_CHANNEL_CAPACITY);
        if let Some(out) = child.stdout.take() {
            tokio::spawn(pump(out, OutputStream::Stdout, tx.clone()));
        }
        if let Some(err) = child.stderr.take() {
            tokio::spawn(pump(err, OutputStream::Stderr, tx.clone()));
        }
        drop(tx);
        let stdin = child
            .stdin
            .take()
            .map(|s| Box::pin(s) as std::pin::Pin<Box<dyn tokio::io::AsyncWrite + Send>>);
        let command = req.command.clone();
        let exit = async move {
            let status = child.wait().await.map_err(|source| BackendError::Io {
                op: "wait for",
                path: command,
                source,
            })?;
            use std::os::unix::process::ExitStatusExt;
            Ok(ExitInfo {
                code: status.code(),
                signal: status.signal(),
            })
        }
        .boxed();
        Ok(SpawnedProcess {
            pid,
            output: rx,
            stdin,
            exit,
            killer: Arc::new(GroupKiller { pgid: pid }),
        })
    }
}

/// Files on the gateway host, optionally confined to the workspace.
#[derive(Debug, Clone)]
pub struct HostFs {
    root: PathBuf,
    confined: Option<Arc<ConfinedRoot>>,
}

impl HostFs {
    /// Unconfined: relative paths resolve against `root`, absolute paths are used as given.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self {
            root: root.into(),
            confined: None,
        }
    }

    /// Confined to `root` (which must exist); `key` is the config key named in escape errors
    /// (`tools.fs.workspaceOnly`, `tools.exec.applyPatch.workspaceOnly`).
    pub fn confined(root: impl Into<PathBuf>, key: &'static str) -> Result<Self, BackendError> {
        let root = root.into();
        let c = ConfinedRoot::open(&root, key)?;
        Ok(Self {
            root,
            confined: Some(Arc::new(c)),
        })
    }

    pub fn is_confined(&self) -> bool {
        self.confined.is_some()
    }

    fn full(&self, path: &Path) -> PathBuf {
        if path.is_absolute() {
            path.to_path_buf()
        } else {
            self.root.join(path)
        }
    }

    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(Option<&ConfinedRoot>) -> Result<T, BackendError> + Send + 'static,
    ) -> Result<T, BackendError> {
        let c = self.confined.clone();
        tokio::task::spawn_blocking(move || f(c.as_deref()))
            .await
            .map_err(|e| BackendError::Io {
                op: "run file operation",
                path: String::new(),
                source: std::io::Error::other(e.to_string()),
            })?
    }

    fn open(
        c: Option<&ConfinedRoot>,
        full: &Path,
        shown: &Path,
    ) -> Result<std::fs::File, BackendError> {
        match c {
            Some(c) => Ok(c.open_read(shown)?),
            None => std::fs::File::open(full).map_err(|e| io_err(e, "open", shown)),
        }
    }
}

fn io_err(e: std::io::Error, op: &'static str, path: &Path) -> BackendError {
    if e.kind() == std::io::ErrorKind::NotFound {
        BackendError::NotFound {
            path: path.display().to_string(),
        }
    } else {
        BackendError::Io {
            op,
            path: path.display().to_string(),
            source: e,
        }
    }
}

#[async_trait]
impl FsBackend for HostFs {
    fn root(&self) -> &Path {
        &self.root
    }

    async fn read_bytes(
        &self,
        path: &Path,
        offset: u64,
        limit: Option<u64>,
        max_total: u64,
    ) -> Result<Vec<u8>, BackendError> {
        let (full, shown) = (self.full(path), path.to_path_buf());
        self.blocking(move |c| {
            let mut f = Self::open(c, &full, &shown)?;
            let size = f.metadata().map_err(|e| io_err(e, "stat", &shown))?.len();
            if f.metadata().map(|m| m.is_dir()).unwrap_or(false) {
                return Err(BackendError::Refused {
                    message: format!(
                        "{} is a directory; use exec with ls to list it",
                        shown.display()
                    ),
                });
            }
            let want = limit.unwrap_or(size.saturating_sub(offset));
            if limit.is_none() && want > max_total {
                return Err(BackendError::TooLarge {
                    path: shown.display().to_string(),
                    size,
                    limit: max_total,
                });
            }
            f.seek(SeekFrom::Start(offset))
                .map_err(|e| io_err(e, "seek", &shown))?;
            let mut buf = Vec::new();
            f.take(want.min(max_total))
                .read_to_end(&mut buf)
                .map_err(|e| io_err(e, "read", &shown))?;
            Ok(buf)
        })
        .await
    }

    async fn read_text(
        &self,
        path: &Path,
        offset: usize,
        limit: Option<usize>,
        max_bytes: usize,
    ) -> Result<TextWindow, BackendError> {
        let (full, shown) = (self.full(path), path.to_path_buf());
        self.blocking(move |c| {
            let f = Self::open(c, &full, &shown)?;
            if f.metadata().map(|m| m.is_dir()).unwrap_or(false) {
                return Err(BackendError::Refused {
                    message: format!(
                        "{} is a directory; use exec with ls to list it",
                        shown.display()
                    ),
                });
            }
            read_line_window(std::io::BufReader::new(f), offset, limit, max_bytes)
                .map_err(|e| io_err(e, "read", &shown))
        })
        .await
    }

    async fn write(&self, path: &Path, bytes: Vec<u8>) -> Result<(), BackendError> {
        let (full, shown) = (self.full(path), path.to_path_buf());
        self.blocking(move |c| match c {
            Some(c) => Ok(c.write(&shown, &bytes)?),
            None => {
                if let Some(parent) = full.parent() {
                    std::fs::create_dir_all(parent)
                        .map_err(|e| io_err(e, "create directory for", &shown))?;
                }
                std::fs::write(&full, &bytes).map_err(|e| io_err(e, "write", &shown))
            }
        })
        .await
    }

    async fn create_dir_all(&self, path: &Path) -> Result<(), BackendError> {
        let (full, shown) = (self.full(path), path.to_path_buf());
        self.blocking(move |c| match c {
            Some(c) => Ok(c.create_dir_all(&shown)?),
            None => {
                std::fs::create_dir_all(&full).map_err(|e| io_err(e, "create directory", &shown))
            }
        })
        .await
    }

    async fn remove_file(&self, path: &Path) -> Result<(), BackendError> {
        let (full, shown) = (self.full(path), path.to_path_buf());
        self.blocking(move |c| match c {
            Some(c) => Ok(c.remove_file(&shown)?),
            None => std::fs::remove_file(&full).map_err(|e| io_err(e, "remove", &shown)),
        })
        .await
    }

    async fn stat(&self, path: &Path) -> Result<FileStat, BackendError> {
        let (full, shown) = (self.full(path), path.to_path_buf());
        self.blocking(move |c| match c {
            Some(c) => match c.stat(&shown)? {
                Some(st) => Ok(FileStat {
                    kind: if st.is_dir {
                        FileKind::Dir
                    } else if st.is_file {
                        FileKind::File
                    } else {
                        FileKind::Other
                    },
                    size: st.size,
                    modified_ms: st.modified_ms,
                }),
                None => Err(BackendError::NotFound {
                    path: shown.display().to_string(),
                }),
            },
            None => {
                let m = std::fs::metadata(&full).map_err(|e| io_err(e, "stat", &shown))?;
                let modified_ms = m
                    .modified()
                    .ok()
                    .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                    .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
                    .unwrap_or(0);
                Ok(FileStat {
                    kind: if m.is_dir() {
                        FileKind::Dir
                    } else if m.is_file() {
                        FileKind::File
                    } else {
                        FileKind::Other
                    },
                    size: m.len(),
                    modified_ms,
                })
            }
        })
        .await
    }
}
