//! Crash-safe file replacement: write a temp file in the same directory, fsync it, rename it
//! over the target, fsync the directory. A `kill -9` or power loss at any point leaves either
//! the old file or the new one, never a torn mix. Files are created 0600 and directories 0700
//! because they hold tokens, keys and conversations.
//!
//! These functions block; async callers go through [`write_atomic_async`] or run them inside
//! `spawn_blocking`.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::StoreError;

/// Suffix marker of temp files, `<name>.tmp-<pid>-<rand>`; stale ones are removed on open.
pub(crate) const TMP_MARKER: &str = ".tmp-";

/// Create `dir` and its missing parents with mode 0700.
pub fn ensure_dir(dir: &Path) -> Result<(), StoreError> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(dir)
        .map_err(|e| StoreError::io("create directory", dir, e))
}

/// Open `path` for writing with mode 0600 (for a new file), `create_new` so temp names never
/// collide silently.
pub(crate) fn open_private(path: &Path, opts: &mut OpenOptions) -> std::io::Result<File> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts.open(path)
}

/// Replace `path` with `bytes` atomically (temp + fsync + rename + dir fsync), mode 0600.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let dir = parent_dir(path);
    ensure_dir(&dir)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(
        "{name}{TMP_MARKER}{}-{:08x}",
        std::process::id(),
        rand::random::<u32>()
    ));
    let result = (|| {
        let mut file = open_private(&tmp, OpenOptions::new().write(true).create_new(true))
            .map_err(|e| StoreError::io("create temp file", &tmp, e))?;
        file.write_all(bytes)
            .map_err(|e| StoreError::io("write temp file", &tmp, e))?;
        file.sync_all()
            .map_err(|e| StoreError::io("fsync temp file", &tmp, e))?;
        drop(file);
        fs::rename(&tmp, path).map_err(|e| StoreError::io("rename temp file over", path, e))?;
        sync_dir(&dir);
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// [`write_atomic`] on the blocking pool.
pub async fn write_atomic_async(path: PathBuf, bytes: Vec<u8>) -> Result<(), StoreError> {
    let p = path.clone();
    tokio::task::spawn_blocking(move || write_atomic(&p, &bytes))
        .await
        .map_err(|e| StoreError::io("write", path, std::io::Error::other(e)))?
}

/// Remove temp files a crashed writer left next to `path` (`<name>.tmp-*`).
pub(crate) fn remove_stale_temps(path: &Path) {
    let dir = parent_dir(path);
    let Some(name) = path.file_name().map(|n| n.to_string_lossy().into_owned()) else {
        return;
    };
    let prefix = format!("{name}{TMP_MARKER}");
    let Ok(read) = fs::read_dir(&dir) else { return };
    for entry in read.flatten() {
        if entry.file_name().to_string_lossy().starts_with(&prefix) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// fsync a directory so a rename inside it is durable. Best effort: some filesystems refuse.
pub(crate) fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

pub(crate) fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_content_with_private_mode_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("nested/state.json");
        write_atomic(&target, b"one").unwrap();
        write_atomic(&target, b"two").unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"two");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&target).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
            let dmode = fs::metadata(target.parent().unwrap())
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(dmode & 0o777, 0o700);
        }
        let names: Vec<_> = fs::read_dir(target.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, vec!["state.json".to_string()]);
    }

    #[test]
    fn stale_temps_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("sessions.json");
        fs::write(dir.path().join("sessions.json.tmp-1-deadbeef"), b"x").unwrap();
        fs::write(dir.path().join("other.json"), b"x").unwrap();
        remove_stale_temps(&target);
        assert!(!dir.path().join("sessions.json.tmp-1-deadbeef").exists());
        assert!(dir.path().join("other.json").exists());
    }
}
