//! `openclaw pairing list|approve`: DM pairing of chat senders.
//!
//! Like the baseline, these work on the state dir directly (`credentials/<channel>-pairing.json`
//! and `<channel>-allowFrom.json`), not through the gateway: approving works while the gateway
//! is down, and a running gateway reads the allowlist again on the sender's next message.

use serde_json::{Value, json};

use crate::cli::PairingCmd;
use crate::context::{Ctx, print_json};
use crate::exit::CliError;

/// Channels that pair DMs; `--notify` works for those with a transport in this build
/// (Telegram, Discord).
const PAIRING_CHANNELS: &[&str] = &[
    "telegram", "whatsapp", "discord", "signal", "imessage", "slack",
];

pub async fn run(ctx: &Ctx, cmd: &PairingCmd) -> Result<(), CliError> {
    match cmd {
        PairingCmd::List {
            channel,
            channel_opt,
            account,
            json,
        } => {
            let raw = channel_opt.as_deref().or(channel.as_deref()).ok_or_else(|| {
                CliError::msg(format!(
                    "Channel required. Use --channel <channel> or pass it as the first argument (expected one of: {})",
                    PAIRING_CHANNELS.join(", ")
                ))
            })?;
            list(ctx, &parse_channel(raw)?, account.as_deref(), *json)
        }
        PairingCmd::Approve {
            code_or_channel,
            code,
            channel_opt,
            account,
            notify,
        } => {
            let (channel, code) = match (channel_opt, code) {
                (Some(c), None) => (c.clone(), code_or_channel.clone()),
                (Some(_), Some(_)) => {
                    return Err(CliError::msg(
                        "Too many arguments. Use: openclaw pairing approve --channel <channel> <code>",
                    ));
                }
                (None, Some(code)) => (code_or_channel.clone(), code.clone()),
                (None, None) => match only_configured_channel(ctx) {
                    Some(c) => (c, code_or_channel.clone()),
                    None => {
                        return Err(CliError::msg(
                            "Usage: openclaw pairing approve <channel> <code> (or: openclaw pairing approve --channel <channel> <code>)",
                        ));
                    }
                },
            };
            approve(
                ctx,
                &parse_channel(&channel)?,
                &code,
                account.as_deref(),
                *notify,
            )
            .await
        }
    }
}

fn parse_channel(raw: &str) -> Result<String, CliError> {
    let c = raw.trim().to_lowercase();
    if c.is_empty() {
        return Err(CliError::msg("Channel required"));
    }
    let ok = c.as_bytes()[0].is_ascii_lowercase()
        && c.len() <= 64
        && c.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if !ok {
        return Err(CliError::msg(format!("Invalid channel: {c}")));
    }
    Ok(c)
}

/// With one channel configured, `pairing approve <code>` needs no channel.
fn only_configured_channel(ctx: &Ctx) -> Option<String> {
    let cfg = ctx.try_config_value();
    let chs = cfg.pointer("/channels").and_then(Value::as_object)?;
    let ids: Vec<&String> = chs
        .keys()
        .filter(|k| PAIRING_CHANNELS.contains(&k.as_str()))
        .collect();
    match ids.as_slice() {
        [one] => Some((*one).clone()),
        _ => None,
    }
}

fn store(ctx: &Ctx) -> openclaw_store::ChannelPairingStore {
    openclaw_store::ChannelPairingStore::new(ctx.paths.credentials_dir())
}

fn list(ctx: &Ctx, channel: &str, account: Option<&str>, json_out: bool) -> Result<(), CliError> {
    let requests = store(ctx)
        .list(channel, account, chrono::Utc::now())
        .map_err(|e| CliError::msg(e.to_string()))?;
    if json_out {
        print_json(&json!({"channel": channel, "requests": requests}))?;
        return Ok(());
    }
    if requests.is_empty() {
        println!("No pending {channel} pairing requests.");
        return Ok(());
    }
    println!("Pairing requests ({})", requests.len());
    let id_label = format!("{channel}UserId");
    let rows: Vec<[String; 4]> = requests
        .iter()
        .map(|r| {
            let meta = if r.meta.is_empty() {
                String::new()
            } else {
                Value::Object(r.meta.clone()).to_string()
            };
            [r.code.clone(), r.id.clone(), meta, r.created_at.clone()]
        })
        .collect();
    let header = [
        "Code".to_string(),
        id_label,
        "Meta".to_string(),
        "Requested".to_string(),
    ];
    let mut widths = header.clone().map(|h| h.chars().count());
    for r in &rows {
        for (w, cell) in widths.iter_mut().zip(r) {
            *w = (*w).max(cell.chars().count());
        }
    }
    for r in std::iter::once(&header).chain(rows.iter()) {
        let line: Vec<String> = r
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        println!("{}", line.join("  ").trim_end());
    }
    Ok(())
}

async fn approve(
    ctx: &Ctx,
    channel: &str,
    code: &str,
    account: Option<&str>,
    notify: bool,
) -> Result<(), CliError> {
    let approved = store(ctx)
        .approve(channel, code, account, chrono::Utc::now())
        .map_err(|e| CliError::msg(e.to_string()))?
        .ok_or_else(|| {
            CliError::msg(format!(
                "No pending pairing request found for code: {code} (codes expire after an hour; list them with `openclaw pairing list {channel}`)"
            ))
        })?;
    println!("Approved {channel} sender {}.", approved.id);
    if notify && let Err(e) = notify_approved(ctx, channel, &approved).await {
        println!("Failed to notify requester: {e}");
    }
    Ok(())
}

async fn notify_approved(
    ctx: &Ctx,
    channel: &str,
    approved: &openclaw_store::Approved,
) -> Result<(), String> {
    let cfg = ctx.load_config().map_err(|e| e.to_string())?;
    let account = approved.request.account_id();
    match channel {
        "telegram" => openclaw_channels::telegram::send_once(
            &cfg.config,
            &ctx.env,
            &ctx.paths,
            Some(&account),
            &approved.id,
            openclaw_channels::telegram::PAIRING_APPROVED_MESSAGE,
        )
        .await
        .map(|_| ()),
        "discord" => openclaw_channels::discord::send_once(
            &cfg.config,
            &ctx.env,
            Some(&account),
            &format!("user:{}", approved.id),
            openclaw_channels::discord::PAIRING_APPROVED_MESSAGE,
        )
        .await
        .map(|_| ()),
        _ => return Err(format!("openclaw-rs has no {channel} transport yet")),
    }
    .map_err(|e| e.to_string())
}
