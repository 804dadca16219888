//! One inbound message: access → (pairing code | context only | agent run) → reply.
//!
//! The bot's own messages are ignored, other bots' unless `allowBots` says otherwise. A message
//! that is not allowed is dropped without an answer, except an unknown DM sender under
//! `dmPolicy: "pairing"`, who gets a code the first time (the message itself is not processed).
//! In guild channels the bot answers when mentioned (unless `requireMention: false`); the
//! `<@bot>` mention is taken out of the text, and unmentioned messages are kept as context for
//! the next answer. The run is idempotent on `discord:<account>:<channel>:<message id>`, so a
//! message delivered twice does not run twice.

use std::sync::Arc;
use std::time::Duration;

use openclaw_agent::{RunRequest, RunStatus, Submitted};
use serde_json::{Map, Value};

use super::access::{self, DmAccess, GuildAccess, Place, Sender};
use super::account::AllowBots;
use super::outbound::{send_plain, send_reply};
use super::types::{Message, USER_MESSAGE_TYPES, channel_type};
use super::{Account, pairing_reply};
use crate::pairing_allow::new_pairing_code;
use crate::routing::{self, ChannelPeer, Peer};

/// Longest wait for a run's end (the run has its own, shorter timeout).
const RUN_WAIT: Duration = Duration::from_secs(172_800 + 60);
/// Discord shows "typing…" for about ten seconds; refresh a little sooner.
const TYPING_EVERY: Duration = Duration::from_secs(8);
/// Replies the agent uses to say "nothing to send".
const SILENT_REPLIES: [&str; 2] = ["NO_REPLY", "HEARTBEAT_OK"];

/// Handle one message up to the agent's queue. A channel's messages pass through here in
/// order, but a running turn does not hold up the next message: it is submitted at once and
/// the session's queue mode decides what happens to it. Counted as handled when its reply is
/// out (or when it was dropped, paired or answered without a run).
pub(crate) async fn handle(acct: &Arc<Account>, msg: Message) {
    if !process(acct, msg).await {
        acct.mark_handled();
    }
}

/// The message text without the bot mention, with placeholders for attachments.
fn body_of(msg: &Message, bot_id: &str) -> Option<String> {
    let text = access::strip_bot_mention(&msg.content, bot_id);
    let media: Vec<&str> = msg.attachments.iter().map(|a| a.placeholder()).collect();
    match (text.trim(), media.is_empty()) {
        ("", true) => None,
        ("", false) => Some(media.join("\n")),
        (t, true) => Some(t.to_string()),
        (t, false) => Some(format!("{}\n{t}", media.join("\n"))),
    }
}

fn sender_of(msg: &Message) -> Sender {
    Sender {
        id: msg.author.id.clone(),
        name: msg.author.username.clone(),
        tag: msg.author.tag(),
    }
}

/// `true` when a run was started and its delivery task now owns the message.
async fn process(acct: &Arc<Account>, msg: Message) -> bool {
    acct.note_inbound();
    let Some(bot) = acct.bot() else {
        return false;
    };
    if msg.author.id == bot.id || !USER_MESSAGE_TYPES.contains(&msg.kind) {
        return false;
    }
    let settings = acct.settings();
    if msg.author.bot {
        let allowed = match settings.allow_bots {
            AllowBots::No => false,
            AllowBots::Yes => true,
            AllowBots::Mentions => access::mentions_bot(&msg, &bot.id),
        };
        if !allowed {
            return false;
        }
    }
    let Some(body) = body_of(&msg, &bot.id) else {
        return false;
    };
    let sender = sender_of(&msg);
    let cfg = acct.shared.config();
    let rt = acct.shared.runtime.clone();
    let default_agent = rt.default_agent_id();
    let Some(guild_id) = msg.guild_id.clone() else {
        if acct.cached_channel(&msg.channel_id).map(|c| c.kind) == Some(channel_type::GROUP_DM) {
            tracing::debug!(channel = %msg.channel_id, "discord: group DMs are not supported; dropped");
            return false;
        }
        if !dm_allowed(acct, &msg, &sender).await {
            return false;
        }
        let peer = Peer::Direct(msg.author.id.clone());
        let (agent, binding) =
            routing::resolve_agent(&cfg, &default_agent, "discord", &acct.account_id, &peer);
        let agent = known_agent(acct, agent);
        let key = routing::session_key(
            &cfg,
            binding,
            &agent,
            &rt.main_session_key(&agent),
            "discord",
            &acct.account_id,
            &peer,
        );
        return run_and_reply(acct, &msg, agent, key, body, None).await;
    };
    let place = place_of(acct, &msg, &guild_id).await;
    let roles = msg
        .member
        .as_ref()
        .map(|m| m.roles.clone())
        .unwrap_or_default();
    let route = match access::guild_access(&settings, &place, &sender, &roles) {
        GuildAccess::Allowed(r) => r,
        GuildAccess::Blocked(reason) => {
            tracing::debug!(guild = %guild_id, channel = %msg.channel_id, sender = %sender.id, reason, "discord: guild message dropped");
            return false;
        }
    };
    let peer = ChannelPeer {
        channel_id: msg.channel_id.clone(),
        parent_id: place.parent.as_ref().map(|(id, _)| id.clone()),
        guild_id: Some(guild_id.clone()),
        roles,
    };
    let (agent, _) =
        routing::resolve_channel_agent(&cfg, &default_agent, "discord", &acct.account_id, &peer);
    let agent = known_agent(acct, agent);
    let to_bot = access::mentions_bot(&msg, &bot.id);
    if route.ignore_other_mentions && !to_bot && access::mentions_others(&msg, &bot.id) {
        return false;
    }
    let mentioned = to_bot || crate::mentions::matches(&cfg, &agent, &body);
    let line = format!("{}: {body}", sender_label(&msg));
    if route.require_mention && !mentioned {
        acct.push_history(&msg.channel_id, line, settings.history_limit);
        return false;
    }
    let message = guild_body(acct, &msg.channel_id, line);
    let key = routing::channel_session_key(&agent, "discord", &msg.channel_id);
    run_and_reply(acct, &msg, agent, key, message, route.system_prompt).await
}

