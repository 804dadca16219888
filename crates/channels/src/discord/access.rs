//! Who may talk to the bot, as pure functions over the resolved settings.
//!
//! DMs: `dm.enabled` (default on), then `dmPolicy`/`dm.policy` — `pairing` (default) |
//! `allowlist` | `open` | `disabled` — over `allowFrom`/`dm.allowFrom` plus, under `pairing`
//! only, the senders approved through the pairing store.
//!
//! Guilds: `groupPolicy` `disabled` drops everything; a non-empty `guilds` map is a guild
//! allowlist (keys are guild ids, the guild's name slug, or `"*"`), and under `allowlist` (the
//! default) a guild must be listed. A guild's non-empty `channels` map is a channel allowlist
//! (keys: channel id, name slug, `"*"`; a thread falls back to its parent channel's entry);
//! `allow: false` or `enabled: false` keeps the bot out. `users`/`roles` (channel's, else the
//! guild's) restrict senders; either list admits. `requireMention` defaults to true.
//!
//! Allowlist entries are user ids, `<@id>` mentions, or `discord:`/`user:`/`pk:`-prefixed ids.
//! Names and tags match only with `dangerouslyAllowNameMatching: true` (names can be changed
//! by their owners; ids cannot).

use std::collections::BTreeMap;

use openclaw_config::schema::{DmPolicy, GroupPolicy, StringOrNumber};

use super::account::{AccountSettings, ChannelConfig, GuildConfig};
use super::types::Message;

/// `General Chat` → `general-chat` (the baseline's slugs for guild and channel names).
pub fn slug(value: &str) -> String {
    let lower = value.trim().to_lowercase();
    let lower = lower.trim_start_matches('#');
    let mut out = String::new();
    for c in lower.chars() {
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_string()
}

/// The sender as allowlists see it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sender {
    pub id: String,
    pub name: String,
    pub tag: String,
}

/// A normalized allowlist.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AllowList {
    pub ids: Vec<String>,
    pub names: Vec<String>,
    pub wildcard: bool,
}

impl AllowList {
    pub fn from_entries<'a>(entries: impl IntoIterator<Item = &'a str>) -> AllowList {
        let mut out = AllowList::default();
        for raw in entries {
            let e = raw.trim();
            if e.is_empty() {
                continue;
            }
            if e == "*" {
                out.wildcard = true;
                continue;
            }
            let mention = e
                .strip_prefix("<@")
                .and_then(|r| r.strip_suffix('>'))
                .map(|r| r.trim_start_matches('!'));
            if let Some(id) = mention.filter(|m| is_snowflake(m)) {
                out.add_id(id);
                continue;
            }
            if is_snowflake(e) {
                out.add_id(e);
                continue;
            }
            let prefixed = ["discord:", "user:", "pk:"].iter().find_map(|p| {
                e.get(..p.len())
                    .filter(|h| h.eq_ignore_ascii_case(p))
                    .map(|_| e[p.len()..].trim())
            });
            match prefixed {
                Some(id) if !id.is_empty() => out.add_id(id),
                Some(_) => {}
                None => {
                    let s = slug(e);
                    if !s.is_empty() && !out.names.contains(&s) {
                        out.names.push(s);
                    }
                }
            }
        }
        out
    }

    fn add_id(&mut self, id: &str) {
        if !self.ids.iter().any(|x| x == id) {
            self.ids.push(id.to_string());
        }
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty() && self.names.is_empty() && !self.wildcard
    }

    pub fn allows(&self, sender: &Sender, name_matching: bool) -> bool {
        if self.wildcard || self.ids.contains(&sender.id) {
            return true;
        }
        name_matching
            && [&sender.name, &sender.tag]
                .iter()
                .map(|n| slug(n))
                .any(|n| !n.is_empty() && self.names.contains(&n))
    }
}

