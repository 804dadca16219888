//! `read` and `write`: whole-file tools over the session's [`FsBackend`].
//!
//! `read` returns a line window of a text file (1-based `offset`, `limit` lines, at most
//! [`MAX_READ_BYTES`] of text per call, with a note on how to continue) or, for PNG/JPEG/GIF/WebP
//! recognised by their magic bytes, an image content block (base64, at most
//! [`MAX_IMAGE_BYTES`]). `write` replaces the file and creates parent directories.
//! Claude-style `file_path` is accepted for `path`.
//!
//! [`FsBackend`]: super::backend::FsBackend

use std::path::Path;

use async_trait::async_trait;
use base64::Engine;
use openclaw_protocol::ContentBlock;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use super::{Tool, ToolContext, ToolOutput, args};

/// Lines `read` returns when no `limit` is given.
pub const DEFAULT_READ_LINES: usize = 2_000;
/// Text bytes `read` returns per call.
pub const MAX_READ_BYTES: usize = 50 * 1024;
/// Largest image `read` returns inline.
pub const MAX_IMAGE_BYTES: u64 = 5 * 1024 * 1024;

/// `read`.
#[derive(Debug, Default, Clone, Copy)]
pub struct ReadTool;
/// `write`.
#[derive(Debug, Default, Clone, Copy)]
pub struct WriteTool;

/// The image MIME type for known magic bytes.
pub fn sniff_image(head: &[u8]) -> Option<&'static str> {
    if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if head.len() >= 12 && &head[..4] == b"RIFF" && &head[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

pub(crate) fn path_arg<'a>(a: &'a Value, tool: &str) -> Result<&'a str, String> {
    let p = args::required_str(a, &["path", "file_path", "filePath"], tool)?;
    if p.trim().is_empty() {
        return Err(format!("{tool}: \"path\" is empty"));
    }
    Ok(p)
}

async fn read(ctx: &ToolContext, a: &Value) -> Result<ToolOutput, String> {
    let path = path_arg(a, "read")?;
    let offset = args::usize(a, "offset", "read")?;
    let limit = args::usize(a, "limit", "read")?;
    let p = Path::new(path);
    let head = ctx
        .fs
        .read_bytes(p, 0, Some(16), 16)
        .await
        .map_err(|e| e.to_string())?;
    if let Some(mime) = sniff_image(&head) {
        let bytes = ctx
            .fs
            .read_bytes(p, 0, None, MAX_IMAGE_BYTES)
            .await
            .map_err(|e| e.to_string())?;
        let data = base64::engine::general_purpose::STANDARD.encode(&bytes);
        return Ok(ToolOutput {
            content: vec![
                ContentBlock::text(format!(
                    "Read image file: {path} [{mime}, {} bytes]",
                    bytes.len()
                )),
                ContentBlock::Image {
                    data,
                    mime_type: mime.to_string(),
                },
            ],
            details: Some(json!({"path": path, "mimeType": mime, "bytes": bytes.len()})),
            is_error: false,
        });
    }
    if head.contains(&0) {
        return Err(format!(
            "{path} looks like a binary file; read only supports text and PNG/JPEG/GIF/WebP images. Use exec (e.g. xxd, file) to inspect it."
        ));
    }
    let first = offset.unwrap_or(1).max(1);
    let want = limit.unwrap_or(DEFAULT_READ_LINES).max(1);
    let w = ctx
        .fs
        .read_text(p, first, Some(want), MAX_READ_BYTES)
        .await
        .map_err(|e| e.to_string())?;
    if w.line_count == 0 && w.total_lines > 0 {
        return Err(format!(
            "Offset {first} is beyond end of file ({} lines total)",
            w.total_lines
        ));
    }
    let last = first + w.line_count.saturating_sub(1);
    let mut text = w.text.clone();
    let more = last < w.total_lines;
    if more {
        let why = if w.truncated_by_bytes {
            format!(" ({} KB limit)", MAX_READ_BYTES / 1024)
        } else {
            String::new()
        };
        text.push_str(&format!(
            "\n\n[Showing lines {first}-{last} of {}{why}. Use offset={} to continue.]",
            w.total_lines,
            last + 1
        ));
    }
    Ok(ToolOutput::text(text).with_details(json!({
        "path": path,
        "firstLine": first,
        "lines": w.line_count,
        "totalLines": w.total_lines,
        "truncated": more,
    })))
}

#[async_trait]
impl Tool for ReadTool {
    fn name(&self) -> &str {
        "read"
    }

    fn description(&self) -> &str {
        "Read a file. Text files return a line window (offset is the 1-based first line, limit the number of lines; output is capped at 2000 lines / 50KB with a note on how to continue). PNG, JPEG, GIF and WebP images are returned as images."
    }

    fn parameters(&self) -> Value {
        json!({
            "type": "object",
            "properties": {
                "path": {"type": "string", "description": "Path to the file (relative to the workspace or absolute)"},
                "offset": {"type": "number", "description": "Line number to start reading from (1-indexed)"},
                "limit": {"type": "number", "description": "Maximum number of lines to read"}
            },
            "required": ["path"]
        })
    }

    async fn call(&self, ctx: &ToolContext, a: Value, _cancel: CancellationToken) -> ToolOutput {
        read(ctx, &a).await.unwrap_or_else(ToolOutput::error)
    }
}

#[async_trait]
impl Tool for WriteTool {
    fn name(&self) -> &str {
        "write"
    }

    fn description(&self) -> &str {
        "Write content to a file, replacing it if it exists. Creates parent directories."
    }

    fn parameters(&self) -> Value {
        json!({
            "type": "object",
            "properties": {
                "path": {"type": "string", "description": "Path to the file (relative to the workspace or absolute)"},
                "content": {"type": "string", "description": "Content to write"}
            },
            "required": ["path", "content"]
        })
    }

    async fn call(&self, ctx: &ToolContext, a: Value, _cancel: CancellationToken) -> ToolOutput {
        let path = match path_arg(&a, "write") {
            Ok(p) => p,
            Err(e) => return ToolOutput::error(e),
        };
        let Some(content) = a.get("content").and_then(Value::as_str) else {
            return ToolOutput::error("write: missing required string parameter \"content\"");
        };
        let len = content.len();
        match ctx
            .fs
            .write(Path::new(path), content.as_bytes().to_vec())
            .await
        {
            Ok(()) => ToolOutput::text(format!("Successfully wrote {len} bytes to {path}"))
                .with_details(json!({"path": path, "bytes": len})),
            Err(e) => ToolOutput::error(e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_magic_bytes() {
        assert_eq!(sniff_image(b"\x89PNG\r\n\x1a\nxxxx"), Some("image/png"));
        assert_eq!(sniff_image(&[0xFF, 0xD8, 0xFF, 0xE0]), Some("image/jpeg"));
        assert_eq!(sniff_image(b"GIF89a.."), Some("image/gif"));
        assert_eq!(sniff_image(b"RIFF\0\0\0\0WEBPVP8 "), Some("image/webp"));
        assert_eq!(sniff_image(b"hello world"), None);
        assert_eq!(sniff_image(b"RIFF"), None);
    }
}
