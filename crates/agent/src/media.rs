//! What the model sees of the files a user sent: OpenClaw's `[media attached: …]` note in
//! front of the message text and, for a model whose catalog entry declares
//! `input: ["text", "image"]`, the images themselves as image content blocks.
//!
//! A sandboxed session never sees a host path: each file is first copied into the sandbox
//! workspace (`media/inbound/<stem>-<8 hex><ext>`, see
//! [`crate::sandbox_backend::stage_agent_media`]) and the note names that workspace-relative
//! path, as OpenClaw rewrites `MediaPath`. A file that cannot be staged, or a session whose
//! sandbox settings do not resolve, gets a line saying the file is unavailable instead (fail
//! closed). The reply hint OpenClaw adds after the note (about sending media back) is left
//! out: replies here carry text only.

use std::path::Path;

use base64::Engine;
use openclaw_protocol::message::ContentBlock;
use openclaw_store::InboundMedia;

use crate::runtime::Inner;
use crate::settings::AgentRuntimeInfo;

/// Largest image sent inline to the model (the gateway's `policy.attachments.maxImageBytes`);
/// a bigger one is still noted and readable with tools.
pub const MAX_INLINE_IMAGE_BYTES: u64 = 6 * 1024 * 1024;
/// Image types every provider API here accepts inline.
const INLINE_IMAGE_TYPES: [&str; 4] = ["image/png", "image/jpeg", "image/gif", "image/webp"];

/// One file as the note names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteEntry {
    /// The path the model may use (host path, or workspace-relative in a sandbox).
    pub path: String,
    pub mime: Option<String>,
}

/// OpenClaw's media note: `[media attached: <path> (<mime>) | <path>]` for one file; for
/// several, a `[media attached: N files]` header and numbered `[media attached i/N: …]` lines.
/// The part after `|` is the file's URL, which for a local file is its path.
pub fn media_note(entries: &[NoteEntry]) -> Option<String> {
    let line = |prefix: String, e: &NoteEntry| {
        let mime = e
            .mime
            .as_deref()
            .map(str::trim)
            .filter(|m| !m.is_empty())
            .map(|m| format!(" ({m})"))
            .unwrap_or_default();
        format!("{prefix}{}{mime} | {}]", e.path, e.path)
    };
    match entries {
        [] => None,
        [one] => Some(line("[media attached: ".into(), one)),
        many => {
            let n = many.len();
            let mut lines = vec![format!("[media attached: {n} files]")];
            for (i, e) in many.iter().enumerate() {
                lines.push(line(format!("[media attached {}/{n}: ", i + 1), e));
            }
            Some(lines.join("\n"))
        }
    }
}

/// The user message of a turn with media: its text (notes first, as OpenClaw puts them) and
/// the image blocks that follow it.
pub(crate) async fn for_turn(
    rt: &Inner,
    agent: &AgentRuntimeInfo,
    session_key: &str,
    media: &[InboundMedia],
    text: String,
) -> (String, Vec<ContentBlock>) {
    if media.is_empty() {
        return (text, Vec::new());
    }
    let paths = model_paths(rt, agent, session_key, media).await;
    let mut noted = Vec::new();
    let mut missing = Vec::new();
    for (m, p) in media.iter().zip(paths) {
        match p {
            Some(path) => noted.push(NoteEntry {
                path,
                mime: Some(m.mime.clone()),
            }),
            None => missing.push(format!(
                "[media not available in the sandbox: {} ({}) could not be copied into the workspace]",
                file_name(&m.path),
                m.mime
            )),
        }
    }
    let parts: Vec<String> = media_note(&noted)
        .into_iter()
        .chain(missing)
        .chain(Some(text).filter(|t| !t.trim().is_empty()))
        .collect();
    let images = if agent.image_input {
        inline_images(media).await
    } else {
        Vec::new()
    };
    (parts.join("\n"), images)
}

