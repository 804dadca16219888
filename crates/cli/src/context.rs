//! What every command needs, resolved once: the environment (process env over
//! `~/.openclaw/.env`), the paths, and the config when a command asks for it.

use std::time::Duration;

use anyhow::Context as _;
use openclaw_config::{EnvMap, LoadedConfig, Paths};
use openclaw_protocol::ConnectAuth;
use serde_json::Value;

use crate::cli::ClientArgs;
use crate::client::ConnectOptions;
use crate::exit::CliError;

pub struct Ctx {
    pub env: EnvMap,
    pub paths: Paths,
}

impl Ctx {
    pub fn from_process(profile: Option<&str>) -> Result<Self, CliError> {
        let mut process = openclaw_config::env::process_env();
        if let Some(p) = profile {
            process.insert("OPENCLAW_PROFILE".into(), p.to_string());
        }
        let paths = Paths::from_env(&process).map_err(CliError::Config)?;
        let dotenv = match openclaw_config::load_dotenv(&paths.dotenv_path()) {
            Ok(d) => d,
            Err(e) => return Err(CliError::Config(e)),
        };
        let env = openclaw_config::merge_env(&process, dotenv);
        Ok(Self { env, paths })
    }

    /// Load and validate the config (defaults when the file does not exist).
    pub fn load_config(&self) -> Result<LoadedConfig, CliError> {
        openclaw_config::load(&self.paths, &self.env).map_err(CliError::Config)
    }

    /// Like `load_config`, but a broken config is not fatal (diagnostic commands).
    pub fn try_config_value(&self) -> Value {
        self.load_config().map(|c| c.value).unwrap_or(Value::Null)
    }

    pub fn env_var(&self, key: &str) -> Option<String> {
        self.env.get(key).filter(|v| !v.trim().is_empty()).cloned()
    }

    /// Resolve a config string that may be a SecretRef (`{source:"env", id}`).
    pub fn secret_value(&self, v: &Value) -> Option<String> {
        match v {
            Value::String(s) if !s.is_empty() => Some(s.clone()),
            Value::Object(o) if o.get("source").and_then(Value::as_str) == Some("env") => o
                .get("id")
                .and_then(Value::as_str)
                .and_then(|id| self.env_var(id)),
            _ => None,
        }
    }

    pub fn gateway_port(&self, cfg: &Value, flag: Option<u16>) -> u16 {
        flag.or_else(|| {
            self.env_var("OPENCLAW_GATEWAY_PORT")
                .and_then(|p| p.parse().ok())
        })
        .or_else(|| {
            cfg.pointer("/gateway/port")
                .and_then(Value::as_u64)
                .map(|p| p as u16)
        })
        .unwrap_or(18789)
    }

    /// Where and how the CLI connects, with OpenClaw's precedence:
    /// `--url` uses only explicit credentials; `OPENCLAW_GATEWAY_URL` only env credentials;
    /// remote mode uses `gateway.remote.*` first; local mode `gateway.auth.*` first.
    pub fn connect_options(&self, args: &ClientArgs) -> Result<ConnectOptions, CliError> {
        let cfg = self.try_config_value();
        let explicit = ConnectAuth {
            token: args.token.clone(),
            password: args.password.clone(),
            ..Default::default()
        };
        let (url, auth) = if let Some(url) = &args.url {
            (url.clone(), explicit)
        } else if let Some(url) = self.env_var("OPENCLAW_GATEWAY_URL") {
            let auth = ConnectAuth {
                token: args
                    .token
                    .clone()
                    .or_else(|| self.env_var("OPENCLAW_GATEWAY_TOKEN")),
                password: args
                    .password
                    .clone()
                    .or_else(|| self.env_var("OPENCLAW_GATEWAY_PASSWORD")),
                ..Default::default()
            };
            (url, auth)
        } else {
            let remote = cfg.pointer("/gateway/mode").and_then(Value::as_str) == Some("remote");
            let remote_url = cfg
                .pointer("/gateway/remote/url")
                .and_then(Value::as_str)
                .map(str::to_string);
            let pick = |ptrs: &[&str], env: &str| -> Option<String> {
                let mut out = None;
                for p in ptrs {
                    if *p == "env" {
                        out = self.env_var(env);
                    } else if let Some(v) = cfg.pointer(p) {
                        out = self.secret_value(v);
                    }
                    if out.is_some() {
                        break;
                    }
                }
                out
            };
            let (token_order, pw_order): (&[&str], &[&str]) = if remote && remote_url.is_some() {
                (
                    &["/gateway/remote/token", "env", "/gateway/auth/token"],
                    &["/gateway/remote/password", "env", "/gateway/auth/password"],
                )
            } else {
                (
                    &["/gateway/auth/token", "env", "/gateway/remote/token"],
                    &["/gateway/auth/password", "env", "/gateway/remote/password"],
                )
            };
            let auth = ConnectAuth {
                token: args
                    .token
                    .clone()
                    .or_else(|| pick(token_order, "OPENCLAW_GATEWAY_TOKEN")),
                password: args
                    .password
                    .clone()
                    .or_else(|| pick(pw_order, "OPENCLAW_GATEWAY_PASSWORD")),
                ..Default::default()
            };
            let url = match remote_url.filter(|_| remote) {
                Some(u) => u,
                None => format!("ws://127.0.0.1:{}", self.gateway_port(&cfg, args.port)),
            };
            (url, auth)
        };
        Ok(ConnectOptions {
            url,
            auth,
            timeout: Duration::from_millis(args.timeout.max(100)),
            scopes: [
                "operator.admin",
                "operator.read",
                "operator.write",
                "operator.approvals",
                "operator.pairing",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect(),
            caps: vec!["tool-events".into()],
            client_mode: "cli".into(),
        })
    }
}

/// Print JSON or a fallback text rendering.
pub fn print_json(v: &Value) -> anyhow::Result<()> {
    println!(
        "{}",
        serde_json::to_string_pretty(v).context("rendering JSON")?
    );
    Ok(())
}
