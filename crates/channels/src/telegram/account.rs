//! Telegram accounts as the transport runs them: `channels.telegram` merged with
//! `channels.telegram.accounts.<id>` (account keys win), defaults applied, token resolved.
//!
//! Token order (the baseline's): the account's `tokenFile`, then its `botToken`; for the default
//! account only, then the channel-level `tokenFile`/`botToken` and finally `TELEGRAM_BOT_TOKEN`.
//! A named account never falls back to the channel's token: that would be the same bot twice.

use std::collections::BTreeMap;

use openclaw_config::schema::{ChunkMode, DmPolicy, GroupPolicy, StringOrNumber, TelegramConfig};
use openclaw_config::{EnvMap, Paths, Secret};
use openclaw_store::session_key::{DEFAULT_ACCOUNT_ID, normalize_account_id};
use serde::Deserialize;
use serde_json::Value;

use super::format::DEFAULT_TEXT_CHUNK_LIMIT;

/// Env fallback of the default account's token.
pub const TOKEN_ENV: &str = "TELEGRAM_BOT_TOKEN";
/// Unmentioned group messages kept as context, per group.
pub const DEFAULT_HISTORY_LIMIT: usize = 50;
/// Default `mediaMaxMb`: largest inbound file downloaded, in MB.
pub const DEFAULT_MEDIA_MAX_MB: f64 = 100.0;

/// Where the token came from (`tokenSource` in `channels.status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenSource {
    Config,
    TokenFile,
    Env,
    None,
}

impl TokenSource {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenSource::Config => "config",
            TokenSource::TokenFile => "tokenFile",
            TokenSource::Env => "env",
            TokenSource::None => "none",
        }
    }
}

/// Per-topic settings of a forum group (`groups.<id>.topics.<threadId>`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TopicConfig {
    pub enabled: Option<bool>,
    pub require_mention: Option<bool>,
    pub allow_from: Option<Vec<StringOrNumber>>,
    pub group_policy: Option<GroupPolicy>,
    pub system_prompt: Option<String>,
    /// Route this topic to another agent.
    pub agent_id: Option<String>,
}

/// Per-group settings (`groups.<chatId>` or `groups["*"]`). Keys this adapter does not use
/// (`skills`, `tools`, …) are ignored here; the config schema already checked the file.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupConfig {
    pub enabled: Option<bool>,
    pub require_mention: Option<bool>,
    pub allow_from: Option<Vec<StringOrNumber>>,
    pub group_policy: Option<GroupPolicy>,
    pub system_prompt: Option<String>,
    #[serde(default)]
    pub topics: BTreeMap<String, TopicConfig>,
}

/// The resolved settings access control and delivery read.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountSettings {
    pub dm_policy: DmPolicy,
    /// Config `allowFrom` as written (normalization is the access module's).
    pub allow_from: Option<Vec<String>>,
    pub group_policy: GroupPolicy,
    pub group_allow_from: Option<Vec<String>>,
    /// `None` when `groups` is absent or empty (no chat allowlist).
    pub groups: Option<BTreeMap<String, GroupConfig>>,
    pub text_chunk_limit: usize,
    pub chunk_mode: ChunkMode,
    pub link_preview: bool,
    pub history_limit: usize,
    /// `errorPolicy: "silent"` keeps run errors out of the chat.
    pub silent_errors: bool,
    /// `mediaMaxMb` in bytes: inbound files above it are refused.
    pub media_max_bytes: u64,
}

impl Default for AccountSettings {
    fn default() -> Self {
        AccountSettings {
            dm_policy: DmPolicy::Pairing,
            allow_from: None,
            group_policy: GroupPolicy::Allowlist,
            group_allow_from: None,
            groups: None,
            text_chunk_limit: DEFAULT_TEXT_CHUNK_LIMIT,
            chunk_mode: ChunkMode::Length,
            link_preview: true,
            history_limit: DEFAULT_HISTORY_LIMIT,
            silent_errors: false,
            media_max_bytes: mb_to_bytes(DEFAULT_MEDIA_MAX_MB),
        }
    }
}

/// One bot account.
#[derive(Debug, Clone, PartialEq)]
pub struct TelegramAccount {
    pub account_id: String,
    pub name: Option<String>,
    pub enabled: bool,
    pub token: Option<Secret>,
    pub token_source: TokenSource,
    /// Why the configured token could not be read (an unreadable `tokenFile`).
    pub token_error: Option<String>,
    /// `webhookUrl` is set: the baseline would run a webhook; this build polls regardless.
    pub webhook_url: Option<String>,
    pub proxy: Option<String>,
    pub settings: AccountSettings,
}

