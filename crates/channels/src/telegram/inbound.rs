//! One inbound message: access → (pairing code | context only | agent run) → reply.
//!
//! A message that is not allowed is dropped without an answer, except an unknown DM sender
//! under `dmPolicy: "pairing"`, who gets a code the first time (the message itself is not
//! processed). The agent run is idempotent on `telegram:<account>:<chat>:<message id>`, so a
//! redelivered update does not run twice.

use std::sync::Arc;
use std::time::Duration;

use openclaw_agent::{RunRequest, RunStatus, Submitted};
use serde_json::{Map, Value, json};

use super::access::{self, DmAccess, GroupAccess};
use super::api::OutgoingText;
use super::format::{chunk_text, render_html};
use super::media::{self, Fetched};
use super::types::Message;
use super::{Account, pairing_reply};
use crate::mentions;
use crate::pairing_allow::new_pairing_code;
use crate::routing::{self, Peer};

/// Longest wait for a run's end (the run has its own, shorter timeout).
const RUN_WAIT: Duration = Duration::from_secs(172_800 + 60);
/// Telegram shows "typing…" for about five seconds; refresh a little sooner.
const TYPING_EVERY: Duration = Duration::from_secs(4);
/// Telegram's hard message limit.
const TELEGRAM_MAX: usize = 4096;
/// Replies the agent uses to say "nothing to send".
const SILENT_REPLIES: [&str; 2] = ["NO_REPLY", "HEARTBEAT_OK"];

/// Handle one message up to the agent's queue. Messages of one chat pass through here in
/// order, but a running turn does not hold up the next one: it is submitted at once and the
/// session's queue mode (`collect` by default) decides what happens to it. Counted as handled
/// when its reply is out (or when it was dropped, paired or answered without a run).
pub(crate) async fn handle(acct: &Arc<Account>, msg: Message) {
    if !process(acct, msg).await {
        acct.mark_handled();
    }
}

/// `true` when a run was started and its delivery task now owns the message.
async fn process(acct: &Arc<Account>, msg: Message) -> bool {
    acct.note_inbound();
    let Some(bot) = acct.bot() else {
        return false;
    };
    let sender = msg.from.as_ref().map(|u| u.id);
    if sender == Some(bot.id) || msg.chat.kind == "channel" {
        return false;
    }
    let (text, _) = msg.body();
    let body = match (text.trim(), msg.media_placeholder()) {
        ("", Some(p)) => p.to_string(),
        ("", None) => return false,
        (t, Some(p)) => format!("{p}\n{t}"),
        (t, None) => t.to_string(),
    };
    let settings = acct.settings();
    let topic = msg.topic_id();
    let mut extra_system = None;
    let mut topic_agent = None;
    let peer = if msg.chat.is_group() {
        let route = match access::group_access(&settings, msg.chat.id, topic, sender) {
            GroupAccess::Allowed(r) => r,
            GroupAccess::Blocked(reason) => {
                tracing::debug!(chat = msg.chat.id, sender = ?sender, reason, "telegram: group message dropped");
                return false;
            }
        };
        let peer = Peer::Group {
            chat_id: msg.chat.id.to_string(),
            topic: topic.map(|t| t.to_string()),
        };
        let line = format!("{}: {body}", sender_label(&msg));
        let history_key = history_key(&peer);
        if route.require_mention
            && !access::mentions_bot(&msg, bot.id, bot.username.as_deref())
            && !mentions::matches(
                &acct.shared.config(),
                &route_agent(acct, &peer, route.agent_id.clone()),
                &body,
            )
        {
            acct.push_history(&history_key, line, settings.history_limit);
            return false;
        }
        extra_system = route.system_prompt;
        topic_agent = route.agent_id;
        peer
    } else {
        if !dm_allowed(acct, &msg, sender).await {
            return false;
        }
        match sender {
            Some(s) => Peer::Direct(s.to_string()),
            None => return false,
        }
    };
    // Only a message that will run is worth its download.
    let media = match media::for_message(acct, &msg, &run_id(acct, &msg)).await {
        Fetched::Media(m) => m,
        Fetched::TooLarge { limit_mb } => {
            let text = format!("⚠️ File too large. Maximum size is {limit_mb}MB.");
            let chat = msg.chat.id.to_string();
            if let Err(e) = send_plain(acct, &chat, reply_thread(&msg), &text).await {
                tracing::warn!(error = %e, "telegram: cannot send the file-too-large reply");
            }
            return false;
        }
    };
    let message = match &peer {
        Peer::Group { .. } => group_body(acct, &msg, &peer, &body),
        Peer::Direct(_) => body,
    };
    run_and_reply(acct, &msg, &peer, message, media, topic_agent, extra_system).await
}

