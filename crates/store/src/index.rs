//! The session index, `<state>/agents/<agentId>/sessions/sessions.json`: a JSON object mapping
//! session key → [`SessionEntry`].
//!
//! One [`SessionStore`] owns the index of one agent. The map lives in memory, so reads never
//! touch disk. Mutations change the map and nudge a writer task; the writer waits a short
//! debounce (50 ms by default) so a burst of updates becomes one file write, then replaces the
//! file atomically. A turn therefore costs the same with 1,000 sessions stored as with one, and
//! a `kill -9` leaves the previous or the next complete file. `flush().await` and
//! `shutdown().await` carry a oneshot ack so callers can wait for durability.
//!
//! Fields we do not model are kept (`extra`), and entries that do not even parse as a
//! `SessionEntry` are kept verbatim, so a state dir written by OpenClaw 2026.2 round-trips.
//! A file that is not JSON at all is moved aside to `sessions.json.corrupt-<ts>` and the store
//! starts empty; transcripts are never touched by that recovery.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tokio::sync::{Notify, mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::atomic_file::{self, write_atomic};
use crate::error::StoreError;
use crate::layout::archive_timestamp;

/// One row of `sessions.json`. Field names are OpenClaw's (camelCase); unknown fields are kept
/// in `extra` and written back unchanged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct SessionEntry {
    pub session_id: String,
    /// Unix ms of the last activity.
    #[serde(default)]
    pub updated_at: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_file: Option<String>,
    /// `direct` | `group` | `room` (OpenClaw also writes `channel`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chat_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thinking_level: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verbose_level: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_level: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub elevated_level: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_override: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_override: Option<String>,
    /// Provider of the model that ran last (what `sessions.list` shows as `modelProvider`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_provider: Option<String>,
    /// Model that ran last (what `sessions.list` shows as `model`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_tokens: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_tokens: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_tokens: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_tokens: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compaction_count: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_channel: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_to: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_account_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spawned_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_session_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aborted_last_run: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_sent: Option<bool>,
    /// Every other field, kept as written.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl SessionEntry {
    pub fn new(session_id: impl Into<String>, updated_at: u64) -> Self {
        SessionEntry {
            session_id: session_id.into(),
            updated_at,
            ..Default::default()
        }
    }

    /// A fresh entry with a new random session id (UUID v4).
    pub fn fresh(updated_at: u64) -> Self {
        Self::new(uuid::Uuid::new_v4().to_string(), updated_at)
    }
}

/// Tuning for a [`SessionStore`].
#[derive(Debug, Clone)]
pub struct SessionStoreOptions {
    /// How long the writer waits after a structural change (a new session, a new `sessionId`,
    /// a removal) before writing: short, because a restart must find every session.
    pub debounce: Duration,
    /// How long it waits after a routine change (timestamps, token counters): long, so a busy
    /// gateway does not rewrite a large index many times a second.
    pub lazy_debounce: Duration,
}

impl Default for SessionStoreOptions {
    fn default() -> Self {
        SessionStoreOptions {
            debounce: Duration::from_millis(50),
            lazy_debounce: Duration::from_millis(1000),
        }
    }
}

/// Capacity of the flush/shutdown command queue. Commands are rare (explicit flushes); when
/// it is full, `flush().await` waits, which is the backpressure we want.
const COMMAND_CAPACITY: usize = 16;

enum Command {
    Flush(oneshot::Sender<Result<(), StoreError>>),
    Shutdown(oneshot::Sender<Result<(), StoreError>>),
}

#[derive(Default)]
struct Rows {
    entries: BTreeMap<String, SessionEntry>,
    /// Rows that did not parse as a `SessionEntry`, written back verbatim.
    opaque: BTreeMap<String, Value>,
}

struct Shared {
    path: PathBuf,
    rows: Mutex<Rows>,
    /// Bumped on every mutation; the writer compares it with what it last wrote.
    generation: AtomicU64,
    writes: AtomicU64,
    nudge: Notify,
    /// Set by structural changes; the writer then uses the short debounce.
    urgent: std::sync::atomic::AtomicBool,
}

impl Shared {
    fn rows(&self) -> MutexGuard<'_, Rows> {
        // A poisoned lock only means a panic elsewhere mid-update of an in-memory map; the
        // map itself is still a valid value, so keep serving it.
        self.rows.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn changed(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        self.nudge.notify_one();
    }

