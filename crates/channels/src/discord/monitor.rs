//! The connection loop of one account and its per-channel workers.
//!
//! `GET /gateway/bot` for the URL (a rejected token stops the account until the config
//! changes), then one gateway connection after another: each ends in a resume, a new session,
//! or a stop ([`gateway::End`]). Reconnects wait with exponential backoff (1 s doubling to
//! 60 s, back to 1 s after a connection that reached READY/RESUMED), so a gateway that keeps
//! failing is never hammered. Message ids seen recently are remembered, so an event delivered
//! twice across a resume is handled once.
//!
//! Each message goes to the worker of its channel, so one channel's messages are handled in
//! order while other channels proceed; workers outlive reconnects. A worker with nothing to do
//! for [`CHANNEL_IDLE`] finishes what is queued and exits; the next message of that channel
//! starts a new worker, which first waits for the old one.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use openclaw_protocol::now_ms;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::Account;
use super::gateway::{self, End, Event, SessionState};
use super::types::{Channel, GuildCreate, Message};

/// Messages queued per channel. A channel that floods past this loses the overflow (logged)
/// rather than stalling the gateway connection (which must keep heartbeating).
const CHANNEL_QUEUE: usize = 32;
const CHANNEL_IDLE: Duration = Duration::from_secs(600);
const BACKOFF_MIN: Duration = Duration::from_secs(1);
const BACKOFF_MAX: Duration = Duration::from_secs(60);
/// Deadline of the WebSocket handshake.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// Message ids remembered against double delivery.
const RECENT_IDS: usize = 1024;

struct Worker {
    tx: mpsc::Sender<Message>,
    handle: JoinHandle<()>,
}

/// The last [`RECENT_IDS`] message ids.
#[derive(Default)]
struct RecentIds {
    order: VecDeque<String>,
    set: HashSet<String>,
}

impl RecentIds {
    /// `false` when `id` was seen already.
    fn insert(&mut self, id: &str) -> bool {
        if !self.set.insert(id.to_string()) {
            return false;
        }
        self.order.push_back(id.to_string());
        while self.order.len() > RECENT_IDS {
            if let Some(old) = self.order.pop_front() {
                self.set.remove(&old);
            }
        }
        true
    }
}

/// What the loop keeps between connections.
struct Loop {
    acct: Arc<Account>,
    workers: HashMap<String, Worker>,
    seen: RecentIds,
    /// The current connection reached READY or RESUMED.
    healthy: bool,
}

