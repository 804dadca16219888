//! Session transcripts: `<sessionId>.jsonl` in the pi-coding-agent v3 line format that OpenClaw
//! 2026.2 writes, so transcripts from an existing state dir load and keep growing in place.
//!
//! Line 1 is a [`SessionHeader`] (`{"type":"session","version":3,...}`). Every other line is an
//! [`Entry`]: `{type, id (8 hex), parentId, timestamp (ISO), ...}`. Entries form a tree through
//! `parentId`; the current leaf is the last entry in the file, and walking from it to the root
//! gives the branch whose messages make the model context. Entry types we do not know are kept
//! as raw JSON ([`EntryBody::Unknown`]).
//!
//! Crash tolerance: writers append each entry as one `write` of a complete line, so a crash can
//! only lose or truncate the final line. The loader skips a torn final line, and
//! [`TranscriptWriter::open`] truncates it away before appending so the file stays valid JSONL.
//! The writer lives in [`writer`].

mod writer;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use openclaw_protocol::{ContentBlock, Message, UserContent, UserMessage};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::StoreError;

pub use writer::TranscriptWriter;

/// Format version this crate writes.
pub const TRANSCRIPT_VERSION: u32 = 3;

/// First line of a transcript. Not part of the entry tree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionHeader {
    /// Missing in version-1 files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u32>,
    /// The session id (a UUID), equal to the file stem.
    pub id: String,
    pub timestamp: String,
    #[serde(default)]
    pub cwd: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_session: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl SessionHeader {
    pub fn new(session_id: impl Into<String>, cwd: impl Into<String>) -> Self {
        SessionHeader {
            version: Some(TRANSCRIPT_VERSION),
            id: session_id.into(),
            timestamp: crate::layout::iso_timestamp(chrono::Utc::now()),
            cwd: cwd.into(),
            parent_session: None,
            extra: Map::new(),
        }
    }

    /// The JSON line (without newline): `type` first, as pi writes it.
    pub fn to_line(&self) -> Result<String, serde_json::Error> {
        let mut map = Map::new();
        map.insert("type".into(), Value::from("session"));
        if let Value::Object(fields) = serde_json::to_value(self)? {
            map.extend(fields);
        }
        serde_json::to_string(&Value::Object(map))
    }

    fn from_value(v: Value) -> Option<Self> {
        if v.get("type").and_then(Value::as_str) != Some("session") {
            return None;
        }
        let mut v = v;
        if let Value::Object(m) = &mut v {
            m.remove("type");
        }
        serde_json::from_value(v).ok()
    }
}

/// The `message` of a message entry: one of the shapes the protocol crate models, or any other
/// AgentMessage role (`custom`, `bashExecution`, `branchSummary`, …) kept as raw JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum TranscriptMessage {
    Known(Message),
    Other(Value),
}

/// What an entry records. Field names on disk are camelCase, tags snake_case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    tag = "type",
    rename_all = "snake_case",
    rename_all_fields = "camelCase"
)]
pub enum EntryBody {
    Message {
        message: TranscriptMessage,
    },
    ModelChange {
        provider: String,
        model_id: String,
    },
    ThinkingLevelChange {
        thinking_level: String,
    },
    /// Older turns summarized; context = summary + entries from `first_kept_entry_id` on.
    Compaction {
        summary: String,
        first_kept_entry_id: String,
        tokens_before: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        details: Option<Value>,
    },
    BranchSummary {
        from_id: String,
        summary: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        details: Option<Value>,
    },
    /// Extension state; not part of the model context.
    Custom {
        custom_type: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        data: Option<Value>,
    },
    /// Extension message that is part of the model context.
    CustomMessage {
        custom_type: String,
        content: Value,
        #[serde(default)]
        display: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        details: Option<Value>,
    },
    Label {
        target_id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        label: Option<String>,
    },
    SessionInfo {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
    },
    /// Any other line, kept whole (including `type`, `id`, `parentId`, `timestamp`).
    #[serde(skip)]
    Unknown(Value),
}

/// One transcript line after the header.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// 8 lowercase hex chars.
    pub id: String,
    pub parent_id: Option<String>,
    /// ISO-8601.
    pub timestamp: String,
    pub body: EntryBody,
}

