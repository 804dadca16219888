//! Discord as a bot over the gateway WebSocket, with replies over REST.
//!
//! One [`Account`] per configured bot: [`monitor`] fetches the gateway URL, keeps one
//! connection alive ([`gateway`]: heartbeats, RESUME after a drop, fatal close codes stop the
//! account with an error naming the fix) and hands each `MESSAGE_CREATE` to a per-channel worker
//! (one channel's messages run in order; channels run side by side) → [`inbound`] applies
//! access control ([`access`]), issues DM pairing codes, routes the message to an agent session
//! and waits for the run → the reply is split by [`chunk`] and posted through [`api`], which
//! waits out rate limits.
//!
//! Access settings are swapped in place on a config reload; a new token, API root, proxy or
//! intent set restarts the connection. The bot token never appears in logs, errors or `Debug`.

pub mod access;
pub mod account;
pub mod api;
pub mod chunk;
pub(crate) mod gateway;
mod inbound;
mod monitor;
mod outbound;
pub mod types;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use openclaw_protocol::now_ms;
use tokio_util::sync::CancellationToken;

pub use account::{AccountSettings, DiscordAccount, TOKEN_ENV, resolve_accounts};
pub use api::{API_ROOT_ENV, ApiError, DEFAULT_API_ROOT, RestApi};
pub use outbound::{Target, parse_target};
pub use types::User;

pub(crate) use monitor::run as monitor_run;
pub(crate) use outbound::{send_result, send_to_target};

use crate::Shared;
use crate::pairing_allow::AllowFromCache;
use crate::pending_history::PendingHistory;
use types::Channel;

/// What an approved sender is told (`openclaw pairing approve discord … --notify`).
pub use crate::telegram::PAIRING_APPROVED_MESSAGE;

/// Text of the DM an unknown sender gets (the baseline's wording).
pub fn pairing_reply(sender_id: &str, code: &str) -> String {
    format!(
        "OpenClaw: access not configured.\n\nYour Discord user id: {sender_id}\n\nPairing code: {code}\n\nAsk the bot owner to approve with:\nopenclaw pairing approve discord {code}"
    )
}

/// The REST API root: [`API_ROOT_ENV`] when set, else the public API.
pub(crate) fn api_root(env: &openclaw_config::EnvMap) -> String {
    env.get(API_ROOT_ENV)
        .map(|r| r.trim().to_string())
        .filter(|r| !r.is_empty())
        .unwrap_or_else(|| DEFAULT_API_ROOT.to_string())
}

/// Send one plain-text message with an account's token, without a running transport (the CLI's
/// `pairing approve --notify`). `account` `None` is the default account.
pub async fn send_once(
    config: &openclaw_config::OpenClawConfig,
    env: &openclaw_config::EnvMap,
    account: Option<&str>,
    target: &str,
    text: &str,
) -> Result<String, crate::ChannelError> {
    let account_id = openclaw_store::session_key::normalize_account_id(account.unwrap_or(""));
    let dc = config.channels.as_ref().and_then(|c| c.discord.as_ref());
    let not_configured = || crate::ChannelError::NotConfigured {
        channel: "discord".into(),
        account: account_id.clone(),
    };
    let acct = resolve_accounts(dc, env)
        .into_iter()
        .find(|a| a.account_id == account_id)
        .ok_or_else(not_configured)?;
    let token = acct.token.ok_or_else(not_configured)?;
    let http = crate::telegram::http_client(&reqwest::Client::new(), acct.proxy.as_deref())?;
    let api = RestApi::new(http, &api_root(env), token);
    let channel_id = match parse_target(target)? {
        Target::Channel(id) => id,
        Target::User(id) => api.open_dm(&id).await?.id,
    };
    Ok(api.send_message(&channel_id, text, None).await?.id)
}

/// Live state of one account, as `channels.status` reports it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AccountStatus {
    pub running: bool,
    /// A gateway session is up (READY or RESUMED seen, the socket still open).
    pub connected: bool,
    pub last_start_at: Option<u64>,
    pub last_stop_at: Option<u64>,
    pub last_error: Option<String>,
    pub last_inbound_at: Option<u64>,
    pub last_outbound_at: Option<u64>,
    pub last_connected_at: Option<u64>,
    /// Gateway reconnects since the account started.
    pub reconnects: u64,
    pub bot: Option<User>,
    pub application_id: Option<String>,
}