fn is_snowflake(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

fn texts(v: &[StringOrNumber]) -> Vec<String> {
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

/// Decide a DM. `store` is the pairing store's approved senders (counted under `pairing` only).
pub fn dm_access(settings: &AccountSettings, sender: &Sender, store: &[String]) -> DmAccess {
    if !settings.dm_enabled {
        return DmAccess::Blocked("channels.discord.dm.enabled is false");
    }
    match settings.dm_policy {
        DmPolicy::Disabled => return DmAccess::Blocked("dmPolicy is disabled"),
        DmPolicy::Open => return DmAccess::Allowed,
        DmPolicy::Pairing | DmPolicy::Allowlist => {}
    }
    let mut entries: Vec<&str> = settings.allow_from.iter().map(String::as_str).collect();
    if settings.dm_policy == DmPolicy::Pairing {
        entries.extend(store.iter().map(String::as_str));
    }
    if AllowList::from_entries(entries).allows(sender, settings.name_matching) {
        return DmAccess::Allowed;
    }
    match settings.dm_policy {
        DmPolicy::Pairing => DmAccess::Pair,
        _ => DmAccess::Blocked("sender is not in allowFrom"),
    }
}

/// Where a guild message was posted (names feed slug matching; `parent` is set for threads).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Place {
    pub guild_id: String,
    pub guild_name: Option<String>,
    pub channel_id: String,
    pub channel_name: Option<String>,
    /// The thread's parent channel `(id, name)`.
    pub parent: Option<(String, Option<String>)>,
}

/// How an allowed guild message is handled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuildRoute {
    pub require_mention: bool,
    pub ignore_other_mentions: bool,
    pub system_prompt: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GuildAccess {
    Allowed(GuildRoute),
    Blocked(&'static str),
}

fn guild_entry<'a>(
    guilds: &'a BTreeMap<String, GuildConfig>,
    place: &Place,
) -> Option<&'a GuildConfig> {
    let by_slug = || {
        let s = slug(place.guild_name.as_deref().unwrap_or(""));
        (!s.is_empty())
            .then(|| {
                guilds
                    .iter()
                    .find(|(k, g)| slug(k) == s || g.slug.as_deref().map(slug) == Some(s.clone()))
                    .map(|(_, g)| g)
            })
            .flatten()
    };
    guilds
        .get(&place.guild_id)
        .or_else(by_slug)
        .or_else(|| guilds.get("*"))
}

/// The channel's entry: its own (id, then name slug), else its thread parent's, else `"*"`.
fn channel_entry<'a>(
    channels: &'a BTreeMap<String, ChannelConfig>,
    place: &Place,
) -> Option<&'a ChannelConfig> {
    let find = |id: &str, name: Option<&str>| {
        channels.get(id).or_else(|| {
            let s = slug(name.unwrap_or(""));
            (!s.is_empty())
                .then(|| channels.iter().find(|(k, _)| slug(k) == s).map(|(_, c)| c))
                .flatten()
        })
    };
    let own = if place.parent.is_some() {
        // Thread names are made up on the spot: threads match by id only.
        channels.get(&place.channel_id)
    } else {
        find(&place.channel_id, place.channel_name.as_deref())
    };
    own.or_else(|| {
        place
            .parent
            .as_ref()
            .and_then(|(id, name)| find(id, name.as_deref()))
    })
    .or_else(|| channels.get("*"))
}

