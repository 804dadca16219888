//! `openclaw doctor`: checks a user can act on — config validity, state dir permissions,
//! the gateway port, Docker reachability — each with the fix.

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use serde_json::{Value, json};

use crate::cli::DoctorArgs;
use crate::context::{Ctx, print_json};
use crate::exit::CliError;

struct Check {
    name: &'static str,
    ok: bool,
    detail: String,
    fix: Option<String>,
}

pub async fn run(ctx: &Ctx, args: &DoctorArgs) -> Result<(), CliError> {
    if args.generate_gateway_token {
        generate_token(ctx)?;
    }
    let mut checks = Vec::new();

    let cfg = match ctx.load_config() {
        Ok(c) => {
            checks.push(Check {
                name: "config",
                ok: true,
                detail: format!(
                    "{} is valid{}",
                    c.path.display(),
                    if c.exists() {
                        ""
                    } else {
                        " (not created yet: defaults)"
                    }
                ),
                fix: (!c.exists()).then(|| "openclaw onboard".to_string()),
            });
            c.value
        }
        Err(e) => {
            checks.push(Check {
                name: "config",
                ok: false,
                detail: e.to_string(),
                fix: Some(format!(
                    "edit {} (keep a copy), or `openclaw onboard --reset`",
                    ctx.paths.config_path.display()
                )),
            });
            Value::Null
        }
    };

    let state = &ctx.paths.state_dir;
    match std::fs::metadata(state) {
        Ok(m) => {
            let mode = m.permissions().mode() & 0o777;
            let writable = tempfile::tempfile_in(state).is_ok();
            let ok = writable && mode & 0o077 == 0;
            if args.fix && mode & 0o077 != 0 {
                let _ = std::fs::set_permissions(state, std::fs::Permissions::from_mode(0o700));
            }
            checks.push(Check {
                name: "stateDir",
                ok,
                detail: format!("{} mode {:o}{}", state.display(), mode, if writable { "" } else { ", NOT writable" }),
                fix: (!ok).then(|| format!("chmod 700 {0}  (and make sure it is owned by you: chown -R $(id -u):$(id -g) {0})", state.display())),
            });
        }
        Err(_) => {
            if args.fix {
                let _ = std::fs::create_dir_all(state);
            }
            checks.push(Check {
                name: "stateDir",
                ok: false,
                detail: format!("{} does not exist", state.display()),
                fix: Some("openclaw onboard (or doctor --fix)".into()),
            });
        }
    }

    let port = ctx.gateway_port(&cfg, None);
    let free = std::net::TcpListener::bind(("127.0.0.1", port)).is_ok();
    let answering = !free
        && std::net::TcpStream::connect_timeout(
            &([127, 0, 0, 1], port).into(),
            Duration::from_millis(500),
        )
        .is_ok();
    checks.push(Check {
        name: "port",
        ok: true,
        detail: if free {
            format!("{port} is free")
        } else if answering {
            format!("{port} is in use (a gateway may be running: `openclaw gateway status`)")
        } else {
            format!("{port} is busy")
        },
        fix: None,
    });

    let docker = docker_ping().await;
    let sandbox_on = cfg
        .pointer("/agents/defaults/sandbox/mode")
        .and_then(Value::as_str)
        .is_some_and(|m| m != "off");
    checks.push(Check {
        name: "docker",
        ok: docker.is_ok() || !sandbox_on,
        detail: match &docker {
            Ok(v) => format!("reachable (engine API {v})"),
            Err(e) => format!("not reachable: {e}"),
        },
        fix: docker.is_err().then(|| {
            if sandbox_on {
                "start Docker (`docker info`) or set agents.defaults.sandbox.mode to \"off\""
                    .to_string()
            } else {
                "only needed for the agent sandbox".to_string()
            }
        }),
    });

    if docker.is_ok() {
        checks.extend(sandbox_image_checks(ctx).await);
    }

    let all_ok = checks.iter().all(|c| c.ok);
    if args.json {
        let list: Vec<Value> = checks
            .iter()
            .map(|c| json!({"name": c.name, "ok": c.ok, "detail": c.detail, "fix": c.fix}))
            .collect();
        print_json(&json!({"ok": all_ok, "checks": list}))?;
    } else {
        for c in &checks {
            println!(
                "{} {:<9} {}",
                if c.ok { "ok  " } else { "FAIL" },
                c.name,
                c.detail
            );
            if let Some(f) = &c.fix {
                println!("     fix: {f}");
            }
        }
    }
    if all_ok {
        Ok(())
    } else {
        Err(CliError::msg("doctor found problems (see above)"))
    }
}

