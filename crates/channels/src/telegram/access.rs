//! Who may talk to the bot, as pure functions over the resolved settings.
//!
//! DMs: `dmPolicy` `pairing` (default) | `allowlist` | `open` | `disabled`; config `allowFrom`
//! plus, under `pairing` only, the approved senders of the pairing store. Groups: `groupPolicy`
//! (`allowlist` default) per topic → group → channel; a non-empty `groups` map is a chat
//! allowlist (`"*"` allows every chat); a group/topic `allowFrom` overrides the sender list;
//! under `allowlist` senders come from `groupAllowFrom` (falling back to `allowFrom`) and never
//! from the pairing store, unless the chat has its own `groups` entry and no sender list at all.
//! Allowlist entries are numeric Telegram user ids; `telegram:`/`tg:` prefixes are dropped.

use openclaw_config::schema::{DmPolicy, GroupPolicy, StringOrNumber};

use super::account::{AccountSettings, GroupConfig, TopicConfig};
use super::types::Message;

/// A normalized allowlist.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AllowList {
    pub ids: Vec<String>,
    pub wildcard: bool,
    /// Any entry was written (even an invalid one): an explicit list, however useless.
    pub has_entries: bool,
}

impl AllowList {
    pub fn from_entries<'a>(entries: impl IntoIterator<Item = &'a str>) -> AllowList {
        let mut out = AllowList::default();
        for raw in entries {
            let e = raw.trim();
            if e.is_empty() {
                continue;
            }
            out.has_entries = true;
            if e == "*" {
                out.wildcard = true;
                continue;
            }
            let id = strip_prefix(e);
            let numeric = id.strip_prefix('-').unwrap_or(id);
            if !numeric.is_empty() && numeric.bytes().all(|b| b.is_ascii_digit()) {
                if !out.ids.iter().any(|x| x == id) {
                    out.ids.push(id.to_string());
                }
            } else {
                tracing::debug!(
                    entry = e,
                    "telegram allowFrom entries must be numeric user ids (run onboarding to resolve @usernames)"
                );
            }
        }
        out
    }

    pub fn allows(&self, sender: Option<i64>) -> bool {
        self.wildcard || sender.is_some_and(|s| self.ids.iter().any(|i| *i == s.to_string()))
    }
}

/// `telegram:123` / `tg:123` → `123` (case-insensitive prefix).
pub fn strip_prefix(entry: &str) -> &str {
    for p in ["telegram:", "tg:"] {
        if entry
            .get(..p.len())
            .is_some_and(|h| h.eq_ignore_ascii_case(p))
        {
            return entry[p.len()..].trim();
        }
    }
    entry
}

fn list(v: &[String]) -> AllowList {
    AllowList::from_entries(v.iter().map(String::as_str))
}

fn list_of(v: &[StringOrNumber]) -> Vec<String> {
    v.iter().map(StringOrNumber::to_text).collect()
}

/// What happens to a direct message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DmAccess {
    Allowed,
    /// Unknown sender under `pairing`: issue (or recall) a code; do not process the message.
    Pair,
    Blocked(&'static str),
}

/// Decide a DM. `store` is the pairing store's approved senders (read only under `pairing`).
pub fn dm_access(settings: &AccountSettings, sender: Option<i64>, store: &[String]) -> DmAccess {
    match settings.dm_policy {
        DmPolicy::Disabled => return DmAccess::Blocked("dmPolicy is disabled"),
        DmPolicy::Open => return DmAccess::Allowed,
        DmPolicy::Pairing | DmPolicy::Allowlist => {}
    }
    let mut entries: Vec<String> = settings.allow_from.clone().unwrap_or_default();
    if settings.dm_policy == DmPolicy::Pairing {
        entries.extend(store.iter().cloned());
    }
    if list(&entries).allows(sender) {
        return DmAccess::Allowed;
    }
    match (settings.dm_policy, sender) {
        (DmPolicy::Pairing, Some(_)) => DmAccess::Pair,
        (DmPolicy::Pairing, None) => DmAccess::Blocked("sender has no user id"),
        _ => DmAccess::Blocked("sender is not in allowFrom"),
    }
}