    fn changed_urgent(&self) {
        self.urgent.store(true, Ordering::SeqCst);
        self.changed();
    }

    fn snapshot(&self) -> Result<(u64, Vec<u8>), StoreError> {
        let rows = self.rows();
        let generation = self.generation.load(Ordering::SeqCst);
        let mut map = Map::new();
        // Merge both maps in key order so the file stays sorted and stable.
        let mut opaque = rows.opaque.iter().peekable();
        for (k, v) in &rows.entries {
            while let Some((ok, ov)) = opaque.next_if(|(ok, _)| ok.as_str() < k.as_str()) {
                map.insert(ok.clone(), ov.clone());
            }
            let value = serde_json::to_value(v).map_err(|source| StoreError::Parse {
                path: self.path.clone(),
                source,
            })?;
            map.insert(k.clone(), value);
        }
        for (ok, ov) in opaque {
            map.insert(ok.clone(), ov.clone());
        }
        drop(rows);
        let bytes =
            serde_json::to_vec_pretty(&Value::Object(map)).map_err(|source| StoreError::Parse {
                path: self.path.clone(),
                source,
            })?;
        Ok((generation, bytes))
    }
}

/// In-memory owner of one agent's `sessions.json`. Cheap to clone; all clones share one map
/// and one writer task.
#[derive(Clone)]
pub struct SessionStore {
    shared: Arc<Shared>,
    commands: mpsc::Sender<Command>,
    task: Arc<Mutex<Option<JoinHandle<()>>>>,
    recovered_from: Option<PathBuf>,
}

impl std::fmt::Debug for SessionStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionStore")
            .field("path", &self.shared.path)
            .finish()
    }
}

impl SessionStore {
    /// Load `path` (missing file → empty index) and start the writer task. Must be called
    /// inside a Tokio runtime.
    pub async fn open(path: impl Into<PathBuf>) -> Result<Self, StoreError> {
        Self::open_with(path, SessionStoreOptions::default()).await
    }

    pub async fn open_with(
        path: impl Into<PathBuf>,
        options: SessionStoreOptions,
    ) -> Result<Self, StoreError> {
        let path = path.into();
        let p = path.clone();
        let (rows, recovered_from) = tokio::task::spawn_blocking(move || load_rows(&p))
            .await
            .map_err(|e| StoreError::io("load", &path, std::io::Error::other(e)))??;
        let shared = Arc::new(Shared {
            path,
            rows: Mutex::new(rows),
            generation: AtomicU64::new(0),
            writes: AtomicU64::new(0),
            nudge: Notify::new(),
            urgent: std::sync::atomic::AtomicBool::new(false),
        });
        let (tx, rx) = mpsc::channel(COMMAND_CAPACITY);
        let task = tokio::spawn(writer_loop(
            shared.clone(),
            rx,
            options.debounce,
            options.lazy_debounce,
        ));
        Ok(SessionStore {
            shared,
            commands: tx,
            task: Arc::new(Mutex::new(Some(task))),
            recovered_from,
        })
    }

    pub fn path(&self) -> &Path {
        &self.shared.path
    }

    /// Directory holding the index and the transcripts.
    pub fn sessions_dir(&self) -> PathBuf {
        atomic_file::parent_dir(&self.shared.path)
    }

    /// Transcript file of an entry: `<sessions dir>/<file name of sessionFile>` when
    /// `sessionFile` is set (OpenClaw stores absolute paths, which break when the state dir
    /// moves, e.g. between a host and a container), else `<sessions dir>/<sessionId>.jsonl`.
    pub fn transcript_path(&self, entry: &SessionEntry) -> PathBuf {
        let name = entry
            .session_file
            .as_deref()
            .and_then(|f| Path::new(f).file_name())
            .map(|n| n.to_os_string());
        match name {
            Some(n) => self.sessions_dir().join(n),
            None => self
                .sessions_dir()
                .join(format!("{}.jsonl", entry.session_id)),
        }
    }

    /// Where a corrupt index was moved to when this store was opened, if that happened.
    pub fn recovered_from(&self) -> Option<&Path> {
        self.recovered_from.as_deref()
    }

    /// How many times the writer has replaced the file since open (for metrics and tests).
    pub fn write_count(&self) -> u64 {
        self.shared.writes.load(Ordering::SeqCst)
    }