impl Entry {
    /// Serialize as one JSON line (no newline): `type, id, parentId, timestamp, ...fields`.
    pub fn to_line(&self) -> Result<String, serde_json::Error> {
        if let EntryBody::Unknown(raw) = &self.body {
            return serde_json::to_string(raw);
        }
        let Value::Object(body) = serde_json::to_value(&self.body)? else {
            return serde_json::to_string(&self.body);
        };
        let mut map = Map::new();
        if let Some(t) = body.get("type") {
            map.insert("type".into(), t.clone());
        }
        map.insert("id".into(), Value::from(self.id.clone()));
        map.insert(
            "parentId".into(),
            self.parent_id
                .clone()
                .map(Value::from)
                .unwrap_or(Value::Null),
        );
        map.insert("timestamp".into(), Value::from(self.timestamp.clone()));
        for (k, v) in body {
            if k != "type" {
                map.insert(k, v);
            }
        }
        serde_json::to_string(&Value::Object(map))
    }

    /// Parse one non-header line. `None` when the line is not a JSON object.
    pub fn from_value(v: Value) -> Option<Entry> {
        let obj = v.as_object()?;
        let id = obj
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let parent_id = obj
            .get("parentId")
            .and_then(Value::as_str)
            .map(str::to_string);
        let timestamp = match obj.get("timestamp") {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => String::new(),
        };
        let body = serde_json::from_value::<EntryBody>(v.clone()).unwrap_or(EntryBody::Unknown(v));
        Some(Entry {
            id,
            parent_id,
            timestamp,
            body,
        })
    }

    /// The protocol message this entry carries, if it is a message of a modelled role.
    pub fn message(&self) -> Option<&Message> {
        match &self.body {
            EntryBody::Message {
                message: TranscriptMessage::Known(m),
            } => Some(m),
            _ => None,
        }
    }
}

/// A new random entry id (8 hex chars) not in `taken`.
pub(crate) fn new_entry_id(taken: &HashSet<String>) -> String {
    loop {
        let id = format!("{:08x}", rand::random::<u32>());
        if !taken.contains(&id) {
            return id;
        }
    }
}

/// A loaded transcript.
#[derive(Debug, Clone, PartialEq)]
pub struct Transcript {
    pub path: PathBuf,
    pub header: SessionHeader,
    /// Entries in file order.
    pub entries: Vec<Entry>,
    /// Lines before the last that were not JSON (skipped, left in the file).
    pub skipped_lines: usize,
    /// Whether the final line was torn (incomplete JSON without a newline) and ignored.
    pub torn_tail: bool,
}

/// What the model sees for a session: the branch's messages with compaction applied.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SessionContext {
    pub messages: Vec<Message>,
    /// Latest `thinking_level_change` on the branch.
    pub thinking_level: Option<String>,
    /// Latest `model_change` on the branch: (provider, modelId).
    pub model: Option<(String, String)>,
}

impl Transcript {
    /// Id of the current leaf: the last entry in the file.
    pub fn leaf_id(&self) -> Option<&str> {
        self.entries.last().map(|e| e.id.as_str())
    }

    /// Entries from the root to the leaf, following `parentId` back from the leaf.
    pub fn branch(&self) -> Vec<&Entry> {
        let by_id: HashMap<&str, &Entry> =
            self.entries.iter().map(|e| (e.id.as_str(), e)).collect();
        let mut path = Vec::new();
        let mut seen = HashSet::new();
        let mut cur = self.entries.last();
        while let Some(e) = cur {
            if !seen.insert(e.id.as_str()) {
                break; // a cycle in hand-edited files; stop rather than loop
            }
            path.push(e);
            cur = e.parent_id.as_deref().and_then(|p| by_id.get(p).copied());
        }
        path.reverse();
        path
    }

    /// Every protocol message on the branch, uncompacted (what `chat.history` shows).
    pub fn messages(&self) -> Vec<Message> {
        self.branch()
            .into_iter()
            .filter_map(|e| e.message().cloned())
            .collect()
    }

