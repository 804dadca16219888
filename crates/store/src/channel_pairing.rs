//! DM pairing state of chat channels, in the baseline's JSON files under
//! `<state>/credentials/`:
//!
//! - `<channel>-pairing.json`: `{"version":1,"requests":[{id, code, createdAt, lastSeenAt, meta}]}`,
//!   the pending requests of unknown senders;
//! - `<channel>-allowFrom.json` (default account) or `<channel>-<accountId>-allowFrom.json`:
//!   `{"version":1,"allowFrom":["123"]}`, the senders an owner approved.
//!
//! Rules (the baseline's): codes are 8 characters from an alphabet without `0 O 1 I`; a request
//! expires one hour after it was created; at most three requests are pending per channel (a
//! fourth unknown sender gets no code); a sender that asks again keeps its code and is not told
//! again. Approving a code moves the sender into the allowlist file.
//!
//! The gateway (new requests) and the CLI (`openclaw pairing approve`) change these files from two
//! processes, so every read-modify-write holds `<file>.lock`, and every write is atomic (0600).
//! These functions block: async callers run them in `spawn_blocking`. The store keeps entries as
//! given; what counts as the same sender (prefixes such as `telegram:`) is the channel's call.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use chrono::{DateTime, Utc};
use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::atomic_file::{open_private, write_atomic};
use crate::error::StoreError;
use crate::layout::iso_timestamp;
use crate::session_key::DEFAULT_ACCOUNT_ID;

pub const PAIRING_CODE_LENGTH: usize = 8;
/// Upper case, without the look-alikes `0 O 1 I`.
pub const PAIRING_CODE_ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
/// A pending request expires this long after it was created.
pub const PAIRING_PENDING_TTL: Duration = Duration::from_secs(60 * 60);
/// At most this many requests are pending per channel; further senders get no code.
pub const PAIRING_PENDING_MAX: usize = 3;

/// A lock older than this is left over from a crashed process and is taken over.
const LOCK_STALE: Duration = Duration::from_secs(30);
/// Longest wait for a lock held by a live process.
const LOCK_WAIT: Duration = Duration::from_secs(10);

/// One pending request. Unknown fields written by other versions are kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PairingRequest {
    /// The sender id on the channel (a Telegram user id).
    pub id: String,
    pub code: String,
    pub created_at: String,
    pub last_seen_at: String,
    /// Sender details for `pairing list` (`username`, `firstName`, …) and, for a non-default
    /// account, `accountId`.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub meta: Map<String, Value>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl PairingRequest {
    /// The account the request came in on (`default` when the request does not say).
    pub fn account_id(&self) -> String {
        self.meta
            .get("accountId")
            .and_then(Value::as_str)
            .map(|a| a.trim().to_lowercase())
            .filter(|a| !a.is_empty())
            .unwrap_or_else(|| DEFAULT_ACCOUNT_ID.to_string())
    }
}

/// What [`ChannelPairingStore::upsert`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upserted {
    /// The sender's code; empty when the pending cap is reached and no code was issued.
    pub code: String,
    /// A new request was created (only then is the sender told the code).
    pub created: bool,
}

/// An approved request.
#[derive(Debug, Clone, PartialEq)]
pub struct Approved {
    pub id: String,
    pub request: PairingRequest,
}

#[derive(Serialize, Deserialize)]
struct PairingFile {
    version: u32,
    #[serde(default)]
    requests: Vec<Value>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AllowFromFile {
    version: u32,
    #[serde(default)]
    allow_from: Vec<Value>,
}

/// The pairing files of every channel, under one credentials directory.
#[derive(Debug, Clone)]
pub struct ChannelPairingStore {
    dir: PathBuf,
}

impl ChannelPairingStore {
    /// `dir` is `<state>/credentials`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        ChannelPairingStore { dir: dir.into() }
    }

    /// `<dir>/<channel>-pairing.json`.
    pub fn pairing_path(&self, channel: &str) -> Result<PathBuf, StoreError> {
        Ok(self
            .dir
            .join(format!("{}-pairing.json", safe_key("channel", channel)?)))
    }

