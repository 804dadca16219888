//! `openclaw onboard`: write `openclaw.json` (gateway mode/bind/port/auth, workspace, model
//! provider), seed the workspace and the session dirs, print a summary. Non-interactive with
//! flags (the Docker and CI path), or question by question on a terminal.

use std::io::{BufRead, IsTerminal, Write};

use serde_json::{Map, Value, json};

use crate::cli::OnboardArgs;
use crate::context::{Ctx, print_json};
use crate::exit::CliError;

const AUTH_CHOICES: &str = "skip, openai-api-key, anthropic-api-key, ollama, custom-api-key";

pub fn onboard(ctx: &Ctx, args: &OnboardArgs) -> Result<(), CliError> {
    let interactive = !args.non_interactive && std::io::stdin().is_terminal();
    if args.non_interactive && !args.accept_risk {
        return Err(CliError::msg(
            "--non-interactive requires --accept-risk: the agent can run commands and change files on this machine",
        ));
    }
    let mut a = args.clone();
    if interactive {
        ask(ctx, &mut a)?;
    }
    let mode = a.mode.clone().unwrap_or_else(|| "local".into());
    if mode != "local" && mode != "remote" {
        return Err(CliError::msg(format!(
            "invalid --mode {mode:?}: accepted values are local, remote"
        )));
    }

    let mut value = if a.reset {
        json!({})
    } else {
        match ctx.load_config() {
            Ok(loaded) => loaded.parsed.clone(),
            Err(e) => {
                return Err(CliError::msg(format!(
                    "{e}\n  fix the file, or rerun with --reset to start over"
                )));
            }
        }
    };
    if !value.is_object() {
        value = json!({});
    }
    let now = chrono::Utc::now();
    set(
        &mut value,
        &["wizard"],
        json!({
            "lastRunAt": now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "lastRunVersion": env!("CARGO_PKG_VERSION"),
            "lastRunCommand": "onboard",
            "lastRunMode": mode,
        }),
    );

    let workspace = a
        .workspace
        .as_deref()
        .map(|w| ctx.paths.expand(w))
        .or_else(|| {
            value
                .pointer("/agents/defaults/workspace")
                .and_then(Value::as_str)
                .map(|w| ctx.paths.expand(w))
        })
        .unwrap_or_else(|| ctx.paths.workspace_dir.clone());
    set(
        &mut value,
        &["agents", "defaults", "workspace"],
        json!(workspace.display().to_string()),
    );

    let mut summary = json!({"ok": true, "mode": mode, "workspace": workspace.display().to_string(),
        "configPath": ctx.paths.config_path.display().to_string(), "stateDir": ctx.paths.state_dir.display().to_string()});

    if mode == "remote" {
        let url = a
            .remote_url
            .clone()
            .ok_or_else(|| CliError::msg("--mode remote requires --remote-url ws://host:18789"))?;
        set(&mut value, &["gateway", "mode"], json!("remote"));
        set(&mut value, &["gateway", "remote", "url"], json!(url));
        if let Some(t) = &a.remote_token {
            set(&mut value, &["gateway", "remote", "token"], json!(t));
        }
        if let Some(p) = &a.remote_password {
            set(&mut value, &["gateway", "remote", "password"], json!(p));
        }
        summary["remoteUrl"] = json!(url);
    } else {
        if a.reset {
            remove(&mut value, &["gateway", "remote"]);
        }
        let port = a
            .gateway_port
            .or_else(|| {
                value
                    .pointer("/gateway/port")
                    .and_then(Value::as_u64)
                    .map(|p| p as u16)
            })
            .unwrap_or(18789);
        let bind = a
            .gateway_bind
            .clone()
            .or_else(|| {
                value
                    .pointer("/gateway/bind")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            })
            .unwrap_or_else(|| "loopback".into());
        let auth_mode = a.gateway_auth.clone().unwrap_or_else(|| "token".into());
        set(&mut value, &["gateway", "mode"], json!("local"));
        set(&mut value, &["gateway", "port"], json!(port));
        set(&mut value, &["gateway", "bind"], json!(bind));
        set(&mut value, &["gateway", "auth", "mode"], json!(auth_mode));
        let tailscale = a.tailscale.clone().unwrap_or_else(|| "off".into());
        set(
            &mut value,
            &["gateway", "tailscale"],
            json!({"mode": tailscale, "resetOnExit": false}),
        );
        match auth_mode.as_str() {
            "token" => {
                let token = if let Some(env) = &a.gateway_token_ref_env {
                    json!({"source": "env", "provider": "default", "id": env})
                } else if let Some(t) = &a.gateway_token {
                    json!(t)
                } else if let Some(existing) = value
                    .pointer("/gateway/auth/token")
                    .filter(|v| !v.is_null())
                {
                    existing.clone()
                } else {
                    json!(hex::encode(rand::random::<[u8; 24]>()))
                };
                set(&mut value, &["gateway", "auth", "token"], token.clone());
                if token.is_string() && !a.suppress_gateway_token_output && !a.json {
                    summary["gatewayToken"] = token;
                }
            }
            "password" => {
                let pw = a.gateway_password.clone().ok_or_else(|| {
                    CliError::msg("--gateway-auth password requires --gateway-password")
                })?;
                set(&mut value, &["gateway", "auth", "password"], json!(pw));
            }
            other => {
                return Err(CliError::msg(format!(
                    "invalid --gateway-auth {other:?}: accepted values are token, password"
                )));
            }
        }
        summary["gateway"] =
            json!({"port": port, "bind": bind, "authMode": auth_mode, "tailscaleMode": tailscale});
    }

    let choice = a.auth_choice.clone().unwrap_or_else(|| "skip".into());
    if let Some(model) = apply_auth_choice(ctx, &a, &choice, &mut value)? {
        summary["model"] = json!(model);
    }
    summary["authChoice"] = json!(choice);
    summary["installDaemon"] = json!(a.install_daemon && !a.no_install_daemon && !a.skip_daemon);
    summary["skipChannels"] = json!(a.skip_channels);
    summary["skipSkills"] = json!(a.skip_skills);
    summary["skipHealth"] = json!(a.skip_health);

    openclaw_config::stamp_meta(&mut value, env!("CARGO_PKG_VERSION"), now);
    openclaw_config::edit::check(&value, &ctx.paths.config_path, &ctx.env)
        .map_err(CliError::Config)?;
    openclaw_config::write_config(&ctx.paths.config_path, &value).map_err(CliError::Config)?;

    let created = openclaw_agent::workspace::ensure_workspace(&workspace).map_err(|e| {
        CliError::msg(format!(
            "cannot create workspace {}: {e}",
            workspace.display()
        ))
    })?;
    for dir in [
        ctx.paths.sessions_dir("main"),
        ctx.paths.agent_dir("main").join("agent"),
        ctx.paths.identity_dir(),
    ] {
        std::fs::create_dir_all(&dir)
            .map_err(|e| CliError::msg(format!("cannot create {}: {e}", dir.display())))?;
    }
    summary["workspaceFilesCreated"] = json!(created);

    if a.json {
        print_json(&summary)?;
    } else {
        println!("Wrote {}", ctx.paths.config_path.display());
        println!("Workspace: {}", workspace.display());
        if let Some(t) = summary.get("gatewayToken").and_then(Value::as_str) {
            println!("Gateway token: {t}");
        }
        if choice == "skip" {
            match summary.get("model").and_then(Value::as_str) {
                Some(m) => println!("{}", crate::commands::models::local_model_hint(m)),
                None => println!(
                    "No model provider configured. Rerun with --auth-choice (openai-api-key, anthropic-api-key, ollama, custom-api-key), or run `openclaw models pull` for the embedded local model."
                ),
            }
        }
        if mode == "local" {
            println!("Start the gateway: openclaw gateway");
        }
    }
    Ok(())
}

