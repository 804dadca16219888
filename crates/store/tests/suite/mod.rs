mod fixture_2026_2;
mod index;
mod kill_safety;
mod transcript;

use std::path::{Path, PathBuf};

/// Copy the hand-made 2026.2 state dir (`tests/fixtures/state-2026.2`) into `dst`.
pub fn copy_fixture(dst: &Path) -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/state-2026.2");
    copy_dir(&src, dst);
    dst.to_path_buf()
}

fn copy_dir(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).unwrap();
    for e in std::fs::read_dir(src).unwrap() {
        let e = e.unwrap();
        let to = dst.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to);
        } else {
            std::fs::copy(e.path(), &to).unwrap();
        }
    }
}

/// Every line of a JSONL file parses as a JSON object.
pub fn assert_valid_jsonl(path: &Path) -> usize {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(
        text.is_empty() || text.ends_with('\n'),
        "{} does not end with a newline",
        path.display()
    );
    let mut n = 0;
    for (i, line) in text.lines().enumerate() {
        let v: serde_json::Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("{} line {}: {e}: {line:?}", path.display(), i + 1));
        assert!(v.is_object());
        n += 1;
    }
    n
}
