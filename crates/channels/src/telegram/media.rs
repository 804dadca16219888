//! Inbound media of a Telegram message. The file of a photo (its largest size), video, video
//! note, document, audio or voice message is located with `getFile`, downloaded from
//! `<api root>/file/bot<token>/<file_path>` and saved under `<state>/media/inbound/`, where the
//! agent run picks it up. Stickers and locations keep only their `<media:…>` placeholder.
//!
//! `mediaMaxMb` (default 100) caps a file before and while it downloads; a bigger one is
//! refused with a reply to the sender, as OpenClaw does. Any other failure is logged and the
//! message runs with its placeholder alone. A download URL holds the bot token, so nothing
//! here logs or reports one.

use openclaw_agent::RunState;
use openclaw_store::InboundMedia;
use serde_json::Value;

use super::Account;
use super::api::ApiError;
use super::types::Message;

/// A file a message carries, as the update describes it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct MediaFile {
    pub file_id: String,
    pub file_size: Option<u64>,
    pub mime: Option<String>,
    pub file_name: Option<String>,
}

/// What became of a message's file.
#[derive(Debug)]
pub(crate) enum Fetched {
    /// Saved files (empty: no file, or the download failed and was logged).
    Media(Vec<InboundMedia>),
    /// Larger than `mediaMaxMb`: nothing kept, the sender should be told.
    TooLarge { limit_mb: u64 },
}

/// The file to download: the photo's last (largest) size, else the video, video note,
/// document, audio or voice file, in OpenClaw's order.
pub(crate) fn media_file(msg: &Message) -> Option<MediaFile> {
    let photo = msg
        .photo
        .as_ref()
        .and_then(Value::as_array)
        .and_then(|sizes| sizes.last());
    let v = photo
        .or(msg.video.as_ref())
        .or(msg.video_note.as_ref())
        .or(msg.document.as_ref())
        .or(msg.audio.as_ref())
        .or(msg.voice.as_ref())?;
    let text = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    Some(MediaFile {
        file_id: text("file_id").filter(|id| !id.is_empty())?,
        file_size: v.get("file_size").and_then(Value::as_u64),
        mime: text("mime_type"),
        file_name: text("file_name"),
    })
}

#[derive(Debug, thiserror::Error)]
enum FetchError {
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error("cannot save the file: {0}")]
    Save(#[from] openclaw_store::StoreError),
}

/// Download and save the message's file, unless the run of `run_id` is already known (a
/// redelivered update: that run has its file).
pub(crate) async fn for_message(acct: &Account, msg: &Message, run_id: &str) -> Fetched {
    let Some(file) = media_file(msg) else {
        return Fetched::Media(Vec::new());
    };
    if !matches!(acct.shared.runtime.run_state(run_id), RunState::Unknown) {
        return Fetched::Media(Vec::new());
    }
    let max = acct.settings().media_max_bytes;
    match fetch(acct, &file, max).await {
        Ok(m) => Fetched::Media(vec![m]),
        Err(FetchError::Api(ApiError::TooLarge { .. })) => {
            tracing::warn!(
                chat = msg.chat.id,
                limit = max,
                "telegram: inbound file over mediaMaxMb refused"
            );
            Fetched::TooLarge {
                limit_mb: (max as f64 / (1024.0 * 1024.0)).round() as u64,
            }
        }
        Err(e) => {
            tracing::warn!(chat = msg.chat.id, error = %e, "telegram: inbound file not downloaded; the message runs without it");
            Fetched::Media(Vec::new())
        }
    }
}

async fn fetch(acct: &Account, file: &MediaFile, max: u64) -> Result<InboundMedia, FetchError> {
    let too_large = || ApiError::TooLarge {
        method: "getFile",
        limit: max,
    };
    if file.file_size.is_some_and(|n| n > max) {
        return Err(too_large().into());
    }
    let info = acct.api.get_file(&file.file_id).await?;
    if info.file_size.is_some_and(|n| n > max) {
        return Err(too_large().into());
    }
    let path = info.file_path.ok_or_else(|| ApiError::Decode {
        method: "getFile",
        message: "no file_path in the answer (Telegram serves bot downloads up to 20 MB)".into(),
    })?;
    let bytes = acct.api.download_file(&path, max).await?;
    let name = file.file_name.as_deref().unwrap_or(&path);
    Ok(openclaw_store::media::save_inbound(
        &acct.shared.paths.state_dir,
        bytes,
        file.mime.as_deref(),
        Some(name),
    )
    .await?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;
    use serde_json::json;

    fn msg(extra: Value) -> Message {
        let mut m = json!({"message_id": 1, "chat": {"id": 5, "type": "private"}});
        for (k, v) in extra.as_object().unwrap() {
            m[k] = v.clone();
        }
        serde_json::from_value(m).unwrap()
    }

    #[test]
    fn picks_the_largest_photo_then_other_kinds() {
        let m = msg(json!({"photo": [
            {"file_id": "small", "file_unique_id": "s", "width": 90, "height": 90, "file_size": 10},
            {"file_id": "big", "file_unique_id": "b", "width": 1280, "height": 1280, "file_size": 900}
        ]}));
        let f = media_file(&m).unwrap();
        assert_eq!(f.file_id, "big");
        assert_eq!(f.file_size, Some(900));
        let m = msg(
            json!({"document": {"file_id": "d1", "file_name": "report.pdf", "mime_type": "application/pdf"}}),
        );
        assert_eq!(
            media_file(&m).unwrap(),
            MediaFile {
                file_id: "d1".into(),
                file_size: None,
                mime: Some("application/pdf".into()),
                file_name: Some("report.pdf".into()),
            }
        );
        let m = msg(json!({"voice": {"file_id": "v1", "mime_type": "audio/ogg", "duration": 2}}));
        assert_eq!(media_file(&m).unwrap().file_id, "v1");
        let m = msg(json!({"sticker": {"file_id": "st"}}));
        assert_eq!(media_file(&m), None);
        assert_eq!(media_file(&msg(json!({"text": "hi"}))), None);
    }
}
