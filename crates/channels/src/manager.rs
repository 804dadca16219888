//! [`ChannelManager`]: which transports run, with what settings, and the operations the
//! gateway calls (status, send, shutdown). Telegram's part is here; Discord's is in
//! [`discord`](self::discord).

mod discord;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use openclaw_agent::AgentRuntime;
use openclaw_config::{EnvMap, OpenClawConfig, Paths, Secret};
use openclaw_store::ChannelPairingStore;
use serde_json::Value;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::discord::DiscordAccount;
use crate::status::Inputs;
use crate::telegram::{self, Account, BotApi, TelegramAccount};
use crate::{ChannelError, Shared};

/// How long shutdown waits for transports to stop before aborting them.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// What, if changed, restarts a poller (everything else is swapped in place).
#[derive(PartialEq)]
struct Fingerprint {
    token: Secret,
    root: String,
    proxy: Option<String>,
}

struct Running {
    fingerprint: Fingerprint,
    account: Arc<Account>,
    handle: JoinHandle<()>,
}

#[derive(Default)]
struct State {
    telegram: HashMap<String, Running>,
    discord: HashMap<String, discord::Running>,
    /// Stopped transports still winding down; awaited at shutdown.
    retired: Vec<JoinHandle<()>>,
    stopped: bool,
}

/// The gateway's channel transports.
pub struct ChannelManager {
    shared: Arc<Shared>,
    state: Mutex<State>,
    http: reqwest::Client,
    /// Config-derived accounts of the last `apply`, for status and `send`.
    accounts: RwLock<Vec<TelegramAccount>>,
    discord_accounts: RwLock<Vec<DiscordAccount>>,
}

impl ChannelManager {
    pub fn new(runtime: Arc<AgentRuntime>, paths: Paths, env: EnvMap) -> Arc<ChannelManager> {
        let pairing = ChannelPairingStore::new(paths.credentials_dir());
        Arc::new(ChannelManager {
            shared: Arc::new(Shared {
                runtime,
                paths,
                env,
                pairing,
                config: RwLock::new(Arc::new(OpenClawConfig::default())),
            }),
            state: Mutex::new(State::default()),
            http: reqwest::Client::new(),
            accounts: RwLock::new(Vec::new()),
            discord_accounts: RwLock::new(Vec::new()),
        })
    }

    fn api_root(&self) -> String {
        telegram::api_root(&self.shared.env)
    }

    fn client_for(&self, proxy: Option<&str>) -> Result<reqwest::Client, ChannelError> {
        telegram::http_client(&self.http, proxy)
    }

    /// Start, restart or stop transports to match `config` (call at start and after every
    /// config change). Must run inside the Tokio runtime.
    pub fn apply(&self, config: &OpenClawConfig) {
        self.shared.set_config(config.clone());
        let channels = config.channels.as_ref();
        let tg = channels.and_then(|c| c.telegram.as_ref());
        let accounts = telegram::resolve_accounts(tg, &self.shared.env, &self.shared.paths);
        let dc = channels.and_then(|c| c.discord.as_ref());
        let discord_accounts = crate::discord::resolve_accounts(dc, &self.shared.env);
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if state.stopped {
            return;
        }
        self.apply_telegram(&mut state, &accounts);
        self.apply_discord(&mut state, &discord_accounts);
        state.retired.retain(|h| !h.is_finished());
        drop(state);
        *self.accounts.write().unwrap_or_else(|p| p.into_inner()) = accounts;
        *self
            .discord_accounts
            .write()
            .unwrap_or_else(|p| p.into_inner()) = discord_accounts;
    }

