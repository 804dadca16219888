//! `openclaw gateway [run]`: resolve settings from config + env + flags, start the server,
//! stop cleanly on SIGTERM/SIGINT (a `shutdown` event to every client first).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use openclaw_config::resolve::{AgentSettings, GatewayOverrides, GatewaySettings};
use openclaw_config::schema::{AuthMode, BindMode, GatewayMode};
use openclaw_gateway::{AuthConfig, Secret, ServerSettings};
use serde_json::{Value, json};

use crate::cli::RunArgs;
use crate::context::Ctx;
use crate::exit::CliError;

fn parse_enum<T: serde::de::DeserializeOwned>(
    flag: &str,
    value: &Option<String>,
    accepted: &str,
) -> Result<Option<T>, CliError> {
    match value {
        None => Ok(None),
        Some(v) => serde_json::from_value(json!(v)).map(Some).map_err(|_| {
            CliError::msg(format!(
                "invalid {flag} {v:?}: accepted values are {accepted}"
            ))
        }),
    }
}

pub async fn run(ctx: &Ctx, args: &RunArgs) -> Result<(), CliError> {
    if args.dev {
        ensure_dev_setup(ctx).await?;
    }
    let loaded = ctx.load_config()?;
    let cfg = &loaded.config;
    let overrides = GatewayOverrides {
        port: args.port,
        bind: parse_enum::<BindMode>("--bind", &args.bind, "loopback, lan, tailnet, auto, custom")?,
        auth_mode: parse_enum::<AuthMode>("--auth", &args.auth, "token, password, none")?,
        token: args.token.clone(),
        password: args.password.clone(),
        tailscale: None,
    };
    let gs = GatewaySettings::resolve(cfg, &ctx.env, &ctx.paths, &overrides)
        .map_err(CliError::Config)?;
    if gs.mode != Some(GatewayMode::Local) && !args.allow_unconfigured {
        let current = match gs.mode {
            Some(GatewayMode::Remote) => "remote",
            _ => "unset",
        };
        return Err(CliError::msg(format!(
            "Gateway start blocked: set gateway.mode=local (current: {current}) or pass --allow-unconfigured\n  fix: openclaw config set gateway.mode local   (or run `openclaw onboard`)"
        )));
    }
    let agents = AgentSettings::resolve(cfg, &ctx.paths);
    let ip = bind_ip(&gs)?;
    let auth = match gs.auth.mode {
        AuthMode::None => AuthConfig::None,
        AuthMode::Password => match &gs.auth.password {
            Some(p) => AuthConfig::Password(p.clone()),
            None => {
                return Err(CliError::msg(
                    "gateway.auth.mode is \"password\" but no password is set: set gateway.auth.password, OPENCLAW_GATEWAY_PASSWORD or pass --password",
                ));
            }
        },
        AuthMode::TrustedProxy => {
            return Err(CliError::msg(
                "gateway.auth.mode \"trusted-proxy\" is not supported by this gateway yet: use token or password",
            ));
        }
        AuthMode::Token => match &gs.auth.token {
            Some(t) => AuthConfig::Token(t.clone()),
            None => {
                if !ip.is_loopback() {
                    return Err(CliError::msg(format!(
                        "refusing to bind gateway to {ip} without auth: no gateway token is configured (set gateway.auth.token, OPENCLAW_GATEWAY_TOKEN, or pass --token)"
                    )));
                }
                let token = hex::encode(rand::random::<[u8; 24]>());
                eprintln!(
                    "warning: no gateway token configured; using an ephemeral token for this run only.\n  Persist one with: openclaw doctor --generate-gateway-token"
                );
                AuthConfig::Token(Secret::new(token))
            }
        },
    };
    let state_dir = ctx.paths.state_dir.clone();
    let log_file = crate::logging::log_file_path();
    let settings = ServerSettings {
        bind: SocketAddr::new(ip, gs.port),
        auth,
        allowed_origins: seeded_origins(&gs, ip),
        base_path: gs.base_path.clone(),
        control_ui_enabled: gs.control_ui_enabled,
        policy: Default::default(),
        max_preauth_payload: 64 * 1024,
        handshake_timeout: handshake_timeout(ctx),
        state_dir,
        config_path: ctx.paths.config_path.clone(),
        version: env!("CARGO_PKG_VERSION").to_string(),
        host_name: host_name(),
        default_agent_id: agents.default_agent_id.clone(),
        main_key: agents.main_key.clone(),
        log_file: Some(log_file),
        allow_insecure_bind: false,
        auto_approve_local: gs.auto_approve_local,
        allow_insecure_auth: gs.allow_insecure_auth,
        chat_completions_enabled: gs.chat_completions_enabled,
    };
    if args.force {
        crate::commands::force::free_port(gs.port).await;
    }
    let devices = openclaw_store::devices::DeviceStore::open(ctx.paths.devices_dir())
        .await
        .map_err(|e| CliError::msg(format!("cannot open the device pairing store: {e}")))?;
    let agent = openclaw_agent::AgentRuntime::new(&loaded, &ctx.paths, &ctx.env);
    if let Err(e) = agent.open_stores().await {
        tracing::warn!(error = %e, "session index not loaded at start");
    }
    // One sandbox manager (registry, prune throttle) for the runtime and the sandbox.* methods.
    // Docker is contacted on first sandboxed use; DooD paths are detected then.
    let sandbox = agent.sandbox_manager();
    // Channel transports (Telegram) start with the server and follow config reloads.
    let channels =
        openclaw_channels::ChannelManager::new(agent.clone(), ctx.paths.clone(), ctx.env.clone());
    let services = openclaw_gateway::Services {
        channels: Some(channels),
        sandbox: Some(sandbox),
        agent: Some(agent.clone()),
        devices: Some(std::sync::Arc::new(devices)),
        config: Some(std::sync::Arc::new(
            openclaw_gateway::config_service::ConfigService::new(
                ctx.paths.clone(),
                ctx.env.clone(),
                loaded.clone(),
            ),
        )),
    };
    let gw = openclaw_gateway::start(settings, services)
        .await
        .map_err(|e| CliError::msg(e.to_string()))?;
    let addr = gw.local_addr();
    println!("listening on ws://{addr}");
    if args.dev {
        print_dev_banner(ctx, addr.port(), &gs.base_path);
    }
    let state = gw.state().clone();
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("signal received; shutting down");
        state.shutdown.cancel();
    });
    gw.wait().await.map_err(|e| CliError::msg(e.to_string()))?;
    // Every session index and transcript reaches disk before the process exits.
    agent.flush().await;
    // Let writer tasks flush their close frames.
    tokio::time::sleep(Duration::from_millis(50)).await;
    Ok(())
}

