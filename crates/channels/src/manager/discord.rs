//! The Discord part of [`ChannelManager`]: one gateway connection per runnable account,
//! restarted when its token, API root, proxy or intents change (other settings are swapped in
//! place), stopped when the account goes away; probes and `send`.
//!
//! An account with a config error (a bad `guilds`/`dm` value, an unresolvable token) does not
//! start; `channels.status` shows the error, which names the key.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use openclaw_config::Secret;
use serde_json::{Value, json};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::{ChannelManager, State};
use crate::ChannelError;
use crate::discord::{self, Account, AccountStatus, DiscordAccount, RestApi};

/// What, if changed, restarts a connection.
#[derive(PartialEq)]
pub(super) struct Fingerprint {
    token: Secret,
    root: String,
    proxy: Option<String>,
    intents: u64,
}

pub(super) struct Running {
    fingerprint: Fingerprint,
    pub account: Arc<Account>,
    pub handle: JoinHandle<()>,
}

impl ChannelManager {
    fn discord_root(&self) -> String {
        discord::api_root(&self.shared.env)
    }

    pub(super) fn discord_accounts(&self) -> Vec<DiscordAccount> {
        self.discord_accounts
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub(super) fn apply_discord(&self, state: &mut State, accounts: &[DiscordAccount]) {
        let root = self.discord_root();
        let mut keep: Vec<String> = Vec::new();
        for a in accounts {
            if let (true, Some(e)) = (a.enabled, &a.config_error) {
                tracing::error!(account = %a.account_id, error = %e, "discord: not started");
            }
            let Some(token) = a.token.clone().filter(|_| a.runnable()) else {
                continue;
            };
            let fp = Fingerprint {
                token: token.clone(),
                root: root.clone(),
                proxy: a.proxy.clone(),
                intents: a.intents,
            };
            // A connection that stopped on its own (a fatal close code) stays stopped until
            // its settings change, like a rejected Telegram token.
            if let Some(r) = state.discord.get(&a.account_id)
                && r.fingerprint == fp
            {
                r.account.set_settings(a.settings.clone());
                keep.push(a.account_id.clone());
                continue;
            }
            let http = match self.client_for(a.proxy.as_deref()) {
                Ok(h) => h,
                Err(e) => {
                    tracing::error!(account = %a.account_id, error = %e, "discord: not started");
                    continue;
                }
            };
            if let Some(old) = state.discord.remove(&a.account_id) {
                old.account.cancel.cancel();
                state.retired.push(old.handle);
            }
            if a.proxy.is_some() {
                tracing::warn!(account = %a.account_id, "discord: channels.discord.proxy applies to REST calls; the gateway WebSocket connects directly");
            }
            let account = Account::new(
                &a.account_id,
                RestApi::new(http, &root, token),
                a.intents,
                a.settings.clone(),
                self.shared.clone(),
                CancellationToken::new(),
            );
            let handle = tokio::spawn(discord::monitor_run(account.clone()));
            tracing::info!(account = %a.account_id, "discord: starting");
            state.discord.insert(
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
            .discord
            .keys()
            .filter(|k| !keep.contains(k))
            .cloned()
            .collect();
        for k in gone {
            if let Some(old) = state.discord.remove(&k) {
                tracing::info!(account = %k, "discord: stopping (removed, disabled or misconfigured)");
                old.account.cancel.cancel();
                state.retired.push(old.handle);
            }
        }
    }

    pub(super) fn running_discord(&self, account_id: &str) -> Option<Arc<Account>> {
        self.state
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .discord
            .get(account_id)
            .map(|r| r.account.clone())
    }

    pub(super) fn discord_live(&self) -> HashMap<String, AccountStatus> {
        self.state
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .discord
            .iter()
            .map(|(k, r)| (k.clone(), r.account.status()))
            .collect()
    }

    /// `GET /users/@me` for every enabled account with a token.
    pub(super) async fn discord_probes(
        &self,
        accounts: &[DiscordAccount],
        timeout: Duration,
    ) -> HashMap<String, Value> {
        let mut out = HashMap::new();
        for a in accounts.iter().filter(|a| a.enabled) {
            let Some(token) = a.token.clone() else {
                continue;
            };
            let Ok(http) = self.client_for(a.proxy.as_deref()) else {
                continue;
            };
            let api = RestApi::new(http, &self.discord_root(), token);
            out.insert(a.account_id.clone(), probe(&api, timeout).await);
        }
        out
    }

    pub(super) async fn send_discord(
        &self,
        account: Option<&str>,
        to: &str,
        text: &str,
        run_id: &str,
    ) -> Result<Value, ChannelError> {
        let target = discord::parse_target(to)?;
        let account_id = openclaw_store::session_key::normalize_account_id(account.unwrap_or(""));
        let acct = match self.running_discord(&account_id) {
            Some(a) => a,
            None => self.idle_discord(&account_id)?,
        };
        let (channel_id, message_id) = discord::send_to_target(&acct, &target, text).await?;
        Ok(discord::send_result(run_id, &channel_id, &message_id))
    }

    /// A configured account that is not connected (sending needs only the token).
    fn idle_discord(&self, account_id: &str) -> Result<Arc<Account>, ChannelError> {
        let accounts = self.discord_accounts();
        let not_configured = || ChannelError::NotConfigured {
            channel: "discord".into(),
            account: account_id.to_string(),
        };
        let a = accounts
            .iter()
            .find(|a| a.account_id == account_id && a.enabled)
            .ok_or_else(not_configured)?;
        let token = a.token.clone().ok_or_else(not_configured)?;
        let api = RestApi::new(
            self.client_for(a.proxy.as_deref())?,
            &self.discord_root(),
            token,
        );
        Ok(Account::new(
            account_id,
            api,
            a.intents,
            a.settings.clone(),
            self.shared.clone(),
            CancellationToken::new(),
        ))
    }
}

/// `GET /users/@me` as a probe: `{ok, status, error, elapsedMs, bot}`.
async fn probe(api: &RestApi, timeout: Duration) -> Value {
    let started = Instant::now();
    let r = tokio::time::timeout(timeout.max(Duration::from_secs(1)), api.get_me()).await;
    let elapsed = started.elapsed().as_millis() as u64;
    match r {
        Ok(Ok(me)) => json!({
            "ok": true, "status": null, "error": null, "elapsedMs": elapsed,
            "bot": {"id": me.id, "username": me.username},
        }),
        Ok(Err(e)) => {
            let status = match &e {
                discord::ApiError::Rejected { status, .. } => json!(status),
                _ => Value::Null,
            };
            json!({"ok": false, "status": status, "error": e.to_string(), "elapsedMs": elapsed})
        }
        Err(_) => json!({"ok": false, "status": null,
            "error": format!("discord GET /users/@me: no answer within {timeout:?}"), "elapsedMs": elapsed}),
    }
}
