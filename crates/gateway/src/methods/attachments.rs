//! The `attachments` param of `chat.send` and `agent`, as OpenClaw defines it: an array of
//! `{type?, mimeType?, fileName?, content}` where `content` is the file's bytes in base64 (a
//! `data:<mime>;base64,…` URL is accepted too).
//!
//! Every attachment is checked before anything is written, so a bad one fails the call with
//! `INVALID_REQUEST` naming it and leaves no file behind. Each decoded file is at most
//! 5,000,000 bytes (OpenClaw's `chat.send` limit). Good ones are saved under
//! `<state>/media/inbound/<uuid><ext>` and handed to the run. Unlike OpenClaw 2026.2, which
//! kept only images, every type is kept: the model gets a note for each file and reads
//! non-images with its tools.

use std::path::Path;

use base64::Engine;
use openclaw_agent::{AgentRuntime, RunState};
use openclaw_store::InboundMedia;
use serde::Deserialize;
use serde_json::Value;

use super::MethodError;

/// Largest decoded attachment, in bytes.
pub const MAX_ATTACHMENT_BYTES: usize = 5_000_000;

/// One entry of `attachments`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Attachment {
    /// `image`, `file`, … (used only to name the attachment in errors).
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub mime_type: Option<String>,
    pub file_name: Option<String>,
    /// Base64 text; anything else is refused with a message saying so.
    pub content: Option<Value>,
}

/// An attachment that passed every check.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    pub bytes: Vec<u8>,
    pub mime: Option<String>,
    pub file_name: Option<String>,
}

fn invalid(label: &str, what: String) -> MethodError {
    MethodError::InvalidParams(format!("attachment {label}: {what}"))
}

/// Check and decode every attachment; the first bad one fails the whole list.
pub fn decode(list: &[Attachment]) -> Result<Vec<Decoded>, MethodError> {
    list.iter()
        .enumerate()
        .map(|(i, a)| decode_one(i, a))
        .collect()
}

fn decode_one(idx: usize, a: &Attachment) -> Result<Decoded, MethodError> {
    let label = [&a.file_name, &a.kind]
        .into_iter()
        .flatten()
        .map(|s| s.trim())
        .find(|s| !s.is_empty())
        .map(str::to_string)
        .unwrap_or_else(|| format!("attachment-{}", idx + 1));
    let Some(Value::String(content)) = &a.content else {
        return Err(invalid(
            &label,
            "content must be a base64 string (the file's bytes, base64-encoded)".into(),
        ));
    };
    let mut b64 = content.trim();
    let mut mime = a.mime_type.clone().filter(|m| !m.trim().is_empty());
    if let Some(rest) = b64.strip_prefix("data:")
        && let Some((kind, data)) = rest.split_once(";base64,")
        && !kind.contains(';')
    {
        mime = mime.or_else(|| Some(kind.to_string()));
        b64 = data;
    }
    if b64.is_empty() {
        return Err(invalid(&label, "content is empty".into()));
    }
    let bad_base64 = || {
        invalid(
            &label,
            "invalid base64 content (encode the file's bytes with the standard base64 alphabet and `=` padding, or send a data:<mime>;base64,… URL)".into(),
        )
    };
    if !looks_like_base64(b64) {
        return Err(bad_base64());
    }
    let size = decoded_len(b64);
    if size > MAX_ATTACHMENT_BYTES {
        return Err(invalid(
            &label,
            format!(
                "exceeds size limit ({size} > {MAX_ATTACHMENT_BYTES} bytes); send a smaller file"
            ),
        ));
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(|_| bad_base64())?;
    Ok(Decoded {
        bytes,
        mime,
        file_name: a.file_name.clone(),
    })
}

/// Standard alphabet, a multiple of four characters, at most two `=` at the end.
fn looks_like_base64(s: &str) -> bool {
    let body = s.trim_end_matches('=');
    s.len().is_multiple_of(4)
        && s.len() - body.len() <= 2
        && body
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'+' || c == b'/')
}

/// Decoded size of valid base64 text.
fn decoded_len(s: &str) -> usize {
    let pad = s.len() - s.trim_end_matches('=').len();
    (s.len() / 4 * 3).saturating_sub(pad)
}

/// Check the attachments of a run and save them. A run id the runtime already knows (a
/// retried idempotency key) saves nothing: that run has its files.
pub async fn media_for_run(
    rt: &AgentRuntime,
    state_dir: &Path,
    run_id: &str,
    list: Option<Vec<Attachment>>,
) -> Result<Vec<InboundMedia>, MethodError> {
    let decoded = decode(&list.unwrap_or_default())?;
    if decoded.is_empty() || !matches!(rt.run_state(run_id), RunState::Unknown) {
        return Ok(Vec::new());
    }
    let mut saved: Vec<InboundMedia> = Vec::with_capacity(decoded.len());
    for d in decoded {
        let r = openclaw_store::media::save_inbound(
            state_dir,
            d.bytes,
            d.mime.as_deref(),
            d.file_name.as_deref(),
        )
        .await;
        match r {
            Ok(m) => saved.push(m),
            Err(e) => {
                for m in &saved {
                    let _ = tokio::fs::remove_file(&m.path).await;
                }
                return Err(MethodError::Internal(format!(
                    "cannot save an attachment: {e}"
                )));
            }
        }
    }
    Ok(saved)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;
    use serde_json::json;

    fn att(v: Value) -> Attachment {
        serde_json::from_value(v).unwrap()
    }

    fn err(v: Value) -> String {
        match decode(&[att(v)]) {
            Err(MethodError::InvalidParams(m)) => m,
            other => panic!("expected InvalidParams, got {other:?}"),
        }
    }

    #[test]
    fn decodes_plain_and_data_url_content() {
        let d = decode(&[
            att(json!({"type": "image", "mimeType": "image/png", "fileName": "a.png", "content": "aGVsbG8="})),
            att(json!({"content": "data:text/plain;base64,aGk="})),
        ])
        .unwrap();
        assert_eq!(d[0].bytes, b"hello");
        assert_eq!(d[0].mime.as_deref(), Some("image/png"));
        assert_eq!(d[0].file_name.as_deref(), Some("a.png"));
        assert_eq!(d[1].bytes, b"hi");
        assert_eq!(d[1].mime.as_deref(), Some("text/plain"));
    }

    #[test]
    fn bad_attachments_are_named_with_the_fix() {
        let m = err(json!({"fileName": "x.png", "content": "not base64!"}));
        assert!(
            m.starts_with("attachment x.png: invalid base64 content"),
            "{m}"
        );
        let m = err(json!({"type": "image", "content": "abc"}));
        assert!(
            m.starts_with("attachment image: invalid base64 content"),
            "{m}"
        );
        let m = err(json!({"content": 42}));
        assert_eq!(
            m,
            "attachment attachment-1: content must be a base64 string (the file's bytes, base64-encoded)"
        );
        let m = err(json!({"content": "  "}));
        assert_eq!(m, "attachment attachment-1: content is empty");
        let big = "A".repeat((MAX_ATTACHMENT_BYTES / 3 + 1) * 4);
        let m = err(json!({"fileName": "big.bin", "content": big}));
        assert_eq!(
            m,
            format!(
                "attachment big.bin: exceeds size limit ({} > 5000000 bytes); send a smaller file",
                MAX_ATTACHMENT_BYTES / 3 * 3 + 3
            )
        );
    }

    #[test]
    fn one_bad_attachment_fails_the_list() {
        let list = [
            att(json!({"content": "aGk="})),
            att(json!({"fileName": "b", "content": "%%%%"})),
        ];
        assert!(decode(&list).is_err());
    }
}
