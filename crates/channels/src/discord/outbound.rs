//! What the bot sends: replies (split by [`chunk`](super::chunk), optionally threaded as Discord
//! replies per `replyToMode`) and `send` to a target.
//!
//! Targets follow the baseline: `channel:<id>` or a bare id is a channel; `user:<id>`,
//! `discord:<id>`, `@<id>` and `<@id>` are a user, reached through their DM channel.

use serde_json::{Value, json};

use openclaw_config::schema::ReplyToMode;

use super::chunk::chunk_text;
use super::{Account, ApiError};
use crate::ChannelError;

/// Where `send` delivers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Channel(String),
    User(String),
}

fn snowflake(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty() && s.len() <= 20 && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.to_string())
}

fn strip_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    s.get(..prefix.len())
        .filter(|h| h.eq_ignore_ascii_case(prefix))
        .map(|_| &s[prefix.len()..])
}

/// Parse a `send` target.
pub fn parse_target(raw: &str) -> Result<Target, ChannelError> {
    let invalid = || ChannelError::InvalidTarget {
        channel: "discord",
        target: raw.to_string(),
        hint: "use channel:<channelId> (or a bare channel id) for a channel, user:<userId> or <@userId> for a DM",
    };
    let mut t = raw.trim();
    if let Some(rest) = strip_ci(t, "discord:")
        && (strip_ci(rest, "user:").is_some() || strip_ci(rest, "channel:").is_some())
    {
        t = rest;
    } else if let Some(rest) = strip_ci(t, "discord:") {
        return snowflake(rest).map(Target::User).ok_or_else(invalid);
    }
    if let Some(inner) = t.strip_prefix("<@").and_then(|r| r.strip_suffix('>')) {
        return snowflake(inner.trim_start_matches('!'))
            .map(Target::User)
            .ok_or_else(invalid);
    }
    if let Some(rest) = strip_ci(t, "user:").or_else(|| t.strip_prefix('@')) {
        return snowflake(rest).map(Target::User).ok_or_else(invalid);
    }
    if let Some(rest) = strip_ci(t, "channel:") {
        return snowflake(rest).map(Target::Channel).ok_or_else(invalid);
    }
    snowflake(t).map(Target::Channel).ok_or_else(invalid)
}

/// Send a reply: chunked; `reply_to` makes the first (`first`) or every (`all`) chunk a Discord
/// reply to that message. Returns the id of the last message; stops at the first failure.
pub(crate) async fn send_reply(
    acct: &Account,
    channel_id: &str,
    text: &str,
    reply_to: Option<&str>,
) -> Result<String, ApiError> {
    let s = acct.settings();
    let mut last = String::new();
    let chunks = chunk_text(
        text,
        s.text_chunk_limit,
        s.max_lines_per_message,
        s.chunk_mode,
    );
    for (i, chunk) in chunks.iter().enumerate() {
        let reference = match s.reply_to_mode {
            ReplyToMode::Off => None,
            ReplyToMode::First => reply_to.filter(|_| i == 0),
            ReplyToMode::All => reply_to,
        };
        match acct.api.send_message(channel_id, chunk, reference).await {
            Ok(m) => {
                acct.note_outbound();
                last = m.id;
            }
            Err(e) => {
                acct.update_status(|st| st.last_error = Some(e.to_string()));
                return Err(e);
            }
        }
    }
    Ok(last)
}

/// One plain message (pairing codes, errors).
pub(crate) async fn send_plain(
    acct: &Account,
    channel_id: &str,
    text: &str,
) -> Result<String, ApiError> {
    let m = acct.api.send_message(channel_id, text, None).await?;
    acct.note_outbound();
    Ok(m.id)
}

/// `send` to a parsed target; returns `(channel id, last message id)`.
pub(crate) async fn send_to_target(
    acct: &Account,
    target: &Target,
    text: &str,
) -> Result<(String, String), ApiError> {
    let channel_id = match target {
        Target::Channel(id) => id.clone(),
        Target::User(id) => acct.dm_channel(id).await?,
    };
    let id = send_reply(acct, &channel_id, text, None).await?;
    Ok((channel_id, id))
}

/// The JSON `send` answers with.
pub(crate) fn send_result(run_id: &str, channel_id: &str, message_id: &str) -> Value {
    json!({"runId": run_id, "messageId": message_id, "channel": "discord", "channelId": channel_id})
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn targets() {
        let ch = |s: &str| Target::Channel(s.into());
        let user = |s: &str| Target::User(s.into());
        assert_eq!(parse_target("123").unwrap(), ch("123"));
        assert_eq!(parse_target("channel:123").unwrap(), ch("123"));
        assert_eq!(parse_target("discord:channel:123").unwrap(), ch("123"));
        assert_eq!(parse_target("user:55").unwrap(), user("55"));
        assert_eq!(parse_target("USER:55").unwrap(), user("55"));
        assert_eq!(parse_target("discord:55").unwrap(), user("55"));
        assert_eq!(parse_target("discord:user:55").unwrap(), user("55"));
        assert_eq!(parse_target("<@!55>").unwrap(), user("55"));
        assert_eq!(parse_target("@55").unwrap(), user("55"));
        for bad in ["", "general", "user:bob", "<@x>", "channel:"] {
            let e = parse_target(bad).unwrap_err().to_string();
            assert!(e.contains("user:<userId>"), "{bad}: {e}");
        }
    }
}
