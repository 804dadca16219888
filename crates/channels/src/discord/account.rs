//! Discord accounts as the transport runs them: `channels.discord` merged with
//! `channels.discord.accounts.<id>` (account keys win), defaults applied, token resolved.
//!
//! Token order (the baseline's): the account's `token`; for the default account only, then the
//! channel-level `token` and finally `DISCORD_BOT_TOKEN`. A leading `Bot ` is dropped (people
//! paste the header value). A named account never falls back to the channel's token.
//!
//! `dm`, `guilds`, `allowBots` and `intents` are free-form in the config schema; they are read
//! here, leniently about unknown keys (newer OpenClaw versions add some) but strictly about the
//! types of the keys this adapter uses: a wrong type is a `config_error` naming the key path,
//! and the account does not start until it is fixed (fail closed).

use std::collections::BTreeMap;

use openclaw_config::schema::StringOrNumber;
use openclaw_config::schema::{ChunkMode, DiscordConfig, DmPolicy, GroupPolicy, ReplyToMode};
use openclaw_config::{EnvMap, Secret};
use openclaw_store::session_key::{DEFAULT_ACCOUNT_ID, normalize_account_id};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::chunk::{DEFAULT_MAX_LINES, DISCORD_MAX_CHARS};
use super::types::intent;

/// Env fallback of the default account's token.
pub const TOKEN_ENV: &str = "DISCORD_BOT_TOKEN";
/// Unmentioned guild messages kept as context, per channel.
pub const DEFAULT_HISTORY_LIMIT: usize = 20;

pub use crate::telegram::TokenSource;

/// `guilds.<id>.channels.<id|slug|"*">`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChannelConfig {
    /// `false` keeps the bot out of this channel.
    pub allow: Option<bool>,
    pub enabled: Option<bool>,
    pub require_mention: Option<bool>,
    pub ignore_other_mentions: Option<bool>,
    pub users: Option<Vec<StringOrNumber>>,
    pub roles: Option<Vec<StringOrNumber>>,
    pub system_prompt: Option<String>,
}

/// `guilds.<id|slug|"*">`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GuildConfig {
    pub slug: Option<String>,
    pub require_mention: Option<bool>,
    pub ignore_other_mentions: Option<bool>,
    pub users: Option<Vec<StringOrNumber>>,
    pub roles: Option<Vec<StringOrNumber>>,
    /// When non-empty, an allowlist: unlisted channels are denied.
    #[serde(default)]
    pub channels: BTreeMap<String, ChannelConfig>,
}

/// `dm` (the legacy home of the DM settings).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DmConfig {
    pub enabled: Option<bool>,
    pub policy: Option<DmPolicy>,
    pub allow_from: Option<Vec<StringOrNumber>>,
    pub group_enabled: Option<bool>,
    pub group_channels: Option<Vec<StringOrNumber>>,
}

/// `intents`: the optional privileged intents.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IntentsConfig {
    pub presence: Option<bool>,
    pub guild_members: Option<bool>,
    /// `false` connects without the Message Content intent (mention-only bots).
    pub message_content: Option<bool>,
}

impl IntentsConfig {
    /// GUILDS, GUILD_MESSAGES, DIRECT_MESSAGES and MESSAGE_CONTENT, plus what is asked for.
    pub fn bits(&self) -> u64 {
        let mut bits = intent::GUILDS | intent::GUILD_MESSAGES | intent::DIRECT_MESSAGES;
        if self.message_content != Some(false) {
            bits |= intent::MESSAGE_CONTENT;
        }
        if self.guild_members == Some(true) {
            bits |= intent::GUILD_MEMBERS;
        }
        if self.presence == Some(true) {
            bits |= intent::GUILD_PRESENCES;
        }
        bits
    }
}

/// `allowBots`: other bots' messages are ignored unless this says otherwise.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum AllowBots {
    #[default]
    No,
    Yes,
    /// Only bot messages that mention this bot.
    Mentions,
}

/// The resolved settings access control and delivery read.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountSettings {
    /// `dm.enabled: false` ignores every DM.
    pub dm_enabled: bool,
    pub dm_policy: DmPolicy,
    /// `allowFrom` (or `dm.allowFrom`) as written; the access module normalizes.
    pub allow_from: Vec<String>,
    pub group_policy: GroupPolicy,
    pub guilds: BTreeMap<String, GuildConfig>,
    pub allow_bots: AllowBots,
    /// `dangerouslyAllowNameMatching`: allowlists may match user names, not only ids.
    pub name_matching: bool,
    pub text_chunk_limit: usize,
    pub max_lines_per_message: usize,
    pub chunk_mode: ChunkMode,
    pub history_limit: usize,
    pub reply_to_mode: ReplyToMode,
}

