//! Session keys: the string that names a conversation, `agent:<agentId>:<rest>`.
//!
//! The key decides which transcript a message lands in and whether the session counts as the
//! agent's *main* session (sandbox `mode: "non-main"` sandboxes everything else), so building
//! and classifying keys lives in one place. Rules follow OpenClaw's `routing/session-key.ts`:
//! keys are lower-case, agent ids match `^[a-z0-9][a-z0-9_-]{0,63}$` after normalization, the
//! main key defaults to `main`, and DMs map to keys according to `session.dmScope`.

use serde::{Deserialize, Serialize};

pub const DEFAULT_AGENT_ID: &str = "main";
pub const DEFAULT_MAIN_KEY: &str = "main";
pub const DEFAULT_ACCOUNT_ID: &str = "default";

/// Normalize an agent id: trimmed, lower-cased, runs of characters outside `[a-z0-9_-]` become
/// one `-`, leading/trailing dashes dropped, at most 64 chars; empty → `main`.
pub fn normalize_agent_id(raw: &str) -> String {
    normalize_id(raw, DEFAULT_AGENT_ID)
}

/// Normalize a channel account id the same way; empty → `default`.
pub fn normalize_account_id(raw: &str) -> String {
    normalize_id(raw, DEFAULT_ACCOUNT_ID)
}

fn normalize_id(raw: &str, fallback: &str) -> String {
    let lower = raw.trim().to_lowercase();
    let mut out = String::with_capacity(lower.len());
    let mut in_invalid = false;
    for c in lower.chars() {
        if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-' {
            out.push(c);
            in_invalid = false;
        } else if !in_invalid {
            out.push('-');
            in_invalid = true;
        }
    }
    let trimmed: String = out.trim_matches('-').chars().take(64).collect();
    if trimmed.is_empty() {
        fallback.to_string()
    } else {
        trimmed
    }
}

/// Whether `id` already is a valid agent id (`^[a-z0-9][a-z0-9_-]{0,63}$`, case-insensitive).
pub fn is_valid_agent_id(id: &str) -> bool {
    let b = id.as_bytes();
    !b.is_empty()
        && b.len() <= 64
        && b[0].is_ascii_alphanumeric()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || *c == b'_' || *c == b'-')
}

/// Normalize a main key: trimmed, lower-cased; empty → `main`.
pub fn normalize_main_key(raw: &str) -> String {
    let t = raw.trim().to_lowercase();
    if t.is_empty() {
        DEFAULT_MAIN_KEY.to_string()
    } else {
        t
    }
}

/// `agent:<agentId>:<mainKey>`, e.g. `agent:main:main`.
pub fn main_session_key(agent_id: &str, main_key: &str) -> String {
    format!(
        "agent:{}:{}",
        normalize_agent_id(agent_id),
        normalize_main_key(main_key)
    )
}

/// A parsed `agent:<agentId>:<rest>` key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedSessionKey {
    pub agent_id: String,
    /// Everything after `agent:<agentId>:`, lower-cased, e.g. `telegram:group:-100123`.
    pub rest: String,
}

/// Parse `agent:<agentId>:<rest>`; `None` for keys of other shapes (`global`, `cron:<id>`,
/// `hook:<uuid>`, …) or with an empty agent id or rest.
pub fn parse(key: &str) -> Option<ParsedSessionKey> {
    let lower = key.trim().to_lowercase();
    let mut parts = lower.splitn(3, ':');
    if parts.next()? != "agent" {
        return None;
    }
    let agent_id = parts.next()?;
    let rest = parts.next()?;
    if agent_id.is_empty() || rest.is_empty() {
        return None;
    }
    Some(ParsedSessionKey {
        agent_id: agent_id.to_string(),
        rest: rest.to_string(),
    })
}

/// The agent a key belongs to; keys without an agent prefix belong to `default_agent`.
pub fn agent_id_of(key: &str, default_agent: &str) -> String {
    parse(key)
        .map(|p| normalize_agent_id(&p.agent_id))
        .unwrap_or_else(|| normalize_agent_id(default_agent))
}

/// Resolve what a client sent as a session key: trimmed and lower-cased; the bare aliases
/// `main` (and the configured main key) name the default agent's main session.
pub fn canonicalize(raw: &str, default_agent: &str, main_key: &str) -> String {
    let k = raw.trim().to_lowercase();
    let mk = normalize_main_key(main_key);
    if k.is_empty() || k == DEFAULT_MAIN_KEY || k == mk {
        return main_session_key(default_agent, &mk);
    }
    k
}

/// Whether `key` is the main session of `agent_id` under `main_key`.
pub fn is_main(key: &str, agent_id: &str, main_key: &str) -> bool {
    key.trim().to_lowercase() == main_session_key(agent_id, main_key)
}