/// Run the account until a fatal error or `acct.cancel`.
pub(crate) async fn run(acct: Arc<Account>) {
    acct.update_status(|s| {
        s.running = true;
        s.connected = false;
        s.last_start_at = Some(now_ms());
        s.last_error = None;
    });
    let mut lp = Loop {
        acct: acct.clone(),
        workers: HashMap::new(),
        seen: RecentIds::default(),
        healthy: false,
    };
    let mut state = SessionState::default();
    let mut gateway_url: Option<String> = None;
    let mut backoff = BACKOFF_MIN;
    let mut attempts: u64 = 0;
    while !acct.cancel.is_cancelled() {
        if attempts > 0 {
            acct.update_status(|s| s.reconnects += 1);
        }
        attempts += 1;
        let base = match (&state.session_id, &state.resume_url, &gateway_url) {
            (Some(_), Some(r), _) => r.clone(),
            (_, _, Some(g)) => g.clone(),
            _ => match acct.api.gateway_bot().await {
                Ok(g) => {
                    gateway_url = Some(g.url.clone());
                    g.url
                }
                Err(e) if e.is_unauthorized() => {
                    stop(
                        &acct,
                        format!(
                            "{e}: the bot token was rejected; fix channels.discord.token (or DISCORD_BOT_TOKEN for the default account) and the gateway restarts the channel"
                        ),
                    );
                    break;
                }
                Err(e) => {
                    tracing::warn!(account = %acct.account_id, error = %e, "discord: cannot get the gateway URL; retrying");
                    acct.update_status(|s| s.last_error = Some(e.to_string()));
                    if !pause(&acct, &mut backoff, e.retry_after()).await {
                        break;
                    }
                    continue;
                }
            },
        };
        let url = gateway::connect_url(&base);
        let connected =
            tokio::time::timeout(CONNECT_TIMEOUT, tokio_tungstenite::connect_async(&url)).await;
        let mut ws = match connected {
            Ok(Ok((ws, _))) => ws,
            Ok(Err(e)) => {
                let msg = format!("discord gateway: cannot connect to {base}: {e}");
                tracing::warn!(account = %acct.account_id, "{msg}; retrying");
                acct.update_status(|s| s.last_error = Some(msg));
                // The URL may be stale: ask for it again next time.
                gateway_url = None;
                if !pause(&acct, &mut backoff, None).await {
                    break;
                }
                continue;
            }
            Err(_) => {
                let msg =
                    format!("discord gateway: no handshake from {base} within {CONNECT_TIMEOUT:?}");
                tracing::warn!(account = %acct.account_id, "{msg}; retrying");
                acct.update_status(|s| s.last_error = Some(msg));
                gateway_url = None;
                if !pause(&acct, &mut backoff, None).await {
                    break;
                }
                continue;
            }
        };
        lp.healthy = false;
        let token = acct.api.token().clone();
        let end = gateway::drive(
            &mut ws,
            &token,
            acct.intents,
            &mut state,
            &acct.cancel,
            &mut |ev| lp.on_event(ev),
        )
        .await;
        acct.update_status(|s| s.connected = false);
        lp.workers.retain(|_, w| !w.handle.is_finished());
        if lp.healthy {
            backoff = BACKOFF_MIN;
        }
        match end {
            End::Cancelled => break,
            End::Fatal(msg) => {
                stop(&acct, msg);
                break;
            }
            End::Resume(why) => {
                tracing::info!(account = %acct.account_id, reason = %why, "discord: reconnecting to resume the session");
            }
            End::Reidentify(why) => {
                tracing::info!(account = %acct.account_id, reason = %why, "discord: starting a new session");
                state.clear();
                // Discord asks for a random 1–5 s wait before identifying again.
                let wait = Duration::from_millis(1000 + rand::random::<u64>() % 4000);
                backoff = backoff.max(wait);
            }
        }
        if !pause(&acct, &mut backoff, None).await {
            break;
        }
    }
    for (_, w) in lp.workers.drain() {
        w.handle.abort();
    }
    acct.update_status(|s| {
        s.running = false;
        s.connected = false;
        s.last_stop_at = Some(now_ms());
    });
}

fn stop(acct: &Account, msg: String) {
    tracing::error!(account = %acct.account_id, "discord: {msg}");
    acct.update_status(|s| s.last_error = Some(msg));
}

/// Sleep for the backoff (or what Discord asked for) and double it; `false` when cancelled.
async fn pause(acct: &Account, backoff: &mut Duration, asked: Option<Duration>) -> bool {
    let wait = asked.unwrap_or(*backoff).min(BACKOFF_MAX);
    *backoff = (*backoff * 2).min(BACKOFF_MAX);
    tokio::select! {
        _ = acct.cancel.cancelled() => false,
        _ = tokio::time::sleep(wait) => true,
    }
}

impl Loop {
    fn on_event(&mut self, ev: Event) {
        let acct = &self.acct;
        match ev {
            Event::Ready(r) => {
                self.healthy = true;
                tracing::info!(account = %acct.account_id, bot = %r.user.username, "discord: connected");
                acct.update_status(|s| {
                    s.connected = true;
                    s.last_error = None;
                    s.last_connected_at = Some(now_ms());
                    s.application_id = r.application.as_ref().map(|a| a.id.clone());
                    s.bot = Some(r.user.clone());
                });
            }
            Event::Resumed => {
                self.healthy = true;
                tracing::info!(account = %acct.account_id, "discord: session resumed");
                acct.update_status(|s| {
                    s.connected = true;
                    s.last_error = None;
                    s.last_connected_at = Some(now_ms());
                });
            }
            Event::Dispatch { t, d } => self.on_dispatch(&t, d),
        }
    }

