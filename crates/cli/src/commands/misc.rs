//! Small commands: `completion`, `healthcheck`, `dashboard`.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use clap::CommandFactory;
use serde_json::{Value, json};

use crate::cli::{Cli, CompletionArgs, DashboardArgs, HealthcheckArgs};
use crate::context::{Ctx, print_json};
use crate::exit::CliError;

pub fn completion(args: &CompletionArgs) -> Result<(), CliError> {
    let mut cmd = Cli::command();
    clap_complete::generate(args.shell, &mut cmd, "openclaw", &mut std::io::stdout());
    Ok(())
}

/// A dependency-free HTTP probe of `/healthz` on loopback, for image health checks.
pub fn healthcheck(args: &HealthcheckArgs) -> Result<(), CliError> {
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], args.port));
    let fail = |e: String| CliError::msg(format!("healthcheck failed on {addr}: {e}"));
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(3))
        .map_err(|e| fail(e.to_string()))?;
    s.set_read_timeout(Some(Duration::from_secs(3)))
        .map_err(|e| fail(e.to_string()))?;
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .map_err(|e| fail(e.to_string()))?;
    let mut buf = String::new();
    s.read_to_string(&mut buf)
        .map_err(|e| fail(e.to_string()))?;
    if buf.starts_with("HTTP/1.1 200") {
        Ok(())
    } else {
        Err(fail(
            buf.lines().next().unwrap_or("no response").to_string(),
        ))
    }
}

pub fn dashboard(ctx: &Ctx, args: &DashboardArgs) -> Result<(), CliError> {
    let cfg = ctx.try_config_value();
    let port = ctx.gateway_port(&cfg, None);
    let base_path = cfg
        .pointer("/gateway/controlUi/basePath")
        .and_then(Value::as_str)
        .unwrap_or("");
    let base_path = base_path.trim_end_matches('/');
    let http_url = format!("http://127.0.0.1:{port}{base_path}/");
    let token = cfg
        .pointer("/gateway/auth/token")
        .and_then(|v| ctx.secret_value(v))
        .or_else(|| ctx.env_var("OPENCLAW_GATEWAY_TOKEN"));
    let url = match &token {
        Some(t) => format!("{http_url}#token={t}"),
        None => http_url.clone(),
    };
    if args.json {
        print_json(&json!({"ok": true, "url": url, "httpUrl": http_url,
            "wsUrl": format!("ws://127.0.0.1:{port}{base_path}/"), "port": port, "tokenIncluded": token.is_some()}))?;
    } else {
        println!("Dashboard URL: {url}");
        if token.is_none() {
            println!(
                "No gateway token is configured; paste one in the Control UI's Overview if the gateway asks."
            );
        }
    }
    if !args.no_open {
        let opener = ctx.env_var("BROWSER").unwrap_or_else(|| "xdg-open".into());
        if std::process::Command::new(&opener)
            .arg(&url)
            .spawn()
            .is_err()
        {
            eprintln!("Could not start a browser ({opener}); open the URL above yourself.");
        }
    }
    Ok(())
}
