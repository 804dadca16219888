//! Inbound media files: `<state>/media/inbound/<uuid><ext>`, where OpenClaw keeps what users
//! send (chat attachments, Telegram photos and documents) for the agent run to see.
//!
//! A saved file is written atomically with mode 0600 in a 0700 directory: media are as
//! private as transcripts. The MIME type is decided here once (sniffed bytes first, then the
//! sender's claim, then the file name), and the extension follows from it, so a `.png` on disk
//! is a PNG. This module only stores; it does not decide what the model sees.

use std::path::{Path, PathBuf};

use crate::atomic_file::write_atomic_async;
use crate::error::StoreError;

/// Type of a file whose kind nobody could tell.
pub const OCTET_STREAM: &str = "application/octet-stream";

/// One saved inbound file, as an agent run receives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundMedia {
    /// Absolute host path under `<state>/media/inbound/`.
    pub path: PathBuf,
    /// Normalized MIME type (`image/png`).
    pub mime: String,
}

/// `<state>/media`: the root every inbound file must live under (sandbox staging checks it).
pub fn media_dir(state_dir: &Path) -> PathBuf {
    state_dir.join("media")
}

/// `<state>/media/inbound`.
pub fn inbound_dir(state_dir: &Path) -> PathBuf {
    media_dir(state_dir).join("inbound")
}

/// Save `bytes` as a new inbound file. `claimed_mime` is what the sender said (a header, a
/// `mimeType` param) and `file_name` its name, both optional; the bytes win when they are
/// recognizable.
pub async fn save_inbound(
    state_dir: &Path,
    bytes: Vec<u8>,
    claimed_mime: Option<&str>,
    file_name: Option<&str>,
) -> Result<InboundMedia, StoreError> {
    let mime = resolve_mime(&bytes, claimed_mime, file_name);
    let ext = extension_for_mime(&mime).unwrap_or(".bin");
    let path = inbound_dir(state_dir).join(format!("{}{ext}", uuid::Uuid::new_v4()));
    write_atomic_async(path.clone(), bytes).await?;
    Ok(InboundMedia { path, mime })
}

/// The type of a file: sniffed from its first bytes, else the claimed type, else from the file
/// name's extension, else `application/octet-stream`.
pub fn resolve_mime(bytes: &[u8], claimed: Option<&str>, file_name: Option<&str>) -> String {
    if let Some(m) = sniff_mime(bytes) {
        return m.to_string();
    }
    if let Some(m) = claimed
        .and_then(normalize_mime)
        .filter(|m| m != OCTET_STREAM)
    {
        return m;
    }
    file_name
        .and_then(mime_for_file_name)
        .unwrap_or(OCTET_STREAM)
        .to_string()
}

/// `image/PNG; charset=x` → `image/png`; `None` for an empty or malformed type.
pub fn normalize_mime(mime: &str) -> Option<String> {
    let m = mime.split(';').next()?.trim().to_ascii_lowercase();
    let (kind, sub) = m.split_once('/')?;
    (!kind.is_empty() && !sub.is_empty() && !m.contains(char::is_whitespace)).then_some(m)
}

/// Recognize common formats by their magic bytes.
pub fn sniff_mime(b: &[u8]) -> Option<&'static str> {
    let starts = |p: &[u8]| b.starts_with(p);
    Some(if starts(b"\x89PNG\r\n\x1a\n") {
        "image/png"
    } else if starts(b"\xff\xd8\xff") {
        "image/jpeg"
    } else if starts(b"GIF87a") || starts(b"GIF89a") {
        "image/gif"
    } else if starts(b"RIFF") && b.get(8..12) == Some(b"WEBP") {
        "image/webp"
    } else if starts(b"RIFF") && b.get(8..12) == Some(b"WAVE") {
        "audio/wav"
    } else if starts(b"%PDF-") {
        "application/pdf"
    } else if starts(b"OggS") {
        "audio/ogg"
    } else if starts(b"ID3") || starts(b"\xff\xfb") || starts(b"\xff\xf3") {
        "audio/mpeg"
    } else if b.get(4..8) == Some(b"ftyp") {
        match b.get(8..11) {
            Some(b"M4A") => "audio/mp4",
            Some(b"qt ") => "video/quicktime",
            _ => "video/mp4",
        }
    } else if starts(b"\x1a\x45\xdf\xa3") {
        "video/webm"
    } else {
        return None;
    })
}