/// Decide a guild (or thread) message from `sender` holding `roles`.
pub fn guild_access(
    settings: &AccountSettings,
    place: &Place,
    sender: &Sender,
    roles: &[String],
) -> GuildAccess {
    if settings.group_policy == GroupPolicy::Disabled {
        return GuildAccess::Blocked("groupPolicy is disabled");
    }
    let guild = guild_entry(&settings.guilds, place);
    let Some(guild) = guild else {
        return match (settings.guilds.is_empty(), settings.group_policy) {
            (false, _) => GuildAccess::Blocked("guild is not in channels.discord.guilds"),
            (true, GroupPolicy::Allowlist) => GuildAccess::Blocked(
                "groupPolicy is allowlist and channels.discord.guilds is empty",
            ),
            (true, _) => GuildAccess::Allowed(GuildRoute {
                require_mention: true,
                ignore_other_mentions: false,
                system_prompt: None,
            }),
        };
    };
    let channel = if guild.channels.is_empty() {
        None
    } else {
        match channel_entry(&guild.channels, place) {
            Some(c) => Some(c),
            None => return GuildAccess::Blocked("channel is not in the guild's channels list"),
        }
    };
    if channel.is_some_and(|c| c.enabled == Some(false)) {
        return GuildAccess::Blocked("channel is disabled");
    }
    if channel.is_some_and(|c| c.allow == Some(false)) {
        return GuildAccess::Blocked("channel has allow: false");
    }
    let users = channel
        .and_then(|c| c.users.as_deref())
        .or(guild.users.as_deref())
        .map(texts)
        .unwrap_or_default();
    let role_list = channel
        .and_then(|c| c.roles.as_deref())
        .or(guild.roles.as_deref())
        .map(texts)
        .unwrap_or_default();
    let users = AllowList::from_entries(users.iter().map(String::as_str));
    let role_ids: Vec<&str> = role_list
        .iter()
        .map(|r| {
            let r = r.trim();
            r.get(..5)
                .filter(|h| h.eq_ignore_ascii_case("role:"))
                .map(|_| r[5..].trim())
                .unwrap_or(r)
        })
        .collect();
    if !users.is_empty() || !role_ids.is_empty() {
        let user_ok = !users.is_empty() && users.allows(sender, settings.name_matching);
        let role_ok = role_ids
            .iter()
            .any(|r| *r == "*" || roles.iter().any(|have| have == r));
        if !user_ok && !role_ok {
            return GuildAccess::Blocked("sender is not in the guild's users or roles");
        }
    }
    GuildAccess::Allowed(GuildRoute {
        require_mention: channel
            .and_then(|c| c.require_mention)
            .or(guild.require_mention)
            .unwrap_or(true),
        ignore_other_mentions: channel
            .and_then(|c| c.ignore_other_mentions)
            .or(guild.ignore_other_mentions)
            .unwrap_or(false),
        system_prompt: channel
            .and_then(|c| c.system_prompt.clone())
            .filter(|s| !s.trim().is_empty()),
    })
}

fn mention_tokens(bot_id: &str) -> [String; 2] {
    [format!("<@{bot_id}>"), format!("<@!{bot_id}>")]
}

/// The message addresses the bot: an @-mention of it, or a reply to one of its messages.
pub fn mentions_bot(msg: &Message, bot_id: &str) -> bool {
    msg.mentions.iter().any(|u| u.id == bot_id)
        || mention_tokens(bot_id)
            .iter()
            .any(|t| msg.content.contains(t.as_str()))
        || msg
            .referenced_message
            .as_ref()
            .is_some_and(|r| r.author.id == bot_id)
}

/// The message mentions someone (or some role) other than the bot.
pub fn mentions_others(msg: &Message, bot_id: &str) -> bool {
    msg.mention_everyone
        || !msg.mention_roles.is_empty()
        || msg.mentions.iter().any(|u| u.id != bot_id)
}

