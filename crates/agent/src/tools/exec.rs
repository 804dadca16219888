//! The `exec` tool: run a shell command through the session's [`ExecBackend`].
//!
//! Foreground calls wait up to `yieldMs` (default 10 s) and then hand the still-running command
//! to the job registry, answering `{status: "running", sessionId, tail}` so the model can follow
//! up with `process`. The deadline (`timeout`, default 1800 s, `0` = none) is enforced by the
//! job monitor for foreground and background alike and kills the whole process group.
//!
//! Environment: the backend's base environment (on the host: the gateway's) plus the call's
//! `env`, plus `OPENCLAW_SHELL=exec`. `PATH` and `LD_*`/`DYLD_*` cannot be overridden: they
//! would change which binaries and libraries every later command loads.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use super::backend::ExecRequest;
use super::jobs::{Job, JobStatus, WaitOutcome};
use super::{Tool, ToolContext, ToolOutput, args};

/// Chars of output shown in a "still running" answer.
pub const BACKGROUND_TAIL_CHARS: usize = 2_000;

/// `exec`.
#[derive(Debug, Default, Clone, Copy)]
pub struct ExecTool;

/// Validated exec parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct ExecParams {
    pub command: String,
    pub workdir: Option<String>,
    pub env: BTreeMap<String, String>,
    /// `None` = use the default; `Some(None)` = no deadline (`timeout: 0`).
    pub timeout: Option<Option<Duration>>,
    pub background: bool,
    pub yield_ms: Option<u64>,
    pub pty: bool,
}

/// Check the call's env: values must be strings, and `PATH`, `LD_*`, `DYLD_*` are refused.
pub fn validate_env(env: Option<&Value>) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    let Some(env) = env else { return Ok(out) };
    if env.is_null() {
        return Ok(out);
    }
    let Some(obj) = env.as_object() else {
        return Err("exec: \"env\" must be an object of string values".into());
    };
    for (k, v) in obj {
        let upper = k.to_ascii_uppercase();
        if upper == "PATH" || upper.starts_with("LD_") || upper.starts_with("DYLD_") {
            return Err(format!(
                "exec: env.{k} cannot be overridden (PATH, LD_* and DYLD_* are blocked); prepend to PATH inside the command instead, e.g. \"PATH=/opt/bin:$PATH mycmd\", or set tools.exec.pathPrepend"
            ));
        }
        if k.is_empty() || k.contains('=') || k.contains('\0') {
            return Err(format!("exec: invalid env variable name {k:?}"));
        }
        let v = match v {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            other => return Err(format!("exec: env.{k} must be a string, got {other}")),
        };
        if v.contains('\0') {
            return Err(format!("exec: env.{k} contains a NUL byte"));
        }
        out.insert(k.clone(), v);
    }
    Ok(out)
}

impl ExecParams {
    pub fn parse(a: &Value) -> Result<Self, String> {
        let command = args::required_str(a, &["command", "cmd"], "exec")?.to_string();
        if command.trim().is_empty() {
            return Err("exec: \"command\" is empty".into());
        }
        let timeout = args::f64(a, "timeout", "exec")?
            .or(args::f64(a, "timeoutSeconds", "exec")?)
            .map(|s| {
                if s == 0.0 {
                    None
                } else {
                    Some(Duration::from_secs_f64(s))
                }
            });
        Ok(Self {
            command,
            workdir: args::str(a, &["workdir", "cwd"]).map(str::to_string),
            env: validate_env(a.get("env"))?,
            timeout,
            background: args::bool(a, "background", "exec")?.unwrap_or(false),
            yield_ms: args::f64(a, "yieldMs", "exec")?.map(|v| v as u64),
            pty: args::bool(a, "pty", "exec")?.unwrap_or(false),
        })
    }
}

fn job_details(
    job: &Job,
    status: &str,
    exit_code: Option<i32>,
    duration: Duration,
    aggregated: &str,
) -> Value {
    json!({
        "status": status,
        "exitCode": exit_code,
        "durationMs": u64::try_from(duration.as_millis()).unwrap_or(u64::MAX),
        "aggregated": aggregated,
        "cwd": job.cwd.display().to_string(),
    })
}