    /// `<dir>/<channel>-allowFrom.json` for the default account (`None` or `default`),
    /// `<dir>/<channel>-<account>-allowFrom.json` otherwise.
    pub fn allow_from_path(
        &self,
        channel: &str,
        account_id: Option<&str>,
    ) -> Result<PathBuf, StoreError> {
        let base = safe_key("channel", channel)?;
        Ok(match account_id.map(str::trim).filter(|a| !a.is_empty()) {
            Some(a) if !a.eq_ignore_ascii_case(DEFAULT_ACCOUNT_ID) => self.dir.join(format!(
                "{base}-{}-allowFrom.json",
                safe_key("account id", a)?
            )),
            _ => self.dir.join(format!("{base}-allowFrom.json")),
        })
    }

    /// Pending requests, oldest first (expired and excess ones are dropped from the file).
    /// `account` filters by the account the request came in on.
    pub fn list(
        &self,
        channel: &str,
        account: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Vec<PairingRequest>, StoreError> {
        let path = self.pairing_path(channel)?;
        with_lock(&path, || {
            let (requests, changed) = prune(read_requests(&path)?, now);
            if changed {
                write_requests(&path, &requests)?;
            }
            let account = account.map(|a| a.trim().to_lowercase());
            let mut out: Vec<PairingRequest> = requests
                .into_iter()
                .filter(|r| account.as_deref().is_none_or(|a| r.account_id() == a))
                .collect();
            out.sort_by(|a, b| a.created_at.cmp(&b.created_at));
            Ok(out)
        })
    }

    /// Record that `id` asked for access on `account_id`. A sender with a pending request keeps
    /// its code (`created: false`); a new sender gets a fresh code unless the cap is reached.
    pub fn upsert(
        &self,
        channel: &str,
        id: &str,
        account_id: &str,
        meta: Map<String, Value>,
        now: DateTime<Utc>,
    ) -> Result<Upserted, StoreError> {
        let path = self.pairing_path(channel)?;
        let id = id.trim().to_string();
        let account = normalize_account(account_id);
        let mut meta: Map<String, Value> = meta
            .into_iter()
            .filter(|(_, v)| v.as_str().is_none_or(|s| !s.trim().is_empty()) && !v.is_null())
            .collect();
        if account != DEFAULT_ACCOUNT_ID {
            meta.insert("accountId".into(), Value::String(account.clone()));
        }
        with_lock(&path, || {
            let (mut requests, pruned) = prune(read_requests(&path)?, now);
            let stamp = iso_timestamp(now);
            if let Some(existing) = requests
                .iter_mut()
                .find(|r| r.id == id && r.account_id() == account)
            {
                existing.last_seen_at = stamp;
                existing.meta = meta;
                let code = existing.code.clone();
                write_requests(&path, &requests)?;
                return Ok(Upserted {
                    code,
                    created: false,
                });
            }
            if requests.len() >= PAIRING_PENDING_MAX {
                if pruned {
                    write_requests(&path, &requests)?;
                }
                return Ok(Upserted {
                    code: String::new(),
                    created: false,
                });
            }
            let code = unique_code(&requests);
            requests.push(PairingRequest {
                id: id.clone(),
                code: code.clone(),
                created_at: stamp.clone(),
                last_seen_at: stamp,
                meta,
                extra: Map::new(),
            });
            write_requests(&path, &requests)?;
            Ok(Upserted {
                code,
                created: true,
            })
        })
    }

    /// Approve a pending code (case-insensitive): the request leaves the pending file and its
    /// sender joins the allowlist of the account it came in on. `None` when no pending request
    /// has this code (it may have expired).
    pub fn approve(
        &self,
        channel: &str,
        code: &str,
        account: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Option<Approved>, StoreError> {
        let code = code.trim().to_uppercase();
        if code.is_empty() {
            return Ok(None);
        }
        let path = self.pairing_path(channel)?;
        let account = account.map(normalize_account);
        let approved = with_lock(&path, || {
            let (mut requests, pruned) = prune(read_requests(&path)?, now);
            let found = requests.iter().position(|r| {
                r.code.to_uppercase() == code
                    && account.as_deref().is_none_or(|a| r.account_id() == a)
            });
            let Some(i) = found else {
                if pruned {
                    write_requests(&path, &requests)?;
                }
                return Ok(None);
            };
            let request = requests.remove(i);
            write_requests(&path, &requests)?;
            Ok(Some(request))
        })?;
        let Some(request) = approved else {
            return Ok(None);
        };
        let account = account.unwrap_or_else(|| request.account_id());
        self.add_allow_from(channel, &account, &request.id)?;
        Ok(Some(Approved {
            id: request.id.clone(),
            request,
        }))
    }

    /// Approved senders of an account. The default account also reads
    /// `<channel>-default-allowFrom.json`, where newer releases keep it. A missing file is an
    /// empty list; an unreadable one is an error (callers fail closed).
    pub fn read_allow_from(
        &self,
        channel: &str,
        account_id: &str,
    ) -> Result<Vec<String>, StoreError> {
        let account = normalize_account(account_id);
        let mut paths = vec![self.allow_from_path(channel, Some(&account))?];
        if account == DEFAULT_ACCOUNT_ID {
            paths.push(self.dir.join(format!(
                "{}-{DEFAULT_ACCOUNT_ID}-allowFrom.json",
                safe_key("channel", channel)?
            )));
        }
        let mut out: Vec<String> = Vec::new();
        for p in paths {
            for entry in read_allow_file(&p)? {
                if !out.contains(&entry) {
                    out.push(entry);
                }
            }
        }
        Ok(out)
    }

    /// The files [`read_allow_from`](Self::read_allow_from) reads, for change detection.
    pub fn allow_from_files(
        &self,
        channel: &str,
        account_id: &str,
    ) -> Result<Vec<PathBuf>, StoreError> {
        let account = normalize_account(account_id);
        let mut paths = vec![self.allow_from_path(channel, Some(&account))?];
        if account == DEFAULT_ACCOUNT_ID {
            paths.push(self.dir.join(format!(
                "{}-{DEFAULT_ACCOUNT_ID}-allowFrom.json",
                safe_key("channel", channel)?
            )));
        }
        Ok(paths)
    }

    /// Add `entry` to the account's allowlist file; `false` when it was already there.
    pub fn add_allow_from(
        &self,
        channel: &str,
        account_id: &str,
        entry: &str,
    ) -> Result<bool, StoreError> {
        let entry = entry.trim().to_string();
        if entry.is_empty() || entry == "*" {
            return Ok(false);
        }
        let path = self.allow_from_path(channel, Some(account_id))?;
        with_lock(&path, || {
            let mut current = read_allow_file(&path)?;
            if current.contains(&entry) {
                return Ok(false);
            }
            current.push(entry.clone());
            let file = AllowFromFile {
                version: 1,
                allow_from: current.into_iter().map(Value::String).collect(),
            };
            write_json(&path, &file)?;
            Ok(true)
        })
    }
}

fn normalize_account(raw: &str) -> String {
    let a = raw.trim().to_lowercase();
    if a.is_empty() {
        DEFAULT_ACCOUNT_ID.to_string()
    } else {
        a
    }
}

/// A channel or account id made safe for a file name (no separators, no `..`).
fn safe_key(what: &'static str, raw: &str) -> Result<String, StoreError> {
    let lower = raw.trim().to_lowercase();
    let safe: String = lower
        .chars()
        .map(|c| {
            if matches!(c, '\\' | '/' | ':' | '*' | '?' | '"' | '<' | '>' | '|') {
                '_'
            } else {
                c
            }
        })
        .collect::<String>()
        .replace("..", "_");
    if safe.is_empty() || safe == "_" {
        return Err(StoreError::InvalidName {
            what,
            value: raw.to_string(),
        });
    }
    Ok(safe)
}

fn read_bytes(path: &Path) -> Result<Option<Vec<u8>>, StoreError> {
    match fs::read(path) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(StoreError::io("read", path, e)),
    }
}

/// Pending requests; entries without the required string fields are dropped.
fn read_requests(path: &Path) -> Result<Vec<PairingRequest>, StoreError> {
    let Some(bytes) = read_bytes(path)? else {
        return Ok(Vec::new());
    };
    // A torn or hand-mangled pending file only holds short-lived codes: start over rather than
    // lock every unknown sender out.
    let file: PairingFile = match serde_json::from_slice(&bytes) {
        Ok(f) => f,
        Err(e) => {
            tracing::warn!(path = %path.display(), error = %e, "unreadable pairing file; starting with no pending requests");
            return Ok(Vec::new());
        }
    };
    Ok(file
        .requests
        .into_iter()
        .filter_map(|v| serde_json::from_value(v).ok())
        .collect())
}

fn write_requests(path: &Path, requests: &[PairingRequest]) -> Result<(), StoreError> {
    let file = PairingFile {
        version: 1,
        requests: requests
            .iter()
            .filter_map(|r| serde_json::to_value(r).ok())
            .collect(),
    };
    write_json(path, &file)
}

fn read_allow_file(path: &Path) -> Result<Vec<String>, StoreError> {
    let Some(bytes) = read_bytes(path)? else {
        return Ok(Vec::new());
    };
    let file: AllowFromFile =
        serde_json::from_slice(&bytes).map_err(|source| StoreError::Parse {
            path: path.to_path_buf(),
            source,
        })?;
    let mut out: Vec<String> = Vec::new();
    for v in file.allow_from {
        let s = match v {
            Value::String(s) => s.trim().to_string(),
            Value::Number(n) => n.to_string(),
            _ => continue,
        };
        if !s.is_empty() && s != "*" && !out.contains(&s) {
            out.push(s);
        }
    }
    Ok(out)
}

/// Pretty JSON with a trailing newline, as the baseline writes it.
fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), StoreError> {
    let mut text = serde_json::to_string_pretty(value)
        .map_err(|e| StoreError::io("serialize", path, std::io::Error::other(e.to_string())))?;
    text.push('\n');
    write_atomic(path, text.as_bytes())
}