    fn apply_telegram(&self, state: &mut State, accounts: &[TelegramAccount]) {
        let root = self.api_root();
        let mut keep: Vec<String> = Vec::new();
        for a in accounts {
            let (true, Some(token)) = (a.enabled, a.token.clone()) else {
                if let Some(e) = &a.token_error {
                    tracing::warn!(account = %a.account_id, error = %e, "telegram: account has no usable token");
                }
                continue;
            };
            let fp = Fingerprint {
                token: token.clone(),
                root: root.clone(),
                proxy: a.proxy.clone(),
            };
            if let Some(r) = state.telegram.get(&a.account_id)
                && r.fingerprint == fp
            {
                r.account.set_settings(a.settings.clone());
                keep.push(a.account_id.clone());
                continue;
            }
            let http = match self.client_for(a.proxy.as_deref()) {
                Ok(h) => h,
                Err(e) => {
                    tracing::error!(account = %a.account_id, error = %e, "telegram: not started");
                    continue;
                }
            };
            if let Some(old) = state.telegram.remove(&a.account_id) {
                old.account.cancel.cancel();
                state.retired.push(old.handle);
            }
            if a.webhook_url.is_some() {
                tracing::warn!(account = %a.account_id, "telegram: webhookUrl is set, but this build only long-polls; polling instead");
            }
            let account = Account::new(
                &a.account_id,
                BotApi::new(http, &root, token),
                a.settings.clone(),
                self.shared.clone(),
                CancellationToken::new(),
            );
            let handle = tokio::spawn(telegram::monitor_run(account.clone()));
            tracing::info!(account = %a.account_id, "telegram: starting");
            state.telegram.insert(
                a.account_id.clone(),
                Running {
                    fingerprint: fp,
                    account,
                    handle,
                },
            );
            keep.push(a.account_id.clone());
        }
        let gone: Vec<String> = state
            .telegram
            .keys()
            .filter(|k| !keep.contains(k))
            .cloned()
            .collect();
        for k in gone {
            if let Some(old) = state.telegram.remove(&k) {
                tracing::info!(account = %k, "telegram: stopping (removed or disabled)");
                old.account.cancel.cancel();
                state.retired.push(old.handle);
            }
        }
    }

    /// Stop every transport (bounded wait, then abort). Later `apply` calls do nothing.
    pub async fn shutdown(&self) {
        let handles: Vec<JoinHandle<()>> = {
            let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
            state.stopped = true;
            let mut hs: Vec<JoinHandle<()>> = state.retired.drain(..).collect();
            for (_, r) in state.telegram.drain() {
                r.account.cancel.cancel();
                hs.push(r.handle);
            }
            for (_, r) in state.discord.drain() {
                r.account.cancel.cancel();
                hs.push(r.handle);
            }
            hs
        };
        for h in handles {
            let abort = h.abort_handle();
            if tokio::time::timeout(STOP_GRACE, h).await.is_err() {
                abort.abort();
            }
        }
    }

    fn running(&self, account_id: &str) -> Option<Arc<Account>> {
        self.state
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .telegram
            .get(account_id)
            .map(|r| r.account.clone())
    }

    fn live(&self) -> HashMap<String, telegram::AccountStatus> {
        self.state
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .telegram
            .iter()
            .map(|(k, r)| (k.clone(), r.account.status()))
            .collect()
    }

    /// Messages a running Telegram account has fully handled (answered, paired or dropped).
    pub fn handled(&self, account_id: &str) -> u64 {
        self.handled_on("telegram", account_id)
    }

    /// Messages a running account of `channel` has fully handled (answered, paired or dropped).
    pub fn handled_on(&self, channel: &str, account_id: &str) -> u64 {
        match channel {
            "discord" => self
                .running_discord(account_id)
                .map(|a| a.handled())
                .unwrap_or(0),
            _ => self.running(account_id).map(|a| a.handled()).unwrap_or(0),
        }
    }

