//! The `process` tool: follow up on commands `exec` moved to the background.
//!
//! Actions: `list`, `poll` (new output since the last poll plus exit status; waits up to
//! `timeout` ms, at most 30000), `log` (line window over retained output; default last 200
//! lines), `write` (stdin, optional `eof`), `kill`, `clear` (forget a finished job) and
//! `remove` (kill if needed, then forget). Jobs live in the agent's [`JobRegistry`].
//!
//! [`JobRegistry`]: super::jobs::JobRegistry

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use super::jobs::{Job, JobStatus};
use super::{Tool, ToolContext, ToolOutput, args};

/// Longest a single poll may wait.
pub const MAX_POLL_WAIT_MS: u64 = 30_000;
/// Lines `log` shows when no window is given.
pub const DEFAULT_LOG_LINES: usize = 200;

/// `process`.
#[derive(Debug, Default, Clone, Copy)]
pub struct ProcessTool;

fn status_line(job: &Job, status: &JobStatus) -> String {
    match status {
        JobStatus::Running => "Process still running.".to_string(),
        JobStatus::Exited(e) => match (e.code, e.signal) {
            (Some(c), _) => format!("Process exited with code {c}."),
            (None, Some(s)) => format!("Process was terminated by signal {s}."),
            _ => "Process exited.".into(),
        },
        JobStatus::TimedOut => "Process timed out and was killed.".into(),
        JobStatus::Killed => format!("Process {} was killed.", job.id),
        JobStatus::Failed(m) => format!("Process failed: {m}"),
    }
}

fn job_row(job: &Job) -> Value {
    let snap = job.snapshot();
    json!({
        "sessionId": job.id,
        "status": snap.status.as_str(),
        "exitCode": snap.status.exit_code(),
        "pid": job.pid,
        "startedAt": job.started_at_ms,
        "runtimeMs": u64::try_from(snap.duration.as_millis()).unwrap_or(u64::MAX),
        "cwd": job.cwd.display().to_string(),
        "command": job.command,
        "tail": job.tail(200),
    })
}

fn find(ctx: &ToolContext, a: &Value) -> Result<Arc<Job>, ToolOutput> {
    let id = args::required_str(a, &["sessionId", "session_id", "id"], "process")
        .map_err(ToolOutput::error)?;
    ctx.jobs.get(id).ok_or_else(|| {
        ToolOutput::error(format!("No process session \"{id}\" for this agent; use process with action \"list\" to see running sessions."))
    })
}

/// Select lines `[offset, offset+limit)` (0-based offset), defaulting to the last 200.
pub fn log_window(
    text: &str,
    offset: Option<usize>,
    limit: Option<usize>,
) -> (String, usize, usize) {
    let lines: Vec<&str> = text.lines().collect();
    let total = lines.len();
    let (start, count) = match (offset, limit) {
        (None, None) => (total.saturating_sub(DEFAULT_LOG_LINES), DEFAULT_LOG_LINES),
        (None, Some(l)) => (total.saturating_sub(l), l),
        (Some(o), l) => (o.min(total), l.unwrap_or(DEFAULT_LOG_LINES)),
    };
    let end = start.saturating_add(count).min(total);
    (lines[start..end].join("\n"), start, total)
}

impl ProcessTool {
    async fn poll(ctx: &ToolContext, a: &Value, cancel: CancellationToken) -> ToolOutput {
        let job = match find(ctx, a) {
            Ok(j) => j,
            Err(e) => return e,
        };
        let wait_ms = match args::f64(a, "timeout", "process") {
            Ok(v) => v.map(|v| v as u64).unwrap_or(0).min(MAX_POLL_WAIT_MS),
            Err(e) => return ToolOutput::error(e),
        };
        if wait_ms > 0 {
            job.wait_output(
                Some(Instant::now() + Duration::from_millis(wait_ms)),
                &cancel,
            )
            .await;
        }
        let (out, err, status) = job.take_pending();
        let mut text = String::new();
        text.push_str(&out);
        if !err.is_empty() {
            if !text.is_empty() && !text.ends_with('\n') {
                text.push('\n');
            }
            text.push_str(&err);
        }
        let body = if text.trim().is_empty() {
            "(no new output)".to_string()
        } else {
            text.trim_end().to_string()
        };
        ToolOutput::text(format!("{body}\n\n{}", status_line(&job, &status))).with_details(json!({
            "status": status.as_str(),
            "sessionId": job.id,
            "exitCode": status.exit_code(),
            "aggregated": text,
        }))
    }

    async fn write(ctx: &ToolContext, a: &Value) -> ToolOutput {
        let job = match find(ctx, a) {
            Ok(j) => j,
            Err(e) => return e,
        };
        let data = args::str(a, &["data", "text"]).unwrap_or("");
        let eof = match args::bool(a, "eof", "process") {
            Ok(v) => v.unwrap_or(false),
            Err(e) => return ToolOutput::error(e),
        };
        match job.write_stdin(data.as_bytes(), eof).await {
            Ok(()) => ToolOutput::text(format!(
                "Wrote {} bytes to session {}{}.",
                data.len(),
                job.id,
                if eof { " and closed stdin" } else { "" }
            ))
            .with_details(json!({"status": "running", "sessionId": job.id})),
            Err(e) => ToolOutput::error(e),
        }
    }
}