/// The text without the bot's own `<@id>` mentions (and the space each leaves behind); the
/// rest of the text, code indentation included, stays as written.
pub fn strip_bot_mention(text: &str, bot_id: &str) -> String {
    let mut out = text.to_string();
    for t in mention_tokens(bot_id) {
        out = out
            .replace(&format!("{t} "), "")
            .replace(&format!(" {t}"), "")
            .replace(&t, "");
    }
    out.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn sender(id: &str) -> Sender {
        Sender {
            id: id.into(),
            name: "ada".into(),
            tag: "ada".into(),
        }
    }

    fn settings_with(guilds: serde_json::Value) -> AccountSettings {
        AccountSettings {
            guilds: serde_json::from_value(guilds).unwrap(),
            ..AccountSettings::default()
        }
    }

    fn place(guild: &str, channel: &str) -> Place {
        Place {
            guild_id: guild.into(),
            guild_name: Some("My Server".into()),
            channel_id: channel.into(),
            channel_name: Some("general".into()),
            parent: None,
        }
    }

    #[test]
    fn allowlist_normalizes_ids_and_only_matches_names_when_asked() {
        let a = AllowList::from_entries(["<@!12>", "discord:34", "USER:56", "78", "Ada"]);
        assert_eq!(a.ids, vec!["12", "34", "56", "78"]);
        assert!(a.allows(&sender("34"), false));
        assert!(!a.allows(&sender("99"), false));
        assert!(a.allows(&sender("99"), true), "name match when enabled");
        assert!(AllowList::from_entries(["*"]).allows(&sender("1"), false));
    }

    #[test]
    fn dm_policies() {
        let mut s = AccountSettings::default();
        assert_eq!(dm_access(&s, &sender("1"), &[]), DmAccess::Pair);
        assert_eq!(
            dm_access(&s, &sender("1"), &["1".into()]),
            DmAccess::Allowed
        );
        s.allow_from = vec!["<@1>".into()];
        s.dm_policy = DmPolicy::Allowlist;
        assert_eq!(dm_access(&s, &sender("1"), &[]), DmAccess::Allowed);
        assert!(matches!(
            dm_access(&s, &sender("2"), &["2".into()]),
            DmAccess::Blocked(_)
        ));
        s.dm_enabled = false;
        assert!(matches!(
            dm_access(&s, &sender("1"), &[]),
            DmAccess::Blocked(_)
        ));
    }

    #[test]
    fn guilds_fail_closed_and_match_by_id_slug_or_star() {
        let s = AccountSettings::default();
        assert!(matches!(
            guild_access(&s, &place("1", "2"), &sender("9"), &[]),
            GuildAccess::Blocked(_)
        ));
        let s = settings_with(serde_json::json!({"my-server": {"requireMention": false}}));
        assert_eq!(
            guild_access(&s, &place("1", "2"), &sender("9"), &[]),
            GuildAccess::Allowed(GuildRoute {
                require_mention: false,
                ignore_other_mentions: false,
                system_prompt: None
            })
        );
        let s = settings_with(serde_json::json!({"5": {}}));
        assert!(matches!(
            guild_access(&s, &place("1", "2"), &sender("9"), &[]),
            GuildAccess::Blocked(_)
        ));
        let s = settings_with(serde_json::json!({"*": {}}));
        assert!(matches!(
            guild_access(&s, &place("1", "2"), &sender("9"), &[]),
            GuildAccess::Allowed(GuildRoute {
                require_mention: true,
                ..
            })
        ));
    }

    #[test]
    fn channel_lists_users_and_roles() {
        let s = settings_with(serde_json::json!({"1": {
            "users": ["<@7>"], "roles": ["role:55"],
            "channels": {
                "general": {"requireMention": false, "systemPrompt": "be brief"},
                "3": {"allow": false},
                "4": {"users": ["8"]},
            }
        }}));
        let ok = guild_access(&s, &place("1", "2"), &sender("7"), &[]);
        assert_eq!(
            ok,
            GuildAccess::Allowed(GuildRoute {
                require_mention: false,
                ignore_other_mentions: false,
                system_prompt: Some("be brief".into())
            })
        );
        // Roles admit a sender the users list does not name.
        assert!(matches!(
            guild_access(&s, &place("1", "2"), &sender("9"), &["55".into()]),
            GuildAccess::Allowed(_)
        ));
        assert!(matches!(
            guild_access(&s, &place("1", "2"), &sender("9"), &[]),
            GuildAccess::Blocked(_)
        ));
        let mut p = place("1", "3");
        p.channel_name = Some("random".into());
        assert!(matches!(
            guild_access(&s, &p, &sender("7"), &[]),
            GuildAccess::Blocked(_)
        ));
        // An unlisted channel is denied; a thread inherits its parent's entry.
        let mut p = place("1", "99");
        p.channel_name = Some("other".into());
        assert!(matches!(
            guild_access(&s, &p, &sender("7"), &[]),
            GuildAccess::Blocked(_)
        ));
        p.parent = Some(("4".into(), Some("dev".into())));
        assert!(matches!(
            guild_access(&s, &p, &sender("8"), &[]),
            GuildAccess::Allowed(_)
        ));
        assert!(matches!(
            guild_access(&s, &p, &sender("7"), &[]),
            GuildAccess::Blocked(_)
        ));
    }

    #[test]
    fn mentions() {
        let msg: Message = serde_json::from_value(serde_json::json!({
            "id": "1", "channel_id": "2", "content": "<@42> hi <@!42>\nthere <@7>",
            "author": {"id": "5", "username": "a"},
            "mentions": [{"id": "42", "username": "bot"}, {"id": "7", "username": "b"}]
        }))
        .unwrap();
        assert!(mentions_bot(&msg, "42"));
        assert!(!mentions_bot(&msg, "43"));
        assert!(mentions_others(&msg, "42"));
        assert_eq!(strip_bot_mention(&msg.content, "42"), "hi\nthere <@7>");
        assert_eq!(strip_bot_mention("<@42>", "42"), "");
        assert_eq!(slug("#General Chat!"), "general-chat");
    }
}
