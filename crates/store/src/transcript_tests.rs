use super::*;
use openclaw_protocol::{AssistantMessage, ContentBlock};
use pretty_assertions::assert_eq;
use serde_json::json;

fn entry(id: &str, parent: Option<&str>, body: EntryBody) -> Entry {
    Entry {
        id: id.into(),
        parent_id: parent.map(str::to_string),
        timestamp: "2026-02-06T10:00:00.000Z".into(),
        body,
    }
}

fn user(text: &str) -> EntryBody {
    EntryBody::Message {
        message: TranscriptMessage::Known(Message::user_text(text, 1)),
    }
}

fn transcript(entries: Vec<Entry>) -> Transcript {
    Transcript {
        path: PathBuf::from("t.jsonl"),
        header: SessionHeader::new("s", "/w"),
        entries,
        skipped_lines: 0,
        torn_tail: false,
    }
}

#[test]
fn header_line_shape() {
    let mut h = SessionHeader::new(
        "0d4c1f0e-0000-4000-8000-000000000000",
        "/home/node/.openclaw/workspace",
    );
    h.timestamp = "2026-02-06T10:00:00.000Z".into();
    assert_eq!(
        h.to_line().unwrap(),
        r#"{"type":"session","version":3,"id":"0d4c1f0e-0000-4000-8000-000000000000","timestamp":"2026-02-06T10:00:00.000Z","cwd":"/home/node/.openclaw/workspace"}"#
    );
}

