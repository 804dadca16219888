//! `channels.status` and the health snapshot's channel part, in the baseline's shape:
//! `channelOrder`/`channelLabels`/`channelDetailLabels`/`channelSystemImages`/`channelMeta`
//! for the configured channels, a summary per channel under `channels`, one snapshot per
//! account under `channelAccounts`, and `channelDefaultAccountId`.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use openclaw_config::OpenClawConfig;
use openclaw_protocol::now_ms;
use serde_json::{Map, Value, json};

use crate::discord::{self, DiscordAccount};
use crate::telegram::{self, BotApi, TelegramAccount};

/// What the payloads are built from: the accounts of the last config, the running transports'
/// live state, and probe results (both keyed by account id).
#[derive(Default)]
pub struct Inputs {
    pub telegram: Vec<TelegramAccount>,
    pub telegram_live: HashMap<String, telegram::AccountStatus>,
    pub telegram_probes: HashMap<String, Value>,
    pub discord: Vec<DiscordAccount>,
    pub discord_live: HashMap<String, discord::AccountStatus>,
    pub discord_probes: HashMap<String, Value>,
}

/// `(id, label, detailLabel, systemImage)` of the channels this build knows.
const META: [(&str, &str, &str, Option<&str>); 3] = [
    ("telegram", "Telegram", "Telegram Bot", Some("paperplane")),
    ("whatsapp", "WhatsApp", "WhatsApp Web", None),
    ("discord", "Discord", "Discord Bot", None),
];

const NO_TRANSPORT: &str = "openclaw-rs has no transport for this channel yet; its config is kept but no messages are exchanged";

/// `getMe` as a probe: `{ok, status, error, elapsedMs, bot}`.
pub async fn probe(api: &BotApi, timeout: Duration) -> Value {
    let started = Instant::now();
    let r = api.get_me(timeout.max(Duration::from_secs(1))).await;
    let elapsed = started.elapsed().as_millis() as u64;
    match r {
        Ok(me) => json!({
            "ok": true, "status": null, "error": null, "elapsedMs": elapsed,
            "bot": {"id": me.id, "username": me.username, "canJoinGroups": me.can_join_groups,
                    "canReadAllGroupMessages": me.can_read_all_group_messages,
                    "supportsInlineQueries": me.supports_inline_queries},
        }),
        Err(e) => {
            let status = match &e {
                crate::telegram::ApiError::Rejected { status, .. } => json!(status),
                _ => Value::Null,
            };
            json!({"ok": false, "status": status, "error": e.to_string(), "elapsedMs": elapsed})
        }
    }
}

fn configured_channels(cfg: &OpenClawConfig) -> Vec<&'static str> {
    let Some(ch) = cfg.channels.as_ref() else {
        return Vec::new();
    };
    META.iter()
        .map(|m| m.0)
        .filter(|id| match *id {
            "telegram" => ch.telegram.is_some(),
            "whatsapp" => ch.whatsapp.is_some(),
            "discord" => ch.discord.is_some(),
            _ => false,
        })
        .collect()
}

fn telegram_snapshot(
    a: &TelegramAccount,
    live: Option<&telegram::AccountStatus>,
    probe: Option<&Value>,
) -> Value {
    let l = live.cloned().unwrap_or_default();
    let allow_unmentioned = a
        .settings
        .groups
        .as_ref()
        .is_some_and(|g| g.values().any(|c| c.require_mention == Some(false)));
    let mut last_error = l.last_error.clone();
    if last_error.is_none() && a.enabled && !a.configured() {
        last_error = a.token_error.clone();
    }
    let mut v = json!({
        "accountId": a.account_id,
        "name": a.name,
        "enabled": a.enabled,
        "configured": a.configured(),
        "tokenSource": a.token_source.as_str(),
        "running": l.running,
        "connected": l.connected,
        "lastStartAt": l.last_start_at,
        "lastStopAt": l.last_stop_at,
        "lastError": last_error,
        "mode": "polling",
        "allowUnmentionedGroups": allow_unmentioned,
        "lastInboundAt": l.last_inbound_at,
        "lastOutboundAt": l.last_outbound_at,
    });
    if let Some(bot) = &l.bot {
        v["bot"] = json!({"id": bot.id, "username": bot.username});
    }
    if let Some(p) = probe {
        v["probe"] = p.clone();
        v["lastProbeAt"] = json!(now_ms());
    }
    v
}

fn discord_snapshot(
    a: &DiscordAccount,
    live: Option<&discord::AccountStatus>,
    probe: Option<&Value>,
) -> Value {
    let l = live.cloned().unwrap_or_default();
    let mut last_error = l.last_error.clone();
    if last_error.is_none() && a.enabled {
        last_error = a.config_error.clone();
    }
    let allow_unmentioned = a.settings.guilds.values().any(|g| {
        g.require_mention == Some(false)
            || g.channels
                .values()
                .any(|c| c.require_mention == Some(false))
    });
    let mut v = json!({
        "accountId": a.account_id,
        "name": a.name,
        "enabled": a.enabled,
        "configured": a.configured(),
        "tokenSource": a.token_source.as_str(),
        "running": l.running,
        "connected": l.connected,
        "lastStartAt": l.last_start_at,
        "lastStopAt": l.last_stop_at,
        "lastError": last_error,
        "lastConnectedAt": l.last_connected_at,
        "reconnects": l.reconnects,
        "allowUnmentionedGroups": allow_unmentioned,
        "lastInboundAt": l.last_inbound_at,
        "lastOutboundAt": l.last_outbound_at,
    });
    if let Some(bot) = &l.bot {
        v["bot"] = json!({"id": bot.id, "username": bot.username});
    }
    if let Some(app) = &l.application_id {
        v["application"] = json!({"id": app});
    }
    if let Some(p) = probe {
        v["probe"] = p.clone();
        v["lastProbeAt"] = json!(now_ms());
    }
    v
}

