use std::io::Write;

use openclaw_protocol::{AssistantMessage, ContentBlock, Message};
use openclaw_store::reset::{ResetReason, reset_session};
use openclaw_store::{EntryBody, SessionEntry, SessionStore, TranscriptWriter, transcript};
use pretty_assertions::assert_eq;

use super::assert_valid_jsonl;

fn assistant(text: &str) -> Message {
    Message::Assistant(AssistantMessage {
        content: vec![ContentBlock::text(text)],
        api: Some("openai-completions".into()),
        provider: Some("mock".into()),
        model: Some("mock-model".into()),
        usage: None,
        stop_reason: Some("stop".into()),
        error_message: None,
        timestamp: 2,
    })
}

#[tokio::test]
async fn new_transcript_appends_a_parent_chain() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sessions/s1.jsonl");
    let (w, t) = TranscriptWriter::open(&path, "s1", "/work").await.unwrap();
    assert!(t.entries.is_empty());
    assert_eq!(t.header.id, "s1");
    let a = w.append_model_change("mock", "mock-model").await.unwrap();
    let b = w.append_message(Message::user_text("hi", 1)).await.unwrap();
    let c = w.append_message(assistant("pong: hi")).await.unwrap();
    assert_eq!(a.len(), 8);
    assert!(a.chars().all(|ch| ch.is_ascii_hexdigit()));
    w.flush().await.unwrap();
    assert_eq!(w.leaf_id().await.as_deref(), Some(c.as_str()));

    let t = transcript::load(&path).await.unwrap();
    let ids: Vec<_> = t
        .entries
        .iter()
        .map(|e| (e.id.clone(), e.parent_id.clone()))
        .collect();
    assert_eq!(
        ids,
        vec![
            (a.clone(), None),
            (b.clone(), Some(a)),
            (c.clone(), Some(b))
        ]
    );
    assert_eq!(
        t.messages(),
        vec![Message::user_text("hi", 1), assistant("pong: hi")]
    );
    let first = std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_string();
    assert!(
        first.starts_with(r#"{"type":"session","version":3,"id":"s1","timestamp":""#),
        "{first}"
    );
    assert_eq!(assert_valid_jsonl(&path), 4);
    w.close().await.unwrap();
    assert!(
        w.append(EntryBody::SessionInfo { name: None })
            .await
            .is_err()
    );
}

#[tokio::test]
async fn torn_last_line_is_tolerated_then_repaired() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s1.jsonl");
    let (w, _) = TranscriptWriter::open(&path, "s1", "/w").await.unwrap();
    let good = w
        .append_message(Message::user_text("kept", 1))
        .await
        .unwrap();
    w.close().await.unwrap();
    // A crash mid-write leaves half a line.
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap();
    f.write_all(br#"{"type":"message","id":"deadbeef","parentId":""#)
        .unwrap();
    drop(f);

    let t = transcript::load(&path).await.unwrap();
    assert!(t.torn_tail);
    assert_eq!(t.entries.len(), 1);
    assert_eq!(t.leaf_id(), Some(good.as_str()));

    let (w, t) = TranscriptWriter::open(&path, "s1", "/w").await.unwrap();
    assert!(t.torn_tail);
    let next = w
        .append_message(Message::user_text("after crash", 2))
        .await
        .unwrap();
    w.close().await.unwrap();
    assert_eq!(assert_valid_jsonl(&path), 3);
    let t = transcript::load(&path).await.unwrap();
    assert!(!t.torn_tail);
    assert_eq!(t.entries[1].id, next);
    assert_eq!(t.entries[1].parent_id.as_deref(), Some(good.as_str()));
}

#[tokio::test]
async fn torn_header_restarts_the_file_and_garbage_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s2.jsonl");
    std::fs::write(&path, br#"{"type":"sess"#).unwrap();
    let (w, t) = TranscriptWriter::open(&path, "s2", "/w").await.unwrap();
    assert_eq!(t.header.id, "s2");
    w.close().await.unwrap();
    assert_eq!(assert_valid_jsonl(&path), 1);

    let other = dir.path().join("notes.jsonl");
    std::fs::write(&other, b"{\"a\":1}\n").unwrap();
    assert!(matches!(
        TranscriptWriter::open(&other, "x", "/w").await,
        Err(openclaw_store::StoreError::NotATranscript { .. })
    ));
    assert_eq!(
        std::fs::read(&other).unwrap(),
        b"{\"a\":1}\n",
        "a foreign file is left alone"
    );
}

#[tokio::test]
async fn reset_archives_the_old_transcript_and_keeps_settings() {
    let dir = tempfile::tempdir().unwrap();
    let store = SessionStore::open(dir.path().join("sessions.json"))
        .await
        .unwrap();
    let mut entry = SessionEntry::new("old-id", 1);
    entry.label = Some("work".into());
    entry.thinking_level = Some("high".into());
    entry.total_tokens = Some(500);
    entry.compaction_count = Some(2);
    entry.extra.insert("memoryFlushAt".into(), 7.into());
    entry
        .extra
        .insert("origin".into(), serde_json::json!({"provider": "telegram"}));
    store.upsert("agent:main:main", entry.clone());
    let old_path = store.transcript_path(&entry);
    let (w, _) = TranscriptWriter::open(&old_path, "old-id", "/w")
        .await
        .unwrap();
    w.append_message(Message::user_text("before", 1))
        .await
        .unwrap();
    w.close().await.unwrap();

    let now = chrono::DateTime::parse_from_rfc3339("2026-02-06T04:00:00Z")
        .unwrap()
        .to_utc();
    let out = reset_session(&store, "agent:main:main", ResetReason::Daily, now)
        .await
        .unwrap();
    assert_eq!(out.previous_session_id.as_deref(), Some("old-id"));
    let archived = out.archived.unwrap();
    assert_eq!(
        archived.file_name().unwrap().to_string_lossy(),
        "old-id.jsonl.reset.2026-02-06T04-00-00.000Z"
    );
    assert!(archived.exists());
    assert!(!old_path.exists());
    assert_eq!(
        transcript::load(&archived).await.unwrap().messages().len(),
        1
    );

    let fresh = store.get("agent:main:main").unwrap();
    assert_ne!(fresh.session_id, "old-id");
    assert_eq!(fresh.session_id, out.entry.session_id);
    assert_eq!(fresh.updated_at, now.timestamp_millis() as u64);
    assert_eq!(fresh.label.as_deref(), Some("work"));
    assert_eq!(fresh.thinking_level.as_deref(), Some("high"));
    assert_eq!((fresh.total_tokens, fresh.compaction_count), (None, None));
    assert!(!fresh.extra.contains_key("memoryFlushAt"));
    assert!(fresh.extra.contains_key("origin"));

    // Reset of an unknown key creates a fresh entry with nothing to archive.
    let out = reset_session(&store, "agent:main:direct:bob", ResetReason::New, now)
        .await
        .unwrap();
    assert_eq!(out.previous_session_id, None);
    assert_eq!(out.archived, None);
    assert!(store.contains("agent:main:direct:bob"));
}