/// How an allowed group message is handled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupRoute {
    pub require_mention: bool,
    pub system_prompt: Option<String>,
    /// A topic routed to another agent.
    pub agent_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupAccess {
    Allowed(GroupRoute),
    Blocked(&'static str),
}

/// Decide a group (or forum topic) message.
pub fn group_access(
    settings: &AccountSettings,
    chat_id: i64,
    topic: Option<i64>,
    sender: Option<i64>,
) -> GroupAccess {
    let key = chat_id.to_string();
    let exact: Option<&GroupConfig> = settings.groups.as_ref().and_then(|g| g.get(&key));
    let star: Option<&GroupConfig> = settings.groups.as_ref().and_then(|g| g.get("*"));
    let group = exact.or(star);
    let topic_cfg: Option<&TopicConfig> =
        topic.and_then(|t| group.and_then(|g| g.topics.get(&t.to_string())));
    let policy = topic_cfg
        .and_then(|t| t.group_policy)
        .or_else(|| group.and_then(|g| g.group_policy))
        .unwrap_or(settings.group_policy);
    if policy == GroupPolicy::Disabled {
        return GroupAccess::Blocked("groupPolicy is disabled");
    }
    if settings.groups.is_some() && group.is_none() {
        return GroupAccess::Blocked("chat is not in channels.telegram.groups");
    }
    if group.and_then(|g| g.enabled) == Some(false) {
        return GroupAccess::Blocked("group is disabled");
    }
    if topic_cfg.and_then(|t| t.enabled) == Some(false) {
        return GroupAccess::Blocked("topic is disabled");
    }
    let override_list: Option<Vec<String>> = topic_cfg
        .and_then(|t| t.allow_from.as_deref())
        .or_else(|| group.and_then(|g| g.allow_from.as_deref()))
        .map(list_of);
    if let Some(o) = &override_list
        && !list(o).allows(sender)
    {
        return GroupAccess::Blocked("sender is not in the group's allowFrom");
    }
    if policy == GroupPolicy::Allowlist {
        let senders = override_list
            .clone()
            .or_else(|| settings.group_allow_from.clone())
            .or_else(|| settings.allow_from.clone().filter(|a| !a.is_empty()))
            .unwrap_or_default();
        let senders = list(&senders);
        match (exact.is_some(), senders.has_entries) {
            // The chat's own entry is the authorization when no sender list exists.
            (true, false) => {}
            (false, false) => {
                return GroupAccess::Blocked(
                    "groupPolicy is allowlist but no groupAllowFrom (or allowFrom) is set",
                );
            }
            (_, true) => {
                if !senders.allows(sender) {
                    return GroupAccess::Blocked("sender is not in groupAllowFrom");
                }
            }
        }
    }
    let require_mention = topic_cfg
        .and_then(|t| t.require_mention)
        .or_else(|| exact.and_then(|g| g.require_mention))
        .or_else(|| star.and_then(|g| g.require_mention))
        .unwrap_or(true);
    let system_prompt = topic_cfg
        .and_then(|t| t.system_prompt.clone())
        .or_else(|| group.and_then(|g| g.system_prompt.clone()))
        .filter(|s| !s.trim().is_empty());
    GroupAccess::Allowed(GroupRoute {
        require_mention,
        system_prompt,
        agent_id: topic_cfg.and_then(|t| t.agent_id.clone()),
    })
}

/// Whether a group message addresses the bot: `@botname` in the text (or a
/// `/command@botname`), a mention entity naming the bot, or a reply to one of its messages.
pub fn mentions_bot(msg: &Message, bot_id: i64, bot_username: Option<&str>) -> bool {
    let (text, entities) = msg.body();
    if entities
        .iter()
        .any(|e| e.kind == "text_mention" && e.user.as_ref().is_some_and(|u| u.id == bot_id))
    {
        return true;
    }
    if msg
        .reply_to_message
        .as_ref()
        .and_then(|r| r.from.as_ref())
        .is_some_and(|u| u.id == bot_id)
    {
        return true;
    }
    let Some(name) = bot_username.map(|n| n.trim_start_matches('@').to_lowercase()) else {
        return false;
    };
    if name.is_empty() {
        return false;
    }
    let needle = format!("@{name}");
    let lower = text.to_lowercase();
    let mut from = 0;
    while let Some(i) = lower[from..].find(&needle) {
        let end = from + i + needle.len();
        let next = lower[end..].chars().next();
        if !next.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
            return true;
        }
        from = end;
    }
    false
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use pretty_assertions::assert_eq;

    fn settings() -> AccountSettings {
        AccountSettings::default()
    }

    fn strings(v: &[&str]) -> Option<Vec<String>> {
        Some(v.iter().map(|s| s.to_string()).collect())
    }

    fn group(json: serde_json::Value) -> GroupConfig {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn allowlist_normalizes_prefixes() {
        let a = AllowList::from_entries(["tg:12", "TELEGRAM:34", "@name", " 56 "]);
        assert_eq!(a.ids, vec!["12", "34", "56"]);
        assert!(a.allows(Some(34)));
        assert!(!a.allows(Some(99)));
        assert!(!a.allows(None));
        assert!(AllowList::from_entries(["*"]).allows(Some(1)));
    }

    #[test]
    fn dm_policies() {
        let mut s = settings();
        assert_eq!(dm_access(&s, Some(1), &[]), DmAccess::Pair);
        assert_eq!(dm_access(&s, Some(1), &["1".into()]), DmAccess::Allowed);
        s.allow_from = strings(&["tg:1"]);
        assert_eq!(dm_access(&s, Some(1), &[]), DmAccess::Allowed);
        s.dm_policy = DmPolicy::Allowlist;
        assert_eq!(dm_access(&s, Some(1), &[]), DmAccess::Allowed);
        // The pairing store does not count under allowlist.
        assert!(matches!(
            dm_access(&s, Some(2), &["2".into()]),
            DmAccess::Blocked(_)
        ));
        s.dm_policy = DmPolicy::Open;
        assert_eq!(dm_access(&s, Some(2), &[]), DmAccess::Allowed);
        s.dm_policy = DmPolicy::Disabled;
        assert!(matches!(dm_access(&s, Some(1), &[]), DmAccess::Blocked(_)));
    }

    #[test]
    fn groups_fail_closed_without_a_sender_list() {
        let s = settings();
        assert!(matches!(
            group_access(&s, -100, None, Some(1)),
            GroupAccess::Blocked(_)
        ));
        let mut s = settings();
        s.group_policy = GroupPolicy::Open;
        assert_eq!(
            group_access(&s, -100, None, Some(1)),
            GroupAccess::Allowed(GroupRoute {
                require_mention: true,
                system_prompt: None,
                agent_id: None
            })
        );
    }

    #[test]
    fn group_allowlists() {
        let mut s = settings();
        s.allow_from = strings(&["1"]);
        s.groups = Some(BTreeMap::from([(
            "*".to_string(),
            group(serde_json::json!({"requireMention": true})),
        )]));
        // Senders fall back to allowFrom; store entries never count for groups.
        assert!(matches!(
            group_access(&s, -100, None, Some(1)),
            GroupAccess::Allowed(_)
        ));
        assert!(matches!(
            group_access(&s, -100, None, Some(2)),
            GroupAccess::Blocked(_)
        ));
        s.group_allow_from = strings(&["2"]);
        assert!(matches!(
            group_access(&s, -100, None, Some(2)),
            GroupAccess::Allowed(_)
        ));
        assert!(matches!(
            group_access(&s, -100, None, Some(1)),
            GroupAccess::Blocked(_)
        ));
        // A chat outside a non-wildcard map is dropped.
        s.groups = Some(BTreeMap::from([(
            "-200".to_string(),
            group(serde_json::json!({"requireMention": false, "systemPrompt": "be brief"})),
        )]));
        assert!(matches!(
            group_access(&s, -100, None, Some(2)),
            GroupAccess::Blocked(_)
        ));
        assert_eq!(
            group_access(&s, -200, None, Some(2)),
            GroupAccess::Allowed(GroupRoute {
                require_mention: false,
                system_prompt: Some("be brief".into()),
                agent_id: None
            })
        );
    }

    #[test]
    fn explicit_group_entry_authorizes_without_sender_list() {
        let mut s = settings();
        s.groups = Some(BTreeMap::from([
            ("-200".to_string(), group(serde_json::json!({}))),
            (
                "-300".to_string(),
                group(
                    serde_json::json!({"allowFrom": [5], "topics": {"9": {"enabled": false}, "3": {"agentId": "ops", "requireMention": false}}}),
                ),
            ),
        ]));
        assert!(matches!(
            group_access(&s, -200, None, Some(7)),
            GroupAccess::Allowed(_)
        ));
        assert!(matches!(
            group_access(&s, -300, None, Some(7)),
            GroupAccess::Blocked(_)
        ));
        assert!(matches!(
            group_access(&s, -300, Some(9), Some(5)),
            GroupAccess::Blocked(_)
        ));
        assert_eq!(
            group_access(&s, -300, Some(3), Some(5)),
            GroupAccess::Allowed(GroupRoute {
                require_mention: false,
                system_prompt: None,
                agent_id: Some("ops".into())
            })
        );
    }

    #[test]
    fn mention_detection() {
        let msg = |text: &str| -> Message {
            serde_json::from_value(serde_json::json!({
                "message_id": 1, "chat": {"id": -100, "type": "supergroup"},
                "from": {"id": 5, "first_name": "A"}, "text": text
            }))
            .unwrap()
        };
        assert!(mentions_bot(
            &msg("hey @OpenClawBot what's up"),
            42,
            Some("openclawbot")
        ));
        assert!(mentions_bot(
            &msg("/ask@openclawbot x"),
            42,
            Some("openclawbot")
        ));
        assert!(!mentions_bot(
            &msg("hey @openclawbot_fan"),
            42,
            Some("openclawbot")
        ));
        assert!(!mentions_bot(&msg("hello"), 42, Some("openclawbot")));
        let reply: Message = serde_json::from_value(serde_json::json!({
            "message_id": 2, "chat": {"id": -100, "type": "supergroup"}, "text": "yes",
            "reply_to_message": {"message_id": 1, "chat": {"id": -100, "type": "supergroup"}, "from": {"id": 42, "is_bot": true, "first_name": "Bot"}}
        }))
        .unwrap();
        assert!(mentions_bot(&reply, 42, Some("openclawbot")));
    }
}