fn handshake_timeout(ctx: &Ctx) -> Duration {
    ctx.env_var("OPENCLAW_HANDSHAKE_TIMEOUT_MS")
        .and_then(|v| v.parse().ok())
        .map(Duration::from_millis)
        .unwrap_or(Duration::from_secs(15))
}

fn in_container() -> bool {
    Path::new("/.dockerenv").exists() || Path::new("/run/.containerenv").exists()
}

fn bind_ip(gs: &GatewaySettings) -> Result<IpAddr, CliError> {
    Ok(match gs.bind {
        BindMode::Loopback | BindMode::Tailnet => IpAddr::V4(Ipv4Addr::LOCALHOST),
        BindMode::Lan => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        BindMode::Auto => {
            if in_container() {
                IpAddr::V4(Ipv4Addr::UNSPECIFIED)
            } else {
                IpAddr::V4(Ipv4Addr::LOCALHOST)
            }
        }
        BindMode::Custom => {
            let host = gs.custom_host.as_deref().ok_or_else(|| {
                CliError::msg("gateway.bind is \"custom\" but gateway.customBindHost is not set (an IPv4 address)")
            })?;
            host.parse().map_err(|_| {
                CliError::msg(format!(
                    "gateway.customBindHost {host:?} is not an IPv4 address"
                ))
            })?
        }
    })
}

