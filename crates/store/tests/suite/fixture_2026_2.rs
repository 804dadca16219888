//! A state dir as OpenClaw 2026.2.6 leaves it (hand-made from the recorded frames in
//! `shared/spec/traces/v3-2026.2.6-read-and-chat-methods.jsonl`).

use openclaw_protocol::Message;
use openclaw_store::session_key::{SessionKind, classify};
use openclaw_store::{SessionStore, StateLayout, TranscriptWriter, transcript};
use pretty_assertions::assert_eq;
use serde_json::Value;

use super::{assert_valid_jsonl, copy_fixture};

#[tokio::test]
async fn index_and_transcript_load_and_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let layout = StateLayout::new(copy_fixture(dir.path()));
    let index_path = layout.sessions_index("main");
    let before: Value = serde_json::from_slice(&std::fs::read(&index_path).unwrap()).unwrap();

    let store = SessionStore::open(&index_path).await.unwrap();
    let main = store.get("agent:main:main").unwrap();
    assert_eq!(main.session_id, "cab4e755-eb7e-41db-87eb-966975cb7150");
    assert_eq!(main.updated_at, 1795499098803);
    assert_eq!(
        (main.input_tokens, main.output_tokens, main.total_tokens),
        (Some(10), Some(5), Some(10))
    );
    assert_eq!(main.model.as_deref(), Some("mock-model"));
    assert_eq!(main.aborted_last_run, Some(false));
    assert!(main.extra.contains_key("skillsSnapshot"));
    assert_eq!(
        classify("agent:main:main", main.chat_type.as_deref()),
        SessionKind::Direct
    );
    let group = store
        .get("agent:main:telegram:group:-1001234567890")
        .unwrap();
    assert_eq!(
        classify(
            "agent:main:telegram:group:-1001234567890",
            group.chat_type.as_deref()
        ),
        SessionKind::Group
    );

    // The absolute /home/node path in sessionFile resolves inside this state dir.
    let tpath = store.transcript_path(&main);
    assert_eq!(tpath, layout.transcript("main", &main.session_id));

    // What chat.history returned for this session in the recorded trace (last 3 messages).
    let t = transcript::load(&tpath).await.unwrap();
    assert_eq!(t.header.version, Some(3));
    assert_eq!(t.entries.len(), 8);
    assert_eq!(t.skipped_lines, 0);
    let messages = t.messages();
    assert_eq!(messages.len(), 4);
    let roles: Vec<&str> = messages
        .iter()
        .map(|m| match m {
            Message::User(_) => "user",
            Message::Assistant(_) => "assistant",
            Message::ToolResult(_) => "toolResult",
        })
        .collect();
    assert_eq!(roles, vec!["user", "assistant", "toolResult", "assistant"]);
    assert_eq!(messages[3].text(), "tool said: run 9");
    assert_eq!(messages[2].text(), "run 9");
    let ctx = t.context();
    assert_eq!(ctx.messages, messages);
    assert_eq!(ctx.thinking_level.as_deref(), Some("off"));
    assert_eq!(ctx.model, Some(("mock".into(), "mock-model".into())));

    // A touch and a flush keep every field OpenClaw wrote.
    store
        .update("agent:main:main", |e| e.updated_at += 1)
        .unwrap();
    store.flush().await.unwrap();
    let after: Value = serde_json::from_slice(&std::fs::read(&index_path).unwrap()).unwrap();
    let mut expected = before.clone();
    expected["agent:main:main"]["updatedAt"] = (1795499098803u64 + 1).into();
    assert_eq!(after, expected);

    // Appending continues the 2026.2 tree from its leaf.
    let (w, loaded) = TranscriptWriter::open(&tpath, "ignored", "/w")
        .await
        .unwrap();
    assert_eq!(loaded.leaf_id(), Some("0a7c5e91"));
    assert_eq!(w.session_id(), main.session_id);
    w.append_message(Message::user_text("next", 1))
        .await
        .unwrap();
    w.close().await.unwrap();
    let t = transcript::load(&tpath).await.unwrap();
    assert_eq!(
        t.entries.last().unwrap().parent_id.as_deref(),
        Some("0a7c5e91")
    );
    assert_eq!(t.messages().len(), 5);
    assert_eq!(assert_valid_jsonl(&tpath), 10);
}