/// For every agent whose sandbox mode is not `off`: is its sandbox image on the engine?
async fn sandbox_image_checks(ctx: &Ctx) -> Vec<Check> {
    use openclaw_agent::sandbox_backend::config::AgentSandbox;
    use openclaw_agent::sandbox_backend::sandbox::engine::Engine;
    use openclaw_agent::sandbox_backend::sandbox::spec::{DEFAULT_IMAGE, SandboxMode};
    let Ok(loaded) = ctx.load_config() else {
        return Vec::new();
    };
    let settings = openclaw_config::resolve::AgentSettings::resolve(&loaded.config, &ctx.paths);
    let mut images: Vec<(String, Vec<String>)> = Vec::new();
    let mut checks = Vec::new();
    for a in &settings.agents {
        match AgentSandbox::resolve(&loaded, &ctx.paths, &a.id) {
            Ok(s) if s.spec.mode != SandboxMode::Off => {
                match images.iter_mut().find(|(i, _)| *i == s.spec.docker.image) {
                    Some((_, ids)) => ids.push(a.id.clone()),
                    None => images.push((s.spec.docker.image.clone(), vec![a.id.clone()])),
                }
            }
            Ok(_) => {}
            Err(e) => checks.push(Check {
                name: "sandbox",
                ok: false,
                detail: e.to_string(),
                fix: Some(
                    "fix the sandbox block in openclaw.json (`openclaw sandbox explain`)".into(),
                ),
            }),
        }
    }
    if images.is_empty() {
        return checks;
    }
    let engine = match Engine::connect().await {
        Ok(e) => e,
        Err(e) => {
            checks.push(Check {
                name: "sandboxImage",
                ok: false,
                detail: e.to_string(),
                fix: None,
            });
            return checks;
        }
    };
    for (image, agents) in images {
        let present = engine.image_exists(&image).await;
        let ok = matches!(present, Ok(true));
        checks.push(Check {
            name: "sandboxImage",
            ok,
            detail: match present {
                Ok(true) => format!("{image} present (agents: {})", agents.join(", ")),
                Ok(false) => format!("{image} is missing (sandboxed agents: {})", agents.join(", ")),
                Err(e) => format!("{image}: {e}"),
            },
            fix: (!ok).then(|| {
                if image == DEFAULT_IMAGE {
                    "build it with scripts/sandbox-setup.sh, or set agents.defaults.sandbox.mode to \"off\"".to_string()
                } else {
                    format!("build or pull {image} (docker build -t {image} ...), or change agents.defaults.sandbox.docker.image")
                }
            }),
        });
    }
    checks
}

/// Ping the Docker Engine API over its unix socket with a short deadline; returns the API version.
async fn docker_ping() -> Result<String, String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let path = std::env::var("DOCKER_HOST")
        .ok()
        .and_then(|h| h.strip_prefix("unix://").map(str::to_string))
        .unwrap_or_else(|| "/var/run/docker.sock".into());
    let fut = async {
        let mut s = tokio::net::UnixStream::connect(&path).await.map_err(|e| {
            format!(
                "cannot reach Docker at unix://{path}: {e} (is the daemon running? `docker info`)"
            )
        })?;
        s.write_all(b"GET /version HTTP/1.0\r\nHost: docker\r\n\r\n")
            .await
            .map_err(|e| e.to_string())?;
        let mut out = String::new();
        s.read_to_string(&mut out)
            .await
            .map_err(|e| e.to_string())?;
        let body = out.split("\r\n\r\n").nth(1).unwrap_or("");
        let v: Value = serde_json::from_str(body)
            .map_err(|_| "unexpected answer from the Docker socket".to_string())?;
        Ok(v["ApiVersion"].as_str().unwrap_or("?").to_string())
    };
    tokio::time::timeout(Duration::from_secs(3), fut)
        .await
        .map_err(|_| "Docker did not answer within 3s".to_string())?
}

fn generate_token(ctx: &Ctx) -> Result<(), CliError> {
    let loaded = ctx.load_config()?;
    let mut doc = loaded.parsed.clone();
    if !doc.is_object() {
        doc = json!({});
    }
    let token = hex::encode(rand::random::<[u8; 24]>());
    let kp = openclaw_config::KeyPath::parse("gateway.auth.token").map_err(CliError::Config)?;
    openclaw_config::edit::set_path(&mut doc, &kp, json!(token)).map_err(CliError::Config)?;
    openclaw_config::edit::check(&doc, &ctx.paths.config_path, &ctx.env)
        .map_err(CliError::Config)?;
    openclaw_config::write_config(&ctx.paths.config_path, &doc).map_err(CliError::Config)?;
    println!("Generated a gateway token in gateway.auth.token. Restart the gateway to apply.");
    Ok(())
}