/// A channel this build has no transport for.
fn other_snapshot(cfg: &OpenClawConfig) -> Value {
    let enabled = cfg
        .channels
        .as_ref()
        .and_then(|c| c.whatsapp.as_ref())
        .is_some_and(|w| w.enabled != Some(false));
    json!({
        "accountId": "default", "enabled": enabled, "configured": false,
        "running": false, "lastStartAt": null, "lastStopAt": null, "lastError": NO_TRANSPORT,
    })
}

fn summary(id: &str, snapshot: &Value) -> Value {
    let pick = |k: &str| snapshot.get(k).cloned().unwrap_or(Value::Null);
    let mut s = json!({
        "configured": snapshot.get("configured").cloned().unwrap_or(json!(false)),
        "running": snapshot.get("running").cloned().unwrap_or(json!(false)),
        "lastStartAt": pick("lastStartAt"),
        "lastStopAt": pick("lastStopAt"),
        "lastError": pick("lastError"),
    });
    if id == "telegram" || id == "discord" {
        s["tokenSource"] = snapshot
            .get("tokenSource")
            .cloned()
            .unwrap_or(json!("none"));
        if id == "telegram" {
            s["mode"] = pick("mode");
        }
        s["probe"] = pick("probe");
        s["lastProbeAt"] = pick("lastProbeAt");
    }
    s
}

fn accounts_by_channel(cfg: &OpenClawConfig, inputs: &Inputs) -> Vec<(&'static str, Vec<Value>)> {
    configured_channels(cfg)
        .into_iter()
        .map(|id| {
            let snaps = match id {
                "telegram" => inputs
                    .telegram
                    .iter()
                    .map(|a| {
                        telegram_snapshot(
                            a,
                            inputs.telegram_live.get(&a.account_id),
                            inputs.telegram_probes.get(&a.account_id),
                        )
                    })
                    .collect(),
                "discord" => inputs
                    .discord
                    .iter()
                    .map(|a| {
                        discord_snapshot(
                            a,
                            inputs.discord_live.get(&a.account_id),
                            inputs.discord_probes.get(&a.account_id),
                        )
                    })
                    .collect(),
                _ => vec![other_snapshot(cfg)],
            };
            (id, snaps)
        })
        .collect()
}

/// The `channels.status` payload.
pub fn channels_status(cfg: &OpenClawConfig, inputs: &Inputs) -> Value {
    let per = accounts_by_channel(cfg, inputs);
    let mut order = Vec::new();
    let mut labels = Map::new();
    let mut details = Map::new();
    let mut images = Map::new();
    let mut meta = Vec::new();
    let mut channels = Map::new();
    let mut accounts = Map::new();
    let mut defaults = Map::new();
    for (id, snaps) in per {
        let Some((_, label, detail, image)) = META.iter().find(|m| m.0 == id) else {
            continue;
        };
        order.push(json!(id));
        labels.insert(id.into(), json!(label));
        details.insert(id.into(), json!(detail));
        let mut m = json!({"id": id, "label": label, "detailLabel": detail});
        if let Some(img) = image {
            images.insert(id.into(), json!(img));
            m["systemImage"] = json!(img);
        }
        meta.push(m);
        let default = snaps
            .iter()
            .find(|s| s["accountId"] == "default")
            .or(snaps.first())
            .cloned()
            .unwrap_or_else(|| json!({"accountId": "default"}));
        channels.insert(id.into(), summary(id, &default));
        defaults.insert(id.into(), default["accountId"].clone());
        accounts.insert(id.into(), Value::Array(snaps));
    }
    json!({
        "ts": now_ms(),
        "channelOrder": order,
        "channelLabels": labels,
        "channelDetailLabels": details,
        "channelSystemImages": images,
        "channelMeta": meta,
        "channels": channels,
        "channelAccounts": accounts,
        "channelDefaultAccountId": defaults,
    })
}

/// `{channels, channelOrder, channelLabels}` of the health snapshot.
pub fn health(cfg: &OpenClawConfig, inputs: &Inputs) -> Value {
    let full = channels_status(cfg, inputs);
    json!({
        "channels": full["channels"],
        "channelOrder": full["channelOrder"],
        "channelLabels": full["channelLabels"],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn empty_config_matches_the_recorded_frame() {
        let v = channels_status(&OpenClawConfig::default(), &Inputs::default());
        let mut v = v;
        v["ts"] = json!(0);
        assert_eq!(
            v,
            json!({"ts": 0, "channelOrder": [], "channelLabels": {}, "channelDetailLabels": {},
                   "channelSystemImages": {}, "channelMeta": [], "channels": {},
                   "channelAccounts": {}, "channelDefaultAccountId": {}})
        );
    }
}