    pub fn get(&self, key: &str) -> Option<SessionEntry> {
        self.shared.rows().entries.get(key).cloned()
    }

    pub fn contains(&self, key: &str) -> bool {
        self.shared.rows().entries.contains_key(key)
    }

    pub fn len(&self) -> usize {
        self.shared.rows().entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// All typed entries, sorted by key.
    pub fn list(&self) -> Vec<(String, SessionEntry)> {
        let rows = self.shared.rows();
        rows.entries
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// Find the key whose entry has this session id.
    pub fn key_for_session_id(&self, session_id: &str) -> Option<String> {
        let rows = self.shared.rows();
        rows.entries
            .iter()
            .find(|(_, e)| e.session_id == session_id)
            .map(|(k, _)| k.clone())
    }

    /// Insert or replace an entry. Returns the previous one.
    pub fn upsert(&self, key: impl Into<String>, entry: SessionEntry) -> Option<SessionEntry> {
        let key = key.into();
        let prev = {
            let mut rows = self.shared.rows();
            rows.opaque.remove(&key);
            rows.entries.insert(key, entry)
        };
        self.shared.changed_urgent();
        prev
    }

    /// Change an existing entry in place; `None` if there is none.
    pub fn update<R>(&self, key: &str, f: impl FnOnce(&mut SessionEntry) -> R) -> Option<R> {
        let out = {
            let mut rows = self.shared.rows();
            rows.entries.get_mut(key).map(f)
        };
        if out.is_some() {
            self.shared.changed();
        }
        out
    }

    /// Get the entry for `key`, creating it with `create()` first if missing; then apply `f`.
    pub fn update_or_insert<R>(
        &self,
        key: &str,
        create: impl FnOnce() -> SessionEntry,
        f: impl FnOnce(&mut SessionEntry) -> R,
    ) -> R {
        let (out, created) = {
            let mut rows = self.shared.rows();
            rows.opaque.remove(key);
            let created = !rows.entries.contains_key(key);
            (
                f(rows.entries.entry(key.to_string()).or_insert_with(create)),
                created,
            )
        };
        if created {
            self.shared.changed_urgent();
        } else {
            self.shared.changed();
        }
        out
    }

    pub fn remove(&self, key: &str) -> Option<SessionEntry> {
        let prev = {
            let mut rows = self.shared.rows();
            rows.opaque.remove(key);
            rows.entries.remove(key)
        };
        if prev.is_some() {
            self.shared.changed_urgent();
        }
        prev
    }

    /// Wait until every change made before this call is on disk.
    pub async fn flush(&self) -> Result<(), StoreError> {
        let (ack, done) = oneshot::channel();
        self.send(Command::Flush(ack)).await?;
        done.await.map_err(|_| self.gone())?
    }

    /// Flush and stop the writer task. Later mutations stay in memory only.
    pub async fn shutdown(&self) -> Result<(), StoreError> {
        let (ack, done) = oneshot::channel();
        self.send(Command::Shutdown(ack)).await?;
        let result = done.await.map_err(|_| self.gone())?;
        let handle = self.task.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(h) = handle {
            let _ = h.await;
        }
        result
    }

    async fn send(&self, cmd: Command) -> Result<(), StoreError> {
        self.commands.send(cmd).await.map_err(|_| self.gone())
    }

    fn gone(&self) -> StoreError {
        StoreError::WriterGone {
            what: "session index",
            path: self.shared.path.clone(),
        }
    }
}

async fn writer_loop(
    shared: Arc<Shared>,
    mut rx: mpsc::Receiver<Command>,
    debounce: Duration,
    lazy: Duration,
) {
    let mut written = 0u64;
    loop {
        tokio::select! {
            _ = shared.nudge.notified() => {
                let wait = |urgent: bool| if urgent { debounce } else { lazy.max(debounce) };
                let mut deadline = tokio::time::Instant::now() + wait(shared.urgent.load(Ordering::SeqCst));
                let mut handled = false;
                loop {
                    tokio::select! {
                        _ = tokio::time::sleep_until(deadline) => break,
                        // A structural change while waiting shortens the wait.
                        _ = shared.nudge.notified() => {
                            if shared.urgent.load(Ordering::SeqCst) {
                                deadline = deadline.min(tokio::time::Instant::now() + debounce);
                            }
                        }
                        cmd = rx.recv() => {
                            if handle_command(&shared, &mut written, cmd).await { return; }
                            handled = true;
                            break;
                        }
                    }
                }
                shared.urgent.store(false, Ordering::SeqCst);
                if !handled && let Err(e) = write_if_dirty(&shared, &mut written).await {
                    tracing::warn!(error = %e, "session index write failed; will retry on next change or flush");
                }
            }
            cmd = rx.recv() => {
                if handle_command(&shared, &mut written, cmd).await { return; }
            }
        }
    }
}

/// Returns true when the writer must stop.
async fn handle_command(shared: &Arc<Shared>, written: &mut u64, cmd: Option<Command>) -> bool {
    match cmd {
        Some(Command::Flush(ack)) => {
            let _ = ack.send(write_if_dirty(shared, written).await);
            false
        }
        Some(Command::Shutdown(ack)) => {
            let _ = ack.send(write_if_dirty(shared, written).await);
            true
        }
        None => {
            if let Err(e) = write_if_dirty(shared, written).await {
                tracing::warn!(error = %e, "final session index write failed");
            }
            true
        }
    }
}

async fn write_if_dirty(shared: &Arc<Shared>, written: &mut u64) -> Result<(), StoreError> {
    if shared.generation.load(Ordering::SeqCst) == *written {
        return Ok(());
    }
    let s = shared.clone();
    let generation = tokio::task::spawn_blocking(move || {
        let (generation, bytes) = s.snapshot()?;
        write_atomic(&s.path, &bytes)?;
        Ok::<_, StoreError>(generation)
    })
    .await
    .map_err(|e| StoreError::io("write", &shared.path, std::io::Error::other(e)))??;
    *written = generation;
    shared.writes.fetch_add(1, Ordering::SeqCst);
    Ok(())
}

/// Blocking load: missing → empty; unparsable → moved aside and empty.
fn load_rows(path: &Path) -> Result<(Rows, Option<PathBuf>), StoreError> {
    atomic_file::remove_stale_temps(path);
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((Rows::default(), None)),
        Err(e) => return Err(StoreError::io("read", path, e)),
    };
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok((Rows::default(), None));
    }
    match serde_json::from_slice::<Map<String, Value>>(&bytes) {
        Ok(map) => Ok((rows_from_map(map), None)),
        Err(err) => {
            let aside = PathBuf::from(format!(
                "{}.corrupt-{}",
                path.display(),
                archive_timestamp(chrono::Utc::now())
            ));
            std::fs::rename(path, &aside)
                .map_err(|e| StoreError::io("move corrupt index aside to", &aside, e))?;
            tracing::warn!(
                path = %path.display(),
                moved_to = %aside.display(),
                error = %err,
                "session index is not valid JSON; moved it aside and started empty (transcripts are untouched)"
            );
            Ok((Rows::default(), Some(aside)))
        }
    }
}