impl Default for AccountSettings {
    fn default() -> Self {
        AccountSettings {
            dm_enabled: true,
            dm_policy: DmPolicy::Pairing,
            allow_from: Vec::new(),
            group_policy: GroupPolicy::Allowlist,
            guilds: BTreeMap::new(),
            allow_bots: AllowBots::No,
            name_matching: false,
            text_chunk_limit: DISCORD_MAX_CHARS,
            max_lines_per_message: DEFAULT_MAX_LINES,
            chunk_mode: ChunkMode::Length,
            history_limit: DEFAULT_HISTORY_LIMIT,
            reply_to_mode: ReplyToMode::Off,
        }
    }
}

/// One bot account.
#[derive(Debug, Clone, PartialEq)]
pub struct DiscordAccount {
    pub account_id: String,
    pub name: Option<String>,
    pub enabled: bool,
    pub token: Option<Secret>,
    pub token_source: TokenSource,
    /// Why the account cannot run: an unresolvable token or a bad setting (names the key).
    pub config_error: Option<String>,
    pub proxy: Option<String>,
    pub intents: u64,
    pub settings: AccountSettings,
}

impl DiscordAccount {
    pub fn configured(&self) -> bool {
        self.token.is_some()
    }

    /// Has a token and no config error.
    pub fn runnable(&self) -> bool {
        self.enabled && self.token.is_some() && self.config_error.is_none()
    }
}