/// Names for slug matching, and the parent channel when the message is in a thread.
async fn place_of(acct: &Account, msg: &Message, guild_id: &str) -> Place {
    let mut place = Place {
        guild_id: guild_id.to_string(),
        guild_name: acct.guild_name(guild_id),
        channel_id: msg.channel_id.clone(),
        ..Place::default()
    };
    if let Some(c) = acct.channel(&msg.channel_id).await {
        place.channel_name = c.name.clone();
        if c.is_thread()
            && let Some(parent) = c.parent_id.clone()
        {
            let parent_name = acct.channel(&parent).await.and_then(|p| p.name);
            place.parent = Some((parent, parent_name));
        }
    }
    place
}

/// `agent` when it exists, else the default agent (logged).
fn known_agent(acct: &Account, agent: String) -> String {
    let rt = &acct.shared.runtime;
    if rt.agent_ids().contains(&agent) {
        return agent;
    }
    tracing::warn!(
        agent,
        "discord: routed to an unknown agent; using the default agent"
    );
    rt.default_agent_id()
}

/// The run of one message: idempotent over redelivered events.
fn run_id(acct: &Account, msg: &Message) -> String {
    format!("discord:{}:{}:{}", acct.account_id, msg.channel_id, msg.id)
}

/// DM access, issuing a pairing code to an unknown sender. `true` = process the message.
async fn dm_allowed(acct: &Arc<Account>, msg: &Message, sender: &Sender) -> bool {
    let settings = acct.settings();
    let decision = match access::dm_access(&settings, sender, &[]) {
        // Approvals land in the store file; read it now so they apply without a restart.
        DmAccess::Pair => access::dm_access(&settings, sender, &acct.store_allow_from().await),
        d => d,
    };
    match decision {
        DmAccess::Allowed => true,
        DmAccess::Blocked(reason) => {
            tracing::debug!(sender = %sender.id, reason, "discord: DM dropped");
            false
        }
        DmAccess::Pair => {
            issue_pairing_code(acct, msg).await;
            false
        }
    }
}

async fn issue_pairing_code(acct: &Arc<Account>, msg: &Message) {
    let mut meta = Map::new();
    meta.insert("tag".into(), Value::String(msg.author.tag()));
    meta.insert("name".into(), Value::String(msg.author.username.clone()));
    let Some(code) = new_pairing_code(
        &acct.shared.pairing,
        "discord",
        &msg.author.id,
        &acct.account_id,
        meta,
    )
    .await
    else {
        return;
    };
    tracing::info!(sender = %msg.author.id, tag = %msg.author.tag(), "discord pairing request");
    let text = pairing_reply(&msg.author.id, &code);
    if let Err(e) = send_plain(acct, &msg.channel_id, &text).await {
        tracing::warn!(error = %e, "discord: cannot send the pairing code");
    }
}

/// `Nick (@username)`: the guild nickname or display name, and the handle.
fn sender_label(msg: &Message) -> String {
    let shown = msg
        .member
        .as_ref()
        .and_then(|m| m.nick.clone())
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| msg.author.display_name());
    if shown == msg.author.username {
        format!("@{shown}")
    } else {
        format!("{shown} (@{})", msg.author.username)
    }
}