/// The answer for a job that is still running (background or yielded).
pub fn running_output(job: &Job, warnings: &[String]) -> ToolOutput {
    let tail = job.tail(BACKGROUND_TAIL_CHARS);
    let pid = job.pid.map(|p| format!(", pid {p}")).unwrap_or_default();
    let mut text = format!(
        "Command still running (session {}{pid}). Use process (list/poll/log/write/kill/clear/remove) for follow-up.",
        job.id
    );
    if !tail.trim().is_empty() {
        text.push_str("\n\n");
        text.push_str(tail.trim_end());
    }
    for w in warnings {
        text = format!("{w}\n\n{text}");
    }
    ToolOutput::text(text).with_details(json!({
        "status": "running",
        "sessionId": job.id,
        "pid": job.pid,
        "startedAt": job.started_at_ms,
        "cwd": job.cwd.display().to_string(),
        "tail": tail,
    }))
}

/// The answer for a finished job.
pub fn finished_output(job: &Job, timeout: Option<Duration>, warnings: &[String]) -> ToolOutput {
    let snap = job.snapshot();
    let mut aggregated = snap.aggregated.trim_end().to_string();
    if snap.output_truncated {
        aggregated = format!(
            "[output truncated; showing the last {} chars]\n{aggregated}",
            aggregated.chars().count()
        );
    }
    let mut text = if aggregated.is_empty() {
        String::new()
    } else {
        aggregated.clone()
    };
    let mut is_error = false;
    match &snap.status {
        JobStatus::Exited(e) if e.code == Some(0) => {
            if text.is_empty() {
                text = "(no output)".into();
            }
        }
        JobStatus::Exited(e) => {
            is_error = true;
            let why = match (e.code, e.signal) {
                (Some(c), _) => format!("Command exited with code {c}"),
                (None, Some(s)) => format!("Command was terminated by signal {s}"),
                (None, None) => "Command failed".into(),
            };
            text = if text.is_empty() {
                why
            } else {
                format!("{text}\n\n({why})")
            };
        }
        JobStatus::TimedOut => {
            is_error = true;
            let secs = timeout.map(|t| t.as_secs_f64()).unwrap_or(0.0);
            let why = format!(
                "Command timed out after {secs} seconds and was killed; raise \"timeout\" (seconds, 0 = none) or run it with background: true"
            );
            text = if text.is_empty() {
                why
            } else {
                format!("{text}\n\n{why}")
            };
        }
        JobStatus::Killed => {
            is_error = true;
            text = if text.is_empty() {
                "Command was aborted".into()
            } else {
                format!("{text}\n\nCommand was aborted")
            };
        }
        JobStatus::Failed(msg) => {
            is_error = true;
            text = format!("{text}\n\nCommand failed: {msg}")
                .trim_start()
                .to_string();
        }
        JobStatus::Running => {}
    }
    for w in warnings {
        text = format!("{w}\n\n{text}");
    }
    let details = job_details(
        job,
        snap.status.as_str(),
        snap.status.exit_code(),
        snap.duration,
        &aggregated,
    );
    ToolOutput {
        content: vec![openclaw_protocol::ContentBlock::text(text)],
        details: Some(details),
        is_error,
    }
}

#[async_trait]
impl Tool for ExecTool {
    fn name(&self) -> &str {
        "exec"
    }

    fn description(&self) -> &str {
        "Execute a shell command (sh -c) in the workspace. Returns combined stdout+stderr. Long-running commands move to the background after yieldMs (default 10000) and can be followed with the process tool; set background: true to return immediately."
    }

    fn parameters(&self) -> Value {
        json!({
            "type": "object",
            "properties": {
                "command": {"type": "string", "description": "Shell command to execute"},
                "workdir": {"type": "string", "description": "Working directory (defaults to the workspace)"},
                "env": {"type": "object", "description": "Extra environment variables", "additionalProperties": {"type": "string"}},
                "yieldMs": {"type": "number", "description": "Milliseconds to wait before backgrounding (default 10000)"},
                "background": {"type": "boolean", "description": "Run in background immediately"},
                "timeout": {"type": "number", "description": "Timeout in seconds (default 1800; 0 = no timeout); kills the process on expiry"},
                "pty": {"type": "boolean", "description": "Run in a pseudo-terminal (falls back to pipes where unsupported)"}
            },
            "required": ["command"]
        })
    }

