//! `health`, `status`, `system-presence`, `logs.tail`.

use std::io::{Read, Seek, SeekFrom};
use std::path::PathBuf;

use openclaw_protocol::now_ms;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{CallCtx, MethodError, MethodResult, parse};
use crate::state::SharedState;

const HEARTBEAT_PROMPT: &str = "Read HEARTBEAT.md if it exists (workspace context). Follow it strictly. Do not infer or repeat old tasks from prior chats. If nothing needs attention, reply HEARTBEAT_OK.";

/// The health snapshot, shaped like the baseline's (`ok, ts, durationMs, channels, agents,
/// sessions, ...`).
pub fn health_snapshot(state: &SharedState) -> Value {
    let started = std::time::Instant::now();
    let s = &state.settings;
    let sessions = state.services.session_summary(&s.default_agent_id);
    let agents: Vec<Value> = state
        .services
        .agent_ids(&s.default_agent_id)
        .into_iter()
        .map(|id| {
            let summary = state.services.session_summary(&id);
            json!({
                "agentId": id,
                "isDefault": id == s.default_agent_id,
                "heartbeat": {"enabled": true, "every": "30m", "everyMs": 1_800_000,
                              "prompt": HEARTBEAT_PROMPT, "target": "last", "ackMaxChars": 300},
                "sessions": summary,
            })
        })
        .collect();
    let channels = match &state.services.channels {
        Some(c) => c.health(),
        None => json!({"channels": {}, "channelOrder": [], "channelLabels": {}}),
    };
    json!({
        "ok": true,
        "ts": now_ms(),
        "durationMs": started.elapsed().as_millis() as u64,
        "channels": channels["channels"],
        "channelOrder": channels["channelOrder"],
        "channelLabels": channels["channelLabels"],
        "heartbeatSeconds": 1800,
        "defaultAgentId": s.default_agent_id,
        "agents": agents,
        "sessions": sessions,
    })
}

pub async fn health(ctx: &CallCtx, _params: Value) -> MethodResult {
    let snap = health_snapshot(&ctx.state);
    ctx.state.broadcast_health(snap.clone());
    Ok(snap)
}

pub async fn status(ctx: &CallCtx, _params: Value) -> MethodResult {
    let state = &ctx.state;
    let s = &state.settings;
    let sessions = state.services.session_summary(&s.default_agent_id);
    Ok(json!({
        "heartbeat": {"defaultAgentId": s.default_agent_id,
                      "agents": [{"agentId": s.default_agent_id, "enabled": true, "every": "30m", "everyMs": 1_800_000}]},
        "channelSummary": [],
        "queuedSystemEvents": [],
        "sessions": {
            "paths": [sessions.get("path").cloned().unwrap_or(Value::Null)],
            "count": sessions.get("count").cloned().unwrap_or(json!(0)),
            "defaults": state.services.model_defaults(),
            "recent": sessions.get("recent").cloned().unwrap_or(json!([])),
        },
        "gateway": {
            "version": s.version,
            "uptimeMs": state.uptime_ms(),
            "bind": s.bind.to_string(),
            "authMode": s.auth.mode_name(),
            "stateDir": s.state_dir.display().to_string(),
            "configPath": s.config_path.display().to_string(),
            "clients": state.presence.lock().map(|p| p.len()).unwrap_or(0),
        },
    }))
}

pub async fn presence(ctx: &CallCtx, _params: Value) -> MethodResult {
    Ok(json!(ctx.state.presence_list()))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LogsTailParams {
    cursor: Option<u64>,
    limit: Option<usize>,
    max_bytes: Option<u64>,
}

pub async fn logs_tail(ctx: &CallCtx, params: Value) -> MethodResult {
    let p: LogsTailParams = parse(params)?;
    let Some(file) = ctx.state.settings.log_file.clone() else {
        return Ok(json!({"file": null, "cursor": 0, "size": 0, "lines": []}));
    };
    let limit = p.limit.unwrap_or(200).clamp(1, 5000);
    let max_bytes = p.max_bytes.unwrap_or(250_000).clamp(1, 1_000_000);
    tokio::task::spawn_blocking(move || tail_file(file, p.cursor, limit, max_bytes))
        .await
        .map_err(|e| MethodError::Internal(e.to_string()))?
}

/// Read new log lines after `cursor` (a byte offset), or the last lines when no cursor.
fn tail_file(file: PathBuf, cursor: Option<u64>, limit: usize, max_bytes: u64) -> MethodResult {
    let mut f = match std::fs::File::open(&file) {
        Ok(f) => f,
        Err(_) => return Ok(json!({"file": file, "cursor": 0, "size": 0, "lines": []})),
    };
    let size = f.metadata().map(|m| m.len()).unwrap_or(0);
    let mut reset = false;
    let start = match cursor {
        Some(c) if c <= size => c,
        Some(_) => {
            reset = true;
            size.saturating_sub(max_bytes)
        }
        None => size.saturating_sub(max_bytes),
    };
    let end = (start + max_bytes).min(size);
    let truncated = end < size;
    f.seek(SeekFrom::Start(start))
        .map_err(|e| MethodError::Internal(e.to_string()))?;
    let mut buf = vec![0u8; (end - start) as usize];
    f.read_exact(&mut buf)
        .map_err(|e| MethodError::Internal(e.to_string()))?;
    // Only hand out whole lines; the cursor stops after the last newline.
    let consumed = buf
        .iter()
        .rposition(|b| *b == b'\n')
        .map(|i| i + 1)
        .unwrap_or(0);
    let text = String::from_utf8_lossy(&buf[..consumed]);
    let mut lines: Vec<&str> = text.lines().collect();
    // Without a cursor the first line may be cut in the middle: drop it.
    if cursor.is_none() && start > 0 && !lines.is_empty() {
        lines.remove(0);
    }
    if lines.len() > limit {
        lines.drain(..lines.len() - limit);
    }
    Ok(json!({
        "file": file,
        "cursor": start + consumed as u64,
        "size": size,
        "lines": lines,
        "truncated": truncated,
        "reset": reset,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_follows_cursor_and_returns_whole_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("g.log");
        std::fs::write(&path, "one\ntwo\nthr").unwrap();
        let v = tail_file(path.clone(), None, 10, 1000).unwrap();
        assert_eq!(v["lines"], json!(["one", "two"]));
        let cursor = v["cursor"].as_u64().unwrap();
        assert_eq!(cursor, 8);
        std::fs::write(&path, "one\ntwo\nthree\nfour\n").unwrap();
        let v = tail_file(path.clone(), Some(cursor), 10, 1000).unwrap();
        assert_eq!(v["lines"], json!(["three", "four"]));
        let v = tail_file(path, Some(10_000), 10, 1000).unwrap();
        assert_eq!(v["reset"], json!(true));
    }
}
