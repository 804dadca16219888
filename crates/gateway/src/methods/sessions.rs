//! `sessions.list`, `sessions.preview`, `sessions.patch`, `sessions.reset`, `sessions.delete`,
//! `sessions.compact`: the session index, shaped like the 2026.2.6 gateway's rows.

use openclaw_agent::SessionView;
use openclaw_protocol::now_ms;
use openclaw_store::{ResetReason, session_key};
use serde::Deserialize;
use serde_json::{Value, json};

use super::agent::{map_err, runtime};
use super::{CallCtx, MethodError, MethodResult, parse};

fn row(v: &SessionView, defaults: &Value) -> Value {
    let e = &v.entry;
    let mut r = json!({
        "key": v.key,
        "kind": session_key::classify(&v.key, e.chat_type.as_deref()).as_str(),
        "updatedAt": e.updated_at,
        "sessionId": e.session_id,
        "abortedLastRun": e.aborted_last_run.unwrap_or(false),
        "inputTokens": e.input_tokens,
        "outputTokens": e.output_tokens,
        "totalTokens": e.total_tokens,
        "modelProvider": e.provider_override.clone().or(e.model_provider.clone()).or_else(|| defaults["modelProvider"].as_str().map(str::to_string)),
        "model": e.model_override.clone().or(e.model.clone()).or_else(|| defaults["model"].as_str().map(str::to_string)),
        "contextTokens": e.context_tokens.or(defaults["contextTokens"].as_u64()),
    });
    for (k, val) in [
        ("label", &e.label),
        ("displayName", &e.display_name),
        ("thinkingLevel", &e.thinking_level),
        ("verboseLevel", &e.verbose_level),
        ("reasoningLevel", &e.reasoning_level),
        ("lastChannel", &e.last_channel),
    ] {
        if let Some(x) = val {
            r[k] = json!(x);
        }
    }
    if !v.active_run_ids.is_empty() {
        r["hasActiveRun"] = json!(true);
        r["activeRunIds"] = json!(v.active_run_ids);
    }
    r
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct ListParams {
    limit: Option<usize>,
    agent_id: Option<String>,
    active_minutes: Option<u64>,
    label: Option<String>,
    search: Option<String>,
}

pub async fn list(ctx: &CallCtx, params: Value) -> MethodResult {
    let p: ListParams = parse(params)?;
    let rt = runtime(ctx)?;
    let defaults = rt.model_defaults();
    let rows = rt
        .list_sessions(p.agent_id.as_deref())
        .await
        .map_err(map_err)?;
    let now = now_ms();
    let sessions: Vec<Value> = rows
        .iter()
        .filter(|r| {
            p.active_minutes
                .is_none_or(|m| now.saturating_sub(r.entry.updated_at) <= m * 60_000)
        })
        .filter(|r| {
            p.label
                .as_ref()
                .is_none_or(|l| r.entry.label.as_deref() == Some(l.as_str()))
        })
        .filter(|r| {
            p.search.as_ref().is_none_or(|s| {
                r.key.contains(s.as_str())
                    || r.entry
                        .label
                        .as_deref()
                        .is_some_and(|l| l.contains(s.as_str()))
            })
        })
        .take(p.limit.unwrap_or(usize::MAX))
        .map(|r| row(r, &defaults))
        .collect();
    let path = match &p.agent_id {
        Some(a) => rt.session_summary(a)["path"].clone(),
        None => json!("(multiple)"),
    };
    Ok(json!({
        "ts": now,
        "path": path,
        "count": sessions.len(),
        "defaults": defaults,
        "sessions": sessions,
    }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PreviewParams {
    keys: Vec<String>,
    limit: Option<usize>,
    max_chars: Option<usize>,
}

pub async fn preview(ctx: &CallCtx, params: Value) -> MethodResult {
    let p: PreviewParams = parse(params)?;
    let rt = runtime(ctx)?;
    let limit = p.limit.unwrap_or(12).clamp(1, 100);
    let max_chars = p.max_chars.unwrap_or(240).clamp(20, 4000);
    let mut previews = Vec::new();
    for key in p.keys.iter().take(64) {
        let exists = rt.session(key).await.map_err(map_err)?.is_some();
        if !exists {
            previews.push(json!({"key": key, "status": "missing", "items": []}));
            continue;
        }
        let h = rt.history(key, limit).await.map_err(map_err)?;
        let items: Vec<Value> = h
            .messages
            .iter()
            .map(|m| {
                let v = serde_json::to_value(m).unwrap_or(Value::Null);
                let mut text = m.text();
                if text.chars().count() > max_chars {
                    text = text.chars().take(max_chars).collect::<String>() + "…";
                }
                json!({"role": v["role"], "text": text})
            })
            .collect();
        previews.push(json!({"key": key, "status": "ok", "items": items}));
    }
    Ok(json!({"ts": now_ms(), "previews": previews}))
}

#[derive(Deserialize)]
struct KeyParam {
    key: String,
}

pub async fn patch(ctx: &CallCtx, params: Value) -> MethodResult {
    let k: KeyParam = parse(params.clone())?;
    let rt = runtime(ctx)?;
    let (_, key) = rt.resolve_target(None, Some(&k.key)).map_err(map_err)?;
    let entry = rt.patch(&key, &params).await.map_err(map_err)?;
    Ok(json!({"ok": true, "key": key, "entry": entry}))
}

#[derive(Deserialize)]
struct ResetParams {
    key: String,
    reason: Option<String>,
}

pub async fn reset(ctx: &CallCtx, params: Value) -> MethodResult {
    let p: ResetParams = parse(params)?;
    let reason = match p.reason.as_deref() {
        None | Some("reset") => ResetReason::Reset,
        Some("new") => ResetReason::New,
        Some(other) => {
            return Err(MethodError::InvalidParams(format!(
                "reason {other:?} is not \"new\" or \"reset\""
            )));
        }
    };
    let rt = runtime(ctx)?;
    let (_, key) = rt.resolve_target(None, Some(&p.key)).map_err(map_err)?;
    let entry = rt.reset(&key, reason).await.map_err(map_err)?;
    Ok(json!({"ok": true, "key": key, "entry": entry}))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DeleteParams {
    key: String,
    delete_transcript: Option<bool>,
}

pub async fn delete(ctx: &CallCtx, params: Value) -> MethodResult {
    let p: DeleteParams = parse(params)?;
    let rt = runtime(ctx)?;
    let (_, key) = rt.resolve_target(None, Some(&p.key)).map_err(map_err)?;
    let deleted = rt
        .delete(&key, p.delete_transcript.unwrap_or(true))
        .await
        .map_err(map_err)?;
    Ok(json!({"ok": true, "key": key, "deleted": deleted}))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CompactParams {
    key: String,
    max_lines: Option<usize>,
}

pub async fn compact(ctx: &CallCtx, params: Value) -> MethodResult {
    let p: CompactParams = parse(params)?;
    let rt = runtime(ctx)?;
    rt.compact(&p.key, p.max_lines.unwrap_or(400))
        .await
        .map_err(map_err)
}