/// At most this many channels are remembered (names, thread parents); beyond it the cache is
/// cleared and refilled on demand.
const CHANNEL_CACHE_MAX: usize = 20_000;

/// What the gateway told us about guilds and channels, for name matching and threads.
#[derive(Default)]
struct Directory {
    guild_names: HashMap<String, String>,
    channels: HashMap<String, Channel>,
    /// user id → DM channel id, for `send` to `user:<id>`.
    dm_channels: HashMap<String, String>,
}

/// One running bot account.
pub(crate) struct Account {
    pub account_id: String,
    pub api: RestApi,
    pub intents: u64,
    settings: RwLock<Arc<AccountSettings>>,
    status: Mutex<AccountStatus>,
    history: PendingHistory,
    directory: Mutex<Directory>,
    allow_cache: AllowFromCache,
    handled: AtomicU64,
    pub shared: Arc<Shared>,
    pub cancel: CancellationToken,
}

impl Account {
    pub fn new(
        account_id: &str,
        api: RestApi,
        intents: u64,
        settings: AccountSettings,
        shared: Arc<Shared>,
        cancel: CancellationToken,
    ) -> Arc<Account> {
        Arc::new(Account {
            account_id: account_id.to_string(),
            api,
            intents,
            settings: RwLock::new(Arc::new(settings)),
            status: Mutex::new(AccountStatus::default()),
            history: PendingHistory::default(),
            directory: Mutex::new(Directory::default()),
            allow_cache: AllowFromCache::new("discord", account_id),
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

    /// Remember an unmentioned guild message (`limit` 0 keeps nothing).
    fn push_history(&self, channel: &str, line: String, limit: usize) {
        self.history.push(channel, line, limit);
    }

    fn take_history(&self, channel: &str) -> Vec<String> {
        self.history.take(channel)
    }

    fn directory<R>(&self, f: impl FnOnce(&mut Directory) -> R) -> R {
        f(&mut self.directory.lock().unwrap_or_else(|p| p.into_inner()))
    }

    fn remember_guild(&self, id: &str, name: Option<&str>) {
        if let Some(n) = name {
            self.directory(|d| d.guild_names.insert(id.to_string(), n.to_string()));
        }
    }

    fn remember_channel(&self, c: Channel) {
        self.directory(|d| {
            if d.channels.len() >= CHANNEL_CACHE_MAX {
                d.channels.clear();
            }
            d.channels.insert(c.id.clone(), c);
        });
    }

    fn forget_channel(&self, id: &str) {
        self.directory(|d| d.channels.remove(id));
    }

    fn guild_name(&self, id: &str) -> Option<String> {
        self.directory(|d| d.guild_names.get(id).cloned())
    }

    /// A channel the gateway announced (or REST returned) earlier.
    fn cached_channel(&self, id: &str) -> Option<Channel> {
        self.directory(|d| d.channels.get(id).cloned())
    }

    /// A channel's details: from the gateway's announcements, else asked over REST (and kept).
    async fn channel(&self, id: &str) -> Option<Channel> {
        if let Some(c) = self.cached_channel(id) {
            return Some(c);
        }
        match self.api.get_channel(id).await {
            Ok(c) => {
                self.remember_channel(c.clone());
                Some(c)
            }
            Err(e) => {
                tracing::debug!(channel = id, error = %e, "discord: cannot look up a channel");
                None
            }
        }
    }

    /// The DM channel with `user_id` (opened over REST once, then remembered).
    async fn dm_channel(&self, user_id: &str) -> Result<String, ApiError> {
        if let Some(c) = self.directory(|d| d.dm_channels.get(user_id).cloned()) {
            return Ok(c);
        }
        let c = self.api.open_dm(user_id).await?;
        self.directory(|d| {
            if d.dm_channels.len() >= CHANNEL_CACHE_MAX {
                d.dm_channels.clear();
            }
            d.dm_channels.insert(user_id.to_string(), c.id.clone())
        });
        Ok(c.id)
    }

    /// Approved senders from the pairing store (re-read when their files change).
    async fn store_allow_from(&self) -> Vec<String> {
        self.allow_cache.read(&self.shared.pairing).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairing_reply_names_the_channel_and_the_command() {
        let r = pairing_reply("123", "ABCD2345");
        assert!(r.contains("Your Discord user id: 123"), "{r}");
        assert!(
            r.ends_with("openclaw pairing approve discord ABCD2345"),
            "{r}"
        );
    }
}
