//! `openclaw channels add|status|remove|login|logout`.
//!
//! `add`/`remove` edit `channels.<id>` in the config (validated, atomic, like `config set`).
//! This gateway does not yet run chat-channel transports (Telegram long polling, Discord
//! gateway, WhatsApp Web): `status` says so plainly, and `login` (WhatsApp QR) refuses with
//! that reason instead of pretending.

use serde_json::{Value, json};

use crate::cli::ChannelsCmd;
use crate::context::{Ctx, print_json};
use crate::exit::CliError;

const TRANSPORT_NOTE: &str = "channel transports are not running in this build of openclaw-rs yet: the config is stored and validated, but no messages are exchanged";

pub async fn run(ctx: &Ctx, cmd: &ChannelsCmd) -> Result<(), CliError> {
    match cmd {
        ChannelsCmd::Add {
            channel,
            token,
            use_env,
            account,
            name,
        } => add(
            ctx,
            channel,
            token.as_deref(),
            *use_env,
            account.as_deref(),
            name.as_deref(),
        ),
        ChannelsCmd::Remove {
            channel,
            account,
            delete,
        } => remove(ctx, channel, account.as_deref(), *delete),
        ChannelsCmd::Status { json } => status(ctx, *json),
        ChannelsCmd::Login { channel, .. } => Err(CliError::msg(format!(
            "`channels login` ({}) needs the WhatsApp Web transport, which openclaw-rs does not have yet. Telegram and Discord use bot tokens: openclaw channels add --channel telegram --token <token>",
            channel.as_deref().unwrap_or("whatsapp")
        ))),
        ChannelsCmd::Logout { channel } => {
            remove(ctx, channel.as_deref().unwrap_or("whatsapp"), None, false)
        }
    }
}

fn token_key(channel: &str) -> Result<&'static str, CliError> {
    match channel {
        "telegram" => Ok("botToken"),
        "discord" => Ok("token"),
        other => Err(CliError::msg(format!(
            "unknown channel {other:?}: use telegram or discord (whatsapp links with `channels login`)"
        ))),
    }
}

fn env_var(channel: &str) -> &'static str {
    if channel == "telegram" {
        "TELEGRAM_BOT_TOKEN"
    } else {
        "DISCORD_BOT_TOKEN"
    }
}

fn edit(ctx: &Ctx, f: impl FnOnce(&mut Value) -> Result<(), CliError>) -> Result<(), CliError> {
    let loaded = ctx.load_config()?;
    let mut doc = if loaded.parsed.is_object() {
        loaded.parsed.clone()
    } else {
        json!({})
    };
    f(&mut doc)?;
    openclaw_config::stamp_meta(&mut doc, env!("CARGO_PKG_VERSION"), chrono::Utc::now());
    openclaw_config::edit::check(&doc, &ctx.paths.config_path, &ctx.env)
        .map_err(CliError::Config)?;
    openclaw_config::write_config(&ctx.paths.config_path, &doc).map_err(CliError::Config)?;
    Ok(())
}

fn add(
    ctx: &Ctx,
    channel: &str,
    token: Option<&str>,
    use_env: bool,
    account: Option<&str>,
    name: Option<&str>,
) -> Result<(), CliError> {
    let key = token_key(channel)?;
    let var = env_var(channel);
    if use_env && ctx.env_var(var).is_none() {
        return Err(CliError::msg(format!(
            "--use-env: {var} is not set (in the environment or ~/.openclaw/.env)"
        )));
    }
    if token.is_none() && !use_env {
        return Err(CliError::msg(format!(
            "give --token <token>, or set {var} and pass --use-env"
        )));
    }
    edit(ctx, |doc| {
        let ch = doc
            .as_object_mut()
            .ok_or_else(|| CliError::msg("config root is not an object"))?
            .entry("channels")
            .or_insert_with(|| json!({}))
            .as_object_mut()
            .ok_or_else(|| CliError::msg("channels is not an object"))?
            .entry(channel.to_string())
            .or_insert_with(|| json!({}));
        let target = match account {
            Some(a) => ch.as_object_mut().and_then(|o| {
                o.entry("accounts")
                    .or_insert_with(|| json!({}))
                    .as_object_mut()
                    .map(|acc| acc.entry(a.to_string()).or_insert_with(|| json!({})))
            }),
            None => Some(ch),
        }
        .ok_or_else(|| CliError::msg("channel config has an unexpected shape"))?;
        target["enabled"] = json!(true);
        if let Some(t) = token {
            target[key] = json!(t);
        }
        if let Some(n) = name {
            target["name"] = json!(n);
        }
        Ok(())
    })?;
    println!(
        "Added {channel}{}. {TRANSPORT_NOTE}.",
        account.map(|a| format!(" account {a}")).unwrap_or_default()
    );
    Ok(())
}

fn remove(ctx: &Ctx, channel: &str, account: Option<&str>, delete: bool) -> Result<(), CliError> {
    edit(ctx, |doc| {
        let Some(ch) = doc.pointer_mut(&format!("/channels/{channel}")) else {
            return Err(CliError::msg(format!(
                "channel {channel} is not configured"
            )));
        };
        let target = match account {
            Some(a) => ch
                .pointer_mut(&format!("/accounts/{a}"))
                .ok_or_else(|| CliError::msg(format!("account {a} is not configured")))?,
            None => ch,
        };
        if delete {
            *target = Value::Null;
        } else {
            target["enabled"] = json!(false);
        }
        Ok(())
    })?;
    if delete {
        // Null markers are not valid config: drop them.
        edit(ctx, |doc| {
            if let Some(chs) = doc.pointer_mut("/channels").and_then(Value::as_object_mut) {
                chs.retain(|_, v| !v.is_null());
            }
            Ok(())
        })?;
    }
    println!("{} {channel}.", if delete { "Deleted" } else { "Disabled" });
    Ok(())
}

fn status(ctx: &Ctx, json_out: bool) -> Result<(), CliError> {
    let cfg = ctx.load_config()?;
    let mut rows = Vec::new();
    if let Some(chs) = cfg.value.pointer("/channels").and_then(Value::as_object) {
        for (id, c) in chs {
            let enabled = c.get("enabled").and_then(Value::as_bool).unwrap_or(true);
            rows.push(json!({"channel": id, "configured": true, "enabled": enabled, "running": false, "note": TRANSPORT_NOTE}));
        }
    }
    if json_out {
        print_json(&json!({"channels": rows}))?;
    } else if rows.is_empty() {
        println!(
            "No channels configured. Add one: openclaw channels add --channel telegram --token <token>"
        );
    } else {
        for r in &rows {
            println!(
                "{:<10} configured, {}, not running",
                r["channel"].as_str().unwrap_or("?"),
                if r["enabled"] == true {
                    "enabled"
                } else {
                    "disabled"
                }
            );
        }
        println!("note: {TRANSPORT_NOTE}.");
    }
    Ok(())
}
