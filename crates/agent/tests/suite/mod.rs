//! Shared helpers for the integration suite.

mod apply_patch;
mod browser;
mod browser_sandbox;
mod escapes;
mod exec;
mod fs_tools;
mod process;
mod queue_modes;
mod router;
mod runtime;
mod runtime_sandbox;
mod sandbox_exec;
mod sandbox_fs;
mod sandbox_support;
mod sessions;

use std::path::Path;
use std::sync::Arc;

use openclaw_agent::tools::{
    HostFsOptions, JobRegistry, Tool, ToolContext, ToolOutput, builtin_tools,
};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

pub fn ctx(ws: &Path, workspace_only: bool) -> ToolContext {
    ToolContext::host(
        "main",
        ws,
        HostFsOptions {
            workspace_only,
            apply_patch_workspace_only: true,
        },
        Arc::new(JobRegistry::default()),
    )
    .unwrap()
}

pub fn tool(name: &str) -> Arc<dyn Tool> {
    builtin_tools()
        .into_iter()
        .find(|t| t.name() == name)
        .unwrap()
}

pub async fn call(ctx: &ToolContext, name: &str, args: Value) -> ToolOutput {
    tool(name).call(ctx, args, CancellationToken::new()).await
}

/// True when the process is gone or a zombie (killed, waiting to be reaped by its parent).
pub fn process_dead(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(s) => s
            .rsplit(')')
            .next()
            .map(|r| r.trim_start().starts_with('Z'))
            .unwrap_or(false),
    }
}