/// Drop expired requests (and requests with an unreadable `createdAt`), then keep only the
/// most recently seen [`PAIRING_PENDING_MAX`]. Returns whether anything was dropped.
fn prune(requests: Vec<PairingRequest>, now: DateTime<Utc>) -> (Vec<PairingRequest>, bool) {
    let before = requests.len();
    let ttl = chrono::Duration::from_std(PAIRING_PENDING_TTL).unwrap_or(chrono::Duration::MAX);
    let mut kept: Vec<PairingRequest> = requests
        .into_iter()
        .filter(|r| parse_ts(&r.created_at).is_some_and(|t| now - t <= ttl))
        .collect();
    if kept.len() > PAIRING_PENDING_MAX {
        kept.sort_by_key(|r| parse_ts(&r.last_seen_at).or_else(|| parse_ts(&r.created_at)));
        kept.drain(..kept.len() - PAIRING_PENDING_MAX);
    }
    let changed = kept.len() != before;
    (kept, changed)
}

fn parse_ts(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

fn unique_code(existing: &[PairingRequest]) -> String {
    let mut rng = rand::thread_rng();
    loop {
        let code: String = (0..PAIRING_CODE_LENGTH)
            .map(|_| PAIRING_CODE_ALPHABET[rng.gen_range(0..PAIRING_CODE_ALPHABET.len())] as char)
            .collect();
        // 32^8 codes against at most three pending: a clash is vanishingly rare.
        if !existing.iter().any(|r| r.code.eq_ignore_ascii_case(&code)) {
            return code;
        }
    }
}

/// Run `f` while holding `<path>.lock` (created exclusively; removed afterwards). A lock older
/// than [`LOCK_STALE`] belongs to a crashed process and is removed.
fn with_lock<T>(path: &Path, f: impl FnOnce() -> Result<T, StoreError>) -> Result<T, StoreError> {
    let lock = PathBuf::from(format!("{}.lock", path.display()));
    if let Some(dir) = lock.parent() {
        crate::atomic_file::ensure_dir(dir)?;
    }
    let started = std::time::Instant::now();
    loop {
        match open_private(&lock, OpenOptions::new().write(true).create_new(true)) {
            Ok(mut file) => {
                let _ = write!(file, "{}", std::process::id());
                break;
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let age = fs::metadata(&lock)
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|t| SystemTime::now().duration_since(t).ok());
                if age.is_some_and(|a| a > LOCK_STALE) {
                    let _ = fs::remove_file(&lock).or_else(|_| fs::remove_dir(&lock));
                    continue;
                }
                if started.elapsed() > LOCK_WAIT {
                    return Err(StoreError::LockBusy { path: lock });
                }
                std::thread::sleep(Duration::from_millis(25));
            }
            Err(e) => return Err(StoreError::io("create lock file", &lock, e)),
        }
    }
    let result = f();
    let _ = fs::remove_file(&lock);
    result
}

#[cfg(test)]
#[path = "channel_pairing_tests.rs"]
mod tests;