/// The agent a message to `peer` runs on: a forum topic's `agentId`, else the bindings, else
/// the default agent (also when the routed agent does not exist).
fn route_agent(acct: &Account, peer: &Peer, topic_agent: Option<String>) -> String {
    let rt = &acct.shared.runtime;
    let cfg = acct.shared.config();
    let default_agent = rt.default_agent_id();
    let (mut agent, _) =
        routing::resolve_agent(&cfg, &default_agent, "telegram", &acct.account_id, peer);
    if let Some(a) = topic_agent {
        agent = openclaw_store::session_key::normalize_agent_id(&a);
    }
    if !rt.agent_ids().contains(&agent) {
        tracing::warn!(
            agent,
            "telegram: routed to an unknown agent; using the default agent"
        );
        agent = default_agent;
    }
    agent
}

/// The run of one message: idempotent over redelivered updates.
fn run_id(acct: &Account, msg: &Message) -> String {
    format!(
        "telegram:{}:{}:{}",
        acct.account_id, msg.chat.id, msg.message_id
    )
}

/// DM access, issuing a pairing code to an unknown sender. `true` = process the message.
async fn dm_allowed(acct: &Arc<Account>, msg: &Message, sender: Option<i64>) -> bool {
    let settings = acct.settings();
    let decision = match access::dm_access(&settings, sender, &[]) {
        // Approvals land in the store file; read it now so they apply without a restart.
        DmAccess::Pair => access::dm_access(&settings, sender, &acct.store_allow_from().await),
        d => d,
    };
    match decision {
        DmAccess::Allowed => true,
        DmAccess::Blocked(reason) => {
            tracing::debug!(chat = msg.chat.id, sender = ?sender, reason, "telegram: DM dropped");
            false
        }
        DmAccess::Pair => {
            if let Some(s) = sender {
                issue_pairing_code(acct, msg, s).await;
            }
            false
        }
    }
}

async fn issue_pairing_code(acct: &Arc<Account>, msg: &Message, sender: i64) {
    let mut meta = Map::new();
    if let Some(u) = &msg.from {
        for (k, v) in [
            ("username", u.username.clone()),
            ("firstName", Some(u.first_name.clone())),
            ("lastName", u.last_name.clone()),
        ] {
            if let Some(v) = v.filter(|v| !v.trim().is_empty()) {
                meta.insert(k.into(), Value::String(v));
            }
        }
    }
    let Some(code) = new_pairing_code(
        &acct.shared.pairing,
        "telegram",
        &sender.to_string(),
        &acct.account_id,
        meta,
    )
    .await
    else {
        return;
    };
    tracing::info!(
        chat = msg.chat.id,
        sender,
        username = ?msg.from.as_ref().and_then(|u| u.username.clone()),
        "telegram pairing request"
    );
    let text = pairing_reply(&sender.to_string(), &code);
    if let Err(e) = send_plain(acct, &msg.chat.id.to_string(), None, &text).await {
        tracing::warn!(error = %e, "telegram: cannot send the pairing code");
    }
}