fn rows_from_map(map: Map<String, Value>) -> Rows {
    let mut rows = Rows::default();
    for (k, v) in map {
        match serde_json::from_value::<SessionEntry>(v.clone()) {
            Ok(e) => {
                rows.entries.insert(k, e);
            }
            Err(err) => {
                tracing::warn!(key = %k, error = %err, "session index row kept verbatim: not a session entry");
                rows.opaque.insert(k, v);
            }
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn entry_keeps_unknown_fields() {
        let raw = serde_json::json!({
            "sessionId": "s1", "updatedAt": 5, "chatType": "direct",
            "deliveryContext": {"channel": "telegram"}, "sendPolicy": "allow",
            "inputTokens": 10
        });
        let e: SessionEntry = serde_json::from_value(raw.clone()).unwrap();
        assert_eq!(e.input_tokens, Some(10));
        assert_eq!(e.extra.get("sendPolicy"), Some(&Value::from("allow")));
        assert_eq!(serde_json::to_value(&e).unwrap(), raw);
    }

    #[test]
    fn bad_rows_are_kept_verbatim() {
        let map: Map<String, Value> = serde_json::from_value(serde_json::json!({
            "a": {"sessionId": "x", "updatedAt": 1},
            "b": {"updatedAt": "not a number"},
        }))
        .unwrap();
        let rows = rows_from_map(map);
        assert_eq!(rows.entries.len(), 1);
        assert_eq!(rows.opaque.len(), 1);
    }
}