    fn telegram_accounts(&self) -> Vec<TelegramAccount> {
        self.accounts
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// What the status payloads are built from (without probes).
    fn inputs(&self) -> Inputs {
        Inputs {
            telegram: self.telegram_accounts(),
            telegram_live: self.live(),
            discord: self.discord_accounts(),
            discord_live: self.discord_live(),
            ..Inputs::default()
        }
    }

    /// The `channels.status` payload. With `probe`, every enabled, configured bot is asked who
    /// it is (Telegram `getMe`, Discord `GET /users/@me`), each bounded by `timeout`.
    pub async fn status(&self, probe: bool, timeout: Duration) -> Value {
        let mut inputs = self.inputs();
        if probe {
            for a in inputs.telegram.iter().filter(|a| a.enabled) {
                let Some(token) = a.token.clone() else {
                    continue;
                };
                let Ok(http) = self.client_for(a.proxy.as_deref()) else {
                    continue;
                };
                let api = BotApi::new(http, &self.api_root(), token);
                inputs.telegram_probes.insert(
                    a.account_id.clone(),
                    crate::status::probe(&api, timeout).await,
                );
            }
            inputs.discord_probes = self.discord_probes(&inputs.discord, timeout).await;
        }
        crate::status::channels_status(&self.shared.config(), &inputs)
    }

    /// `{channels, channelOrder, channelLabels}` for the health snapshot.
    pub fn health(&self) -> Value {
        crate::status::health(&self.shared.config(), &self.inputs())
    }

    /// Deliver `text` to `to` on `channel` (`None`: the configured channel, Telegram when both
    /// are). Returns the `send` result (`{runId, messageId, channel, …}`).
    pub async fn send(
        &self,
        channel: Option<&str>,
        account: Option<&str>,
        to: &str,
        text: &str,
        run_id: &str,
    ) -> Result<Value, ChannelError> {
        let channel = channel
            .map(|c| c.trim().to_lowercase())
            .filter(|c| !c.is_empty())
            .unwrap_or_else(|| self.default_channel().to_string());
        match channel.as_str() {
            "telegram" => {}
            "discord" => {
                if text.trim().is_empty() {
                    return Err(ChannelError::EmptyMessage);
                }
                return self.send_discord(account, to, text, run_id).await;
            }
            "whatsapp" => return Err(ChannelError::Unsupported(channel)),
            _ => return Err(ChannelError::UnknownChannel(channel)),
        }
        if text.trim().is_empty() {
            return Err(ChannelError::EmptyMessage);
        }
        let (chat_id, thread) = parse_target(to)?;
        let account_id = openclaw_store::session_key::normalize_account_id(account.unwrap_or(""));
        let acct = match self.running(&account_id) {
            Some(a) => a,
            None => self.idle_account(&account_id)?,
        };
        let message_id = telegram::send_reply_text(&acct, &chat_id, thread, text)
            .await
            .map_err(ChannelError::Api)?;
        Ok(telegram::send_result(run_id, &chat_id, message_id))
    }

    /// The channel `send` uses when none is named: Discord when it is the only one configured.
    fn default_channel(&self) -> &'static str {
        let cfg = self.shared.config();
        let ch = cfg.channels.as_ref();
        match (
            ch.is_some_and(|c| c.telegram.is_some()),
            ch.is_some_and(|c| c.discord.is_some()),
        ) {
            (false, true) => "discord",
            _ => "telegram",
        }
    }

    /// A configured account that is not polling (sending needs only the token).
    fn idle_account(&self, account_id: &str) -> Result<Arc<Account>, ChannelError> {
        let accounts = self.accounts.read().unwrap_or_else(|p| p.into_inner());
        let not_configured = || ChannelError::NotConfigured {
            channel: "telegram".into(),
            account: account_id.to_string(),
        };
        let a = accounts
            .iter()
            .find(|a| a.account_id == account_id && a.enabled)
            .ok_or_else(not_configured)?;
        let token = a.token.clone().ok_or_else(not_configured)?;
        let api = BotApi::new(
            self.client_for(a.proxy.as_deref())?,
            &self.api_root(),
            token,
        );
        Ok(Account::new(
            account_id,
            api,
            a.settings.clone(),
            self.shared.clone(),
            CancellationToken::new(),
        ))
    }
}

/// `123`, `-100123`, `telegram:123`, `tg:group:-100123`, `-100123:topic:7`, `@channel`.
fn parse_target(raw: &str) -> Result<(String, Option<i64>), ChannelError> {
    let invalid = || ChannelError::InvalidTarget {
        channel: "telegram",
        target: raw.to_string(),
        hint: "use a chat id (123456789, -1001234567890), telegram:<id>, <chatId>:topic:<threadId> or @channelname",
    };
    let mut t = telegram::access::strip_prefix(raw.trim());
    for p in ["group:", "user:", "chat:"] {
        if t.get(..p.len()).is_some_and(|h| h.eq_ignore_ascii_case(p)) {
            t = &t[p.len()..];
        }
    }
    let (chat, thread) = match t.split_once(":topic:") {
        Some((c, th)) => (c, Some(th.trim().parse::<i64>().map_err(|_| invalid())?)),
        None => (t, None),
    };
    let chat = chat.trim();
    let digits = chat.strip_prefix('-').unwrap_or(chat);
    let numeric = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
    let handle = chat
        .strip_prefix('@')
        .is_some_and(|h| h.len() >= 4 && h.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'));
    if !numeric && !handle {
        return Err(invalid());
    }
    Ok((chat.to_string(), thread.filter(|t| *t != 1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        assert_eq!(parse_target("123").unwrap(), ("123".into(), None));
        assert_eq!(
            parse_target("telegram:-100123").unwrap(),
            ("-100123".into(), None)
        );
        assert_eq!(
            parse_target("tg:group:-100123:topic:7").unwrap(),
            ("-100123".into(), Some(7))
        );
        assert_eq!(
            parse_target("@my_channel").unwrap(),
            ("@my_channel".into(), None)
        );
        assert!(parse_target("bob").is_err());
        assert!(parse_target("").is_err());
    }
}