/// Types and extensions this module knows, both ways.
const KNOWN: &[(&str, &str)] = &[
    ("image/png", ".png"),
    ("image/jpeg", ".jpg"),
    ("image/gif", ".gif"),
    ("image/webp", ".webp"),
    ("image/heic", ".heic"),
    ("image/svg+xml", ".svg"),
    ("audio/ogg", ".ogg"),
    ("audio/opus", ".opus"),
    ("audio/mpeg", ".mp3"),
    ("audio/mp4", ".m4a"),
    ("audio/wav", ".wav"),
    ("audio/webm", ".weba"),
    ("video/mp4", ".mp4"),
    ("video/quicktime", ".mov"),
    ("video/webm", ".webm"),
    ("application/pdf", ".pdf"),
    ("application/zip", ".zip"),
    ("application/json", ".json"),
    ("text/plain", ".txt"),
    ("text/markdown", ".md"),
    ("text/csv", ".csv"),
    ("text/html", ".html"),
];

/// `.png` for `image/png`; `None` for a type this module does not know.
pub fn extension_for_mime(mime: &str) -> Option<&'static str> {
    let m = normalize_mime(mime)?;
    let m = match m.as_str() {
        "image/jpg" => "image/jpeg",
        "audio/x-wav" | "audio/wave" => "audio/wav",
        "audio/mp3" => "audio/mpeg",
        "audio/x-m4a" => "audio/mp4",
        other => other,
    };
    KNOWN.iter().find(|(k, _)| *k == m).map(|(_, e)| *e)
}

/// `image/jpeg` for `photo.JPEG`; `None` for an unknown extension.
pub fn mime_for_file_name(name: &str) -> Option<&'static str> {
    let ext = Path::new(name).extension()?.to_str()?.to_ascii_lowercase();
    let ext = match ext.as_str() {
        "jpeg" => "jpg",
        "oga" => "ogg",
        "mpeg" => "mp3",
        "htm" => "html",
        e => e,
    };
    KNOWN.iter().find(|(_, e)| e[1..] == *ext).map(|(m, _)| *m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

    #[test]
    fn sniffed_bytes_win_over_the_claim_and_the_name() {
        assert_eq!(
            resolve_mime(PNG, Some("image/jpeg"), Some("a.gif")),
            "image/png"
        );
        assert_eq!(
            resolve_mime(b"hello", Some("Text/Plain; charset=utf-8"), None),
            "text/plain"
        );
        assert_eq!(
            resolve_mime(b"hello", Some("application/octet-stream"), Some("notes.MD")),
            "text/markdown"
        );
        assert_eq!(
            resolve_mime(b"hello", None, Some("x.unknown")),
            OCTET_STREAM
        );
        assert_eq!(
            resolve_mime(b"hello", Some("not a type"), None),
            OCTET_STREAM
        );
    }

    #[test]
    fn extensions_follow_the_type() {
        assert_eq!(extension_for_mime("image/jpeg"), Some(".jpg"));
        assert_eq!(extension_for_mime("image/jpg"), Some(".jpg"));
        assert_eq!(extension_for_mime("audio/ogg; codecs=opus"), Some(".ogg"));
        assert_eq!(extension_for_mime("application/x-thing"), None);
        assert_eq!(mime_for_file_name("voice/file_3.oga"), Some("audio/ogg"));
        assert_eq!(mime_for_file_name("photos/file_0.jpg"), Some("image/jpeg"));
        assert_eq!(mime_for_file_name("README"), None);
    }

    #[tokio::test]
    async fn saves_a_private_file_named_by_uuid_and_type() {
        let dir = tempfile::tempdir().unwrap();
        let saved = save_inbound(dir.path(), PNG.to_vec(), Some("image/x-whatever"), None)
            .await
            .unwrap();
        assert_eq!(saved.mime, "image/png");
        assert_eq!(saved.path.parent().unwrap(), inbound_dir(dir.path()));
        let name = saved
            .path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        assert!(name.ends_with(".png"), "{name}");
        assert!(uuid::Uuid::parse_str(name.trim_end_matches(".png")).is_ok());
        assert_eq!(std::fs::read(&saved.path).unwrap(), PNG);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&saved.path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
            let dmode = std::fs::metadata(inbound_dir(dir.path()))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(dmode & 0o777, 0o700);
        }
    }
}
