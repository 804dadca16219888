//! The Docker sandbox behind the tool seam: [`SandboxExec`] and [`SandboxFs`] implement the
//! same [`ExecBackend`]/[`FsBackend`] traits as the host, over a `SandboxContext` from the
//! sandbox crate, so a sandboxed session changes its backends and not its tools.
//!
//! The runtime calls one function per turn: [`sandbox_tool_context`] (or its infallible twin
//! [`sandbox_tool_context_or_refuse`]). It decides from the resolved spec whether the session
//! is sandboxed (`mode` off / non-main / all), ensures the scope's container and returns a
//! `ToolContext` whose `exec`, `fs` and `patch_fs` run inside it and whose `workspace` is the
//! host directory mounted at `/workspace`. A session that is not sandboxed gets its base context
//! back unchanged.
//!
//! Fail closed: if the session must be sandboxed and Docker or the image is unavailable, no tool
//! runs on the host. `sandbox_tool_context` returns the sandbox crate's error;
//! `sandbox_tool_context_or_refuse` returns a context whose every exec and file call answers
//! with that error (which names the next step).
//!
//! `config` resolves the spec and the tool policy from config JSON and builds the data of
//! `sandbox list | recreate | explain` for the gateway and the CLI.

pub mod config;
pub mod exec;
pub mod fs;

use std::path::Path;
use std::sync::Arc;

pub use openclaw_sandbox as sandbox;
use openclaw_sandbox::{SandboxError, SandboxManager, SandboxSpec};

pub use config::{AgentSandbox, SandboxExplainReport};
pub use exec::SandboxExec;
pub use fs::{RefusingBackend, SandboxFs};

use crate::tools::ToolContext;
use crate::tools::backend::{ExecBackend, FsBackend};

/// Options for the sandboxed backends that come from `tools.*` rather than the sandbox block.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SandboxToolOptions {
    /// `tools.exec.pathPrepend`.
    pub path_prepend: Vec<String>,
}

/// The tool context for one turn of `session_key`: sandboxed backends when `spec` sandboxes the
/// session, `base` unchanged otherwise. `agent_ws` is the agent's host workspace.
pub async fn sandbox_tool_context(
    manager: &SandboxManager,
    spec: &SandboxSpec,
    agent_id: &str,
    session_key: &str,
    agent_ws: &Path,
    base: ToolContext,
) -> Result<ToolContext, SandboxError> {
    sandbox_tool_context_with(
        manager,
        spec,
        agent_id,
        session_key,
        agent_ws,
        base,
        &SandboxToolOptions::default(),
    )
    .await
}

/// As [`sandbox_tool_context`], with `tools.exec.*` options.
pub async fn sandbox_tool_context_with(
    manager: &SandboxManager,
    spec: &SandboxSpec,
    agent_id: &str,
    session_key: &str,
    agent_ws: &Path,
    base: ToolContext,
    opts: &SandboxToolOptions,
) -> Result<ToolContext, SandboxError> {
    let Some(ctx) = manager
        .context(spec, agent_id, session_key, agent_ws)
        .await?
    else {
        return Ok(base);
    };
    if let Some(w) = ctx.warning() {
        tracing::warn!(session = session_key, "{w}");
    }
    let ctx = Arc::new(ctx);
    let fs: Arc<dyn FsBackend> = Arc::new(SandboxFs::new(ctx.clone()));
    Ok(ToolContext {
        workspace: ctx.workspace_dir().to_path_buf(),
        exec: Arc::new(SandboxExec::new(ctx.clone(), opts.path_prepend.clone())),
        fs: fs.clone(),
        patch_fs: fs,
        session_key: base
            .session_key
            .clone()
            .or_else(|| Some(session_key.to_string())),
        ..base
    })
}

/// As [`sandbox_tool_context`], but never fails: when the sandbox cannot be honoured the
/// returned context refuses every exec and file call with the error (fail closed), so the turn
/// goes on and the model reads why its tools are unavailable.
pub async fn sandbox_tool_context_or_refuse(
    manager: &SandboxManager,
    spec: &SandboxSpec,
    agent_id: &str,
    session_key: &str,
    agent_ws: &Path,
    base: ToolContext,
    opts: &SandboxToolOptions,
) -> ToolContext {
    let fallback = base.clone();
    match sandbox_tool_context_with(manager, spec, agent_id, session_key, agent_ws, base, opts)
        .await
    {
        Ok(ctx) => ctx,
        Err(e) => {
            tracing::warn!(session = session_key, error = %e, "sandbox unavailable; tools refuse");
            refusing_tool_context(fallback, &e)
        }
    }
}

