//! `config.get`, `config.set`, `config.apply`, `config.patch`, `config.schema`.

use serde::Deserialize;
use serde_json::{Value, json};

use super::{CallCtx, MethodError, MethodResult, parse};
use crate::config_service::{ConfigService, Written, announce};
use openclaw_config::redact;

fn service(ctx: &CallCtx) -> Result<std::sync::Arc<ConfigService>, MethodError> {
    ctx.state.services.config.clone().ok_or_else(|| {
        MethodError::Unavailable("config service is not running on this gateway".into())
    })
}

pub async fn get(ctx: &CallCtx, _params: Value) -> MethodResult {
    let cfg = service(ctx)?.snapshot();
    let raw = cfg
        .raw_text
        .as_deref()
        .map(|r| redact::redact_raw(r, &cfg.parsed));
    Ok(json!({
        "path": cfg.path,
        "exists": cfg.exists(),
        "raw": raw,
        "parsed": redact::redact(&cfg.parsed),
        "valid": true,
        "config": redact::redact(&cfg.value),
        "hash": cfg.hash,
        "issues": [],
        "warnings": [],
        "legacyIssues": [],
    }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WriteParams {
    raw: String,
    base_hash: Option<String>,
}

fn written(ctx: &CallCtx, w: Written) -> MethodResult {
    announce(&ctx.state, &w);
    Ok(json!({
        "ok": true,
        "path": w.loaded.path,
        "hash": w.loaded.hash,
        "restartRequired": w.plan.needs_restart(),
        "restartPaths": w.plan.restart,
        "hotPaths": w.plan.hot,
        "note": w.plan.hint(),
    }))
}

pub async fn set(ctx: &CallCtx, params: Value) -> MethodResult {
    let p: WriteParams = parse(params)?;
    match service(ctx)?.replace_text(p.raw, p.base_hash).await {
        Ok(w) => written(ctx, w),
        Err(e) => Err(MethodError::Shape(e.to_error())),
    }
}

pub async fn patch(ctx: &CallCtx, params: Value) -> MethodResult {
    let p: WriteParams = parse(params)?;
    match service(ctx)?.patch(p.raw, p.base_hash).await {
        Ok(w) => written(ctx, w),
        Err(e) => Err(MethodError::Shape(e.to_error())),
    }
}

pub async fn schema(_ctx: &CallCtx, _params: Value) -> MethodResult {
    Ok(json!({
        "schema": openclaw_config::config_schema(),
        "uiHints": {},
        "version": env!("CARGO_PKG_VERSION"),
        "generatedAt": chrono::Utc::now().to_rfc3339(),
    }))
}

/// `models.list`: the models of every configured provider.
pub async fn models_list(ctx: &CallCtx, _params: Value) -> MethodResult {
    let Some(svc) = ctx.state.services.config.clone() else {
        return Ok(json!({"models": []}));
    };
    let cfg = svc.snapshot();
    let mut models = Vec::new();
    if let Some(providers) = cfg
        .value
        .pointer("/models/providers")
        .and_then(Value::as_object)
    {
        for (provider, p) in providers {
            for m in p
                .get("models")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let id = m.get("id").and_then(Value::as_str).unwrap_or_default();
                models.push(json!({
                    "id": id,
                    "name": m.get("name").and_then(Value::as_str).unwrap_or(id),
                    "provider": provider,
                    "contextWindow": m.get("contextWindow"),
                    "reasoning": m.get("reasoning").and_then(Value::as_bool).unwrap_or(false),
                    "input": m.get("input").cloned().unwrap_or(json!(["text"])),
                }));
            }
        }
    }
    Ok(json!({"models": models}))
}

/// `agents.list`: `{defaultId, mainKey, scope, agents[]}` as the baseline answers.
pub async fn agents_list(ctx: &CallCtx, _params: Value) -> MethodResult {
    let s = &ctx.state.settings;
    let mut agents = vec![json!({"id": s.default_agent_id})];
    if let Some(svc) = ctx.state.services.config.clone() {
        let cfg = svc.snapshot();
        let settings = openclaw_config::resolve::AgentSettings::resolve(&cfg.config, &svc.paths);
        agents = settings
            .agents
            .iter()
            .map(|a| {
                let mut v = json!({"id": a.id});
                if let Some(n) = &a.name {
                    v["name"] = json!(n);
                }
                v
            })
            .collect();
    }
    Ok(
        json!({"defaultId": s.default_agent_id, "mainKey": s.main_key, "scope": "per-sender", "agents": agents}),
    )
}
