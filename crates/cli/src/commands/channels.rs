//! `openclaw channels add|status|remove|login|logout`.
//!
//! `add`/`remove` edit `channels.<id>` in the config (validated, atomic, like `config set`); a
//! running gateway applies the change by itself. `status` asks the gateway (`channels.status`)
//! and falls back to the config when no gateway answers. The gateway runs Telegram (long
//! polling) and Discord (gateway WebSocket); WhatsApp has no transport in this build, which
//! `status`, `add` and `login` say plainly instead of pretending.

use serde_json::{Value, json};

use crate::cli::{ChannelsCmd, ClientArgs};
use crate::context::{Ctx, print_json};
use crate::exit::CliError;

/// What `add` and the config-only `status` say about a channel.
fn transport_note(channel: &str) -> String {
    match channel {
        "telegram" => "the gateway runs it (long polling); a running gateway picks the change up by itself. DM the bot, then approve the sender: openclaw pairing approve telegram <code>".to_string(),
        "discord" => "the gateway runs it (gateway WebSocket; enable Message Content Intent in the Discord Developer Portal); a running gateway picks the change up by itself. DM the bot, then approve the sender: openclaw pairing approve discord <code>. Guild channels answer once listed in channels.discord.guilds".to_string(),
        other => format!(
            "openclaw-rs has no {other} transport yet: the config is stored and validated, but no messages are exchanged"
        ),
    }
}

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
        ChannelsCmd::Status { probe, client } => status(ctx, *probe, client).await,
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
        "Added {channel}{}: {}.",
        account.map(|a| format!(" account {a}")).unwrap_or_default(),
        transport_note(channel)
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

async fn status(ctx: &Ctx, probe: bool, client: &ClientArgs) -> Result<(), CliError> {
    let params = json!({"probe": probe, "timeoutMs": client.timeout});
    match crate::commands::rpc::call_once(ctx, client, "channels.status", params).await {
        Ok(payload) => {
            if client.json {
                print_json(&payload)?;
            } else {
                for line in gateway_lines(&payload) {
                    println!("{line}");
                }
            }
            Ok(())
        }
        Err(e) => {
            eprintln!("Gateway not reachable: {e}");
            config_status(ctx, client.json)
        }
    }
}

fn label(channel: &str) -> &str {
    match channel {
        "telegram" => "Telegram",
        "discord" => "Discord",
        "whatsapp" => "WhatsApp",
        other => other,
    }
}

/// One line per account, like the baseline: `- Telegram default: enabled, configured, running, …`.
fn gateway_lines(payload: &Value) -> Vec<String> {
    let mut lines = vec!["Gateway reachable.".to_string()];
    let order = payload["channelOrder"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for ch in order.iter().filter_map(Value::as_str) {
        let accounts = payload["channelAccounts"][ch]
            .as_array()
            .cloned()
            .unwrap_or_default();
        for a in &accounts {
            let mut bits: Vec<String> = Vec::new();
            let flag = |k: &str, yes: &str, no: &str| {
                a[k].as_bool().map(|b| if b { yes } else { no }.to_string())
            };
            bits.extend(flag("enabled", "enabled", "disabled"));
            bits.extend(flag("configured", "configured", "not configured"));
            bits.extend(flag("running", "running", "stopped"));
            bits.extend(flag("connected", "connected", "disconnected"));
            if let Some(m) = a["mode"].as_str() {
                bits.push(format!("mode:{m}"));
            }
            let bot = a["bot"]["username"]
                .as_str()
                .or(a["probe"]["bot"]["username"].as_str());
            if let Some(b) = bot.filter(|b| !b.is_empty()) {
                bits.push(format!("bot:@{}", b.trim_start_matches('@')));
            }
            if let Some(t) = a["tokenSource"].as_str().filter(|t| *t != "none") {
                bits.push(format!("token:{t}"));
            }
            if let Some(ok) = a["probe"]["ok"].as_bool() {
                bits.push(if ok { "works" } else { "probe failed" }.to_string());
            }
            if let Some(e) = a["lastError"].as_str().filter(|e| !e.is_empty()) {
                bits.push(format!("error:{e}"));
            }
            let id = a["accountId"].as_str().unwrap_or("default");
            lines.push(format!("- {} {id}: {}", label(ch), bits.join(", ")));
        }
    }
    if order.is_empty() {
        lines.push("No channels configured. Add one: openclaw channels add --channel telegram --token <token>".into());
    }
    lines.push(String::new());
    lines.push("Tip: --probe asks each bot's API now (requires a reachable gateway).".into());
    lines
}

/// What the config says, when no gateway answers.
fn config_status(ctx: &Ctx, json_out: bool) -> Result<(), CliError> {
    let cfg = ctx.load_config()?;
    let mut rows = Vec::new();
    if let Some(chs) = cfg.value.pointer("/channels").and_then(Value::as_object) {
        for (id, c) in chs {
            if id == "defaults" {
                continue;
            }
            let enabled = c.get("enabled").and_then(Value::as_bool).unwrap_or(true);
            let mut row = json!({"channel": id, "configured": true, "enabled": enabled, "running": false, "note": transport_note(id)});
            let channels = cfg.config.channels.as_ref();
            if id == "telegram" {
                let tg = channels.and_then(|c| c.telegram.as_ref());
                let accounts =
                    openclaw_channels::telegram::resolve_accounts(tg, &ctx.env, &ctx.paths);
                row["accounts"] = accounts
                    .iter()
                    .map(|a| json!({"accountId": a.account_id, "enabled": a.enabled, "configured": a.configured(), "tokenSource": a.token_source.as_str()}))
                    .collect();
            }
            if id == "discord" {
                let dc = channels.and_then(|c| c.discord.as_ref());
                let accounts = openclaw_channels::discord::resolve_accounts(dc, &ctx.env);
                row["accounts"] = accounts
                    .iter()
                    .map(|a| json!({"accountId": a.account_id, "enabled": a.enabled, "configured": a.configured(), "tokenSource": a.token_source.as_str(), "error": a.config_error}))
                    .collect();
            }
            rows.push(row);
        }
    }
    if json_out {
        print_json(&json!({"gateway": "unreachable", "channels": rows}))?;
        return Ok(());
    }
    println!("Gateway not reachable; showing config-only status.");
    if rows.is_empty() {
        println!(
            "No channels configured. Add one: openclaw channels add --channel telegram --token <token>"
        );
        return Ok(());
    }
    for r in &rows {
        let ch = r["channel"].as_str().unwrap_or("?");
        match r["accounts"].as_array() {
            Some(accts) => {
                for a in accts {
                    let error = a["error"]
                        .as_str()
                        .map(|e| format!(", error:{e}"))
                        .unwrap_or_default();
                    println!(
                        "- {} {}: {}, {}, token:{}{error}",
                        label(ch),
                        a["accountId"].as_str().unwrap_or("default"),
                        if a["enabled"] == true {
                            "enabled"
                        } else {
                            "disabled"
                        },
                        if a["configured"] == true {
                            "configured"
                        } else {
                            "not configured"
                        },
                        a["tokenSource"].as_str().unwrap_or("none"),
                    );
                }
            }
            None => println!(
                "- {} default: {}, {}",
                label(ch),
                if r["enabled"] == true {
                    "enabled"
                } else {
                    "disabled"
                },
                r["note"].as_str().unwrap_or("")
            ),
        }
    }
    println!("Start the gateway (`openclaw gateway`) to run Telegram and Discord.");
    Ok(())
}
