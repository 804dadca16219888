//! The writer task of one open transcript. It owns the file; a bounded channel feeds it
//! complete lines, and flush/close requests carry a oneshot ack.
//!
//! Each entry goes to disk as exactly one `write` of `line + "\n"` on an `O_APPEND` file, so a
//! crash loses or truncates only the final line. `flush()` also `fdatasync`s. After a failed
//! write the writer refuses further lines (a half-written line must stay the last one, where
//! the loader can cut it off) and reports the error on every later call.

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use openclaw_protocol::Message;
use tokio::sync::{Mutex, mpsc, oneshot};
use tokio::task::JoinHandle;

use super::{Entry, EntryBody, SessionHeader, Transcript, TranscriptMessage, scan};
use crate::atomic_file::{ensure_dir, open_private, parent_dir};
use crate::error::StoreError;
use crate::layout::iso_timestamp;

/// Queue depth between appenders and the writer task. When full, `append().await` waits for
/// the disk: a turn must not outrun its own transcript without bound.
const LINE_CAPACITY: usize = 256;
/// Lines taken from the queue per blocking write batch.
const BATCH: usize = 64;

enum Cmd {
    Line(Vec<u8>),
    Flush(oneshot::Sender<Result<(), StoreError>>),
    /// Ack once every earlier line is written (no sync).
    Written(oneshot::Sender<Result<(), StoreError>>),
    Close(oneshot::Sender<Result<(), StoreError>>),
}

struct Chain {
    leaf: Option<String>,
    ids: IdSet,
}

/// Ids already used in the file, so a new one never collides. Ids this crate makes are 8
/// lower-case hex digits and are kept as `u32` (a long transcript's set stays small); any
/// other id is kept as written.
#[derive(Default)]
struct IdSet {
    hex: HashSet<u32>,
    other: HashSet<String>,
}

impl IdSet {
    fn as_hex(id: &str) -> Option<u32> {
        let ours = id.len() == 8 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        ours.then(|| u32::from_str_radix(id, 16).ok()).flatten()
    }

    fn insert(&mut self, id: &str) {
        match Self::as_hex(id) {
            Some(n) => {
                self.hex.insert(n);
            }
            None => {
                self.other.insert(id.to_string());
            }
        }
    }

    /// A random id not in the set.
    fn fresh(&self) -> String {
        loop {
            let n = rand::random::<u32>();
            if !self.hex.contains(&n) {
                return format!("{n:08x}");
            }
        }
    }
}

/// Handle to an open transcript. Appends are ordered: the parent of each entry is the entry
/// appended before it through this handle.
pub struct TranscriptWriter {
    path: PathBuf,
    session_id: String,
    tx: mpsc::Sender<Cmd>,
    chain: Mutex<Chain>,
    /// Set by the writer task after a failed write; appends then fail fast.
    failed: Arc<OnceLock<String>>,
    task: std::sync::Mutex<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for TranscriptWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TranscriptWriter")
            .field("path", &self.path)
            .finish()
    }
}

