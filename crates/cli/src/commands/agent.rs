//! `openclaw agent`, `openclaw sessions`, `openclaw message send`: the agent runtime over RPC.

use std::io::Write;

use serde_json::{Value, json};

use crate::cli::{AgentArgs, MessageCmd, SessionsArgs};
use crate::client::GatewayClient;
use crate::context::{Ctx, print_json};
use crate::exit::CliError;

pub async fn agent(ctx: &Ctx, args: &AgentArgs) -> Result<(), CliError> {
    let message = match (&args.message, &args.message_file) {
        (Some(m), _) => m.clone(),
        (None, Some(f)) => std::fs::read_to_string(f)
            .map_err(|e| CliError::msg(format!("cannot read {f}: {e}")))?,
        (None, None) => {
            return Err(CliError::msg(
                "give the message with -m/--message or --message-file",
            ));
        }
    };
    if args.local {
        return crate::commands::local::agent_local(ctx, args, &message).await;
    }
    let mut params =
        json!({"message": message, "idempotencyKey": uuid::Uuid::new_v4().to_string()});
    if let Some(a) = &args.agent {
        params["agentId"] = json!(a);
    }
    if let Some(k) = &args.session_key {
        params["sessionKey"] = json!(k);
    }
    if let Some(s) = &args.session_id {
        params["sessionId"] = json!(s);
    }
    if let Some(t) = &args.thinking {
        params["thinking"] = json!(t);
    }
    let client_args = args.client();
    let mut client = GatewayClient::connect(ctx.connect_options(&client_args)?).await?;
    let json_out = args.json;
    let mut streamed = false;
    let out = client
        .call_expect_final("agent", params, |ev| {
            if json_out || ev["event"] != "agent" || ev["payload"]["stream"] != "assistant" {
                return;
            }
            if let Some(delta) = ev["payload"]["data"]["delta"].as_str() {
                print!("{delta}");
                let _ = std::io::stdout().flush();
                streamed = true;
            }
        })
        .await?;
    client.close().await;
    if json_out {
        print_json(&out)?;
    } else if streamed {
        println!();
    } else {
        for p in out["result"]["payloads"].as_array().into_iter().flatten() {
            if let Some(t) = p["text"].as_str() {
                println!("{t}");
            }
        }
    }
    if out["status"] == "ok" {
        Ok(())
    } else {
        Err(CliError::msg(format!(
            "agent run failed: {}",
            out["summary"]
                .as_str()
                .or(out["error"].as_str())
                .unwrap_or("unknown error")
        )))
    }
}

pub async fn sessions(ctx: &Ctx, args: &SessionsArgs) -> Result<(), CliError> {
    let mut client = GatewayClient::connect(ctx.connect_options(&args.client)?).await?;
    let mut params = json!({"includeGlobal": true});
    if let Some(a) = &args.agent {
        params["agentId"] = json!(a);
    }
    if let Some(m) = args.active {
        params["activeMinutes"] = json!(m);
    }
    let out = client.call("sessions.list", params).await?;
    client.close().await;
    if args.client.json {
        return print_json(&out).map_err(Into::into);
    }
    let rows = out["sessions"].as_array().cloned().unwrap_or_default();
    println!("{} session(s)", rows.len());
    for r in rows {
        println!(
            "  {:<40} {:<8} {:>8} tok  {}",
            r["key"].as_str().unwrap_or("?"),
            r["kind"].as_str().unwrap_or(""),
            r["totalTokens"].as_u64().unwrap_or(0),
            r["model"].as_str().unwrap_or("")
        );
    }
    Ok(())
}

pub async fn message(ctx: &Ctx, cmd: &MessageCmd) -> Result<(), CliError> {
    let MessageCmd::Send {
        channel,
        target,
        message,
        account,
        dry_run,
        client,
    } = cmd;
    let mut params = json!({"to": target, "message": message, "idempotencyKey": uuid::Uuid::new_v4().to_string()});
    if let Some(c) = channel {
        params["channel"] = json!(c);
    }
    if let Some(a) = account {
        params["accountId"] = json!(a);
    }
    if *dry_run {
        return print_json(&json!({"dryRun": true, "method": "send", "params": params}))
            .map_err(Into::into);
    }
    let mut c = GatewayClient::connect(ctx.connect_options(client)?).await?;
    let out: Value = c.call("send", params).await?;
    c.close().await;
    if client.json {
        print_json(&out)?
    } else {
        println!("Sent.")
    }
    Ok(())
}
