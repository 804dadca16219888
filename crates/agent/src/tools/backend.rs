//! The execution seam: where tools meet the machine.
//!
//! Tools never touch processes or files directly; they go through [`ExecBackend`] and
//! [`FsBackend`]. The host implementations live in `host.rs`; the Docker sandbox implements the
//! same traits, so moving a session into a container changes the backend and not the tools.
//! A backend that cannot honour a request (for example a read-only sandbox mount) returns an
//! error; it never falls back to the host.

use std::collections::BTreeMap;
use std::io::{self, BufRead};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures::future::BoxFuture;
use tokio::io::AsyncWrite;
use tokio::sync::mpsc;

use super::confined::ConfinedError;

/// Errors a backend reports to a tool. The message is what the model sees.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    /// The path resolves outside the confinement root.
    #[error("Path escapes workspace: {path} ({key} is on)")]
    Escape { path: String, key: &'static str },
    #[error("File not found: {path}")]
    NotFound { path: String },
    #[error(
        "File too large: {path} is {size} bytes (limit {limit}); read a line window with offset/limit or use exec"
    )]
    TooLarge { path: String, size: u64, limit: u64 },
    #[error("cannot {op} {path}: {source}")]
    Io {
        op: &'static str,
        path: String,
        source: io::Error,
    },
    /// The backend refuses by policy (read-only mount, unsupported feature); `message` says why
    /// and what to change.
    #[error("{message}")]
    Refused { message: String },
    #[error(
        "failed to start `{command}`: {source}; check that the workdir exists and /bin/sh is present"
    )]
    Spawn { command: String, source: io::Error },
}

impl From<ConfinedError> for BackendError {
    fn from(e: ConfinedError) -> Self {
        match e {
            ConfinedError::Escape { path, key } => BackendError::Escape { path, key },
            ConfinedError::NotFound { path } => BackendError::NotFound { path },
            ConfinedError::Io { op, path, source } => BackendError::Io { op, path, source },
        }
    }
}

// ---------------------------------------------------------------------------------------------
// exec

/// One command to run. `workdir` is a host-side path (already resolved against the workspace);
/// a sandbox backend maps it into the container and rejects paths outside its mounts.
#[derive(Debug, Clone, PartialEq)]
pub struct ExecRequest {
    pub command: String,
    pub workdir: PathBuf,
    /// Variables to set on top of the backend's base environment (already validated).
    pub env: BTreeMap<String, String>,
    pub pty: bool,
    /// The caller may write to stdin later (`background`, explicit `yieldMs`, pty). A backend may
    /// run other commands with stdin closed (the sandbox's warm shells do).
    pub interactive: bool,
}

/// Which pipe a chunk came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputStream {
    Stdout,
    Stderr,
}

/// A piece of output. Backends split at most [`OUTPUT_CHUNK_BYTES`] per chunk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputChunk {
    pub stream: OutputStream,
    pub data: Vec<u8>,
}

/// Size of one read from a pipe.
pub const OUTPUT_CHUNK_BYTES: usize = 8 * 1024;
/// Capacity of the output channel of one process. The reader (the job monitor) drains it
/// continuously; when it is full the backend stops reading the pipe, which blocks the writer.
pub const OUTPUT_CHANNEL_CAPACITY: usize = 64;

/// How a process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExitInfo {
    pub code: Option<i32>,
    pub signal: Option<i32>,
}

/// Kills a spawned process and everything it started. Must be idempotent and must not block.
pub trait ProcessKiller: Send + Sync {
    fn kill(&self);
}

/// A running process as handed out by [`ExecBackend::spawn`].
pub struct SpawnedProcess {
    pub pid: Option<u32>,
    /// Output in arrival order; closes when the pipes close (or the backend gives up on them).
    pub output: mpsc::Receiver<OutputChunk>,
    pub stdin: Option<Pin<Box<dyn AsyncWrite + Send>>>,
    /// Resolves when the main process exits (not when the pipes close).
    pub exit: BoxFuture<'static, Result<ExitInfo, BackendError>>,
    pub killer: Arc<dyn ProcessKiller>,
}

impl std::fmt::Debug for SpawnedProcess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SpawnedProcess")
            .field("pid", &self.pid)
            .finish_non_exhaustive()
    }
}

/// Runs commands: on the host, in a container, or elsewhere.
#[async_trait]
pub trait ExecBackend: Send + Sync {
    /// Short name for messages and `details` (`"gateway"`, `"sandbox"`).
    fn name(&self) -> &'static str;
    /// Whether `pty: true` can be honoured; when false the exec tool runs over pipes and says so.
    fn supports_pty(&self) -> bool {
        false
    }
    /// Start the command. Deadlines, cancellation, output caps and backgrounding are handled by
    /// the caller (the job registry) through `output`, `exit` and `killer`.
    async fn spawn(&self, req: ExecRequest) -> Result<SpawnedProcess, BackendError>;
}

