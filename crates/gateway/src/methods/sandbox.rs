//! `sandbox.list`, `sandbox.recreate`, `sandbox.explain`: the Control UI's Sandbox tab.
//!
//! The data comes from the agent crate's `sandbox_backend::config` (shared with the CLI, which
//! answers the same without a gateway). `browser: true` lists and removes the sandbox browser
//! containers (their own registry) instead.

use serde::Deserialize;
use serde_json::{Value, json};

use openclaw_agent::sandbox_backend::config::{
    explain_for, list_browser_rows, list_rows, recreate_target,
};
use openclaw_sandbox::SandboxError;

use super::{CallCtx, MethodError, MethodResult, parse};

fn config(
    ctx: &CallCtx,
) -> Result<std::sync::Arc<crate::config_service::ConfigService>, MethodError> {
    ctx.state
        .services
        .config
        .clone()
        .ok_or_else(|| MethodError::Unavailable("config service is not running".into()))
}

fn manager(ctx: &CallCtx) -> Result<std::sync::Arc<openclaw_sandbox::SandboxManager>, MethodError> {
    ctx.state.services.sandbox.clone().ok_or_else(|| {
        MethodError::Unavailable("the agent sandbox is not configured on this gateway".into())
    })
}

fn sandbox_err(e: SandboxError) -> MethodError {
    match e {
        SandboxError::Config { .. } | SandboxError::Security { .. } => {
            MethodError::InvalidParams(e.to_string())
        }
        other => MethodError::Unavailable(other.to_string()),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListParams {
    #[serde(default)]
    browser: bool,
}

pub async fn list(ctx: &CallCtx, params: Value) -> MethodResult {
    let p: ListParams = parse(params)?;
    let cfg = config(ctx)?;
    let m = manager(ctx)?;
    let snap = cfg.snapshot();
    let rows = if p.browser {
        list_browser_rows(&m, &snap, &cfg.paths).await
    } else {
        list_rows(&m, &snap, &cfg.paths).await
    }
    .map_err(sandbox_err)?;
    Ok(json!({ "containers": rows }))
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RecreateParams {
    #[serde(default)]
    all: bool,
    session: Option<String>,
    agent: Option<String>,
    #[serde(default)]
    browser: bool,
}

pub async fn recreate(ctx: &CallCtx, params: Value) -> MethodResult {
    let p: RecreateParams = parse(params)?;
    let target = recreate_target(p.all, p.session.as_deref(), p.agent.as_deref())
        .map_err(MethodError::InvalidParams)?;
    let m = manager(ctx)?;
    let removed = if p.browser {
        m.recreate_browsers(&target).await
    } else {
        m.recreate(&target).await
    }
    .map_err(sandbox_err)?;
    Ok(json!({ "removed": removed }))
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExplainParams {
    session_key: Option<String>,
    /// Alias used by the CLI flag name.
    session: Option<String>,
    agent_id: Option<String>,
    agent: Option<String>,
}

pub async fn explain(ctx: &CallCtx, params: Value) -> MethodResult {
    let p: ExplainParams = parse(params)?;
    let cfg = config(ctx)?;
    let snap = cfg.snapshot();
    let report = explain_for(
        &snap,
        &cfg.paths,
        p.session_key.or(p.session).as_deref(),
        p.agent_id.or(p.agent).as_deref(),
    )
    .map_err(sandbox_err)?;
    serde_json::to_value(&report).map_err(|e| MethodError::Internal(e.to_string()))
}
