use std::time::Duration;

use openclaw_store::{SessionEntry, SessionStore, SessionStoreOptions};
use pretty_assertions::assert_eq;
use serde_json::Value;

#[tokio::test]
async fn missing_file_is_an_empty_index_and_nothing_is_written_without_changes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("agents/main/sessions/sessions.json");
    let store = SessionStore::open(&path).await.unwrap();
    assert!(store.is_empty());
    store.flush().await.unwrap();
    assert_eq!(store.write_count(), 0);
    assert!(!path.exists());
    store.upsert("agent:main:main", SessionEntry::new("s1", 1));
    store.flush().await.unwrap();
    assert_eq!(store.write_count(), 1);
    let v: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(v["agent:main:main"]["sessionId"], "s1");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
}

#[tokio::test]
async fn many_upserts_cost_few_writes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sessions.json");
    // A debounce longer than the test: nothing is written until the explicit flush.
    let opts = SessionStoreOptions {
        debounce: Duration::from_secs(3600),
        lazy_debounce: Duration::from_secs(3600),
    };
    let store = SessionStore::open_with(&path, opts).await.unwrap();
    for i in 0..1000 {
        store.upsert(
            format!("agent:main:direct:{i}"),
            SessionEntry::new(format!("s{i}"), i),
        );
    }
    for i in 0..1000u64 {
        store
            .update("agent:main:direct:7", |e| e.total_tokens = Some(i))
            .unwrap();
    }
    tokio::task::yield_now().await;
    assert_eq!(
        store.write_count(),
        0,
        "upserts must not write synchronously"
    );
    store.flush().await.unwrap();
    assert_eq!(store.write_count(), 1);
    store.flush().await.unwrap();
    assert_eq!(store.write_count(), 1, "a clean flush writes nothing");

    // With the default debounce, a burst of 2,000 updates still coalesces into a handful of
    // writes (the bound is loose on purpose: it proves "not one write per update").
    let store2 = SessionStore::open(&path).await.unwrap();
    assert_eq!(store2.len(), 1000);
    for round in 0..2000u64 {
        store2
            .update("agent:main:direct:1", |e| e.updated_at = round)
            .unwrap();
    }
    store2.flush().await.unwrap();
    assert!(
        store2.write_count() <= 5,
        "wrote {} times",
        store2.write_count()
    );
    let v: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(v["agent:main:direct:1"]["updatedAt"], 1999);
    assert_eq!(v["agent:main:direct:7"]["totalTokens"], 999);
}

#[tokio::test]
async fn debounced_writer_flushes_on_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sessions.json");
    let opts = SessionStoreOptions {
        debounce: Duration::from_millis(1),
        lazy_debounce: Duration::from_millis(1),
    };
    let store = SessionStore::open_with(&path, opts).await.unwrap();
    store.upsert("k", SessionEntry::new("s", 1));
    // Wait (bounded) for the background write; no timing assertion, only an upper deadline.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while store.write_count() == 0 {
        assert!(tokio::time::Instant::now() < deadline, "writer never wrote");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(path.exists());
}

#[tokio::test]
async fn shutdown_flushes_and_clones_share_state() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sessions.json");
    let opts = SessionStoreOptions {
        debounce: Duration::from_secs(3600),
        lazy_debounce: Duration::from_secs(3600),
    };
    let store = SessionStore::open_with(&path, opts).await.unwrap();
    let clone = store.clone();
    clone.upsert("a", SessionEntry::new("sa", 1));
    assert_eq!(store.get("a").unwrap().session_id, "sa");
    assert_eq!(store.key_for_session_id("sa").as_deref(), Some("a"));
    store.shutdown().await.unwrap();
    let reopened = SessionStore::open(&path).await.unwrap();
    assert_eq!(reopened.get("a").unwrap().session_id, "sa");
    assert!(
        store.flush().await.is_err(),
        "writer is gone after shutdown"
    );
}

#[tokio::test]
async fn corrupt_index_is_moved_aside_and_transcripts_kept() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sessions.json");
    std::fs::write(&path, b"{\"agent:main:main\": {\"sessionId\": \"s1\", ").unwrap();
    std::fs::write(dir.path().join("s1.jsonl"), b"{}\n").unwrap();
    std::fs::write(dir.path().join("sessions.json.tmp-1-00000000"), b"half").unwrap();
    let store = SessionStore::open(&path).await.unwrap();
    assert!(store.is_empty());
    let aside = store.recovered_from().unwrap().to_path_buf();
    assert!(
        aside
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("sessions.json.corrupt-")
    );
    assert_eq!(
        std::fs::read(&aside).unwrap(),
        b"{\"agent:main:main\": {\"sessionId\": \"s1\", "
    );
    assert!(dir.path().join("s1.jsonl").exists());
    assert!(
        !dir.path().join("sessions.json.tmp-1-00000000").exists(),
        "stale temp removed"
    );
}

#[tokio::test]
async fn round_trip_keeps_unknown_fields_and_unparsable_rows() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sessions.json");
    let original = serde_json::json!({
        "agent:main:main": {"sessionId": "s1", "updatedAt": 1, "origin": {"provider": "webchat"},
            "skillsSnapshot": {"version": 0}, "label": "mine"},
        "agent:main:weird": {"updatedAt": "yesterday"}
    });
    std::fs::write(&path, serde_json::to_vec(&original).unwrap()).unwrap();
    let store = SessionStore::open(&path).await.unwrap();
    assert_eq!(store.len(), 1);
    store
        .update("agent:main:main", |e| e.input_tokens = Some(3))
        .unwrap();
    store.flush().await.unwrap();
    let back: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let mut expected = original.clone();
    expected["agent:main:main"]["inputTokens"] = 3.into();
    assert_eq!(back, expected);
}

#[tokio::test]
async fn new_sessions_are_written_soon_routine_updates_later() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sessions.json");
    let opts = SessionStoreOptions {
        debounce: Duration::from_millis(20),
        lazy_debounce: Duration::from_secs(3600),
    };
    let store = SessionStore::open_with(&path, opts).await.unwrap();
    store.upsert("agent:main:a", SessionEntry::new("s-a", 1));
    // A new session reaches disk within the short debounce, no flush needed.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while store.write_count() == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "new session never written"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(std::fs::read_to_string(&path).unwrap().contains("s-a"));
    let writes = store.write_count();
    for i in 0..100 {
        store.update("agent:main:a", |e| e.updated_at = 100 + i);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        store.write_count(),
        writes,
        "routine updates wait for the lazy debounce"
    );
    store.flush().await.unwrap();
    assert!(store.write_count() > writes);
}
