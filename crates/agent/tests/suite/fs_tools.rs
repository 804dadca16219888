use base64::Engine;
use openclaw_protocol::ContentBlock;
use pretty_assertions::assert_eq;
use serde_json::json;

use super::{call, ctx};

#[tokio::test]
async fn read_text_windows() {
    let ws = tempfile::tempdir().unwrap();
    let body: String = (1..=10).map(|i| format!("line {i}\n")).collect();
    std::fs::write(ws.path().join("f.txt"), body).unwrap();
    for confined in [false, true] {
        let c = ctx(ws.path(), confined);
        let out = call(
            &c,
            "read",
            json!({"path": "f.txt", "offset": 3, "limit": 2}),
        )
        .await;
        assert_eq!(
            out.text_content(),
            "line 3\nline 4\n\n[Showing lines 3-4 of 10. Use offset=5 to continue.]"
        );
        let d = out.details.unwrap();
        assert_eq!(
            (d["firstLine"].as_u64(), d["totalLines"].as_u64()),
            (Some(3), Some(10))
        );
        let out = call(
            &c,
            "read",
            json!({"file_path": ws.path().join("f.txt").display().to_string(), "offset": 9}),
        )
        .await;
        assert_eq!(out.text_content(), "line 9\nline 10");
        let out = call(&c, "read", json!({"path": "f.txt", "offset": 50})).await;
        assert!(
            out.is_error
                && out
                    .text_content()
                    .contains("beyond end of file (10 lines total)")
        );
        let out = call(&c, "read", json!({"path": "missing.txt"})).await;
        assert!(out.is_error);
        assert_eq!(out.text_content(), "File not found: missing.txt");
    }
}

#[tokio::test]
async fn read_image_and_refuse_binary() {
    let ws = tempfile::tempdir().unwrap();
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDRfake".to_vec();
    std::fs::write(ws.path().join("pic.bin"), &png).unwrap();
    std::fs::write(ws.path().join("blob"), b"ab\0cd").unwrap();
    let c = ctx(ws.path(), true);
    let out = call(&c, "read", json!({"path": "pic.bin"})).await;
    assert!(!out.is_error);
    assert_eq!(
        out.content[1],
        ContentBlock::Image {
            data: base64::engine::general_purpose::STANDARD.encode(&png),
            mime_type: "image/png".into()
        }
    );
    let out = call(&c, "read", json!({"path": "blob"})).await;
    assert!(out.is_error && out.text_content().contains("binary"));
}

#[tokio::test]
async fn write_creates_parents() {
    let ws = tempfile::tempdir().unwrap();
    for confined in [false, true] {
        let c = ctx(ws.path(), confined);
        let out = call(
            &c,
            "write",
            json!({"path": format!("a{confined}/b/c.txt"), "content": "hi\n"}),
        )
        .await;
        assert!(!out.is_error, "{}", out.text_content());
        assert_eq!(
            std::fs::read_to_string(ws.path().join(format!("a{confined}/b/c.txt"))).unwrap(),
            "hi\n"
        );
    }
    let c = ctx(ws.path(), true);
    let out = call(&c, "write", json!({"path": "x.txt"})).await;
    assert!(out.is_error && out.text_content().contains("content"));
}

#[tokio::test]
async fn edit_zero_one_many_matches() {
    let ws = tempfile::tempdir().unwrap();
    let p = ws.path().join("e.txt");
    std::fs::write(&p, "alpha\nbeta\nbeta\ngamma\n").unwrap();
    let c = ctx(ws.path(), true);
    let out = call(
        &c,
        "edit",
        json!({"path": "e.txt", "oldText": "delta", "newText": "x"}),
    )
    .await;
    assert!(out.is_error);
    assert!(
        out.text_content()
            .starts_with("Could not find the exact text in e.txt")
    );
    let out = call(
        &c,
        "edit",
        json!({"path": "e.txt", "oldText": "beta", "newText": "x"}),
    )
    .await;
    assert!(out.is_error);
    assert!(
        out.text_content()
            .starts_with("Found 2 occurrences of the text in e.txt")
    );
    assert_eq!(
        std::fs::read_to_string(&p).unwrap(),
        "alpha\nbeta\nbeta\ngamma\n"
    );
    let out = call(
        &c,
        "edit",
        json!({"file_path": "e.txt", "old_string": "beta\ngamma", "new_string": "BETA\nGAMMA"}),
    )
    .await;
    assert!(!out.is_error, "{}", out.text_content());
    assert_eq!(out.details.unwrap()["firstChangedLine"], 3);
    assert_eq!(
        std::fs::read_to_string(&p).unwrap(),
        "alpha\nbeta\nBETA\nGAMMA\n"
    );
}