/// Write the provider entry for an auth choice and make its model the primary.
fn apply_auth_choice(
    ctx: &Ctx,
    a: &OnboardArgs,
    choice: &str,
    value: &mut Value,
) -> Result<Option<String>, CliError> {
    let ref_mode = a.secret_input_mode.as_deref() == Some("ref");
    let key = |flag: &Option<String>, env: &str, flag_name: &str| -> Result<Value, CliError> {
        if ref_mode {
            return Ok(json!({"source": "env", "provider": "default", "id": env}));
        }
        match flag.clone().or_else(|| ctx.env_var(env)) {
            Some(k) => Ok(json!(k)),
            None => Err(CliError::msg(format!(
                "missing {flag_name} (or {env} in the environment), or use --secret-input-mode ref"
            ))),
        }
    };
    let (provider_id, provider, model) = match choice {
        // No provider: use the pulled embedded model, unless a model is already configured.
        "skip" if value.pointer("/agents/defaults/model").is_some() => return Ok(None),
        "skip" => return Ok(crate::commands::models::apply_local_model(ctx, value)),
        "openai-api-key" => (
            "openai".to_string(),
            json!({"baseUrl": "https://api.openai.com/v1", "api": "openai-completions",
                   "apiKey": key(&a.openai_api_key, "OPENAI_API_KEY", "--openai-api-key")?,
                   "models": [{"id": "gpt-4.1-mini", "name": "GPT-4.1 mini", "contextWindow": 1_047_576, "input": ["text", "image"]}]}),
            "gpt-4.1-mini".to_string(),
        ),
        "anthropic-api-key" => (
            "anthropic".to_string(),
            json!({"baseUrl": "https://api.anthropic.com", "api": "anthropic-messages",
                   "apiKey": key(&a.anthropic_api_key, "ANTHROPIC_API_KEY", "--anthropic-api-key")?,
                   "models": [{"id": "claude-sonnet-4-5", "name": "Claude Sonnet 4.5", "contextWindow": 200_000, "input": ["text", "image"]}]}),
            "claude-sonnet-4-5".to_string(),
        ),
        "ollama" => {
            let default_host = if ctx.env_var("OPENCLAW_DOCKER_SETUP").is_some() {
                "host.docker.internal"
            } else {
                "127.0.0.1"
            };
            let base = a
                .ollama_base_url
                .clone()
                .unwrap_or_else(|| format!("http://{default_host}:11434"));
            let base = format!("{}/v1", base.trim_end_matches('/').trim_end_matches("/v1"));
            let model = a.ollama_model.clone().unwrap_or_else(|| "llama3.2".into());
            (
                "ollama".to_string(),
                json!({"baseUrl": base, "api": "openai-completions", "apiKey": "ollama",
                    "models": [{"id": model, "name": model, "contextWindow": 128_000, "input": ["text"]}]}),
                model,
            )
        }
        "custom-api-key" => {
            let base = a
                .custom_base_url
                .clone()
                .ok_or_else(|| CliError::msg("custom-api-key needs --custom-base-url"))?;
            let model = a
                .custom_model_id
                .clone()
                .ok_or_else(|| CliError::msg("custom-api-key needs --custom-model-id"))?;
            let api = match a.custom_compatibility.as_deref().unwrap_or("openai") {
                "openai" => "openai-completions",
                "anthropic" => "anthropic-messages",
                other => {
                    return Err(CliError::msg(format!(
                        "invalid --custom-compatibility {other:?}: accepted values are openai, anthropic"
                    )));
                }
            };
            let id = custom_provider_id(&base);
            let mut p = json!({"baseUrl": base, "api": api,
                "models": [{"id": model, "name": model, "contextWindow": 128_000, "input": ["text"]}]});
            match (&a.custom_api_key, ref_mode) {
                (_, true) => {
                    p["apiKey"] =
                        json!({"source": "env", "provider": "default", "id": "CUSTOM_API_KEY"})
                }
                (Some(k), false) => p["apiKey"] = json!(k),
                (None, false) => {}
            }
            (id, p, model)
        }
        other => {
            return Err(CliError::msg(format!(
                "unknown --auth-choice {other:?}: accepted values are {AUTH_CHOICES}"
            )));
        }
    };
    let full = format!("{provider_id}/{model}");
    set(value, &["models", "providers", &provider_id], provider);
    set(
        value,
        &["agents", "defaults", "model", "primary"],
        json!(full),
    );
    Ok(Some(full))
}

