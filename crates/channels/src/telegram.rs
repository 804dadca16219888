//! Telegram over the Bot API, by long polling.
//!
//! One [`Account`] per configured bot: [`monitor`] polls `getUpdates` and hands each message to
//! a per-chat worker (messages of one chat or forum topic run strictly in order; chats run side
//! by side) → [`inbound`] applies access control ([`access`]), issues pairing codes, fetches
//! the message's file (`media`), routes the message to an agent session and waits for the run → replies are chunked and rendered by
//! [`format`] and sent through [`api`], with a plain-text retry when Telegram rejects the HTML.
//!
//! Access settings are swapped in place on a config reload; only a new token, API root or proxy
//! restarts the poller. The bot token never appears in logs, errors or `Debug` output.

pub mod access;
pub mod account;
pub mod api;
mod debounce;
pub mod format;
mod inbound;
mod media;
mod monitor;
pub mod types;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use openclaw_protocol::now_ms;
use tokio_util::sync::CancellationToken;

pub use account::{AccountSettings, TelegramAccount, TokenSource, resolve_accounts};
pub use api::{API_ROOT_ENV, ApiError, BotApi, DEFAULT_API_ROOT, OutgoingText};
pub use types::User;

pub(crate) use inbound::{send_reply as send_reply_text, send_result};
pub(crate) use monitor::run as monitor_run;

use crate::Shared;
use crate::pairing_allow::AllowFromCache;
use crate::pending_history::PendingHistory;

/// Text of the DM an unknown sender gets (the baseline's wording).
pub fn pairing_reply(sender_id: &str, code: &str) -> String {
    format!(
        "OpenClaw: access not configured.\n\nYour Telegram user id: {sender_id}\n\nPairing code: {code}\n\nAsk the bot owner to approve with:\nopenclaw pairing approve telegram {code}"
    )
}

/// What an approved sender is told (`openclaw pairing approve … --notify`).
pub const PAIRING_APPROVED_MESSAGE: &str =
    "✅ OpenClaw access approved. Send a message to start chatting.";

/// The Bot API root: [`API_ROOT_ENV`] when set, else the public API.
pub(crate) fn api_root(env: &openclaw_config::EnvMap) -> String {
    env.get(API_ROOT_ENV)
        .map(|r| r.trim().to_string())
        .filter(|r| !r.is_empty())
        .unwrap_or_else(|| DEFAULT_API_ROOT.to_string())
}

/// `shared` itself, or a client that goes through `channels.telegram.proxy`.
pub(crate) fn http_client(
    shared: &reqwest::Client,
    proxy: Option<&str>,
) -> Result<reqwest::Client, crate::ChannelError> {
    let bad = |e: reqwest::Error| crate::ChannelError::Proxy(e.to_string());
    match proxy {
        None => Ok(shared.clone()),
        Some(p) => reqwest::Client::builder()
            .proxy(reqwest::Proxy::all(p).map_err(bad)?)
            .build()
            .map_err(bad),
    }
}

/// Send one plain-text message with an account's token, without a running transport (the CLI's
/// `pairing approve --notify`). `account` `None` is the default account.
pub async fn send_once(
    config: &openclaw_config::OpenClawConfig,
    env: &openclaw_config::EnvMap,
    paths: &openclaw_config::Paths,
    account: Option<&str>,
    chat_id: &str,
    text: &str,
) -> Result<i64, crate::ChannelError> {
    let account_id = openclaw_store::session_key::normalize_account_id(account.unwrap_or(""));
    let tg = config.channels.as_ref().and_then(|c| c.telegram.as_ref());
    let not_configured = || crate::ChannelError::NotConfigured {
        channel: "telegram".into(),
        account: account_id.clone(),
    };
    let acct = resolve_accounts(tg, env, paths)
        .into_iter()
        .find(|a| a.account_id == account_id)
        .ok_or_else(not_configured)?;
    let token = acct.token.ok_or_else(not_configured)?;
    let http = http_client(&reqwest::Client::new(), acct.proxy.as_deref())?;
    let api = BotApi::new(http, &api_root(env), token);
    let m = api
        .send_message(&OutgoingText {
            chat_id: chat_id.to_string(),
            text: text.to_string(),
            parse_mode: None,
            message_thread_id: None,
            disable_link_preview: false,
        })
        .await?;
    Ok(m.message_id)
}

/// Live state of one account, as `channels.status` reports it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AccountStatus {
    pub running: bool,
    /// The last `getUpdates` succeeded.
    pub connected: bool,
    pub last_start_at: Option<u64>,
    pub last_stop_at: Option<u64>,
    pub last_error: Option<String>,
    pub last_inbound_at: Option<u64>,
    pub last_outbound_at: Option<u64>,
    pub bot: Option<User>,
}

/// One running bot account.
pub(crate) struct Account {
    pub account_id: String,
    pub api: BotApi,
    settings: RwLock<Arc<AccountSettings>>,
    status: Mutex<AccountStatus>,
    history: PendingHistory,
    allow_cache: AllowFromCache,
    handled: AtomicU64,
    pub shared: Arc<Shared>,
    pub cancel: CancellationToken,
}

impl Account {
    pub fn new(
        account_id: &str,
        api: BotApi,
        settings: AccountSettings,
        shared: Arc<Shared>,
        cancel: CancellationToken,
    ) -> Arc<Account> {
        Arc::new(Account {
            account_id: account_id.to_string(),
            api,
            settings: RwLock::new(Arc::new(settings)),
            status: Mutex::new(AccountStatus::default()),
            history: PendingHistory::default(),
            allow_cache: AllowFromCache::new("telegram", account_id),
            handled: AtomicU64::new(0),
            shared,
            cancel,
        })
    }

    pub fn settings(&self) -> Arc<AccountSettings> {
        self.settings
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn set_settings(&self, s: AccountSettings) {
        *self.settings.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(s);
    }

    pub fn status(&self) -> AccountStatus {
        self.status
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn update_status(&self, f: impl FnOnce(&mut AccountStatus)) {
        f(&mut self.status.lock().unwrap_or_else(|p| p.into_inner()));
    }

    pub fn bot(&self) -> Option<User> {
        self.status().bot
    }

    /// Messages fully handled so far (answered, paired, or dropped).
    pub fn handled(&self) -> u64 {
        self.handled.load(Ordering::Relaxed)
    }

    fn mark_handled(&self) {
        self.handled.fetch_add(1, Ordering::Relaxed);
    }

    fn note_inbound(&self) {
        self.update_status(|s| s.last_inbound_at = Some(now_ms()));
    }

    fn note_outbound(&self) {
        self.update_status(|s| s.last_outbound_at = Some(now_ms()));
    }

    /// Remember an unmentioned group message (`limit` 0 keeps nothing).
    fn push_history(&self, peer: &str, line: String, limit: usize) {
        self.history.push(peer, line, limit);
    }

    fn take_history(&self, peer: &str) -> Vec<String> {
        self.history.take(peer)
    }

    /// Approved senders from the pairing store; read again only when the files changed.
    async fn store_allow_from(&self) -> Vec<String> {
        self.allow_cache.read(&self.shared.pairing).await
    }
}