/// A guild message as the agent sees it: who said it, after the unmentioned messages since the
/// bot last answered in that channel.
fn guild_body(acct: &Account, channel_id: &str, current: String) -> String {
    let earlier = acct.take_history(channel_id);
    if earlier.is_empty() {
        return current;
    }
    format!(
        "[Chat messages since your last reply - for context]\n{}\n\n[Current message - respond to this]\n{current}",
        earlier.join("\n")
    )
}

/// Submit the run; a task then waits for its outcome and delivers the reply. `true` when that
/// task was started (it marks the message handled).
async fn run_and_reply(
    acct: &Arc<Account>,
    msg: &Message,
    agent: String,
    session_key: String,
    message: String,
    extra_system: Option<String>,
) -> bool {
    let rt = acct.shared.runtime.clone();
    let typing = start_typing(acct, &msg.channel_id);
    let submitted = rt
        .submit(RunRequest {
            message,
            agent_id: Some(agent),
            session_key: Some(session_key),
            run_id: Some(run_id(acct, msg)),
            queue_mode: None,
            channel: Some("discord".into()),
            extra_system_prompt: extra_system,
            media: Vec::new(),
        })
        .await;
    let run_id = match submitted {
        Ok(Submitted::Accepted { run_id, .. }) => run_id,
        // Already answered (a redelivered message): nothing more to send.
        Ok(Submitted::InFlight { .. } | Submitted::Done(_)) => return false,
        Err(e) => {
            drop(typing);
            tracing::warn!(error = %e, "discord: cannot start the agent run");
            reply_error(acct, msg, &e.to_string()).await;
            return false;
        }
    };
    let acct = acct.clone();
    let msg = msg.clone();
    tokio::spawn(async move {
        deliver(&acct, &msg, &run_id, typing).await;
        acct.mark_handled();
    });
    true
}

/// Wait for the run and send what it answered. A turn that answered several messages (collected
/// while the agent was busy, or steered in) replies once, to the newest of them.
async fn deliver(acct: &Arc<Account>, msg: &Message, run_id: &str, typing: Typing) {
    let rt = acct.shared.runtime.clone();
    let outcome = tokio::select! {
        _ = acct.cancel.cancelled() => None,
        o = rt.wait(run_id, RUN_WAIT) => o,
    };
    drop(typing);
    let Some(outcome) = outcome else { return };
    match outcome.status {
        RunStatus::Ok => {
            if !outcome.carries_reply() {
                return;
            }
            let text = outcome.text();
            let t = text.trim();
            if t.is_empty() || SILENT_REPLIES.contains(&t) {
                return;
            }
            if let Err(e) = send_reply(acct, &msg.channel_id, t, Some(&msg.id)).await {
                tracing::warn!(error = %e, channel = %msg.channel_id, "discord: reply not delivered");
            }
        }
        RunStatus::Error | RunStatus::Timeout => {
            let err = outcome.error.clone().unwrap_or_else(|| "timeout".into());
            reply_error(acct, msg, &err).await;
        }
        RunStatus::Aborted => {}
    }
}

async fn reply_error(acct: &Arc<Account>, msg: &Message, err: &str) {
    let text = format!("⚠️ Agent failed before reply: {err}");
    if let Err(e) = send_plain(acct, &msg.channel_id, &text).await {
        tracing::warn!(error = %e, "discord: cannot send the error reply");
    }
}

/// Keeps "typing…" showing until dropped.
struct Typing(tokio::task::JoinHandle<()>);

impl Drop for Typing {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn start_typing(acct: &Arc<Account>, channel_id: &str) -> Typing {
    let acct = acct.clone();
    let channel_id = channel_id.to_string();
    Typing(tokio::spawn(async move {
        loop {
            if let Err(e) = acct.api.trigger_typing(&channel_id).await {
                tracing::debug!(error = %e, "discord: typing indicator failed");
            }
            tokio::time::sleep(TYPING_EVERY).await;
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn msg(v: serde_json::Value) -> Message {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn bodies_and_labels() {
        let m = msg(serde_json::json!({
            "id": "1", "channel_id": "2", "content": "<@42> look",
            "author": {"id": "5", "username": "ada", "global_name": "Ada L"},
            "member": {"roles": [], "nick": "Countess"},
            "attachments": [{"filename": "a.png", "content_type": "image/png"}]
        }));
        assert_eq!(body_of(&m, "42").unwrap(), "<media:image>\nlook");
        assert_eq!(sender_label(&m), "Countess (@ada)");
        let m = msg(serde_json::json!({
            "id": "1", "channel_id": "2", "content": "<@42>",
            "author": {"id": "5", "username": "ada"}
        }));
        assert_eq!(body_of(&m, "42"), None);
        assert_eq!(sender_label(&m), "@ada");
    }
}
