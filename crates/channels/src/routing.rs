//! Which agent answers an inbound message, and in which session.
//!
//! Agents come from `bindings[]` (first match per tier; tiers in order: exact peer, parent peer
//! (a forum topic's group, a thread's channel), peer wildcard, guild + roles, guild, exact
//! account, channel-wide `accountId: "*"`), else the default agent. A binding counts only when
//! every constraint it states holds. Session keys follow `session.dmScope` for DMs (default: the
//! agent's main session), `agent:<id>:<channel>:group:<chatId>[:topic:<topicId>]` for groups and
//! `agent:<id>:<channel>:channel:<channelId>` for guild channels.

use openclaw_config::OpenClawConfig;
use openclaw_config::schema::{Binding, DmScope as ConfigDmScope};
use openclaw_store::session_key::{
    self, DEFAULT_ACCOUNT_ID, DmScope, PeerKind, normalize_account_id, normalize_agent_id,
};

/// The conversation a message belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Peer {
    /// A direct chat with this sender id.
    Direct(String),
    /// A group chat, optionally one forum topic of it.
    Group {
        chat_id: String,
        topic: Option<String>,
    },
}

impl Peer {
    /// The id bindings match against (`-100:topic:3` for a topic).
    fn binding_id(&self) -> String {
        match self {
            Peer::Direct(id) => id.clone(),
            Peer::Group {
                chat_id,
                topic: Some(t),
            } => format!("{chat_id}:topic:{t}"),
            Peer::Group { chat_id, .. } => chat_id.clone(),
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            Peer::Direct(_) => "direct",
            Peer::Group { .. } => "group",
        }
    }
}

/// The agent and session an inbound message runs in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub agent_id: String,
    pub session_key: String,
}

/// A guild channel (or a thread in one) on channels that have them (Discord): bindings may
/// match the channel (`peer: {kind: "channel"}`), the thread's parent channel, the guild
/// (`guildId`) and the sender's roles (`roles`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChannelPeer {
    pub channel_id: String,
    /// The parent channel of a thread.
    pub parent_id: Option<String>,
    pub guild_id: Option<String>,
    /// The sender's role ids in the guild.
    pub roles: Vec<String>,
}

/// What bindings are matched against.
struct Target<'a> {
    kind: &'static str,
    id: String,
    parent: Option<(&'static str, String)>,
    guild_id: Option<&'a str>,
    roles: &'a [String],
}

/// Pick the agent for `peer` on `channel`/`account_id`.
pub fn resolve_agent<'a>(
    cfg: &'a OpenClawConfig,
    default_agent: &str,
    channel: &str,
    account_id: &str,
    peer: &Peer,
) -> (String, Option<&'a Binding>) {
    let parent = match peer {
        Peer::Group {
            chat_id,
            topic: Some(_),
        } => Some(("group", chat_id.to_lowercase())),
        _ => None,
    };
    let target = Target {
        kind: peer.kind(),
        id: peer.binding_id().to_lowercase(),
        parent,
        guild_id: None,
        roles: &[],
    };
    resolve_target(cfg, default_agent, channel, account_id, &target)
}

/// Pick the agent for a guild channel message on `channel`/`account_id`.
pub fn resolve_channel_agent<'a>(
    cfg: &'a OpenClawConfig,
    default_agent: &str,
    channel: &str,
    account_id: &str,
    peer: &ChannelPeer,
) -> (String, Option<&'a Binding>) {
    let target = Target {
        kind: "channel",
        id: peer.channel_id.trim().to_lowercase(),
        parent: peer
            .parent_id
            .as_ref()
            .map(|p| ("channel", p.trim().to_lowercase())),
        guild_id: peer.guild_id.as_deref(),
        roles: &peer.roles,
    };
    resolve_target(cfg, default_agent, channel, account_id, &target)
}

/// `agent:<id>:<channel>:channel:<channelId>`: a guild channel's session. A thread is a channel
/// of its own and gets its own session (the baseline keys threads by their channel id).
pub fn channel_session_key(agent_id: &str, channel: &str, channel_id: &str) -> String {
    session_key::group_session_key(agent_id, channel, PeerKind::Channel, channel_id)
}

