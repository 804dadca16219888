//! Fixture scenarios: `tests/fixtures/apply_patch/<case>/{input/, patch, expected/, error?}`.
//! The workspace starts as `input/`; after the patch it must equal `expected/` exactly. With an
//! `error` file the call must fail with that text and (all or nothing) leave `input/` as is.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use pretty_assertions::assert_eq;
use serde_json::json;

use super::{call, ctx};

fn tree(root: &Path) -> BTreeMap<String, String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                let rel = p.strip_prefix(root).unwrap().display().to_string();
                out.insert(rel, std::fs::read_to_string(&p).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    if root.exists() {
        walk(root, root, &mut out);
    }
    out
}

fn copy_dir(from: &Path, to: &Path) {
    for (rel, content) in tree(from) {
        let dest = to.join(rel);
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::write(dest, content).unwrap();
    }
}

#[tokio::test]
async fn fixture_scenarios() {
    let base = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/apply_patch");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&base)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    cases.sort();
    assert!(cases.len() >= 7, "fixtures missing");
    for case in cases {
        let name = case.file_name().unwrap().to_string_lossy().to_string();
        let ws = tempfile::tempdir().unwrap();
        copy_dir(&case.join("input"), ws.path());
        let patch = std::fs::read_to_string(case.join("patch")).unwrap();
        let c = ctx(ws.path(), false);
        let out = call(&c, "apply_patch", json!({"input": patch})).await;
        match std::fs::read_to_string(case.join("error")) {
            Ok(expected_err) => {
                assert!(out.is_error, "{name}: expected failure");
                assert!(
                    out.text_content().contains(expected_err.trim()),
                    "{name}: {}",
                    out.text_content()
                );
            }
            Err(_) => assert!(!out.is_error, "{name}: {}", out.text_content()),
        }
        assert_eq!(tree(ws.path()), tree(&case.join("expected")), "{name}");
    }
}

#[tokio::test]
async fn success_summary_lists_files() {
    let ws = tempfile::tempdir().unwrap();
    std::fs::write(ws.path().join("m.txt"), "a\n").unwrap();
    let c = ctx(ws.path(), false);
    let out = call(
        &c,
        "apply_patch",
        json!({"input": "*** Begin Patch\n*** Add File: n.txt\n+x\n*** Update File: m.txt\n@@\n-a\n+b\n*** End Patch"}),
    )
    .await;
    assert_eq!(
        out.text_content(),
        "Success. Updated the following files:\nA n.txt\nM m.txt"
    );
    let out = call(&c, "apply_patch", json!({"input": "not a patch"})).await;
    assert!(out.is_error && out.text_content().contains("*** Begin Patch"));
}
