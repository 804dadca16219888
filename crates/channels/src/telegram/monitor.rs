//! The polling loop of one account and its per-chat workers.
//!
//! `getMe` first (retried with backoff; a rejected token stops the account until the config
//! changes), then `getUpdates` long polls. Each message goes to the worker of its chat (or forum
//! topic), so one chat's messages are handled in order while other chats proceed. A worker with
//! nothing to do for [`CHAT_IDLE`] closes its queue, finishes what is queued and exits; the next
//! message of that chat starts a new worker, which first waits for the old one.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use openclaw_protocol::now_ms;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::Account;
use super::api::{ApiError, CALL_TIMEOUT};
use super::types::Message;

/// Long-poll wait of `getUpdates`.
pub const POLL_WAIT: Duration = Duration::from_secs(30);
/// Messages queued per chat. A chat that floods past this loses the overflow (logged) rather
/// than delaying every other chat's polling.
const CHAT_QUEUE: usize = 32;
const CHAT_IDLE: Duration = Duration::from_secs(600);
const BACKOFF_MIN: Duration = Duration::from_secs(1);
const BACKOFF_MAX: Duration = Duration::from_secs(30);

struct Worker {
    tx: mpsc::Sender<Message>,
    handle: JoinHandle<()>,
}

/// Run the account until its token is rejected or `acct.cancel` fires.
pub(crate) async fn run(acct: Arc<Account>) {
    acct.update_status(|s| {
        s.running = true;
        s.connected = false;
        s.last_start_at = Some(now_ms());
        s.last_error = None;
    });
    if identify(&acct).await {
        tracing::info!(account = %acct.account_id, bot = ?acct.bot().and_then(|b| b.username), "telegram: polling");
        poll(&acct).await;
    }
    acct.update_status(|s| {
        s.running = false;
        s.connected = false;
        s.last_stop_at = Some(now_ms());
    });
}

/// `getMe` until it answers; `false` when cancelled or the token is rejected.
async fn identify(acct: &Arc<Account>) -> bool {
    let mut backoff = BACKOFF_MIN;
    loop {
        let r = tokio::select! {
            _ = acct.cancel.cancelled() => return false,
            r = acct.api.get_me(CALL_TIMEOUT) => r,
        };
        match r {
            Ok(me) => {
                acct.update_status(|s| {
                    s.bot = Some(me);
                    s.connected = true;
                    s.last_error = None;
                });
                return true;
            }
            Err(e) if e.is_unauthorized() => {
                stop_on_bad_token(acct, &e);
                return false;
            }
            Err(e) => {
                tracing::warn!(account = %acct.account_id, error = %e, "telegram: getMe failed; retrying");
                acct.update_status(|s| s.last_error = Some(e.to_string()));
                if !pause(acct, &e, &mut backoff).await {
                    return false;
                }
            }
        }
    }
}

fn stop_on_bad_token(acct: &Account, e: &ApiError) {
    let msg = format!(
        "{e}: the bot token was rejected; fix channels.telegram.botToken (or tokenFile / TELEGRAM_BOT_TOKEN) and the gateway restarts the channel"
    );
    tracing::error!(account = %acct.account_id, "telegram: {msg}");
    acct.update_status(|s| s.last_error = Some(msg));
}

/// Sleep for the backoff (or what Telegram asked for); `false` when cancelled.
async fn pause(acct: &Account, e: &ApiError, backoff: &mut Duration) -> bool {
    let wait = e.retry_after().unwrap_or(*backoff);
    *backoff = (*backoff * 2).min(BACKOFF_MAX);
    tokio::select! {
        _ = acct.cancel.cancelled() => false,
        _ = tokio::time::sleep(wait) => true,
    }
}

async fn poll(acct: &Arc<Account>) {
    let mut offset: i64 = 0;
    let mut backoff = BACKOFF_MIN;
    let mut workers: HashMap<String, Worker> = HashMap::new();
    let mut webhook_cleared = false;
    loop {
        let r = tokio::select! {
            _ = acct.cancel.cancelled() => break,
            r = acct.api.get_updates(offset, POLL_WAIT) => r,
        };
        match r {
            Ok(updates) => {
                backoff = BACKOFF_MIN;
                acct.update_status(|s| {
                    s.connected = true;
                    s.last_error = None;
                });
                for u in updates {
                    offset = offset.max(u.update_id + 1);
                    if let Some(m) = u.message {
                        dispatch(acct, &mut workers, m);
                    }
                }
                workers.retain(|_, w| !w.handle.is_finished());
            }
            Err(e) if e.is_unauthorized() => {
                stop_on_bad_token(acct, &e);
                break;
            }
            Err(e) => {
                acct.update_status(|s| {
                    s.connected = false;
                    s.last_error = Some(e.to_string());
                });
                // A webhook blocks polling (409); drop it once, as grammY's polling start does.
                if e.is_conflict() && !webhook_cleared && e.to_string().contains("webhook") {
                    webhook_cleared = true;
                    if let Err(err) = acct.api.delete_webhook().await {
                        tracing::warn!(account = %acct.account_id, error = %err, "telegram: deleteWebhook failed");
                    }
                    continue;
                }
                tracing::warn!(account = %acct.account_id, error = %e, "telegram: getUpdates failed; retrying");
                if !pause(acct, &e, &mut backoff).await {
                    break;
                }
            }
        }
    }
    for (_, w) in workers {
        w.handle.abort();
    }
}

/// Queue `msg` on its chat's worker, starting one when needed.
fn dispatch(acct: &Arc<Account>, workers: &mut HashMap<String, Worker>, msg: Message) {
    let key = match msg.topic_id() {
        Some(t) => format!("{}:{t}", msg.chat.id),
        None => msg.chat.id.to_string(),
    };
    let mut msg = msg;
    let mut predecessor = None;
    if let Some(w) = workers.get(&key) {
        match w.tx.try_send(msg) {
            Ok(()) => return,
            Err(mpsc::error::TrySendError::Full(m)) => {
                tracing::warn!(account = %acct.account_id, chat = m.chat.id, message = m.message_id, "telegram: chat queue full; dropping a message");
                acct.mark_handled();
                return;
            }
            Err(mpsc::error::TrySendError::Closed(m)) => {
                msg = m;
                predecessor = workers.remove(&key).map(|w| w.handle);
            }
        }
    }
    let (tx, rx) = mpsc::channel(CHAT_QUEUE);
    // Cannot fail: the queue is new and empty.
    let _ = tx.try_send(msg);
    let handle = tokio::spawn(chat_worker(acct.clone(), rx, predecessor));
    workers.insert(key, Worker { tx, handle });
}

async fn chat_worker(
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
            r = tokio::time::timeout(CHAT_IDLE, rx.recv()) => r,
        };
        match next {
            Ok(Some(m)) => super::debounce::handle(&acct, m, &mut rx).await,
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
