//! Atomic config writes.
//!
//! The live file never disappears and is never half-written: the new text goes to a temp file in
//! the same directory (mode 0600, fsynced), the previous file is *copied* to `<name>.bak`, the
//! temp file is renamed over the target, and the directory is fsynced. A crash before the rename
//! leaves the old file intact plus a stray temp file, which the loader never reads (it opens
//! only the configured path).

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::error::ConfigError;

/// `<path>.bak`.
pub fn backup_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_os_string();
    s.push(".bak");
    PathBuf::from(s)
}

/// sha256 hex of the bytes (the config `hash`).
pub fn hash_bytes(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Text OpenClaw writes: pretty JSON, 2-space indent, trailing newline.
pub fn render(value: &Value) -> String {
    let mut s = serde_json::to_string_pretty(value).unwrap_or_else(|_| "{}".to_string());
    s.push('\n');
    s
}

/// Set `meta.lastTouchedVersion` / `meta.lastTouchedAt` (ISO-8601 UTC with milliseconds).
pub fn stamp_meta(value: &mut Value, version: &str, now: chrono::DateTime<chrono::Utc>) {
    let Some(root) = value.as_object_mut() else {
        return;
    };
    let meta = root
        .entry("meta")
        .or_insert_with(|| Value::Object(serde_json::Map::new()));
    if !meta.is_object() {
        *meta = Value::Object(serde_json::Map::new());
    }
    if let Some(m) = meta.as_object_mut() {
        m.insert(
            "lastTouchedVersion".into(),
            Value::String(version.to_string()),
        );
        m.insert(
            "lastTouchedAt".into(),
            Value::String(now.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()),
        );
    }
}

/// A new config written to its temp file but not yet in place.
#[derive(Debug)]
pub struct StagedWrite {
    target: PathBuf,
    temp: PathBuf,
    hash: String,
}

impl StagedWrite {
    /// The temp file holding the new text.
    pub fn temp_path(&self) -> &Path {
        &self.temp
    }

    /// Copy the current file to `.bak`, rename the temp file over the target, fsync the
    /// directory. Returns the sha256 of the new text.
    pub fn commit(self) -> Result<String, ConfigError> {
        let result = self.commit_inner();
        if result.is_err() {
            let _ = fs::remove_file(&self.temp);
        }
        result
    }

    fn commit_inner(&self) -> Result<String, ConfigError> {
        if self.target.exists() {
            let bak = backup_path(&self.target);
            fs::copy(&self.target, &bak)
                .map_err(|e| ConfigError::io("back up config to", &bak, e))?;
            fs::set_permissions(&bak, fs::Permissions::from_mode(0o600))
                .map_err(|e| ConfigError::io("set permissions on", &bak, e))?;
        }
        fs::rename(&self.temp, &self.target)
            .map_err(|e| ConfigError::io("replace config file", &self.target, e))?;
        if let Some(dir) = self.target.parent()
            && let Ok(d) = File::open(dir)
        {
            // Directory fsync makes the rename durable; some filesystems refuse it, which is fine.
            let _ = d.sync_all();
        }
        Ok(self.hash.clone())
    }
}

/// First half of an atomic write: create the parent dir (0700) and write + fsync the temp file.
pub fn stage(path: &Path, text: &str) -> Result<StagedWrite, ConfigError> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !dir.exists() {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)
            .map_err(|e| ConfigError::io("create config directory", &dir, e))?;
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "openclaw.json".into());
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let temp = dir.join(format!(".{name}.{}.{nanos}.tmp", std::process::id()));
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&temp)
        .map_err(|e| ConfigError::io("create temp file", &temp, e))?;
    let written = f
        .write_all(text.as_bytes())
        .and_then(|_| f.sync_all())
        .map_err(|e| ConfigError::io("write temp file", &temp, e));
    if let Err(e) = written {
        let _ = fs::remove_file(&temp);
        return Err(e);
    }
    Ok(StagedWrite {
        target: path.to_path_buf(),
        temp,
        hash: hash_bytes(text.as_bytes()),
    })
}

/// Atomically replace the config at `path` with `text`. Returns the new hash.
pub fn write_config_text(path: &Path, text: &str) -> Result<String, ConfigError> {
    stage(path, text)?.commit()
}

/// Atomically write `value` as pretty JSON. Returns the new hash.
pub fn write_config(path: &Path, value: &Value) -> Result<String, ConfigError> {
    write_config_text(path, &render(value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn render_is_pretty_with_newline() {
        assert_eq!(
            render(&serde_json::json!({"a": {"b": 1}})),
            "{\n  \"a\": {\n    \"b\": 1\n  }\n}\n"
        );
    }

    #[test]
    fn stamps_meta() {
        let mut v = serde_json::json!({"gateway": {}});
        let now = chrono::Utc.with_ymd_and_hms(2026, 2, 6, 5, 44, 41).unwrap();
        stamp_meta(&mut v, "2026.2.6-3", now);
        assert_eq!(
            v["meta"],
            serde_json::json!({"lastTouchedVersion": "2026.2.6-3", "lastTouchedAt": "2026-02-06T05:44:41.000Z"})
        );
    }

    #[test]
    fn writes_0600_in_new_0700_dir() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state/openclaw.json");
        let hash = write_config(&path, &serde_json::json!({"a": 1})).unwrap();
        assert_eq!(hash, hash_bytes(fs::read(&path).unwrap().as_slice()));
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(
            fs::metadata(path.parent().unwrap())
                .unwrap()
                .permissions()
                .mode()
                & 0o777,
            0o700
        );
        assert!(!backup_path(&path).exists());
    }
}