    /// Model context: with a compaction on the branch, its summary, then the kept entries
    /// from `firstKeptEntryId`, then everything after the compaction.
    pub fn context(&self) -> SessionContext {
        let path = self.branch();
        let mut ctx = SessionContext::default();
        for e in &path {
            match &e.body {
                EntryBody::ThinkingLevelChange { thinking_level } => {
                    ctx.thinking_level = Some(thinking_level.clone());
                }
                EntryBody::ModelChange { provider, model_id } => {
                    ctx.model = Some((provider.clone(), model_id.clone()));
                }
                _ => {}
            }
        }
        let compaction = path
            .iter()
            .enumerate()
            .rev()
            .find(|(_, e)| matches!(e.body, EntryBody::Compaction { .. }));
        match compaction {
            Some((idx, entry)) => {
                let EntryBody::Compaction {
                    summary,
                    first_kept_entry_id,
                    ..
                } = &entry.body
                else {
                    return ctx;
                };
                ctx.messages.push(summary_message(
                    COMPACTION_PREFIX,
                    summary,
                    &entry.timestamp,
                ));
                let mut keeping = false;
                for e in &path[..idx] {
                    keeping |= e.id == *first_kept_entry_id;
                    if keeping {
                        push_context_message(&mut ctx.messages, e);
                    }
                }
                for e in &path[idx + 1..] {
                    push_context_message(&mut ctx.messages, e);
                }
            }
            None => {
                for e in &path {
                    push_context_message(&mut ctx.messages, e);
                }
            }
        }
        ctx
    }
}

const COMPACTION_PREFIX: &str =
    "The conversation history before this point was compacted into the following summary:";
const BRANCH_PREFIX: &str =
    "The following is a summary of a branch that this conversation came back from:";

fn summary_message(prefix: &str, summary: &str, timestamp: &str) -> Message {
    Message::user_text(
        format!("{prefix}\n\n<summary>\n{summary}\n</summary>"),
        iso_to_ms(timestamp),
    )
}

fn iso_to_ms(ts: &str) -> u64 {
    chrono::DateTime::parse_from_rfc3339(ts)
        .map(|d| d.timestamp_millis().max(0) as u64)
        .unwrap_or(0)
}

/// Turn an entry into the messages the model sees, as pi's `convertToLlm` does for the roles
/// the protocol crate models; other roles become user text or are dropped.
fn push_context_message(out: &mut Vec<Message>, e: &Entry) {
    match &e.body {
        EntryBody::Message {
            message: TranscriptMessage::Known(m),
        } => out.push(m.clone()),
        EntryBody::Message {
            message: TranscriptMessage::Other(raw),
        } => {
            if let Some(m) = other_role_message(raw) {
                out.push(m);
            }
        }
        EntryBody::CustomMessage { content, .. } => {
            if let Some(content) = user_content(content) {
                let timestamp = iso_to_ms(&e.timestamp);
                out.push(Message::User(UserMessage { content, timestamp }));
            }
        }
        EntryBody::BranchSummary { summary, .. } => {
            out.push(summary_message(BRANCH_PREFIX, summary, &e.timestamp));
        }
        _ => {}
    }
}

fn other_role_message(raw: &Value) -> Option<Message> {
    let ts = raw.get("timestamp").and_then(Value::as_u64).unwrap_or(0);
    match raw.get("role").and_then(Value::as_str)? {
        "custom" => {
            let content = user_content(raw.get("content")?)?;
            Some(Message::User(UserMessage {
                content,
                timestamp: ts,
            }))
        }
        "bashExecution" => {
            if raw.get("excludeFromContext").and_then(Value::as_bool) == Some(true) {
                return None;
            }
            let cmd = raw
                .get("command")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let output = raw
                .get("output")
                .and_then(Value::as_str)
                .unwrap_or_default();
            Some(Message::user_text(
                format!("Ran `{cmd}`\n```\n{output}\n```"),
                ts,
            ))
        }
        "branchSummary" => {
            let s = raw.get("summary").and_then(Value::as_str)?;
            Some(Message::user_text(
                format!("{BRANCH_PREFIX}\n\n<summary>\n{s}\n</summary>"),
                ts,
            ))
        }
        "compactionSummary" => {
            let s = raw.get("summary").and_then(Value::as_str)?;
            Some(Message::user_text(
                format!("{COMPACTION_PREFIX}\n\n<summary>\n{s}\n</summary>"),
                ts,
            ))
        }
        _ => None,
    }
}

