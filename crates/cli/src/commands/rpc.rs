//! Commands that are one RPC to a running gateway: `health`, `status`, `gateway call`,
//! `gateway health`, `gateway status`.

use serde_json::{Value, json};

use crate::cli::{CallArgs, ClientArgs};
use crate::client::GatewayClient;
use crate::context::{Ctx, print_json};
use crate::exit::CliError;

pub async fn call_once(
    ctx: &Ctx,
    args: &ClientArgs,
    method: &str,
    params: Value,
) -> Result<Value, CliError> {
    let opts = ctx.connect_options(args)?;
    let mut client = GatewayClient::connect(opts).await?;
    let out = client.call(method, params).await?;
    client.close().await;
    Ok(out)
}

pub async fn health(ctx: &Ctx, args: &ClientArgs) -> Result<(), CliError> {
    let v = call_once(ctx, args, "health", json!({})).await?;
    if args.json {
        print_json(&v)?;
        return Ok(());
    }
    let ok = v["ok"].as_bool().unwrap_or(false);
    println!("Gateway health: {}", if ok { "ok" } else { "NOT OK" });
    if let Some(agents) = v["agents"].as_array() {
        for a in agents {
            println!(
                "  agent {}{}: {} session(s)",
                a["agentId"].as_str().unwrap_or("?"),
                if a["isDefault"] == true {
                    " (default)"
                } else {
                    ""
                },
                a["sessions"]["count"]
            );
        }
    }
    let channels = v["channelOrder"].as_array().map(|c| c.len()).unwrap_or(0);
    println!("  channels: {channels}");
    if ok {
        Ok(())
    } else {
        Err(CliError::msg("gateway reports unhealthy"))
    }
}

pub async fn status(ctx: &Ctx, args: &ClientArgs) -> Result<(), CliError> {
    let v = call_once(ctx, args, "status", json!({})).await?;
    if args.json {
        print_json(&v)?;
        return Ok(());
    }
    let g = &v["gateway"];
    println!("Gateway: reachable");
    if g.is_object() {
        println!("  version: {}", g["version"].as_str().unwrap_or("?"));
        println!(
            "  bind:    {} (auth {})",
            g["bind"].as_str().unwrap_or("?"),
            g["authMode"].as_str().unwrap_or("?")
        );
        println!("  uptime:  {}s", g["uptimeMs"].as_u64().unwrap_or(0) / 1000);
        println!("  config:  {}", g["configPath"].as_str().unwrap_or("?"));
    }
    let s = &v["sessions"];
    println!("Sessions: {}", s["count"]);
    if let Some(recent) = s["recent"].as_array() {
        for r in recent.iter().take(10) {
            println!(
                "  {}  {}",
                r["key"].as_str().unwrap_or("?"),
                r["model"].as_str().unwrap_or("")
            );
        }
    }
    Ok(())
}

pub async fn gateway_status(ctx: &Ctx, args: &ClientArgs) -> Result<(), CliError> {
    let opts = ctx.connect_options(args)?;
    let url = opts.url.clone();
    match GatewayClient::connect(opts).await {
        Ok(mut client) => {
            let hello = client.hello.clone();
            let status = client.call("status", json!({})).await.ok();
            client.close().await;
            if args.json {
                print_json(&json!({"ok": true, "url": url, "hello": {
                    "protocol": hello["protocol"], "server": hello["server"], "auth": hello["auth"]}, "status": status}))?;
            } else {
                println!("Runtime: running");
                println!("Gateway target: {url}");
                println!("Connectivity probe: ok (protocol {})", hello["protocol"]);
                let scopes = hello["auth"]["scopes"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                let capability = if scopes.iter().any(|s| s == "operator.admin") {
                    "admin-capable"
                } else if scopes.iter().any(|s| s == "operator.write") {
                    "write-capable"
                } else {
                    "read-only"
                };
                println!("Capability: {capability}");
            }
            Ok(())
        }
        Err(e) => {
            if args.json {
                print_json(&json!({"ok": false, "url": url, "error": e.to_string()}))?;
            } else {
                println!("Gateway target: {url}");
                println!("Connectivity probe: failed: {e}");
            }
            Err(CliError::Client(e))
        }
    }
}

pub async fn call(ctx: &Ctx, args: &CallArgs) -> Result<(), CliError> {
    let params: Value = serde_json::from_str(&args.params)
        .map_err(|e| CliError::msg(format!("--params is not valid JSON: {e}")))?;
    let opts = ctx.connect_options(&args.client)?;
    let mut client = GatewayClient::connect(opts).await?;
    let out = if args.expect_final {
        client
            .call_expect_final(&args.method, params, |_| {})
            .await?
    } else {
        client.call(&args.method, params).await?
    };
    client.close().await;
    print_json(&out)?;
    Ok(())
}