    async fn call(&self, ctx: &ToolContext, a: Value, cancel: CancellationToken) -> ToolOutput {
        let p = match ExecParams::parse(&a) {
            Ok(p) => p,
            Err(e) => return ToolOutput::error(e),
        };
        let mut warnings = Vec::new();
        if p.pty && !ctx.exec.supports_pty() {
            warnings.push(format!(
                "Warning: pty is not supported by the {} exec backend; the command ran over pipes without a TTY.",
                ctx.exec.name()
            ));
        }
        let workdir: PathBuf = match &p.workdir {
            Some(w) => ctx.resolve(w),
            None => ctx.workspace.clone(),
        };
        let mut env = p.env.clone();
        env.insert("OPENCLAW_SHELL".into(), "exec".into());
        let req = ExecRequest {
            command: p.command.clone(),
            workdir: workdir.clone(),
            env,
            pty: p.pty && ctx.exec.supports_pty(),
            interactive: p.pty || p.background || p.yield_ms.is_some(),
        };
        let proc = match ctx.exec.spawn(req).await {
            Ok(proc) => proc,
            Err(e) => return ToolOutput::error(e.to_string()),
        };
        let timeout = p.timeout.unwrap_or(ctx.exec_settings.default_timeout);
        let job = match ctx.jobs.start(proc, &p.command, workdir, timeout) {
            Ok(j) => j,
            Err(e) => return ToolOutput::error(e),
        };
        let can_background = ctx.exec_settings.background_allowed;
        if p.background && can_background {
            job.set_backgrounded();
            return running_output(&job, &warnings);
        }
        let yield_after = if can_background {
            Some(
                p.yield_ms
                    .map(Duration::from_millis)
                    .unwrap_or(ctx.exec_settings.default_yield),
            )
        } else {
            None
        };
        let deadline = yield_after.map(|d| Instant::now() + d);
        match job.wait(deadline, &cancel).await {
            WaitOutcome::Finished => {
                ctx.jobs.remove(&job.id);
                finished_output(&job, timeout, &warnings)
            }
            WaitOutcome::TimedOut => {
                job.set_backgrounded();
                running_output(&job, &warnings)
            }
            WaitOutcome::Cancelled => {
                job.kill();
                // The monitor records the exit as soon as the group is gone.
                let grace = Instant::now() + Duration::from_secs(5);
                let _ = job.wait(Some(grace), &CancellationToken::new()).await;
                ctx.jobs.remove(&job.id);
                finished_output(&job, timeout, &warnings)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn env_rules() {
        assert!(
            validate_env(Some(&json!({"PATH": "/x"})))
                .unwrap_err()
                .contains("PATH")
        );
        assert!(validate_env(Some(&json!({"path": "/x"}))).is_err());
        assert!(validate_env(Some(&json!({"LD_PRELOAD": "/x.so"}))).is_err());
        assert!(validate_env(Some(&json!({"DYLD_INSERT_LIBRARIES": "/x"}))).is_err());
        assert!(validate_env(Some(&json!(["A"]))).is_err());
        let ok = validate_env(Some(&json!({"FOO": "bar", "N": 1}))).unwrap();
        assert_eq!(ok.get("FOO").map(String::as_str), Some("bar"));
        assert_eq!(ok.get("N").map(String::as_str), Some("1"));
    }

    #[test]
    fn params_defaults_and_zero_timeout() {
        let p = ExecParams::parse(&json!({"command": "ls", "timeout": 0})).unwrap();
        assert_eq!(p.timeout, Some(None));
        let p = ExecParams::parse(&json!({"command": "ls"})).unwrap();
        assert_eq!((p.timeout, p.background, p.yield_ms), (None, false, None));
        assert!(ExecParams::parse(&json!({})).is_err());
        assert!(ExecParams::parse(&json!({"command": "ls", "timeout": -1})).is_err());
    }
}
