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

/// The transports' status; with `probe`, each configured bot is asked `getMe`.
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

/// Telegram: remove the account's `botToken` from the config, which stops the bot (the
/// baseline's logout). `envToken` says whether `TELEGRAM_BOT_TOKEN` still provides one.
pub async fn logout(ctx: &CallCtx, params: Value) -> MethodResult {
    let p: LogoutParams = parse(params)?;
    let channel = p.channel.trim().to_lowercase();
    if channel != "telegram" {
        return Err(MethodError::InvalidParams(format!(
            "channel {channel} does not support logout on this gateway"
        )));
    }
    let svc = ctx.state.services.config.clone().ok_or_else(|| {
        MethodError::Unavailable("config service is not running on this gateway".into())
    })?;
    let account =
        openclaw_store::session_key::normalize_account_id(p.account_id.as_deref().unwrap_or(""));
    let snap = svc.snapshot();
    let pointer = if account == openclaw_store::session_key::DEFAULT_ACCOUNT_ID {
        "/channels/telegram/botToken".to_string()
    } else {
        format!("/channels/telegram/accounts/{account}/botToken")
    };
    let cleared = snap.parsed.pointer(&pointer).is_some();
    if cleared {
        let patch = if account == openclaw_store::session_key::DEFAULT_ACCOUNT_ID {
            json!({"channels": {"telegram": {"botToken": null}}})
        } else {
            json!({"channels": {"telegram": {"accounts": {account.clone(): {"botToken": null}}}}})
        };
        let w = svc
            .patch(patch.to_string(), Some(snap.hash.clone()))
            .await
            .map_err(|e| MethodError::Shape(e.to_error()))?;
        announce(&ctx.state, &w);
    }
    let env_token = account == openclaw_store::session_key::DEFAULT_ACCOUNT_ID
        && svc
            .env
            .get("TELEGRAM_BOT_TOKEN")
            .is_some_and(|t| !t.trim().is_empty());
    Ok(json!({
        "channel": channel,
        "accountId": account,
        "cleared": cleared,
        "envToken": env_token,
        "loggedOut": cleared,
    }))
}
