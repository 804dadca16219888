//! `openclaw devices list|approve|reject|remove`: device pairing through the gateway.

use serde_json::{Value, json};

use crate::cli::{ClientArgs, DevicesCmd};
use crate::client::GatewayClient;
use crate::context::{Ctx, print_json};
use crate::exit::CliError;

pub async fn run(ctx: &Ctx, cmd: &DevicesCmd) -> Result<(), CliError> {
    match cmd {
        DevicesCmd::List { client } => list(ctx, client).await,
        DevicesCmd::Approve {
            request_id,
            latest,
            display_name,
            client,
        } => {
            let Some(id) = request_id.clone() else {
                return preview_latest(ctx, client, *latest).await;
            };
            let mut params = json!({"requestId": id});
            if let Some(n) = display_name {
                params["displayName"] = json!(n);
            }
            let out = call(ctx, client, "device.pair.approve", params).await?;
            if client.json {
                print_json(&out)?;
            } else {
                println!(
                    "Approved {} (device {}).",
                    id,
                    short(out["device"]["deviceId"].as_str().unwrap_or("?"))
                );
                println!("The device can reconnect now.");
            }
            Ok(())
        }
        DevicesCmd::Reject { request_id, client } => {
            let out = call(
                ctx,
                client,
                "device.pair.reject",
                json!({"requestId": request_id}),
            )
            .await?;
            if client.json {
                print_json(&out)?
            } else {
                println!("Rejected {request_id}.")
            }
            Ok(())
        }
        DevicesCmd::Remove { device_id, client } => {
            let out = call(
                ctx,
                client,
                "device.pair.remove",
                json!({"deviceId": device_id}),
            )
            .await?;
            if client.json {
                print_json(&out)?
            } else {
                println!("Removed device {}.", short(device_id))
            }
            Ok(())
        }
    }
}

async fn call(
    ctx: &Ctx,
    client: &ClientArgs,
    method: &str,
    params: Value,
) -> Result<Value, CliError> {
    let mut c = GatewayClient::connect(ctx.connect_options(client)?).await?;
    let out = c.call(method, params).await?;
    c.close().await;
    Ok(out)
}

fn short(id: &str) -> &str {
    &id[..id.len().min(16)]
}

async fn list(ctx: &Ctx, client: &ClientArgs) -> Result<(), CliError> {
    let out = call(ctx, client, "device.pair.list", json!({})).await?;
    if client.json {
        return print_json(&out).map_err(Into::into);
    }
    let pending = out["pending"].as_array().cloned().unwrap_or_default();
    let paired = out["paired"].as_array().cloned().unwrap_or_default();
    println!("Pending ({}):", pending.len());
    for p in &pending {
        println!(
            "  {}  device {}  {} {}  role {}  scopes {}  from {}",
            p["requestId"].as_str().unwrap_or("?"),
            short(p["deviceId"].as_str().unwrap_or("?")),
            p["clientId"].as_str().unwrap_or(""),
            p["platform"].as_str().unwrap_or(""),
            p["role"].as_str().unwrap_or(""),
            join(&p["scopes"]),
            p["remoteIp"].as_str().unwrap_or("?"),
        );
    }
    if !pending.is_empty() {
        println!("  approve with: openclaw devices approve <requestId>");
    }
    println!("Paired ({}):", paired.len());
    for d in &paired {
        println!(
            "  {}  {} {}  role {}  scopes {}",
            short(d["deviceId"].as_str().unwrap_or("?")),
            d["displayName"]
                .as_str()
                .or(d["clientId"].as_str())
                .unwrap_or(""),
            d["platform"].as_str().unwrap_or(""),
            d["role"].as_str().unwrap_or(""),
            join(&d["scopes"]),
        );
    }
    Ok(())
}

fn join(v: &Value) -> String {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default()
}

/// Bare `approve` (or `--latest`) only shows the newest request, as OpenClaw does: approving
/// blind would let whoever connected last in.
async fn preview_latest(ctx: &Ctx, client: &ClientArgs, _latest: bool) -> Result<(), CliError> {
    let out = call(ctx, client, "device.pair.list", json!({})).await?;
    let newest = out["pending"].as_array().and_then(|p| {
        p.iter()
            .max_by_key(|r| r["ts"].as_u64().unwrap_or(0))
            .cloned()
    });
    match newest {
        Some(r) => Err(CliError::msg(format!(
            "newest pending request: {} (device {}, {} from {}); approve it explicitly: openclaw devices approve {}",
            r["requestId"].as_str().unwrap_or("?"),
            short(r["deviceId"].as_str().unwrap_or("?")),
            r["clientId"].as_str().unwrap_or("?"),
            r["remoteIp"].as_str().unwrap_or("?"),
            r["requestId"].as_str().unwrap_or("?"),
        ))),
        None => Err(CliError::msg("no pending pairing requests")),
    }
}