impl TelegramAccount {
    pub fn configured(&self) -> bool {
        self.token.is_some()
    }
}

/// Every account of `channels.telegram`, default first. `None` config → no accounts.
pub fn resolve_accounts(
    cfg: Option<&TelegramConfig>,
    env: &EnvMap,
    paths: &Paths,
) -> Vec<TelegramAccount> {
    let Some(cfg) = cfg else { return Vec::new() };
    let named = cfg.accounts.clone().unwrap_or_default();
    let mut ids: Vec<String> = Vec::new();
    let has_base_token = cfg.bot_token.is_some() || cfg.token_file.is_some();
    if named.is_empty() || has_base_token || named.keys().any(|k| is_default(k)) {
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
                .map(|(_, v)| v);
            resolve_one(&id, cfg, acct, env, paths)
        })
        .collect()
}

fn is_default(id: &str) -> bool {
    normalize_account_id(id) == DEFAULT_ACCOUNT_ID
}

fn resolve_one(
    id: &str,
    base: &TelegramConfig,
    acct: Option<&TelegramConfig>,
    env: &EnvMap,
    paths: &Paths,
) -> TelegramAccount {
    // Account keys override channel keys.
    macro_rules! pick {
        ($f:ident) => {
            acct.and_then(|a| a.$f.clone()).or_else(|| base.$f.clone())
        };
    }
    let is_default = id == DEFAULT_ACCOUNT_ID;
    let mut token = None;
    let mut token_source = TokenSource::None;
    let mut token_error = None;
    let mut candidates: Vec<(&TelegramConfig, &'static str)> = Vec::new();
    if let Some(a) = acct {
        candidates.push((a, "account"));
    }
    if is_default {
        candidates.push((base, "channel"));
    }
    'found: for (c, _) in candidates {
        if let Some(file) = c.token_file.as_deref().filter(|f| !f.trim().is_empty()) {
            let path = paths.expand(file.trim());
            match std::fs::read_to_string(&path) {
                Ok(t) if !t.trim().is_empty() => {
                    token = Some(Secret::new(t.trim()));
                    token_source = TokenSource::TokenFile;
                    break 'found;
                }
                Ok(_) => token_error = Some(format!("tokenFile {} is empty", path.display())),
                Err(e) => {
                    token_error = Some(format!("cannot read tokenFile {}: {e}", path.display()))
                }
            }
        }
        if let Some(input) = &c.bot_token {
            match openclaw_config::resolve::resolve_secret(
                Some(input),
                env,
                "channels.telegram.botToken",
            ) {
                Ok(Some(s)) => {
                    token = Some(s);
                    token_source = TokenSource::Config;
                    break 'found;
                }
                Ok(None) => {}
                Err(e) => token_error = Some(e.to_string()),
            }
        }
    }
    if token.is_none()
        && is_default
        && let Some(v) = env
            .get(TOKEN_ENV)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    {
        token = Some(Secret::new(v));
        token_source = TokenSource::Env;
        token_error = None;
    }
    if token.is_some() {
        token_error = None;
    }
    let groups: Option<BTreeMap<String, GroupConfig>> =
        pick!(groups).filter(|g| !g.is_empty()).map(|g| {
            g.into_iter()
                .map(|(k, v)| (k.trim().to_string(), parse_group(&v)))
                .collect()
        });
    let settings = AccountSettings {
        dm_policy: pick!(dm_policy).unwrap_or(DmPolicy::Pairing),
        allow_from: pick!(allow_from).map(texts),
        group_policy: pick!(group_policy).unwrap_or(GroupPolicy::Allowlist),
        group_allow_from: pick!(group_allow_from).map(texts),
        groups,
        text_chunk_limit: pick!(text_chunk_limit)
            .map(|n| (n as usize).clamp(1, 4096))
            .unwrap_or(DEFAULT_TEXT_CHUNK_LIMIT),
        chunk_mode: pick!(chunk_mode).unwrap_or(ChunkMode::Length),
        link_preview: pick!(link_preview).unwrap_or(true),
        history_limit: pick!(history_limit)
            .map(|n| n as usize)
            .unwrap_or(DEFAULT_HISTORY_LIMIT),
        silent_errors: pick!(error_policy).is_some_and(|p| p.eq_ignore_ascii_case("silent")),
        media_max_bytes: mb_to_bytes(
            pick!(media_max_mb)
                .filter(|mb| mb.is_finite() && *mb > 0.0)
                .unwrap_or(DEFAULT_MEDIA_MAX_MB),
        ),
    };
    let enabled = base.enabled != Some(false) && acct.is_none_or(|a| a.enabled != Some(false));
    TelegramAccount {
        account_id: id.to_string(),
        name: acct
            .and_then(|a| a.name.clone())
            .or_else(|| if is_default { base.name.clone() } else { None }),
        enabled,
        token,
        token_source,
        token_error,
        webhook_url: pick!(webhook_url).filter(|u| !u.trim().is_empty()),
        proxy: pick!(proxy).filter(|p| !p.trim().is_empty()),
        settings,
    }
}