/// How DMs map to sessions (`session.dmScope`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DmScope {
    /// All DMs from all channels share the main session.
    #[default]
    Main,
    PerPeer,
    PerChannelPeer,
    PerAccountChannelPeer,
}

/// Key for a direct message from `peer_id` on `channel` (`account_id` for multi-account
/// channels). With `DmScope::Main`, or without a peer id, this is the main session.
pub fn direct_session_key(
    agent_id: &str,
    main_key: &str,
    scope: DmScope,
    channel: &str,
    account_id: Option<&str>,
    peer_id: &str,
) -> String {
    let agent = normalize_agent_id(agent_id);
    let peer = peer_id.trim().to_lowercase();
    let channel = non_empty_lower(channel);
    if peer.is_empty() {
        return main_session_key(&agent, main_key);
    }
    match scope {
        DmScope::Main => main_session_key(&agent, main_key),
        DmScope::PerPeer => format!("agent:{agent}:direct:{peer}"),
        DmScope::PerChannelPeer => format!("agent:{agent}:{channel}:direct:{peer}"),
        DmScope::PerAccountChannelPeer => {
            let account = normalize_account_id(account_id.unwrap_or(""));
            format!("agent:{agent}:{channel}:{account}:direct:{peer}")
        }
    }
}

/// Kind of a non-direct peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeerKind {
    Group,
    Channel,
    Room,
}

impl PeerKind {
    fn as_str(self) -> &'static str {
        match self {
            PeerKind::Group => "group",
            PeerKind::Channel => "channel",
            PeerKind::Room => "room",
        }
    }
}

/// `agent:<agentId>:<channel>:<group|channel|room>:<id>`.
pub fn group_session_key(agent_id: &str, channel: &str, kind: PeerKind, peer_id: &str) -> String {
    let peer = non_empty_lower(peer_id);
    format!(
        "agent:{}:{}:{}:{peer}",
        normalize_agent_id(agent_id),
        non_empty_lower(channel),
        kind.as_str()
    )
}

/// `<base>:thread:<threadId>` (Slack/Discord threads).
pub fn thread_session_key(base: &str, thread_id: &str) -> String {
    format!(
        "{}:thread:{}",
        base.trim().to_lowercase(),
        thread_id.trim().to_lowercase()
    )
}

/// `<base>:topic:<topicId>` (Telegram forum topics).
pub fn topic_session_key(base: &str, topic_id: &str) -> String {
    format!(
        "{}:topic:{}",
        base.trim().to_lowercase(),
        topic_id.trim().to_lowercase()
    )
}

/// `agent:<agentId>:subagent:<uuid>`.
pub fn subagent_session_key(agent_id: &str, id: &str) -> String {
    format!(
        "agent:{}:subagent:{}",
        normalize_agent_id(agent_id),
        id.trim().to_lowercase()
    )
}

fn non_empty_lower(s: &str) -> String {
    let t = s.trim().to_lowercase();
    if t.is_empty() {
        "unknown".to_string()
    } else {
        t
    }
}

/// The `kind` column of `sessions.list` rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SessionKind {
    Direct,
    Group,
    Global,
    Unknown,
}

impl SessionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SessionKind::Direct => "direct",
            SessionKind::Group => "group",
            SessionKind::Global => "global",
            SessionKind::Unknown => "unknown",
        }
    }
}

/// Classify a key for `sessions.list`: `global`/`unknown` are literal keys; a stored `chatType`
/// of `group`/`channel`/`room` or a `:group:`/`:channel:`/`:room:` segment means `group`;
/// everything else (main, DMs, cron, hooks, sub-agents) is `direct`.
pub fn classify(key: &str, chat_type: Option<&str>) -> SessionKind {
    let k = key.trim().to_lowercase();
    if k == "global" {
        return SessionKind::Global;
    }
    if k == "unknown" {
        return SessionKind::Unknown;
    }
    if matches!(chat_type, Some("group" | "channel" | "room")) {
        return SessionKind::Group;
    }
    if k.contains(":group:") || k.contains(":channel:") || k.contains(":room:") {
        return SessionKind::Group;
    }
    SessionKind::Direct
}

