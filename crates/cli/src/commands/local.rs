//! `openclaw agent --local`: one turn in this process, without a gateway (same runtime, same
//! state dir, same transcripts). Useful for scripts and for checking a provider quickly.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use openclaw_agent::{AgentRuntime, RunRequest, RunStatus, RuntimeEvent};
use openclaw_protocol::events::AgentStream;
use serde_json::json;

use crate::cli::AgentArgs;
use crate::context::{Ctx, print_json};
use crate::exit::CliError;

pub async fn agent_local(ctx: &Ctx, args: &AgentArgs, message: &str) -> Result<(), CliError> {
    let loaded = ctx.load_config()?;
    let rt = AgentRuntime::new(&loaded, &ctx.paths, &ctx.env);
    let stream_text = !args.json;
    rt.set_event_sink(Arc::new(move |e: RuntimeEvent| {
        if let RuntimeEvent::Agent(a) = e
            && stream_text
            && a.stream == AgentStream::Assistant
            && let Some(d) = a.data.get("delta").and_then(|d| d.as_str())
        {
            print!("{d}");
            let _ = std::io::stdout().flush();
        }
    }));
    let run_id = uuid::Uuid::new_v4().to_string();
    let req = RunRequest {
        message: message.to_string(),
        agent_id: args.agent.clone(),
        session_key: args.session_key.clone(),
        run_id: Some(run_id.clone()),
        ..RunRequest::default()
    };
    rt.submit(req)
        .await
        .map_err(|e| CliError::msg(e.to_string()))?;
    let outcome = rt
        .wait(&run_id, Duration::from_secs(args.timeout.max(1)))
        .await
        .ok_or_else(|| {
            CliError::msg(format!(
                "the run did not finish within {}s (--timeout)",
                args.timeout
            ))
        })?;
    rt.flush().await;
    if args.json {
        print_json(&json!(outcome.to_agent_result()))?;
    } else {
        println!();
    }
    match outcome.status {
        RunStatus::Ok => Ok(()),
        _ => Err(CliError::msg(format!(
            "agent run failed: {}",
            outcome
                .error
                .clone()
                .unwrap_or_else(|| "unknown error".into())
        ))),
    }
}