// ---------------------------------------------------------------------------------------------
// files

/// What kind of thing a path is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    File,
    Dir,
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileStat {
    pub kind: FileKind,
    pub size: u64,
    pub modified_ms: i64,
}

/// A window of lines from a text file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextWindow {
    /// The lines, joined with `\n` (no trailing newline).
    pub text: String,
    /// 1-based number of the first line returned.
    pub first_line: usize,
    /// Number of lines returned.
    pub line_count: usize,
    /// Total lines in the file.
    pub total_lines: usize,
    /// True when `max_bytes` cut the window short.
    pub truncated_by_bytes: bool,
}

/// File access for tools. Paths are as the model wrote them: relative paths resolve against the
/// backend's root, and the backend decides which absolute paths it accepts.
#[async_trait]
pub trait FsBackend: Send + Sync {
    /// The directory relative paths resolve against (host path), for messages.
    fn root(&self) -> &Path;
    /// Bytes from `offset`, at most `limit` bytes. Errors with `TooLarge` when the file is
    /// bigger than `max_total` and the caller asked for everything (`limit == None`).
    async fn read_bytes(
        &self,
        path: &Path,
        offset: u64,
        limit: Option<u64>,
        max_total: u64,
    ) -> Result<Vec<u8>, BackendError>;
    /// Lines `offset..offset+limit` (1-based), stopping early after `max_bytes` of text.
    async fn read_text(
        &self,
        path: &Path,
        offset: usize,
        limit: Option<usize>,
        max_bytes: usize,
    ) -> Result<TextWindow, BackendError>;
    /// Replace or create the file, creating parent directories.
    async fn write(&self, path: &Path, bytes: Vec<u8>) -> Result<(), BackendError>;
    /// `mkdir -p`.
    async fn create_dir_all(&self, path: &Path) -> Result<(), BackendError>;
    /// Remove one file (not a directory).
    async fn remove_file(&self, path: &Path) -> Result<(), BackendError>;
    /// `NotFound` when missing.
    async fn stat(&self, path: &Path) -> Result<FileStat, BackendError>;
    /// `Ok(false)` when missing; an escape is still an error.
    async fn exists(&self, path: &Path) -> Result<bool, BackendError> {
        match self.stat(path).await {
            Ok(_) => Ok(true),
            Err(BackendError::NotFound { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }
}

/// Cut a line window out of a reader: the shared logic behind [`FsBackend::read_text`].
/// Invalid UTF-8 is replaced, `\r\n` is kept as-is minus the `\n`.
pub fn read_line_window(
    reader: impl BufRead,
    offset: usize,
    limit: Option<usize>,
    max_bytes: usize,
) -> io::Result<TextWindow> {
    let first = offset.max(1);
    let mut out = String::new();
    let mut count = 0usize;
    let mut total = 0usize;
    let mut truncated = false;
    let mut full = false;
    for line in reader.split(b'\n') {
        let line = line?;
        total += 1;
        if total < first || full {
            continue;
        }
        if limit.is_some_and(|l| count >= l) {
            full = true;
            continue;
        }
        let text = String::from_utf8_lossy(&line);
        if count > 0 && out.len() + 1 + text.len() > max_bytes {
            truncated = true;
            full = true;
            continue;
        }
        if count > 0 {
            out.push('\n');
        }
        out.push_str(&text);
        count += 1;
    }
    Ok(TextWindow {
        text: out,
        first_line: first,
        line_count: count,
        total_lines: total,
        truncated_by_bytes: truncated,
    })
}

/// How long to keep reading pipes after the main process exited. Grandchildren that inherited
/// stdout/stderr (a daemon started with `&`) can hold the pipes open forever; after this grace
/// period we stop waiting and report what we have.
pub const IO_DRAIN_TIMEOUT: Duration = Duration::from_millis(2_000);

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn line_window_counts_and_slices() {
        let data = "one\ntwo\nthree\nfour\n";
        let w = read_line_window(data.as_bytes(), 2, Some(2), 1000).unwrap();
        assert_eq!(
            w,
            TextWindow {
                text: "two\nthree".into(),
                first_line: 2,
                line_count: 2,
                total_lines: 4,
                truncated_by_bytes: false
            }
        );
        let w = read_line_window("a\nb".as_bytes(), 0, None, 1000).unwrap();
        assert_eq!(
            (w.text.as_str(), w.total_lines, w.first_line),
            ("a\nb", 2, 1)
        );
        let w = read_line_window("aaaa\nbbbb\ncccc".as_bytes(), 1, None, 6).unwrap();
        assert_eq!(
            (w.text.as_str(), w.line_count, w.truncated_by_bytes),
            ("aaaa", 1, true)
        );
    }
}
