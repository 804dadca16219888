//! `channels.status` and `channels.logout`: the gateway's view of its chat transports.

use serde::Deserialize;
use serde_json::{Value, json};

use super::{CallCtx, MethodError, MethodResult, parse};
use crate::config_service::announce;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StatusParams {
    probe: Option<bool>,
    timeout_ms: Option<u64>,
}

/// The transports' status; with `probe`, each configured bot is asked who it is.
pub async fn status(ctx: &CallCtx, params: Value) -> MethodResult {
    let p: StatusParams = parse(params)?;
    if let Some(channels) = &ctx.state.services.channels {
        let timeout = std::time::Duration::from_millis(p.timeout_ms.unwrap_or(10_000).max(1000));
        return Ok(channels.status(p.probe == Some(true), timeout).await);
    }
    Ok(json!({
        "ts": openclaw_protocol::now_ms(),
        "channelOrder": [],
        "channelLabels": {},
        "channelDetailLabels": {},
        "channelSystemImages": {},
        "channelMeta": [],
        "channels": {},
        "channelAccounts": {},
        "channelDefaultAccountId": {},
    }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LogoutParams {
    channel: String,
    account_id: Option<String>,
}

/// Where a channel keeps its bot token, and the env variable that can still provide one.
fn token_key(channel: &str) -> Option<(&'static str, &'static str)> {
    match channel {
        "telegram" => Some(("botToken", "TELEGRAM_BOT_TOKEN")),
        "discord" => Some(("token", "DISCORD_BOT_TOKEN")),
        _ => None,
    }
}

/// Telegram and Discord: remove the account's token from the config, which stops the bot (the
/// baseline's logout). `envToken` says whether the channel's env variable still provides one.
pub async fn logout(ctx: &CallCtx, params: Value) -> MethodResult {
    let p: LogoutParams = parse(params)?;
    let channel = p.channel.trim().to_lowercase();
    let Some((key, env_var)) = token_key(&channel) else {
        return Err(MethodError::InvalidParams(format!(
            "channel {channel} does not support logout on this gateway"
        )));
    };
    let svc = ctx.state.services.config.clone().ok_or_else(|| {
        MethodError::Unavailable("config service is not running on this gateway".into())
    })?;
    let account =
        openclaw_store::session_key::normalize_account_id(p.account_id.as_deref().unwrap_or(""));
    let is_default = account == openclaw_store::session_key::DEFAULT_ACCOUNT_ID;
    let snap = svc.snapshot();
    let pointer = if is_default {
        format!("/channels/{channel}/{key}")
    } else {
        format!("/channels/{channel}/accounts/{account}/{key}")
    };
    let cleared = snap.parsed.pointer(&pointer).is_some();
    if cleared {
        let patch = if is_default {
            json!({"channels": {channel.clone(): {key: null}}})
        } else {
            json!({"channels": {channel.clone(): {"accounts": {account.clone(): {key: null}}}}})
        };
        let w = svc
            .patch(patch.to_string(), Some(snap.hash.clone()))
            .await
            .map_err(|e| MethodError::Shape(e.to_error()))?;
        announce(&ctx.state, &w);
    }
    let env_token = is_default && svc.env.get(env_var).is_some_and(|t| !t.trim().is_empty());
    Ok(json!({
        "channel": channel,
        "accountId": account,
        "cleared": cleared,
        "envToken": env_token,
        "loggedOut": cleared,
    }))
}