/// Non-loopback binds accept the gateway's own loopback origins without extra config.
fn seeded_origins(gs: &GatewaySettings, ip: IpAddr) -> Vec<String> {
    let mut origins = gs.allowed_origins.clone();
    if !ip.is_loopback() {
        for host in ["localhost", "127.0.0.1"] {
            let o = format!("http://{host}:{}", gs.port);
            if !origins.contains(&o) {
                origins.push(o);
            }
        }
    }
    origins
}

fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "localhost".into())
}

async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}

/// `gateway --dev`: make a usable local setup when none exists (config with a generated
/// token, workspace with bootstrap files), never touching an existing config.
async fn ensure_dev_setup(ctx: &Ctx) -> Result<(), CliError> {
    let path = &ctx.paths.config_path;
    if path.exists() {
        return Ok(());
    }
    // With the embedded runtime compiled in, fetch the small default model once so the first
    // chat works offline with no key. A failed fetch only means "no model yet";
    // OPENCLAW_OFFLINE=1 forbids the download.
    let offline = ctx.env_var("OPENCLAW_OFFLINE").is_some_and(|v| v != "0");
    if cfg!(feature = "local-model")
        && !offline
        && !crate::commands::models::default_model_path(ctx).exists()
    {
        eprintln!("Fetching the default local model (SmolLM2-135M, ~98 MB, checksum-verified)...");
        if let Err(e) = crate::commands::models::pull_default(ctx).await {
            eprintln!(
                "Could not fetch the local model ({e}); add a provider with `openclaw onboard`."
            );
        }
    }
    let token = hex::encode(rand::random::<[u8; 24]>());
    let workspace = ctx.paths.workspace_dir.clone();
    let mut value = json!({
        "gateway": {"mode": "local", "bind": "loopback", "port": 18789,
                    "auth": {"mode": "token", "token": token}},
        "agents": {"defaults": {"workspace": workspace.display().to_string()}},
    });
    let local_model = crate::commands::models::apply_local_model(ctx, &mut value);
    openclaw_config::stamp_meta(&mut value, env!("CARGO_PKG_VERSION"), chrono::Utc::now());
    openclaw_config::write_config(path, &value).map_err(CliError::Config)?;
    if let Some(m) = local_model {
        eprintln!("{}", crate::commands::models::local_model_hint(&m));
    }
    openclaw_agent::workspace::ensure_workspace(&workspace).map_err(|e| {
        CliError::msg(format!(
            "cannot create workspace {}: {e}",
            workspace.display()
        ))
    })?;
    std::fs::create_dir_all(ctx.paths.sessions_dir("main"))
        .map_err(|e| CliError::msg(format!("cannot create sessions dir: {e}")))?;
    eprintln!(
        "Created a dev config at {} with a new gateway token.",
        path.display()
    );
    Ok(())
}

fn print_dev_banner(ctx: &Ctx, port: u16, base_path: &str) {
    let cfg = ctx.try_config_value();
    let token = cfg
        .pointer("/gateway/auth/token")
        .and_then(|v| ctx.secret_value(v));
    let url = format!("http://127.0.0.1:{port}{base_path}/");
    match token {
        Some(t) => println!("Control UI: {url}#token={t}"),
        None => println!("Control UI: {url}"),
    }
    if cfg.pointer("/agents/defaults/model").is_none() {
        println!(
            "No model provider is configured yet: run `openclaw onboard` (OpenAI, Anthropic, Ollama or any OpenAI-compatible server), or `openclaw models pull` for the embedded local model."
        );
    }
    let _ = Value::Null;
}