/// Every account of `channels.discord`, default first. `None` config → no accounts.
pub fn resolve_accounts(cfg: Option<&DiscordConfig>, env: &EnvMap) -> Vec<DiscordAccount> {
    let Some(cfg) = cfg else { return Vec::new() };
    let named = cfg.accounts.clone().unwrap_or_default();
    let mut ids: Vec<String> = Vec::new();
    if named.is_empty() || cfg.token.is_some() || named.keys().any(|k| is_default(k)) {
        ids.push(DEFAULT_ACCOUNT_ID.to_string());
    }
    for k in named.keys() {
        let id = normalize_account_id(k);
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    ids.into_iter()
        .map(|id| {
            let acct = named
                .iter()
                .find(|(k, _)| normalize_account_id(k) == id)
                .map(|(k, v)| (k.as_str(), v));
            resolve_one(&id, cfg, acct, env)
        })
        .collect()
}

fn is_default(id: &str) -> bool {
    normalize_account_id(id) == DEFAULT_ACCOUNT_ID
}

/// `Bot abc` → `abc`.
fn normalize_token(raw: &str) -> Option<Secret> {
    let t = raw.trim();
    let t = match t.get(..4) {
        Some(p) if p.eq_ignore_ascii_case("bot ") => t[4..].trim(),
        _ => t,
    };
    (!t.is_empty()).then(|| Secret::new(t))
}

/// Decode a free-form value, naming the key path of a bad field.
fn typed<T: DeserializeOwned>(v: &Value, key: &str) -> Result<T, String> {
    serde_path_to_error::deserialize(v.clone()).map_err(|e| {
        let at = e.path().to_string();
        let at = if at == "." || at.is_empty() {
            key.to_string()
        } else {
            format!("{key}.{at}")
        };
        format!("{at}: {}", e.inner())
    })
}

fn resolve_one(
    id: &str,
    base: &DiscordConfig,
    acct: Option<(&str, &DiscordConfig)>,
    env: &EnvMap,
) -> DiscordAccount {
    let prefix = match acct {
        Some((k, _)) if id != DEFAULT_ACCOUNT_ID || base.accounts.is_some() => {
            format!("channels.discord.accounts.{k}")
        }
        _ => "channels.discord".to_string(),
    };
    let acct = acct.map(|(_, a)| a);
    // Account keys override channel keys; the key path names where the value came from.
    macro_rules! pick {
        ($f:ident, $key:literal) => {
            match acct.and_then(|a| a.$f.clone()) {
                Some(v) => Some((v, format!("{prefix}.{}", $key))),
                None => base
                    .$f
                    .clone()
                    .map(|v| (v, format!("channels.discord.{}", $key))),
            }
        };
        ($f:ident) => {
            acct.and_then(|a| a.$f.clone()).or_else(|| base.$f.clone())
        };
    }
    let is_default = id == DEFAULT_ACCOUNT_ID;
    let mut errors: Vec<String> = Vec::new();
    let mut token = None;
    let mut token_source = TokenSource::None;
    let mut candidates: Vec<(&DiscordConfig, String)> = Vec::new();
    if let Some(a) = acct {
        candidates.push((a, format!("{prefix}.token")));
    }
    if is_default {
        candidates.push((base, "channels.discord.token".to_string()));
    }
    for (c, key) in candidates {
        let Some(input) = &c.token else { continue };
        match openclaw_config::resolve::resolve_secret(Some(input), env, &key) {
            Ok(Some(s)) => {
                token = normalize_token(s.expose());
                if token.is_some() {
                    token_source = TokenSource::Config;
                    break;
                }
            }
            Ok(None) => {}
            Err(e) => errors.push(e.to_string()),
        }
    }
    if token.is_none()
        && is_default
        && let Some(t) = env.get(TOKEN_ENV).and_then(|v| normalize_token(v))
    {
        token = Some(t);
        token_source = TokenSource::Env;
        errors.clear();
    }
    let dm: DmConfig = pick!(dm, "dm")
        .map(|(v, k)| {
            typed(&v, &k).unwrap_or_else(|e| {
                errors.push(e);
                DmConfig::default()
            })
        })
        .unwrap_or_default();
    let guilds: BTreeMap<String, GuildConfig> = pick!(guilds, "guilds")
        .map(|(v, k)| {
            typed::<BTreeMap<String, GuildConfig>>(&v, &k).unwrap_or_else(|e| {
                errors.push(e);
                BTreeMap::new()
            })
        })
        .unwrap_or_default()
        .into_iter()
        .map(|(k, g)| (k.trim().to_string(), g))
        .collect();
    let intents: IntentsConfig = pick!(intents, "intents")
        .map(|(v, k)| {
            typed(&v, &k).unwrap_or_else(|e| {
                errors.push(e);
                IntentsConfig::default()
            })
        })
        .unwrap_or_default();
    let allow_bots = match pick!(allow_bots, "allowBots") {
        None | Some((Value::Bool(false), _)) => AllowBots::No,
        Some((Value::Bool(true), _)) => AllowBots::Yes,
        Some((Value::String(s), _)) if s.trim().eq_ignore_ascii_case("mentions") => {
            AllowBots::Mentions
        }
        Some((other, k)) => {
            errors.push(format!(
                "{k}: expected true, false or \"mentions\", found {other}"
            ));
            AllowBots::No
        }
    };
    let dm_policy = pick!(dm_policy).or(dm.policy).unwrap_or(DmPolicy::Pairing);
    let allow_from: Vec<String> = pick!(allow_from)
        .or_else(|| dm.allow_from.clone())
        .map(|l| l.iter().map(StringOrNumber::to_text).collect())
        .unwrap_or_default();
    if dm_policy == DmPolicy::Open && !allow_from.iter().any(|e| e.trim() == "*") {
        errors.push(format!(
            "{prefix}.dmPolicy (or dm.policy) \"open\" requires allowFrom to include \"*\": add allowFrom: [\"*\"], or use \"pairing\""
        ));
    }
    let settings = AccountSettings {
        dm_enabled: dm.enabled != Some(false),
        dm_policy,
        allow_from,
        group_policy: pick!(group_policy).unwrap_or(GroupPolicy::Allowlist),
        guilds,
        allow_bots,
        name_matching: pick!(dangerously_allow_name_matching).unwrap_or(false),
        text_chunk_limit: pick!(text_chunk_limit)
            .map(|n| (n as usize).clamp(1, DISCORD_MAX_CHARS))
            .unwrap_or(DISCORD_MAX_CHARS),
        max_lines_per_message: pick!(max_lines_per_message)
            .map(|n| (n as usize).max(1))
            .unwrap_or(DEFAULT_MAX_LINES),
        chunk_mode: pick!(chunk_mode).unwrap_or(ChunkMode::Length),
        history_limit: pick!(history_limit)
            .map(|n| n as usize)
            .unwrap_or(DEFAULT_HISTORY_LIMIT),
        reply_to_mode: pick!(reply_to_mode).unwrap_or(ReplyToMode::Off),
    };
    let enabled = base.enabled != Some(false) && acct.is_none_or(|a| a.enabled != Some(false));
    DiscordAccount {
        account_id: id.to_string(),
        name: acct
            .and_then(|a| a.name.clone())
            .or_else(|| if is_default { base.name.clone() } else { None }),
        enabled,
        token,
        token_source,
        config_error: (!errors.is_empty()).then(|| errors.join("; ")),
        proxy: pick!(proxy).filter(|p| !p.trim().is_empty()),
        intents: intents.bits(),
        settings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn load(text: &str, env: &EnvMap) -> Vec<DiscordAccount> {
        let loaded =
            openclaw_config::parse_str(text, std::path::Path::new("/x/openclaw.json"), env)
                .unwrap();
        let dc = loaded
            .config
            .channels
            .as_ref()
            .and_then(|c| c.discord.as_ref());
        resolve_accounts(dc, env)
    }

    #[test]
    fn defaults_and_config_token() {
        let a = load(
            r#"{ channels: { discord: { token: "Bot abc.def" } } }"#,
            &EnvMap::new(),
        );
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].account_id, "default");
        assert_eq!(a[0].token_source, TokenSource::Config);
        assert_eq!(a[0].token.as_ref().unwrap().expose(), "abc.def");
        assert_eq!(a[0].settings, AccountSettings::default());
        assert_eq!(a[0].intents, 1 | (1 << 9) | (1 << 12) | (1 << 15));
        assert!(a[0].runnable());
    }

    #[test]
    fn env_token_only_for_the_default_account_and_legacy_dm_keys() {
        let mut env = EnvMap::new();
        env.insert(TOKEN_ENV.into(), "env.token".into());
        let a = load(
            r#"{ channels: { discord: {
                  dm: { policy: "allowlist", allowFrom: ["user:1", 2] },
                  intents: { guildMembers: true },
                  accounts: { default: {}, work: { enabled: false, dmPolicy: "open", allowFrom: ["*"] } } } } }"#,
            &env,
        );
        assert_eq!(a.len(), 2);
        assert_eq!(a[0].token_source, TokenSource::Env);
        assert_eq!(a[0].settings.dm_policy, DmPolicy::Allowlist);
        assert_eq!(a[0].settings.allow_from, vec!["user:1", "2"]);
        assert_ne!(a[0].intents & intent::GUILD_MEMBERS, 0);
        assert_eq!(a[1].account_id, "work");
        assert_eq!(a[1].token_source, TokenSource::None);
        assert!(!a[1].enabled);
        assert_eq!(a[1].settings.dm_policy, DmPolicy::Open);
    }

    #[test]
    fn guilds_and_limits() {
        let a = load(
            r#"{ channels: { discord: { token: "t", textChunkLimit: 5000, maxLinesPerMessage: 40, allowBots: "mentions",
                  guilds: { "123": { requireMention: false, users: ["<@9>"], futureKey: 1,
                    channels: { general: { allow: true }, "456": { requireMention: true, systemPrompt: "short" } } } } } } }"#,
            &EnvMap::new(),
        );
        let s = &a[0].settings;
        assert_eq!(s.text_chunk_limit, 2000, "Discord's hard limit caps it");
        assert_eq!(s.max_lines_per_message, 40);
        assert_eq!(s.allow_bots, AllowBots::Mentions);
        let g = &s.guilds["123"];
        assert_eq!(g.require_mention, Some(false));
        assert_eq!(g.channels["456"].system_prompt.as_deref(), Some("short"));
        assert_eq!(g.channels["general"].allow, Some(true));
        assert!(a[0].config_error.is_none());
    }

    #[test]
    fn bad_settings_name_the_key_and_stop_the_account() {
        let a = load(
            r#"{ channels: { discord: { token: "t", guilds: { "1": { requireMention: "yes" } } } } }"#,
            &EnvMap::new(),
        );
        let e = a[0].config_error.as_deref().unwrap();
        assert!(
            e.starts_with("channels.discord.guilds.1.requireMention:"),
            "{e}"
        );
        assert!(!a[0].runnable());
        let a = load(
            r#"{ channels: { discord: { token: "t", dm: { policy: "open" } } } }"#,
            &EnvMap::new(),
        );
        assert!(
            a[0].config_error.as_deref().unwrap().contains("allowFrom"),
            "{:?}",
            a[0].config_error
        );
    }
}