fn sender_label(msg: &Message) -> String {
    match &msg.from {
        Some(u) => match &u.username {
            Some(n) => format!("{} (@{n})", u.display_name()),
            None => u.display_name(),
        },
        None => "unknown".to_string(),
    }
}

fn history_key(peer: &Peer) -> String {
    match peer {
        Peer::Group {
            chat_id,
            topic: Some(t),
        } => format!("{chat_id}:topic:{t}"),
        Peer::Group { chat_id, .. } => chat_id.clone(),
        Peer::Direct(id) => id.clone(),
    }
}

/// A group message as the agent sees it: who said it, after the unmentioned messages since
/// the bot last answered.
fn group_body(acct: &Account, msg: &Message, peer: &Peer, body: &str) -> String {
    let current = format!("{}: {body}", sender_label(msg));
    let earlier = acct.take_history(&history_key(peer));
    if earlier.is_empty() {
        return current;
    }
    format!(
        "[Chat messages since your last reply - for context]\n{}\n\n[Current message - respond to this]\n{current}",
        earlier.join("\n")
    )
}

/// Submit the run; a task then waits for its outcome and delivers the reply. `true` when
/// that task was started (it marks the message handled).
async fn run_and_reply(
    acct: &Arc<Account>,
    msg: &Message,
    peer: &Peer,
    message: String,
    media: Vec<openclaw_store::InboundMedia>,
    topic_agent: Option<String>,
    extra_system: Option<String>,
) -> bool {
    let rt = acct.shared.runtime.clone();
    let cfg = acct.shared.config();
    let default_agent = rt.default_agent_id();
    let (_, binding) =
        routing::resolve_agent(&cfg, &default_agent, "telegram", &acct.account_id, peer);
    let agent = route_agent(acct, peer, topic_agent);
    let key = routing::session_key(
        &cfg,
        binding,
        &agent,
        &rt.main_session_key(&agent),
        "telegram",
        &acct.account_id,
        peer,
    );
    let thread = reply_thread(msg);
    let typing = start_typing(acct, msg.chat.id, thread);
    let submitted = rt
        .submit(RunRequest {
            message,
            agent_id: Some(agent),
            session_key: Some(key),
            run_id: Some(run_id(acct, msg)),
            queue_mode: None,
            channel: Some("telegram".into()),
            extra_system_prompt: extra_system,
            media,
        })
        .await;
    let run_id = match submitted {
        Ok(Submitted::Accepted { run_id, .. }) => run_id,
        // Already answered (a redelivered update): nothing more to send.
        Ok(Submitted::InFlight { .. } | Submitted::Done(_)) => return false,
        Err(e) => {
            drop(typing);
            tracing::warn!(error = %e, "telegram: cannot start the agent run");
            reply_error(acct, msg, thread, &e.to_string()).await;
            return false;
        }
    };
    let acct = acct.clone();
    let msg = msg.clone();
    tokio::spawn(async move {
        deliver(&acct, &msg, thread, &run_id, typing).await;
        acct.mark_handled();
    });
    true
}

/// Wait for the run and send what it answered. A turn that answered several messages (collected
/// while the agent was busy, or steered in) replies once, to the newest of them.
async fn deliver(
    acct: &Arc<Account>,
    msg: &Message,
    thread: Option<i64>,
    run_id: &str,
    typing: Typing,
) {
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
            if let Err(e) = send_reply(acct, &msg.chat.id.to_string(), thread, t).await {
                tracing::warn!(error = %e, chat = msg.chat.id, "telegram: reply not delivered");
            }
        }
        RunStatus::Error | RunStatus::Timeout => {
            let err = outcome.error.clone().unwrap_or_else(|| "timeout".into());
            reply_error(acct, msg, thread, &err).await;
        }
        RunStatus::Aborted => {}
    }
}