fn user_content(v: &Value) -> Option<UserContent> {
    match v {
        Value::String(s) => Some(UserContent::Text(s.clone())),
        Value::Array(_) => serde_json::from_value::<Vec<ContentBlock>>(v.clone())
            .ok()
            .map(UserContent::Blocks),
        _ => None,
    }
}

/// Result of scanning a transcript's bytes.
pub(crate) struct Scan {
    pub header: Option<SessionHeader>,
    pub entries: Vec<Entry>,
    pub skipped_lines: usize,
    pub torn_tail: bool,
    /// Length of the valid prefix (ends after the last complete line's newline, or after a
    /// final complete line that lacks its newline).
    pub valid_len: u64,
    /// The final complete line has no trailing newline; add one before appending.
    pub needs_newline: bool,
}

/// Parse transcript bytes, tolerating a torn final line and skipping bad middle lines.
pub(crate) fn scan(path: &Path, bytes: &[u8]) -> Scan {
    let mut out = Scan {
        header: None,
        entries: Vec::new(),
        skipped_lines: 0,
        torn_tail: false,
        valid_len: 0,
        needs_newline: false,
    };
    let mut pos = 0usize;
    let mut first = true;
    let mut ids = HashSet::new();
    let mut prev_id: Option<String> = None;
    while pos < bytes.len() {
        let (line, next, complete) = match bytes[pos..].iter().position(|b| *b == b'\n') {
            Some(i) => (&bytes[pos..pos + i], pos + i + 1, true),
            None => (&bytes[pos..], bytes.len(), false),
        };
        let trimmed = line.trim_ascii();
        let parsed: Option<Value> = if trimmed.is_empty() {
            None
        } else {
            serde_json::from_slice(trimmed).ok()
        };
        if !complete {
            match parsed {
                Some(_) => out.needs_newline = true,
                None if trimmed.is_empty() => {}
                None => {
                    out.torn_tail = true;
                    break;
                }
            }
        }
        out.valid_len = next as u64;
        pos = next;
        let Some(value) = parsed else {
            if !trimmed.is_empty() {
                out.skipped_lines += 1;
                tracing::warn!(path = %path.display(), "skipping a transcript line that is not JSON");
            }
            continue;
        };
        if first {
            first = false;
            if let Some(h) = SessionHeader::from_value(value.clone()) {
                out.header = Some(h);
                continue;
            }
        }
        let Some(mut entry) = Entry::from_value(value) else {
            out.skipped_lines += 1;
            continue;
        };
        // Version-1 files have no ids: give each entry one and chain them linearly.
        if entry.id.is_empty() {
            entry.id = new_entry_id(&ids);
            entry.parent_id = prev_id.clone();
        }
        ids.insert(entry.id.clone());
        prev_id = Some(entry.id.clone());
        out.entries.push(entry);
    }
    out
}

/// Read a transcript without modifying it (a torn final line is skipped, not repaired).
pub async fn load(path: impl AsRef<Path>) -> Result<Transcript, StoreError> {
    let path = path.as_ref().to_path_buf();
    let bytes = tokio::fs::read(&path)
        .await
        .map_err(|e| StoreError::io("read", &path, e))?;
    let p = path.clone();
    let s = tokio::task::spawn_blocking(move || scan(&p, &bytes))
        .await
        .map_err(|e| StoreError::io("parse", &path, std::io::Error::other(e)))?;
    let header = s
        .header
        .ok_or_else(|| StoreError::NotATranscript { path: path.clone() })?;
    Ok(Transcript {
        path,
        header,
        entries: s.entries,
        skipped_lines: s.skipped_lines,
        torn_tail: s.torn_tail,
    })
}

#[cfg(test)]
#[path = "transcript_tests.rs"]
mod tests;