/// Thread or topic id carried by the key's suffix, if any.
pub fn thread_id_of(key: &str) -> Option<&str> {
    for marker in [":thread:", ":topic:"] {
        if let Some(pos) = key.rfind(marker) {
            let id = &key[pos + marker.len()..];
            if !id.is_empty() {
                return Some(id);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn agent_id_normalization_table() {
        for (raw, want) in [
            ("main", "main"),
            ("  Work ", "work"),
            ("My Agent!!", "my-agent"),
            ("--x--", "x"),
            ("a_b-c9", "a_b-c9"),
            ("", "main"),
            ("!!!", "main"),
            ("ÄBC", "bc"),
        ] {
            assert_eq!(normalize_agent_id(raw), want, "input {raw:?}");
        }
        assert_eq!(normalize_agent_id(&"a".repeat(80)).len(), 64);
        assert!(is_valid_agent_id("Main"));
        assert!(!is_valid_agent_id("-main"));
        assert!(!is_valid_agent_id(&"a".repeat(65)));
    }

    #[test]
    fn parse_table() {
        let p = parse("agent:Main:Telegram:group:-100").unwrap();
        assert_eq!(
            p,
            ParsedSessionKey {
                agent_id: "main".into(),
                rest: "telegram:group:-100".into()
            }
        );
        assert_eq!(parse("agent:main:main").unwrap().rest, "main");
        for bad in [
            "global",
            "cron:job1",
            "hook:abc",
            "agent:main",
            "agent::x",
            "agent:x:",
            "",
        ] {
            assert_eq!(parse(bad), None, "input {bad:?}");
        }
        assert_eq!(agent_id_of("agent:work:main", "main"), "work");
        assert_eq!(agent_id_of("global", "Main"), "main");
    }

    #[test]
    fn main_key_and_aliases() {
        assert_eq!(main_session_key("main", ""), "agent:main:main");
        assert_eq!(main_session_key("Work", "Home"), "agent:work:home");
        assert_eq!(canonicalize("main", "main", "main"), "agent:main:main");
        assert_eq!(canonicalize("HOME", "work", "home"), "agent:work:home");
        assert_eq!(
            canonicalize("Agent:Main:Main", "main", "main"),
            "agent:main:main"
        );
        assert!(is_main("agent:main:main", "main", "main"));
        assert!(is_main("AGENT:MAIN:MAIN", "Main", ""));
        assert!(!is_main("agent:main:telegram:group:1", "main", "main"));
        assert!(!is_main("agent:other:main", "main", "main"));
    }

    #[test]
    fn dm_scope_table() {
        let cases = [
            (DmScope::Main, "agent:main:main"),
            (DmScope::PerPeer, "agent:main:direct:user42"),
            (DmScope::PerChannelPeer, "agent:main:telegram:direct:user42"),
            (
                DmScope::PerAccountChannelPeer,
                "agent:main:telegram:bot-a:direct:user42",
            ),
        ];
        for (scope, want) in cases {
            let got =
                direct_session_key("main", "main", scope, "Telegram", Some("Bot A"), "User42");
            assert_eq!(got, want, "{scope:?}");
        }
        assert_eq!(
            direct_session_key(
                "main",
                "main",
                DmScope::PerAccountChannelPeer,
                "discord",
                None,
                "7"
            ),
            "agent:main:discord:default:direct:7"
        );
        assert_eq!(
            direct_session_key("main", "main", DmScope::PerPeer, "telegram", None, " "),
            "agent:main:main"
        );
        let scope: DmScope = serde_json::from_str("\"per-account-channel-peer\"").unwrap();
        assert_eq!(scope, DmScope::PerAccountChannelPeer);
    }

    #[test]
    fn group_thread_topic_keys() {
        let g = group_session_key("main", "Telegram", PeerKind::Group, "-100123");
        assert_eq!(g, "agent:main:telegram:group:-100123");
        assert_eq!(
            topic_session_key(&g, "7"),
            "agent:main:telegram:group:-100123:topic:7"
        );
        let c = group_session_key("main", "discord", PeerKind::Channel, "999");
        assert_eq!(
            thread_session_key(&c, "55"),
            "agent:main:discord:channel:999:thread:55"
        );
        assert_eq!(
            thread_id_of("agent:main:discord:channel:999:thread:55"),
            Some("55")
        );
        assert_eq!(thread_id_of("agent:main:main"), None);
        assert_eq!(
            subagent_session_key("main", "ABC"),
            "agent:main:subagent:abc"
        );
        assert_eq!(
            group_session_key("main", "", PeerKind::Room, ""),
            "agent:main:unknown:room:unknown"
        );
    }

    #[test]
    fn classification_table() {
        for (key, chat_type, want) in [
            ("agent:main:main", None, SessionKind::Direct),
            ("agent:main:telegram:direct:1", None, SessionKind::Direct),
            ("agent:main:telegram:group:1", None, SessionKind::Group),
            (
                "agent:main:discord:channel:1:thread:2",
                None,
                SessionKind::Group,
            ),
            ("agent:main:slack:x", Some("group"), SessionKind::Group),
            ("global", None, SessionKind::Global),
            ("unknown", None, SessionKind::Unknown),
            ("cron:job", None, SessionKind::Direct),
        ] {
            assert_eq!(classify(key, chat_type), want, "{key}");
        }
        assert_eq!(
            serde_json::to_string(&SessionKind::Direct).unwrap(),
            "\"direct\""
        );
    }
}