async fn reply_error(acct: &Arc<Account>, msg: &Message, thread: Option<i64>, err: &str) {
    if acct.settings().silent_errors {
        return;
    }
    let text = format!("⚠️ Agent failed before reply: {err}");
    if let Err(e) = send_plain(acct, &msg.chat.id.to_string(), thread, &text).await {
        tracing::warn!(error = %e, "telegram: cannot send the error reply");
    }
}

/// Topic replies go to the topic; the General topic (1) takes no thread id.
fn reply_thread(msg: &Message) -> Option<i64> {
    msg.topic_id().filter(|t| *t != 1)
}

/// Keeps "typing…" showing until dropped.
struct Typing(tokio::task::JoinHandle<()>);

impl Drop for Typing {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn start_typing(acct: &Arc<Account>, chat_id: i64, thread: Option<i64>) -> Typing {
    let acct = acct.clone();
    Typing(tokio::spawn(async move {
        loop {
            if let Err(e) = acct.api.send_chat_action(chat_id, thread, "typing").await {
                tracing::debug!(error = %e, "telegram: sendChatAction failed");
            }
            tokio::time::sleep(TYPING_EVERY).await;
        }
    }))
}

/// Send a reply: chunked, HTML first, plain text for a chunk Telegram cannot parse.
/// Returns the id of the last message sent; stops at the first chunk that fails.
pub(crate) async fn send_reply(
    acct: &Account,
    chat_id: &str,
    thread: Option<i64>,
    text: &str,
) -> Result<i64, super::ApiError> {
    let settings = acct.settings();
    let mut last = 0;
    for chunk in chunk_text(text, settings.text_chunk_limit, settings.chunk_mode) {
        let mut out = OutgoingText {
            chat_id: chat_id.to_string(),
            text: render_html(&chunk),
            parse_mode: Some("HTML"),
            message_thread_id: thread,
            disable_link_preview: !settings.link_preview,
        };
        if out.text.chars().count() > TELEGRAM_MAX {
            out.text = chunk.clone();
            out.parse_mode = None;
        }
        let mut result = send_with_retry(acct, &out).await;
        if let Err(e) = &result
            && e.is_parse_error()
        {
            tracing::debug!(error = %e, "telegram: HTML rejected; resending as plain text");
            out.text = chunk.clone();
            out.parse_mode = None;
            result = send_with_retry(acct, &out).await;
        }
        match result {
            Ok(m) => {
                acct.note_outbound();
                last = m.message_id;
            }
            Err(e) => {
                acct.update_status(|s| s.last_error = Some(e.to_string()));
                return Err(e);
            }
        }
    }
    Ok(last)
}

/// One plain-text message (pairing codes, errors, `send`).
pub(crate) async fn send_plain(
    acct: &Account,
    chat_id: &str,
    thread: Option<i64>,
    text: &str,
) -> Result<i64, super::ApiError> {
    let out = OutgoingText {
        chat_id: chat_id.to_string(),
        text: text.to_string(),
        parse_mode: None,
        message_thread_id: thread,
        disable_link_preview: false,
    };
    let m = send_with_retry(acct, &out).await?;
    acct.note_outbound();
    Ok(m.message_id)
}

/// `sendMessage`, waiting once for flood control (429 `retry_after`, at most a minute).
async fn send_with_retry(
    acct: &Account,
    out: &OutgoingText,
) -> Result<super::types::Message, super::ApiError> {
    match acct.api.send_message(out).await {
        Err(e)
            if e.retry_after()
                .is_some_and(|d| d <= Duration::from_secs(60)) =>
        {
            if let Some(d) = e.retry_after() {
                tokio::time::sleep(d).await;
            }
            acct.api.send_message(out).await
        }
        r => r,
    }
}

/// The JSON `send` answers with.
pub(crate) fn send_result(run_id: &str, chat_id: &str, message_id: i64) -> Value {
    json!({"runId": run_id, "messageId": message_id.to_string(), "channel": "telegram", "chatId": chat_id})
}