fn resolve_target<'a>(
    cfg: &'a OpenClawConfig,
    default_agent: &str,
    channel: &str,
    account_id: &str,
    target: &Target<'_>,
) -> (String, Option<&'a Binding>) {
    // A binding applies only when every constraint it states holds.
    let bindings: Vec<&Binding> = cfg
        .bindings
        .iter()
        .flatten()
        .filter(|b| b.kind.as_deref().is_none_or(|k| k == "route"))
        .filter(|b| {
            b.match_.as_ref().is_some_and(|m| {
                m.channel
                    .as_deref()
                    .is_some_and(|c| c.trim().eq_ignore_ascii_case(channel))
                    && account_matches(m.account_id.as_deref(), account_id)
                    && m.guild_id
                        .as_deref()
                        .is_none_or(|g| target.guild_id.is_some_and(|t| t == g.trim()))
                    && m.team_id.is_none()
                    && m.roles.as_ref().is_none_or(|want| {
                        want.is_empty() || want.iter().any(|r| target.roles.contains(r))
                    })
            })
        })
        .collect();
    let peer_of = |b: &Binding| {
        b.match_.as_ref().and_then(|m| m.peer.as_ref()).map(|p| {
            let kind = match p.kind.as_deref().map(str::to_lowercase).as_deref() {
                Some("dm") | Some("direct") | None => "direct",
                Some("group") => "group",
                Some("channel") => "channel",
                Some(_) => "other",
            };
            (kind, p.id.clone().unwrap_or_default().trim().to_lowercase())
        })
    };
    let guild_of = |b: &Binding| {
        b.match_
            .as_ref()
            .and_then(|m| m.guild_id.as_ref())
            .is_some()
    };
    let has_roles = |b: &Binding| {
        b.match_
            .as_ref()
            .and_then(|m| m.roles.as_ref())
            .is_some_and(|r| !r.is_empty())
    };
    let wide = |b: &Binding| {
        b.match_
            .as_ref()
            .and_then(|m| m.account_id.as_deref())
            .is_some_and(|a| a.trim() == "*")
    };
    let tiers: [&dyn Fn(&Binding) -> bool; 7] = [
        &|b| peer_of(b).is_some_and(|(k, i)| k == target.kind && i == target.id),
        &|b| {
            target
                .parent
                .as_ref()
                .is_some_and(|(pk, p)| peer_of(b).is_some_and(|(k, i)| k == *pk && i == *p))
        },
        &|b| peer_of(b).is_some_and(|(k, i)| k == target.kind && i == "*"),
        &|b| peer_of(b).is_none() && guild_of(b) && has_roles(b),
        &|b| peer_of(b).is_none() && guild_of(b) && !has_roles(b),
        &|b| peer_of(b).is_none() && !guild_of(b) && !has_roles(b) && !wide(b),
        &|b| peer_of(b).is_none() && !guild_of(b) && !has_roles(b),
    ];
    for tier in tiers {
        if let Some(b) = bindings.iter().find(|b| tier(b)) {
            let agent = b
                .agent_id
                .as_deref()
                .map(normalize_agent_id)
                .unwrap_or_else(|| default_agent.to_string());
            return (agent, Some(b));
        }
    }
    (default_agent.to_string(), None)
}

fn account_matches(pattern: Option<&str>, account_id: &str) -> bool {
    match pattern.map(str::trim).filter(|p| !p.is_empty()) {
        None => account_id == DEFAULT_ACCOUNT_ID,
        Some("*") => true,
        Some(p) => normalize_account_id(p) == account_id,
    }
}

/// The session key of a message routed to `agent_id`. `main_key` is the agent's main session
/// key (`agent:<id>:main`), which DMs share by default.
pub fn session_key(
    cfg: &OpenClawConfig,
    binding: Option<&Binding>,
    agent_id: &str,
    main_session: &str,
    channel: &str,
    account_id: &str,
    peer: &Peer,
) -> String {
    match peer {
        Peer::Group { chat_id, topic } => {
            let base = session_key::group_session_key(agent_id, channel, PeerKind::Group, chat_id);
            match topic {
                Some(t) => session_key::topic_session_key(&base, t),
                None => base,
            }
        }
        Peer::Direct(sender) => {
            let scope = binding
                .and_then(|b| b.session.as_ref())
                .and_then(|s| s.get("dmScope"))
                .and_then(|v| serde_json::from_value::<ConfigDmScope>(v.clone()).ok())
                .or_else(|| cfg.session.as_ref().and_then(|s| s.dm_scope))
                .map(map_scope)
                .unwrap_or_default();
            if scope == DmScope::Main {
                return main_session.to_string();
            }
            let peer_id = linked_identity(cfg, channel, sender).unwrap_or_else(|| sender.clone());
            let main_key = main_session.rsplit(':').next().unwrap_or("main");
            session_key::direct_session_key(
                agent_id,
                main_key,
                scope,
                channel,
                Some(account_id),
                &peer_id,
            )
        }
    }
}

fn map_scope(s: ConfigDmScope) -> DmScope {
    match s {
        ConfigDmScope::Main => DmScope::Main,
        ConfigDmScope::PerPeer => DmScope::PerPeer,
        ConfigDmScope::PerChannelPeer => DmScope::PerChannelPeer,
        ConfigDmScope::PerAccountChannelPeer => DmScope::PerAccountChannelPeer,
    }
}