/// `http://127.0.0.1:18999/v1` → `custom-127-0-0-1-18999` (the shape OpenClaw uses).
pub fn custom_provider_id(base_url: &str) -> String {
    let rest = base_url.split("://").nth(1).unwrap_or(base_url);
    let hostport = rest.split('/').next().unwrap_or(rest);
    let slug: String = hostport
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    format!("custom-{}", slug.trim_matches('-'))
}

fn set(root: &mut Value, path: &[&str], v: Value) {
    let mut cur = root;
    for (i, key) in path.iter().enumerate() {
        if !cur.is_object() {
            *cur = Value::Object(Map::new());
        }
        let Value::Object(map) = cur else { return };
        if i + 1 == path.len() {
            map.insert((*key).to_string(), v);
            return;
        }
        cur = map
            .entry((*key).to_string())
            .or_insert_with(|| Value::Object(Map::new()));
    }
}

fn remove(root: &mut Value, path: &[&str]) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut cur = root;
    for key in parents {
        match cur.get_mut(*key) {
            Some(next) => cur = next,
            None => return,
        }
    }
    if let Value::Object(map) = cur {
        map.remove(*last);
    }
}

fn prompt(question: &str, default: &str) -> Result<String, CliError> {
    print!("{question} [{default}]: ");
    std::io::stdout()
        .flush()
        .map_err(|e| CliError::msg(e.to_string()))?;
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| CliError::msg(e.to_string()))?;
    let line = line.trim();
    Ok(if line.is_empty() {
        default.to_string()
    } else {
        line.to_string()
    })
}

