//! `openclaw sandbox list | recreate | explain`: inspect and clean up the Docker agent sandbox.
//!
//! These work without a running gateway: they read the config, the container registry under
//! the state dir and the Docker engine directly (the same functions the gateway's `sandbox.*`
//! methods use), so they can clean up after a gateway that is down or misconfigured.

use std::io::{BufRead, IsTerminal, Write};

use openclaw_agent::sandbox_backend::config::{
    explain_for, list_browser_rows, list_rows, recreate_target,
};
use openclaw_agent::sandbox_backend::sandbox::SandboxManager;
use serde_json::json;

use crate::cli::SandboxCmd;
use crate::context::{Ctx, print_json};
use crate::exit::CliError;

fn human_ms(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m", s / 60),
        3600..86400 => format!("{}h{}m", s / 3600, s % 3600 / 60),
        _ => format!("{}d{}h", s / 86400, s % 86400 / 3600),
    }
}

pub async fn run(ctx: &Ctx, cmd: &SandboxCmd) -> Result<(), CliError> {
    let manager = SandboxManager::new(ctx.paths.state_dir.clone());
    match cmd {
        SandboxCmd::List { browser, json } => {
            let loaded = ctx.load_config()?;
            let rows = if *browser {
                list_browser_rows(&manager, &loaded, &ctx.paths).await
            } else {
                list_rows(&manager, &loaded, &ctx.paths).await
            }
            .map_err(|e| CliError::msg(e.to_string()))?;
            if *json {
                print_json(&json!({ "containers": rows }))?;
                return Ok(());
            }
            if rows.is_empty() {
                println!(
                    "No sandbox {}containers.",
                    if *browser { "browser " } else { "" }
                );
                return Ok(());
            }
            for r in &rows {
                let state = match (r.exists, r.running) {
                    (false, _) => "missing",
                    (true, true) => "running",
                    (true, false) => "stopped",
                };
                let ports = match (r.cdp_port, r.no_vnc_port) {
                    (Some(c), Some(v)) => format!("  cdp 127.0.0.1:{c}  novnc 127.0.0.1:{v}"),
                    (Some(c), None) => format!("  cdp 127.0.0.1:{c}"),
                    _ => String::new(),
                };
                println!(
                    "{}  {}  {}{}  age {}  idle {}  {}{ports}",
                    r.container_name,
                    state,
                    r.image,
                    if r.image_match {
                        ""
                    } else {
                        " (image differs from config)"
                    },
                    human_ms(r.age_ms),
                    human_ms(r.idle_ms),
                    r.session_key
                );
            }
            Ok(())
        }
        SandboxCmd::Recreate {
            all,
            session,
            agent,
            browser,
            force,
        } => {
            let target = recreate_target(*all, session.as_deref(), agent.as_deref())
                .map_err(CliError::msg)?;
            let what = if *browser {
                "sandbox browser containers"
            } else {
                "sandbox containers"
            };
            if !force {
                if !std::io::stdin().is_terminal() {
                    return Err(CliError::msg(format!(
                        "refusing to remove {what} without confirmation; rerun with --force"
                    )));
                }
                print!(
                    "Remove the matching {what} ({target:?})? They are recreated on next use. [y/N] "
                );
                std::io::stdout()
                    .flush()
                    .map_err(|e| CliError::msg(e.to_string()))?;
                let mut answer = String::new();
                std::io::stdin()
                    .lock()
                    .read_line(&mut answer)
                    .map_err(|e| CliError::msg(e.to_string()))?;
                if !matches!(answer.trim(), "y" | "Y" | "yes") {
                    println!("Cancelled.");
                    return Ok(());
                }
            }
            let removed = if *browser {
                manager.recreate_browsers(&target).await
            } else {
                manager.recreate(&target).await
            }
            .map_err(|e| CliError::msg(e.to_string()))?;
            if removed.is_empty() {
                println!("No matching {what}.");
            } else {
                for n in &removed {
                    println!("removed {n}");
                }
                println!("They are recreated on next use.");
            }
            Ok(())
        }
        SandboxCmd::Explain {
            session,
            agent,
            json,
        } => {
            let loaded = ctx.load_config()?;
            let report = explain_for(&loaded, &ctx.paths, session.as_deref(), agent.as_deref())
                .map_err(|e| CliError::msg(e.to_string()))?;
            if *json {
                print_json(&serde_json::to_value(&report).map_err(anyhow::Error::from)?)?;
                return Ok(());
            }
            let s = &report.sandbox;
            println!("agent:           {}", s.agent_id);
            println!("session:         {}", s.session_key);
            println!("main session:    {}", s.main_session_key);
            println!("runtime:         {} ({})", s.runtime, s.why);
            println!(
                "mode/scope:      {} / {}",
                serde_json::to_value(s.mode).map_err(anyhow::Error::from)?,
                serde_json::to_value(s.scope).map_err(anyhow::Error::from)?
            );
            println!("workspaceAccess: {}", s.workspace_access.as_str());
            println!(
                "workspace:       {} (at {})",
                s.workspace.display(),
                s.workdir
            );
            println!("image:           {}", s.image);
            println!("container:       {}", s.container_name);
            let blocked: Vec<String> = report
                .tool_policy
                .tools
                .iter()
                .filter(|t| !t.allowed)
                .map(|t| match &t.fix_key {
                    Some(k) => format!("{} ({k})", t.tool),
                    None => t.tool.clone(),
                })
                .collect();
            let allowed: Vec<&str> = report
                .tool_policy
                .tools
                .iter()
                .filter(|t| t.allowed)
                .map(|t| t.tool.as_str())
                .collect();
            println!("tools allowed:   {}", allowed.join(", "));
            println!("tools blocked:   {}", blocked.join(", "));
            for w in s.warnings.iter().chain(report.tool_policy.warnings.iter()) {
                println!("warning: {w}");
            }
            println!("change with:     {}", s.fix_keys.join(", "));
            Ok(())
        }
    }
}