/// `session.identityLinks`: `canonical → ["telegram:123", …]` shares one key across channels.
fn linked_identity(cfg: &OpenClawConfig, channel: &str, sender: &str) -> Option<String> {
    let wanted = format!("{channel}:{sender}").to_lowercase();
    cfg.session
        .as_ref()?
        .identity_links
        .as_ref()?
        .iter()
        .find(|(_, ids)| ids.iter().any(|i| i.trim().to_lowercase() == wanted))
        .map(|(canonical, _)| canonical.trim().to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn cfg(text: &str) -> OpenClawConfig {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("openclaw.json");
        openclaw_config::parse_str(text, &path, &openclaw_config::EnvMap::new())
            .unwrap()
            .config
    }

    fn key(c: &OpenClawConfig, account: &str, peer: Peer) -> (String, String) {
        let (agent, b) = resolve_agent(c, "main", "telegram", account, &peer);
        let main = format!("agent:{agent}:main");
        let k = session_key(c, b, &agent, &main, "telegram", account, &peer);
        (agent, k)
    }

    #[test]
    fn defaults() {
        let c = cfg("{}");
        assert_eq!(
            key(&c, "default", Peer::Direct("123".into())),
            ("main".into(), "agent:main:main".into())
        );
        assert_eq!(
            key(
                &c,
                "default",
                Peer::Group {
                    chat_id: "-100".into(),
                    topic: None
                }
            ),
            ("main".into(), "agent:main:telegram:group:-100".into())
        );
        assert_eq!(
            key(
                &c,
                "default",
                Peer::Group {
                    chat_id: "-100".into(),
                    topic: Some("3".into())
                }
            )
            .1,
            "agent:main:telegram:group:-100:topic:3"
        );
    }

    #[test]
    fn dm_scope_and_identity_links() {
        let c = cfg(
            r#"{ session: { dmScope: "per-channel-peer", identityLinks: { ada: ["telegram:123"] } } }"#,
        );
        assert_eq!(
            key(&c, "default", Peer::Direct("123".into())).1,
            "agent:main:telegram:direct:ada"
        );
        assert_eq!(
            key(&c, "default", Peer::Direct("9".into())).1,
            "agent:main:telegram:direct:9"
        );
        let c = cfg(r#"{ session: { dmScope: "per-account-channel-peer" } }"#);
        assert_eq!(
            key(&c, "work", Peer::Direct("9".into())).1,
            "agent:main:telegram:work:direct:9"
        );
    }

    #[test]
    fn bindings_by_tier() {
        let c = cfg(
            r#"{ agents: { list: [{ id: "main", default: true }, { id: "ops" }, { id: "fam" }, { id: "work" }] },
                 bindings: [
                   { agentId: "work", match: { channel: "telegram", accountId: "work" } },
                   { agentId: "fam", match: { channel: "telegram", peer: { kind: "group", id: "-100" } } },
                   { agentId: "ops", match: { channel: "telegram", peer: { kind: "direct", id: "42" } } },
                 ] }"#,
        );
        assert_eq!(key(&c, "default", Peer::Direct("42".into())).0, "ops");
        assert_eq!(key(&c, "default", Peer::Direct("43".into())).0, "main");
        assert_eq!(
            key(
                &c,
                "default",
                Peer::Group {
                    chat_id: "-100".into(),
                    topic: Some("5".into())
                }
            ),
            ("fam".into(), "agent:fam:telegram:group:-100:topic:5".into())
        );
        assert_eq!(
            key(&c, "work", Peer::Direct("43".into())),
            ("work".into(), "agent:work:main".into())
        );
    }

    #[test]
    fn guild_channels_threads_and_guild_bindings() {
        let c = cfg(
            r#"{ agents: { list: [{ id: "main", default: true }, { id: "ops" }, { id: "guild" }, { id: "mods" }] },
                 bindings: [
                   { agentId: "mods", match: { channel: "discord", guildId: "9", roles: ["77"] } },
                   { agentId: "guild", match: { channel: "discord", guildId: "9" } },
                   { agentId: "ops", match: { channel: "discord", peer: { kind: "channel", id: "100" } } },
                 ] }"#,
        );
        let peer = |ch: &str, parent: Option<&str>, guild: &str, roles: &[&str]| ChannelPeer {
            channel_id: ch.into(),
            parent_id: parent.map(Into::into),
            guild_id: Some(guild.into()),
            roles: roles.iter().map(|r| r.to_string()).collect(),
        };
        let agent = |p: &ChannelPeer| resolve_channel_agent(&c, "main", "discord", "default", p).0;
        assert_eq!(agent(&peer("100", None, "9", &[])), "ops");
        assert_eq!(
            agent(&peer("555", Some("100"), "9", &[])),
            "ops",
            "a thread inherits"
        );
        assert_eq!(agent(&peer("200", None, "9", &["77"])), "mods");
        assert_eq!(agent(&peer("200", None, "9", &[])), "guild");
        assert_eq!(agent(&peer("200", None, "8", &[])), "main");
        assert_eq!(
            channel_session_key("main", "discord", "100"),
            "agent:main:discord:channel:100"
        );
        // Telegram never matches guild bindings.
        assert_eq!(key(&c, "default", Peer::Direct("1".into())).0, "main");
    }
}