    fn on_dispatch(&mut self, t: &str, d: serde_json::Value) {
        let acct = &self.acct;
        match t {
            "MESSAGE_CREATE" => match serde_json::from_value::<Message>(d) {
                Ok(m) if self.seen.insert(&m.id) => dispatch(acct, &mut self.workers, m),
                Ok(m) => {
                    tracing::debug!(message = %m.id, "discord: message delivered twice; handled once")
                }
                Err(e) => {
                    tracing::debug!(error = %e, "discord: skipping a MESSAGE_CREATE that does not decode")
                }
            },
            "GUILD_CREATE" => {
                if let Ok(g) = serde_json::from_value::<GuildCreate>(d) {
                    acct.remember_guild(&g.id, g.name.as_deref());
                    for mut c in g.channels.into_iter().chain(g.threads) {
                        c.guild_id.get_or_insert_with(|| g.id.clone());
                        acct.remember_channel(c);
                    }
                }
            }
            "GUILD_UPDATE" => {
                if let (Some(id), name) = (d["id"].as_str(), d["name"].as_str()) {
                    acct.remember_guild(id, name);
                }
            }
            "CHANNEL_CREATE" | "CHANNEL_UPDATE" | "THREAD_CREATE" | "THREAD_UPDATE" => {
                if let Ok(c) = serde_json::from_value::<Channel>(d) {
                    acct.remember_channel(c);
                }
            }
            "CHANNEL_DELETE" | "THREAD_DELETE" => {
                if let Some(id) = d["id"].as_str() {
                    acct.forget_channel(id);
                }
            }
            _ => {}
        }
    }
}

/// Queue `msg` on its channel's worker, starting one when needed.
fn dispatch(acct: &Arc<Account>, workers: &mut HashMap<String, Worker>, msg: Message) {
    let key = msg.channel_id.clone();
    let mut msg = msg;
    let mut predecessor = None;
    if let Some(w) = workers.get(&key) {
        match w.tx.try_send(msg) {
            Ok(()) => return,
            Err(mpsc::error::TrySendError::Full(m)) => {
                tracing::warn!(account = %acct.account_id, channel = %m.channel_id, message = %m.id, "discord: channel queue full; dropping a message");
                acct.mark_handled();
                return;
            }
            Err(mpsc::error::TrySendError::Closed(m)) => {
                msg = m;
                predecessor = workers.remove(&key).map(|w| w.handle);
            }
        }
    }
    let (tx, rx) = mpsc::channel(CHANNEL_QUEUE);
    // Cannot fail: the queue is new and empty.
    let _ = tx.try_send(msg);
    let handle = tokio::spawn(channel_worker(acct.clone(), rx, predecessor));
    workers.insert(key, Worker { tx, handle });
}

async fn channel_worker(
    acct: Arc<Account>,
    mut rx: mpsc::Receiver<Message>,
    predecessor: Option<JoinHandle<()>>,
) {
    if let Some(p) = predecessor {
        let _ = p.await;
    }
    loop {
        let next = tokio::select! {
            _ = acct.cancel.cancelled() => return,
            r = tokio::time::timeout(CHANNEL_IDLE, rx.recv()) => r,
        };
        match next {
            Ok(Some(m)) => super::inbound::handle(&acct, m).await,
            Ok(None) => return,
            Err(_) => {
                // Idle: refuse new messages, then finish what slipped in.
                rx.close();
                while let Ok(m) = rx.try_recv() {
                    super::inbound::handle(&acct, m).await;
                }
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recent_ids_forget_the_oldest() {
        let mut r = RecentIds::default();
        assert!(r.insert("a"));
        assert!(!r.insert("a"));
        for i in 0..RECENT_IDS {
            r.insert(&i.to_string());
        }
        assert!(r.insert("a"), "evicted after {RECENT_IDS} newer ids");
    }
}