fn ask(ctx: &Ctx, a: &mut OnboardArgs) -> Result<(), CliError> {
    println!("OpenClaw onboarding. The agent can run commands and edit files on this machine.");
    if prompt("Continue? (yes/no)", "yes")?.to_lowercase() != "yes" {
        return Err(CliError::msg("onboarding cancelled"));
    }
    if a.mode.is_none() {
        a.mode = Some(prompt(
            "Mode: local gateway here, or remote client (local/remote)",
            "local",
        )?);
    }
    if a.mode.as_deref() == Some("remote") {
        if a.remote_url.is_none() {
            a.remote_url = Some(prompt("Remote gateway URL", "ws://127.0.0.1:18789")?);
        }
        if a.remote_token.is_none() {
            let t = prompt("Remote gateway token (empty for none)", "")?;
            a.remote_token = (!t.is_empty()).then_some(t);
        }
        return Ok(());
    }
    if a.auth_choice.is_none() {
        a.auth_choice = Some(prompt(&format!("Model provider ({AUTH_CHOICES})"), "skip")?);
    }
    match a.auth_choice.as_deref() {
        Some("openai-api-key")
            if a.openai_api_key.is_none() && ctx.env_var("OPENAI_API_KEY").is_none() =>
        {
            a.openai_api_key = Some(prompt("OpenAI API key", "")?);
        }
        Some("anthropic-api-key")
            if a.anthropic_api_key.is_none() && ctx.env_var("ANTHROPIC_API_KEY").is_none() =>
        {
            a.anthropic_api_key = Some(prompt("Anthropic API key", "")?);
        }
        Some("ollama") => {
            a.ollama_base_url
                .get_or_insert(prompt("Ollama URL", "http://127.0.0.1:11434")?);
            a.ollama_model
                .get_or_insert(prompt("Ollama model", "llama3.2")?);
        }
        Some("custom-api-key") => {
            a.custom_base_url.get_or_insert(prompt(
                "Base URL (OpenAI-compatible, e.g. http://127.0.0.1:8080/v1)",
                "http://127.0.0.1:8080/v1",
            )?);
            a.custom_model_id
                .get_or_insert(prompt("Model id", "default")?);
            a.custom_compatibility
                .get_or_insert(prompt("Compatibility (openai/anthropic)", "openai")?);
            let k = prompt("API key (empty for none)", "")?;
            if a.custom_api_key.is_none() && !k.is_empty() {
                a.custom_api_key = Some(k);
            }
        }
        _ => {}
    }
    if a.gateway_bind.is_none() {
        a.gateway_bind = Some(prompt("Gateway bind (loopback/lan)", "loopback")?);
    }
    if a.gateway_port.is_none() {
        a.gateway_port = prompt("Gateway port", "18789")?.parse().ok();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn custom_provider_ids_match_openclaw_shape() {
        assert_eq!(
            custom_provider_id("http://127.0.0.1:18999/v1"),
            "custom-127-0-0-1-18999"
        );
        assert_eq!(
            custom_provider_id("https://llm.example.com/v1"),
            "custom-llm-example-com"
        );
    }

    #[test]
    fn set_creates_intermediate_objects() {
        let mut v = json!({"a": 1});
        set(&mut v, &["x", "y", "z"], json!(true));
        assert_eq!(v, json!({"a": 1, "x": {"y": {"z": true}}}));
        remove(&mut v, &["x", "y"]);
        assert_eq!(v, json!({"a": 1, "x": {}}));
    }
}