impl TranscriptWriter {
    /// Open `path` for appending, creating it with a v3 header (`session_id`, `cwd`) when it is
    /// missing or holds no complete line. An existing file is loaded, a torn final line is
    /// truncated away, and appends continue from its leaf. Returns the loaded transcript.
    pub async fn open(
        path: impl Into<PathBuf>,
        session_id: &str,
        cwd: &str,
    ) -> Result<(TranscriptWriter, Transcript), StoreError> {
        let path = path.into();
        let header = SessionHeader::new(session_id, cwd);
        let p = path.clone();
        let (file, transcript) = tokio::task::spawn_blocking(move || open_blocking(&p, header))
            .await
            .map_err(|e| StoreError::io("open transcript", &path, std::io::Error::other(e)))??;
        let mut ids = IdSet::default();
        for e in &transcript.entries {
            ids.insert(&e.id);
        }
        let chain = Chain {
            leaf: transcript.leaf_id().map(str::to_string),
            ids,
        };
        let (tx, rx) = mpsc::channel(LINE_CAPACITY);
        let failed = Arc::new(OnceLock::new());
        let task = tokio::spawn(write_loop(path.clone(), file, rx, failed.clone()));
        let writer = TranscriptWriter {
            path,
            session_id: transcript.header.id.clone(),
            tx,
            chain: Mutex::new(chain),
            failed,
            task: std::sync::Mutex::new(Some(task)),
        };
        Ok((writer, transcript))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Session id from the file's header.
    pub fn session_id(&self) -> &str {
        &self.session_id
    }

    /// Id of the last appended (or loaded) entry.
    pub async fn leaf_id(&self) -> Option<String> {
        self.chain.lock().await.leaf.clone()
    }

    /// Append an entry whose parent is the current leaf; returns the new entry's id. The line
    /// is queued; call [`flush`](Self::flush) to wait for it to reach the disk.
    pub async fn append(&self, body: EntryBody) -> Result<String, StoreError> {
        if let Some(msg) = self.failed.get() {
            return Err(StoreError::io(
                "append to",
                &self.path,
                std::io::Error::other(msg.clone()),
            ));
        }
        let mut chain = self.chain.lock().await;
        let id = chain.ids.fresh();
        let entry = Entry {
            id: id.clone(),
            parent_id: chain.leaf.clone(),
            timestamp: iso_timestamp(chrono::Utc::now()),
            body,
        };
        let mut line = entry
            .to_line()
            .map_err(|source| StoreError::Parse {
                path: self.path.clone(),
                source,
            })?
            .into_bytes();
        line.push(b'\n');
        // Send while holding the chain lock so file order matches parent order.
        self.tx
            .send(Cmd::Line(line))
            .await
            .map_err(|_| self.gone())?;
        chain.ids.insert(&id);
        chain.leaf = Some(id.clone());
        Ok(id)
    }

    pub async fn append_message(&self, message: Message) -> Result<String, StoreError> {
        self.append(EntryBody::Message {
            message: TranscriptMessage::Known(message),
        })
        .await
    }

    pub async fn append_model_change(
        &self,
        provider: &str,
        model_id: &str,
    ) -> Result<String, StoreError> {
        self.append(EntryBody::ModelChange {
            provider: provider.to_string(),
            model_id: model_id.to_string(),
        })
        .await
    }

    pub async fn append_thinking_level_change(&self, level: &str) -> Result<String, StoreError> {
        self.append(EntryBody::ThinkingLevelChange {
            thinking_level: level.to_string(),
        })
        .await
    }

    pub async fn append_compaction(
        &self,
        summary: &str,
        first_kept_entry_id: &str,
        tokens_before: u64,
    ) -> Result<String, StoreError> {
        self.append(EntryBody::Compaction {
            summary: summary.to_string(),
            first_kept_entry_id: first_kept_entry_id.to_string(),
            tokens_before,
            details: None,
        })
        .await
    }

    /// Wait until every line queued before this call has been written to the file. That is
    /// what survives a killed process (the page cache outlives it); it costs no disk sync, so
    /// the agent loop calls it once per turn. `flush` adds the `fdatasync` for power loss.
    pub async fn written(&self) -> Result<(), StoreError> {
        let (ack, done) = oneshot::channel();
        self.tx
            .send(Cmd::Written(ack))
            .await
            .map_err(|_| self.gone())?;
        done.await.map_err(|_| self.gone())?
    }

    /// Wait until every line queued before this call is written and fdatasync'ed.
    pub async fn flush(&self) -> Result<(), StoreError> {
        let (ack, done) = oneshot::channel();
        self.tx
            .send(Cmd::Flush(ack))
            .await
            .map_err(|_| self.gone())?;
        done.await.map_err(|_| self.gone())?
    }

    /// Flush, sync and stop the writer task.
    pub async fn close(&self) -> Result<(), StoreError> {
        let (ack, done) = oneshot::channel();
        self.tx
            .send(Cmd::Close(ack))
            .await
            .map_err(|_| self.gone())?;
        let result = done.await.map_err(|_| self.gone())?;
        let handle = self.task.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(h) = handle {
            let _ = h.await;
        }
        result
    }

    fn gone(&self) -> StoreError {
        StoreError::WriterGone {
            what: "transcript",
            path: self.path.clone(),
        }
    }
}

fn open_blocking(path: &Path, header: SessionHeader) -> Result<(File, Transcript), StoreError> {
    ensure_dir(&parent_dir(path))?;
    let mut file = open_private(
        path,
        OpenOptions::new().read(true).append(true).create(true),
    )
    .map_err(|e| StoreError::io("open transcript", path, e))?;
    let bytes = std::fs::read(path).map_err(|e| StoreError::io("read transcript", path, e))?;
    let s = scan(path, &bytes);
    if s.torn_tail {
        tracing::warn!(path = %path.display(), "truncating a torn final transcript line left by a crash");
    }
    if s.valid_len < bytes.len() as u64 {
        file.set_len(s.valid_len)
            .map_err(|e| StoreError::io("truncate torn line in", path, e))?;
    }
    if s.needs_newline {
        file.write_all(b"\n")
            .map_err(|e| StoreError::io("append newline to", path, e))?;
    }
    let header = match s.header {
        Some(h) => h,
        None if s.entries.is_empty() && s.skipped_lines == 0 => {
            // Empty, or only a torn header from a crash during creation: start the file.
            file.set_len(0)
                .map_err(|e| StoreError::io("truncate", path, e))?;
            let mut line = header
                .to_line()
                .map_err(|source| StoreError::Parse {
                    path: path.to_path_buf(),
                    source,
                })?
                .into_bytes();
            line.push(b'\n');
            file.write_all(&line)
                .map_err(|e| StoreError::io("write header to", path, e))?;
            file.sync_data()
                .map_err(|e| StoreError::io("fdatasync", path, e))?;
            crate::atomic_file::sync_dir(&parent_dir(path));
            header
        }
        None => {
            return Err(StoreError::NotATranscript {
                path: path.to_path_buf(),
            });
        }
    };
    let transcript = Transcript {
        path: path.to_path_buf(),
        header,
        entries: s.entries,
        skipped_lines: s.skipped_lines,
        torn_tail: s.torn_tail,
    };
    Ok((file, transcript))
}

async fn write_loop(
    path: PathBuf,
    file: File,
    mut rx: mpsc::Receiver<Cmd>,
    failed: Arc<OnceLock<String>>,
) {
    let file = Arc::new(file);
    while let Some(cmd) = rx.recv().await {
        match cmd {
            Cmd::Line(first) => {
                let mut lines = vec![first];
                let mut pending_cmd = None;
                while lines.len() < BATCH {
                    match rx.try_recv() {
                        Ok(Cmd::Line(l)) => lines.push(l),
                        Ok(other) => {
                            pending_cmd = Some(other);
                            break;
                        }
                        Err(_) => break,
                    }
                }
                if failed.get().is_none()
                    && let Err(e) = write_lines(&file, lines).await
                {
                    tracing::warn!(path = %path.display(), error = %e, "transcript append failed; the writer stops accepting lines");
                    let _ = failed.set(e.to_string());
                }
                if let Some(cmd) = pending_cmd
                    && control(&path, &file, &failed, cmd).await
                {
                    return;
                }
            }
            other => {
                if control(&path, &file, &failed, other).await {
                    return;
                }
            }
        }
    }
    let _ = sync(&file).await;
}

/// Handle flush/close; returns true to stop.
async fn control(path: &Path, file: &Arc<File>, failed: &OnceLock<String>, cmd: Cmd) -> bool {
    if let Cmd::Written(ack) = cmd {
        let r = match failed.get() {
            Some(msg) => Err(StoreError::io(
                "append to",
                path,
                std::io::Error::other(msg.clone()),
            )),
            None => Ok(()),
        };
        let _ = ack.send(r);
        return false;
    }
    let result = || async {
        if let Some(msg) = failed.get() {
            return Err(StoreError::io(
                "append to",
                path,
                std::io::Error::other(msg.clone()),
            ));
        }
        sync(file)
            .await
            .map_err(|e| StoreError::io("fdatasync", path, e))
    };
    match cmd {
        Cmd::Flush(ack) => {
            let _ = ack.send(result().await);
            false
        }
        Cmd::Close(ack) => {
            let _ = ack.send(result().await);
            true
        }
        Cmd::Line(_) | Cmd::Written(_) => false,
    }
}

async fn write_lines(file: &Arc<File>, lines: Vec<Vec<u8>>) -> std::io::Result<()> {
    let f = file.clone();
    tokio::task::spawn_blocking(move || {
        let mut handle: &File = &f;
        for line in lines {
            // One write call per complete line (write_all only loops on a short write).
            handle.write_all(&line)?;
        }
        Ok(())
    })
    .await
    .map_err(std::io::Error::other)?
}

async fn sync(file: &Arc<File>) -> std::io::Result<()> {
    let f = file.clone();
    tokio::task::spawn_blocking(move || f.sync_data())
        .await
        .map_err(std::io::Error::other)?
}