#[test]
fn entry_lines_put_the_envelope_first() {
    let e = entry(
        "a1b2c3d4",
        None,
        EntryBody::ModelChange {
            provider: "mock".into(),
            model_id: "mock-model".into(),
        },
    );
    assert_eq!(
        e.to_line().unwrap(),
        r#"{"type":"model_change","id":"a1b2c3d4","parentId":null,"timestamp":"2026-02-06T10:00:00.000Z","provider":"mock","modelId":"mock-model"}"#
    );
    let c = entry(
        "0000000f",
        Some("a1b2c3d4"),
        EntryBody::Compaction {
            summary: "s".into(),
            first_kept_entry_id: "a1b2c3d4".into(),
            tokens_before: 9,
            details: None,
        },
    );
    assert_eq!(
        c.to_line().unwrap(),
        r#"{"type":"compaction","id":"0000000f","parentId":"a1b2c3d4","timestamp":"2026-02-06T10:00:00.000Z","summary":"s","firstKeptEntryId":"a1b2c3d4","tokensBefore":9}"#
    );
    let t = entry(
        "00000010",
        Some("0000000f"),
        EntryBody::ThinkingLevelChange {
            thinking_level: "high".into(),
        },
    );
    assert!(t.to_line().unwrap().ends_with(r#""thinkingLevel":"high"}"#));
    // Every line parses back to the same entry.
    for e in [e, c, t] {
        let back = Entry::from_value(serde_json::from_str(&e.to_line().unwrap()).unwrap()).unwrap();
        assert_eq!(back, e);
    }
}

#[test]
fn unknown_types_and_roles_are_kept_raw() {
    let raw = json!({"type":"future_thing","id":"abcdef01","parentId":null,"timestamp":"x","payload":[1,2]});
    let e = Entry::from_value(raw.clone()).unwrap();
    assert_eq!(e.id, "abcdef01");
    assert_eq!(e.body, EntryBody::Unknown(raw.clone()));
    assert_eq!(
        serde_json::from_str::<Value>(&e.to_line().unwrap()).unwrap(),
        raw
    );

    let bash = json!({"type":"message","id":"abcdef02","parentId":"abcdef01","timestamp":"x",
        "message":{"role":"bashExecution","command":"ls","output":"a\nb","exitCode":0,"cancelled":false,"truncated":false,"timestamp":5}});
    let e = Entry::from_value(bash).unwrap();
    assert!(matches!(
        e.body,
        EntryBody::Message {
            message: TranscriptMessage::Other(_)
        }
    ));
    let t = transcript(vec![e]);
    assert_eq!(t.messages(), vec![]);
    assert_eq!(
        t.context().messages,
        vec![Message::user_text("Ran `ls`\n```\na\nb\n```", 5)]
    );
}

#[test]
fn branch_follows_parent_ids_from_the_leaf() {
    // b2 branches off a1; the leaf (last line) is c3 under b2, so b1 is off-branch.
    let t = transcript(vec![
        entry("a1", None, user("root")),
        entry("b1", Some("a1"), user("abandoned")),
        entry("b2", Some("a1"), user("kept")),
        entry("c3", Some("b2"), user("leaf")),
    ]);
    let texts: Vec<String> = t.messages().iter().map(Message::text).collect();
    assert_eq!(texts, vec!["root", "kept", "leaf"]);
    assert_eq!(t.leaf_id(), Some("c3"));
}

#[test]
fn context_applies_the_latest_compaction() {
    let t = transcript(vec![
        entry("e1", None, user("one")),
        entry("e2", Some("e1"), user("two")),
        entry("e3", Some("e2"), user("three")),
        entry(
            "m1",
            Some("e3"),
            EntryBody::ModelChange {
                provider: "openai".into(),
                model_id: "gpt".into(),
            },
        ),
        entry(
            "k1",
            Some("m1"),
            EntryBody::Compaction {
                summary: "earlier stuff".into(),
                first_kept_entry_id: "e3".into(),
                tokens_before: 100,
                details: None,
            },
        ),
        entry("e4", Some("k1"), user("four")),
        entry(
            "t1",
            Some("e4"),
            EntryBody::ThinkingLevelChange {
                thinking_level: "low".into(),
            },
        ),
    ]);
    let ctx = t.context();
    let texts: Vec<String> = ctx.messages.iter().map(Message::text).collect();
    assert_eq!(texts.len(), 3);
    assert!(
        texts[0].contains("<summary>\nearlier stuff\n</summary>"),
        "{}",
        texts[0]
    );
    assert_eq!(&texts[1..], &["three".to_string(), "four".to_string()]);
    assert_eq!(ctx.model, Some(("openai".into(), "gpt".into())));
    assert_eq!(ctx.thinking_level.as_deref(), Some("low"));
    // chat.history view is uncompacted.
    assert_eq!(t.messages().len(), 4);
}

#[test]
fn scan_skips_torn_tail_and_bad_middle_lines() {
    let h = SessionHeader::new("s", "/w").to_line().unwrap();
    let a = entry("a1", None, user("x")).to_line().unwrap();
    let bytes = format!("{h}\n{a}\nnot json\n{a}\n{{\"type\":\"mess");
    let s = scan(Path::new("t"), bytes.as_bytes());
    assert!(s.header.is_some());
    assert_eq!(s.entries.len(), 2);
    assert_eq!(s.skipped_lines, 1);
    assert!(s.torn_tail);
    assert_eq!(s.valid_len as usize, bytes.rfind('\n').unwrap() + 1);
    assert!(!s.needs_newline);

    // A complete final line without its newline is kept, and flagged for a newline.
    let bytes = format!("{h}\n{a}");
    let s = scan(Path::new("t"), bytes.as_bytes());
    assert_eq!(s.entries.len(), 1);
    assert!(!s.torn_tail);
    assert!(s.needs_newline);
    assert_eq!(s.valid_len as usize, bytes.len());
}

#[test]
fn version_one_entries_get_linear_ids() {
    let h = r#"{"type":"session","id":"s","timestamp":"2025-01-01T00:00:00.000Z","cwd":"/"}"#;
    let m1 = r#"{"type":"message","timestamp":"2025-01-01T00:00:01.000Z","message":{"role":"user","content":"a","timestamp":1}}"#;
    let m2 = r#"{"type":"message","timestamp":"2025-01-01T00:00:02.000Z","message":{"role":"assistant","content":[{"type":"text","text":"b"}],"timestamp":2}}"#;
    let s = scan(Path::new("t"), format!("{h}\n{m1}\n{m2}\n").as_bytes());
    let t = Transcript {
        path: "t".into(),
        header: s.header.unwrap(),
        entries: s.entries,
        skipped_lines: 0,
        torn_tail: false,
    };
    assert_eq!(t.header.version, None);
    assert_eq!(t.messages().len(), 2);
    let Message::Assistant(AssistantMessage { content, .. }) = &t.messages()[1] else {
        panic!("assistant")
    };
    assert_eq!(content, &vec![ContentBlock::text("b")]);
}