/// The path the model sees for each file; `None` = not shown (staging failed).
async fn model_paths(
    rt: &Inner,
    agent: &AgentRuntimeInfo,
    session_key: &str,
    media: &[InboundMedia],
) -> Vec<Option<String>> {
    let host = || {
        media
            .iter()
            .map(|m| Some(m.path.display().to_string()))
            .collect()
    };
    let sb = match &agent.sandbox {
        Ok(sb) if sb.is_sandboxed(session_key) => sb,
        Ok(_) => return host(),
        Err(e) => {
            tracing::warn!(session = session_key, error = %e, "sandbox settings unresolved; media paths withheld");
            return vec![None; media.len()];
        }
    };
    let media_dir = openclaw_store::media::media_dir(&rt.settings().paths.state_dir);
    let sources: Vec<&Path> = media.iter().map(|m| m.path.as_path()).collect();
    let staged = crate::sandbox_backend::stage_agent_media(
        &rt.sandbox_manager(),
        sb,
        session_key,
        &media_dir,
        &sources,
    )
    .await;
    match staged {
        Ok(Some(results)) => results
            .into_iter()
            .map(|r| match r {
                Ok(rel) => Some(rel),
                Err(e) => {
                    tracing::warn!(session = session_key, error = %e, "inbound media not staged into the sandbox");
                    None
                }
            })
            .collect(),
        // The sandbox layer disagrees that the session is sandboxed: show nothing rather than
        // a host path.
        Ok(None) => vec![None; media.len()],
        Err(e) => {
            tracing::warn!(session = session_key, error = %e, "sandbox unavailable; inbound media not staged");
            vec![None; media.len()]
        }
    }
}

/// Image blocks for the files that are small images of a type the providers take inline.
async fn inline_images(media: &[InboundMedia]) -> Vec<ContentBlock> {
    let mut out = Vec::new();
    for m in media {
        if !INLINE_IMAGE_TYPES.contains(&m.mime.as_str()) {
            continue;
        }
        match tokio::fs::metadata(&m.path).await {
            Ok(meta) if meta.len() <= MAX_INLINE_IMAGE_BYTES => {}
            Ok(_) => continue,
            Err(e) => {
                tracing::warn!(path = %m.path.display(), error = %e, "inbound image unreadable");
                continue;
            }
        }
        match tokio::fs::read(&m.path).await {
            Ok(bytes) => out.push(ContentBlock::Image {
                data: base64::engine::general_purpose::STANDARD.encode(&bytes),
                mime_type: m.mime.clone(),
            }),
            Err(e) => {
                tracing::warn!(path = %m.path.display(), error = %e, "inbound image unreadable")
            }
        }
    }
    out
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn e(path: &str, mime: Option<&str>) -> NoteEntry {
        NoteEntry {
            path: path.into(),
            mime: mime.map(str::to_string),
        }
    }

    #[test]
    fn one_file_is_one_line() {
        assert_eq!(
            media_note(&[e("/tmp/a.png", Some("image/png"))]).unwrap(),
            "[media attached: /tmp/a.png (image/png) | /tmp/a.png]"
        );
        assert_eq!(
            media_note(&[e("media/inbound/a-1234abcd.pdf", None)]).unwrap(),
            "[media attached: media/inbound/a-1234abcd.pdf | media/inbound/a-1234abcd.pdf]"
        );
        assert_eq!(media_note(&[]), None);
    }

    #[test]
    fn several_files_are_numbered_under_a_header() {
        let note = media_note(&[
            e("/tmp/a.png", Some("image/png")),
            e("/tmp/b.ogg", Some("audio/ogg")),
        ])
        .unwrap();
        assert_eq!(
            note,
            "[media attached: 2 files]\n\
             [media attached 1/2: /tmp/a.png (image/png) | /tmp/a.png]\n\
             [media attached 2/2: /tmp/b.ogg (audio/ogg) | /tmp/b.ogg]"
        );
    }
}
