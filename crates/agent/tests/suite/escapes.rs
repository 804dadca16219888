//! Every file tool refuses paths that leave the workspace when confinement is on.

use std::os::unix::fs::symlink;
use std::path::PathBuf;

use serde_json::{Value, json};

use super::{call, ctx};

struct Fixture {
    _tmp: tempfile::TempDir,
    ws: PathBuf,
    outside: PathBuf,
}

fn fixture() -> Fixture {
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path().join("ws");
    let outside = tmp.path().join("outside");
    std::fs::create_dir_all(&ws).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("secret.txt"), "secret\n").unwrap();
    symlink(outside.join("secret.txt"), ws.join("file-link")).unwrap();
    symlink(&outside, ws.join("dir-link")).unwrap();
    std::fs::create_dir(ws.join("sub")).unwrap();
    Fixture {
        _tmp: tmp,
        ws,
        outside,
    }
}

/// Paths that escape, as the model might write them.
fn escaping(f: &Fixture) -> Vec<String> {
    vec![
        "../outside/secret.txt".into(),
        f.outside.join("secret.txt").display().to_string(),
        "file-link".into(),
        "dir-link/secret.txt".into(),
        "sub/../../outside/secret.txt".into(),
    ]
}

fn calls(path: &str) -> Vec<(&'static str, Value)> {
    vec![
        ("read", json!({"path": path})),
        ("write", json!({"path": path, "content": "pwned\n"})),
        (
            "edit",
            json!({"path": path, "oldText": "secret", "newText": "pwned"}),
        ),
        (
            "apply_patch",
            json!({"input": format!("*** Begin Patch\n*** Update File: {path}\n@@\n-secret\n+pwned\n*** End Patch")}),
        ),
        (
            "apply_patch",
            json!({"input": format!("*** Begin Patch\n*** Add File: {path}\n+pwned\n*** End Patch")}),
        ),
        (
            "apply_patch",
            json!({"input": format!("*** Begin Patch\n*** Delete File: {path}\n*** End Patch")}),
        ),
        (
            "apply_patch",
            json!({"input": format!("*** Begin Patch\n*** Update File: ok.txt\n*** Move to: {path}\n*** End Patch")}),
        ),
    ]
}

fn assert_untouched(f: &Fixture) {
    assert_eq!(
        std::fs::read_to_string(f.outside.join("secret.txt")).unwrap(),
        "secret\n"
    );
    assert_eq!(std::fs::read_dir(&f.outside).unwrap().count(), 1);
    assert_eq!(
        std::fs::read_to_string(f.ws.join("ok.txt")).unwrap(),
        "fine\n"
    );
}

#[tokio::test]
async fn every_file_tool_refuses_every_escape() {
    let f = fixture();
    std::fs::write(f.ws.join("ok.txt"), "fine\n").unwrap();
    let c = ctx(&f.ws, true);
    for path in escaping(&f) {
        for (tool, args) in calls(&path) {
            let out = call(&c, tool, args).await;
            assert!(out.is_error, "{tool} {path}: {}", out.text_content());
            let text = out.text_content();
            assert!(
                text.contains("Path escapes workspace"),
                "{tool} {path}: {text}"
            );
            let key = if tool == "apply_patch" {
                "tools.exec.applyPatch.workspaceOnly"
            } else {
                "tools.fs.workspaceOnly"
            };
            assert!(text.contains(&format!("({key} is on)")), "{tool}: {text}");
            assert_untouched(&f);
        }
    }
    // The exact message.
    let out = call(&c, "read", json!({"path": "../outside/secret.txt"})).await;
    assert_eq!(
        out.text_content(),
        "Path escapes workspace: ../outside/secret.txt (tools.fs.workspaceOnly is on)"
    );
}

#[tokio::test]
async fn write_through_symlinked_directory_to_new_file_is_refused() {
    let f = fixture();
    std::fs::write(f.ws.join("ok.txt"), "fine\n").unwrap();
    let c = ctx(&f.ws, true);
    for (tool, args) in [
        ("write", json!({"path": "dir-link/new.txt", "content": "x"})),
        (
            "write",
            json!({"path": "dir-link/deeper/new.txt", "content": "x"}),
        ),
        (
            "apply_patch",
            json!({"input": "*** Begin Patch\n*** Add File: dir-link/new.txt\n+x\n*** End Patch"}),
        ),
    ] {
        let out = call(&c, tool, args).await;
        assert!(
            out.is_error && out.text_content().contains("Path escapes workspace"),
            "{tool}: {}",
            out.text_content()
        );
        assert_untouched(&f);
    }
}

#[tokio::test]
async fn symlink_created_inside_after_the_fact_is_refused() {
    let f = fixture();
    std::fs::write(f.ws.join("ok.txt"), "fine\n").unwrap();
    let c = ctx(&f.ws, true);
    // The context (and its root fd) exists before the link is planted, as in a running session.
    std::fs::create_dir(f.ws.join("later")).unwrap();
    std::fs::write(f.ws.join("later/file.txt"), "inside\n").unwrap();
    let out = call(&c, "read", json!({"path": "later/file.txt"})).await;
    assert_eq!(out.text_content(), "inside");
    std::fs::remove_dir_all(f.ws.join("later")).unwrap();
    symlink(&f.outside, f.ws.join("later")).unwrap();
    symlink(f.outside.join("secret.txt"), f.ws.join("late-file")).unwrap();
    for path in ["later/secret.txt", "late-file"] {
        for (tool, args) in calls(path) {
            let out = call(&c, tool, args).await;
            assert!(
                out.is_error && out.text_content().contains("Path escapes workspace"),
                "{tool} {path}: {}",
                out.text_content()
            );
            assert_untouched(&f);
        }
    }
}

#[tokio::test]
async fn confinement_off_allows_outside_paths_but_apply_patch_stays_confined() {
    let f = fixture();
    let c = ctx(&f.ws, false);
    let out = call(&c, "read", json!({"path": "../outside/secret.txt"})).await;
    assert_eq!(out.text_content(), "secret");
    let out = call(
        &c,
        "apply_patch",
        json!({"input": "*** Begin Patch\n*** Add File: ../outside/new.txt\n+x\n*** End Patch"}),
    )
    .await;
    assert!(
        out.is_error
            && out
                .text_content()
                .contains("tools.exec.applyPatch.workspaceOnly")
    );
    assert!(!f.outside.join("new.txt").exists());
}

#[tokio::test]
async fn inner_symlinks_keep_working() {
    let f = fixture();
    std::fs::create_dir(f.ws.join("real")).unwrap();
    std::fs::write(f.ws.join("real/a.txt"), "a\n").unwrap();
    symlink("real", f.ws.join("alias")).unwrap();
    let c = ctx(&f.ws, true);
    let out = call(&c, "read", json!({"path": "alias/a.txt"})).await;
    assert_eq!(out.text_content(), "a");
    let out = call(
        &c,
        "edit",
        json!({"path": "alias/a.txt", "oldText": "a", "newText": "b"}),
    )
    .await;
    assert!(!out.is_error, "{}", out.text_content());
    assert_eq!(
        std::fs::read_to_string(f.ws.join("real/a.txt")).unwrap(),
        "b\n"
    );
}
