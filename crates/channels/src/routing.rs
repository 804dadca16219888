//! Which agent answers an inbound message, and in which session.
//!
//! Agents come from `bindings[]` (first match per tier; tiers in order: exact peer, parent peer
//! (a forum topic's group), peer wildcard, exact account, channel-wide `accountId: "*"`), else
//! the default agent. Session keys follow `session.dmScope` for DMs (default: the agent's main
//! session) and `agent:<id>:<channel>:group:<chatId>[:topic:<topicId>]` for groups.

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

/// Pick the agent for `peer` on `channel`/`account_id`.
pub fn resolve_agent<'a>(
    cfg: &'a OpenClawConfig,
    default_agent: &str,
    channel: &str,
    account_id: &str,
    peer: &Peer,
) -> (String, Option<&'a Binding>) {
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
                    && m.guild_id.is_none()
                    && m.team_id.is_none()
                    && m.roles.as_ref().is_none_or(Vec::is_empty)
            })
        })
        .collect();
    let peer_of = |b: &Binding| {
        b.match_.as_ref().and_then(|m| m.peer.as_ref()).map(|p| {
            let kind = match p.kind.as_deref().map(str::to_lowercase).as_deref() {
                Some("dm") | Some("direct") | None => "direct",
                Some("group") => "group",
                Some(_) => "other",
            };
            (kind, p.id.clone().unwrap_or_default().trim().to_lowercase())
        })
    };
    let id = peer.binding_id().to_lowercase();
    let parent = match peer {
        Peer::Group {
            chat_id,
            topic: Some(_),
        } => Some(chat_id.to_lowercase()),
        _ => None,
    };
    let tiers: [&dyn Fn(&Binding) -> bool; 5] = [
        &|b| peer_of(b).is_some_and(|(k, i)| k == peer.kind() && i == id),
        &|b| {
            parent
                .as_ref()
                .is_some_and(|p| peer_of(b).is_some_and(|(k, i)| k == "group" && i == *p))
        },
        &|b| peer_of(b).is_some_and(|(k, i)| k == peer.kind() && i == "*"),
        &|b| {
            peer_of(b).is_none()
                && b.match_
                    .as_ref()
                    .and_then(|m| m.account_id.as_deref())
                    .is_none_or(|a| a.trim() != "*")
        },
        &|b| peer_of(b).is_none(),
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
}