fn mb_to_bytes(mb: f64) -> u64 {
    (mb * 1024.0 * 1024.0) as u64
}

fn texts(list: Vec<StringOrNumber>) -> Vec<String> {
    list.iter().map(StringOrNumber::to_text).collect()
}

fn parse_group(v: &Value) -> GroupConfig {
    match serde_json::from_value::<GroupConfig>(v.clone()) {
        Ok(g) => g,
        Err(e) => {
            tracing::warn!(error = %e, "telegram: ignoring unreadable group settings");
            GroupConfig::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn load(text: &str, env: &EnvMap) -> (tempfile::TempDir, Vec<TelegramAccount>) {
        let dir = tempfile::tempdir().unwrap();
        let mut penv = EnvMap::new();
        penv.insert("HOME".into(), dir.path().display().to_string());
        let paths = Paths::from_env(&penv).unwrap();
        let loaded = openclaw_config::parse_str(text, &paths.config_path, env).unwrap();
        let tg = loaded
            .config
            .channels
            .as_ref()
            .and_then(|c| c.telegram.as_ref());
        let accounts = resolve_accounts(tg, env, &paths);
        (dir, accounts)
    }

    #[test]
    fn defaults_and_config_token() {
        let (_d, a) = load(
            r#"{ channels: { telegram: { botToken: "1:abc" } } }"#,
            &EnvMap::new(),
        );
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].account_id, "default");
        assert_eq!(a[0].token_source, TokenSource::Config);
        assert_eq!(a[0].token.as_ref().unwrap().expose(), "1:abc");
        assert_eq!(a[0].settings, AccountSettings::default());
        assert!(a[0].enabled);
    }

    #[test]
    fn env_token_only_for_the_default_account() {
        let mut env = EnvMap::new();
        env.insert(TOKEN_ENV.into(), "9:env".into());
        let (_d, a) = load(
            r#"{ channels: { telegram: { dmPolicy: "allowlist", allowFrom: [1, "tg:2"],
                  accounts: { default: {}, work: { enabled: false, allowFrom: ["3"] } } } } }"#,
            &env,
        );
        assert_eq!(a.len(), 2);
        assert_eq!(a[0].token_source, TokenSource::Env);
        assert_eq!(a[0].settings.dm_policy, DmPolicy::Allowlist);
        assert_eq!(
            a[0].settings.allow_from,
            Some(vec!["1".to_string(), "tg:2".to_string()])
        );
        assert_eq!(a[1].account_id, "work");
        assert_eq!(a[1].token_source, TokenSource::None);
        assert!(!a[1].enabled);
        assert_eq!(a[1].settings.allow_from, Some(vec!["3".to_string()]));
        assert_eq!(a[1].settings.dm_policy, DmPolicy::Allowlist);
    }

    #[test]
    fn token_file_and_groups() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("tok");
        std::fs::write(&file, "5:file\n").unwrap();
        let (_d, a) = load(
            &format!(
                r#"{{ channels: {{ telegram: {{ tokenFile: "{}", textChunkLimit: 100,
                      groups: {{ "*": {{ requireMention: false }}, "-100": {{ topics: {{ "7": {{ agentId: "ops" }} }} }} }} }} }} }}"#,
                file.display()
            ),
            &EnvMap::new(),
        );
        assert_eq!(a[0].token_source, TokenSource::TokenFile);
        assert_eq!(a[0].token.as_ref().unwrap().expose(), "5:file");
        assert_eq!(a[0].settings.text_chunk_limit, 100);
        let groups = a[0].settings.groups.as_ref().unwrap();
        assert_eq!(groups["*"].require_mention, Some(false));
        assert_eq!(groups["-100"].topics["7"].agent_id.as_deref(), Some("ops"));
    }

    #[test]
    fn unreadable_token_file_is_reported_not_fatal() {
        let (_d, a) = load(
            r#"{ channels: { telegram: { tokenFile: "/nonexistent/openclaw-token" } } }"#,
            &EnvMap::new(),
        );
        assert!(!a[0].configured());
        assert!(
            a[0].token_error
                .as_deref()
                .unwrap()
                .contains("cannot read tokenFile")
        );
    }
}