/// The tool context for one turn of `session_key` of the agent described by `sandbox`: the
/// sandboxed backends when the session is sandboxed (with the agent's configured main key),
/// `base` otherwise. Never runs on the host when the sandbox cannot be honoured (fail closed).
pub async fn agent_tool_context(
    manager: &SandboxManager,
    sandbox: &AgentSandbox,
    session_key: &str,
    base: ToolContext,
    opts: &SandboxToolOptions,
) -> ToolContext {
    let fallback = base.clone();
    let ctx = manager
        .context_with_main(
            &sandbox.spec,
            &sandbox.agent_id,
            session_key,
            &sandbox.main_session_key,
            &sandbox.agent_workspace,
        )
        .await;
    match ctx {
        Ok(None) => base,
        Ok(Some(ctx)) => {
            if let Some(w) = ctx.warning() {
                tracing::warn!(session = session_key, "{w}");
            }
            let ctx = Arc::new(ctx);
            let fs: Arc<dyn FsBackend> = Arc::new(SandboxFs::new(ctx.clone()));
            ToolContext {
                workspace: ctx.workspace_dir().to_path_buf(),
                exec: Arc::new(SandboxExec::new(ctx.clone(), opts.path_prepend.clone())),
                fs: fs.clone(),
                patch_fs: fs,
                session_key: Some(session_key.to_string()),
                ..base
            }
        }
        Err(e) => {
            tracing::warn!(session = session_key, error = %e, "sandbox unavailable; tools refuse");
            refusing_tool_context(fallback, &e)
        }
    }
}

/// `base` with backends that answer every call with `err`.
pub fn refusing_tool_context(base: ToolContext, err: &dyn std::fmt::Display) -> ToolContext {
    let r = Arc::new(RefusingBackend::new(
        format!("Sandbox unavailable, tool not run: {err}"),
        base.workspace.clone(),
    ));
    let exec: Arc<dyn ExecBackend> = r.clone();
    let fs: Arc<dyn FsBackend> = r;
    ToolContext {
        exec,
        fs: fs.clone(),
        patch_fs: fs,
        ..base
    }
}

/// Stage an inbound media file (which must live under `media_dir`, normally
/// `~/.openclaw/media`) into the sandbox workspace of `session_key`. Returns the path the model
/// should see (`media/inbound/<stem>-<8 hex><ext>`, relative to `/workspace`), or `None` when
/// the session is not sandboxed (the caller keeps the original path).
pub async fn stage_inbound_media(
    manager: &SandboxManager,
    spec: &SandboxSpec,
    agent_id: &str,
    session_key: &str,
    agent_ws: &Path,
    media_dir: &Path,
    source: &Path,
) -> Result<Option<String>, SandboxError> {
    match manager
        .context(spec, agent_id, session_key, agent_ws)
        .await?
    {
        Some(ctx) => ctx.stage_media(media_dir, source).await.map(Some),
        None => Ok(None),
    }
}

/// [`stage_inbound_media`] for a turn: every file of `sources` through one container context,
/// with the agent's configured main session key. `Ok(None)` when the session is not sandboxed;
/// otherwise one result per source, in order (its `media/inbound/…` path or why it failed).
pub async fn stage_agent_media(
    manager: &SandboxManager,
    sandbox: &AgentSandbox,
    session_key: &str,
    media_dir: &Path,
    sources: &[&Path],
) -> Result<Option<Vec<Result<String, SandboxError>>>, SandboxError> {
    let Some(ctx) = manager
        .context_with_main(
            &sandbox.spec,
            &sandbox.agent_id,
            session_key,
            &sandbox.main_session_key,
            &sandbox.agent_workspace,
        )
        .await?
    else {
        return Ok(None);
    };
    let mut out = Vec::with_capacity(sources.len());
    for src in sources {
        out.push(ctx.stage_media(media_dir, src).await);
    }
    Ok(Some(out))
}
