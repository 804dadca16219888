//! Mention patterns: in group chats, text matching one of the routed agent's
//! `agents.list[].groupChat.mentionPatterns` (else `messages.groupChat.mentionPatterns`) counts
//! as mentioning the bot, so people can call it by name ("clawd, what's up?") instead of an
//! @-mention. Patterns are regular expressions matched case-insensitively anywhere in the text,
//! as upstream; an invalid one is skipped with a warning rather than failing every message.

use openclaw_config::OpenClawConfig;
use openclaw_store::session_key::normalize_agent_id;
use regex::{Regex, RegexBuilder};

/// The raw patterns for `agent_id`: the agent's own list wins, even when empty.
fn patterns<'a>(cfg: &'a OpenClawConfig, agent_id: &str) -> &'a [String] {
    let agent = normalize_agent_id(agent_id);
    let own = cfg
        .agents
        .as_ref()
        .and_then(|a| a.list.as_ref())
        .into_iter()
        .flatten()
        .find(|e| e.id.as_deref().map(normalize_agent_id).as_deref() == Some(agent.as_str()))
        .and_then(|e| e.group_chat.as_ref())
        .and_then(|g| g.mention_patterns.as_deref());
    own.or_else(|| {
        cfg.messages
            .as_ref()
            .and_then(|m| m.group_chat.as_ref())
            .and_then(|g| g.mention_patterns.as_deref())
    })
    .unwrap_or(&[])
}

fn compile(pattern: &str) -> Option<Regex> {
    match RegexBuilder::new(pattern)
        .case_insensitive(true)
        .size_limit(1 << 20)
        .build()
    {
        Ok(r) => Some(r),
        Err(e) => {
            tracing::warn!(pattern, error = %e, "groupChat.mentionPatterns: invalid pattern skipped");
            None
        }
    }
}

/// Whether `text` mentions the agent by one of its patterns.
pub fn matches(cfg: &OpenClawConfig, agent_id: &str, text: &str) -> bool {
    patterns(cfg, agent_id)
        .iter()
        .filter(|p| !p.trim().is_empty())
        .filter_map(|p| compile(p))
        .any(|r| r.is_match(text))
}

#[cfg(test)]
mod tests {
    use super::*;
    use openclaw_config::{EnvMap, parse_str};

    fn cfg(text: &str) -> OpenClawConfig {
        parse_str(
            text,
            std::path::Path::new("/x/openclaw.json"),
            &EnvMap::new(),
        )
        .unwrap()
        .config
    }

    #[test]
    fn agent_patterns_win_over_the_global_fallback() {
        let c = cfg(r#"{
          messages: { groupChat: { mentionPatterns: ["\\bbot\\b"] } },
          agents: { list: [
            { id: "main", groupChat: { mentionPatterns: ["^clawd\\b", "[invalid"] } },
            { id: "quiet", groupChat: { mentionPatterns: [] } },
          ] },
        }"#);
        assert!(matches(&c, "main", "Clawd, what's the weather?"));
        assert!(
            !matches(&c, "main", "ask the bot"),
            "global list is only a fallback"
        );
        assert!(
            !matches(&c, "quiet", "bot, hi"),
            "an empty own list disables it"
        );
        assert!(
            matches(&c, "other", "hey BOT"),
            "agents without a list use the global one"
        );
        assert!(!matches(&c, "other", "robotics"));
    }

    #[test]
    fn nothing_configured_matches_nothing() {
        assert!(!matches(&cfg("{}"), "main", "clawd"));
    }
}