#[async_trait]
impl Tool for ProcessTool {
    fn name(&self) -> &str {
        "process"
    }

    fn description(&self) -> &str {
        "Manage background exec sessions: list, poll, log, write, kill, clear, remove."
    }

    fn parameters(&self) -> Value {
        json!({
            "type": "object",
            "properties": {
                "action": {"type": "string", "enum": ["list", "poll", "log", "write", "kill", "clear", "remove"], "description": "Process action"},
                "sessionId": {"type": "string", "description": "Session id for actions other than list"},
                "data": {"type": "string", "description": "Data to write to stdin (write)"},
                "eof": {"type": "boolean", "description": "Close stdin after writing (write)"},
                "offset": {"type": "number", "description": "First line, 0-based (log)"},
                "limit": {"type": "number", "description": "Number of lines (log; default last 200)"},
                "timeout": {"type": "number", "description": "Milliseconds to wait for new output (poll; max 30000)"}
            },
            "required": ["action"]
        })
    }

    async fn call(&self, ctx: &ToolContext, a: Value, cancel: CancellationToken) -> ToolOutput {
        let action = match args::required_str(&a, &["action"], "process") {
            Ok(s) => s.to_ascii_lowercase(),
            Err(e) => return ToolOutput::error(e),
        };
        match action.as_str() {
            "list" => {
                let jobs = ctx.jobs.list();
                let rows: Vec<Value> = jobs.iter().map(|j| job_row(j)).collect();
                let text = if jobs.is_empty() {
                    "No running or recent background sessions.".to_string()
                } else {
                    jobs.iter()
                        .map(|j| format!("{} {} {}", j.id, j.status().as_str(), j.command))
                        .collect::<Vec<_>>()
                        .join("\n")
                };
                ToolOutput::text(text)
                    .with_details(json!({"status": "completed", "sessions": rows}))
            }
            "poll" => Self::poll(ctx, &a, cancel).await,
            "log" => {
                let job = match find(ctx, &a) {
                    Ok(j) => j,
                    Err(e) => return e,
                };
                let (offset, limit) = match (
                    args::usize(&a, "offset", "process"),
                    args::usize(&a, "limit", "process"),
                ) {
                    (Ok(o), Ok(l)) => (o, l),
                    (Err(e), _) | (_, Err(e)) => return ToolOutput::error(e),
                };
                let snap = job.snapshot();
                let (text, start, total) = log_window(&snap.aggregated, offset, limit);
                let shown = if text.is_empty() {
                    "(no output)".to_string()
                } else {
                    text
                };
                ToolOutput::text(shown).with_details(json!({
                    "status": snap.status.as_str(),
                    "sessionId": job.id,
                    "offset": start,
                    "totalLines": total,
                    "truncated": snap.output_truncated,
                }))
            }
            "write" => Self::write(ctx, &a).await,
            "kill" => {
                let job = match find(ctx, &a) {
                    Ok(j) => j,
                    Err(e) => return e,
                };
                if !job.status().is_running() {
                    return ToolOutput::text(format!(
                        "Session {} already finished ({}).",
                        job.id,
                        job.status().as_str()
                    ))
                    .with_details(json!({"status": job.status().as_str(), "sessionId": job.id}));
                }
                job.kill();
                let _ = job
                    .wait(Some(Instant::now() + Duration::from_secs(5)), &cancel)
                    .await;
                ToolOutput::text(format!("Killed session {}.", job.id))
                    .with_details(json!({"status": job.status().as_str(), "sessionId": job.id}))
            }
            "clear" => {
                let job = match find(ctx, &a) {
                    Ok(j) => j,
                    Err(e) => return e,
                };
                if job.status().is_running() {
                    return ToolOutput::error(format!(
                        "Session {} is still running; kill it first or use action \"remove\".",
                        job.id
                    ));
                }
                ctx.jobs.remove(&job.id);
                ToolOutput::text(format!("Cleared session {}.", job.id))
                    .with_details(json!({"status": "completed", "sessionId": job.id}))
            }
            "remove" => {
                let job = match find(ctx, &a) {
                    Ok(j) => j,
                    Err(e) => return e,
                };
                ctx.jobs.remove(&job.id);
                ToolOutput::text(format!("Removed session {}.", job.id))
                    .with_details(json!({"status": "completed", "sessionId": job.id}))
            }
            other => ToolOutput::error(format!(
                "process: unknown action \"{other}\"; use one of list, poll, log, write, kill, clear, remove"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn log_windows() {
        let text = (1..=300)
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join("\n");
        let (t, start, total) = log_window(&text, None, None);
        assert_eq!((start, total), (100, 300));
        assert!(t.starts_with("101\n") && t.ends_with("\n300"));
        assert_eq!(log_window(&text, Some(0), Some(2)).0, "1\n2");
        assert_eq!(log_window(&text, None, Some(1)).0, "300");
        assert_eq!(log_window(&text, Some(1000), Some(5)).0, "");
    }
}
