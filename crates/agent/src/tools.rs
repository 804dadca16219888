//! Tools the model can call, and the context they run in.
//!
//! A tool is a name, a description, a flat JSON Schema and an async `call` that never panics
//! and never returns `Err`: every failure becomes a [`ToolOutput`] with `is_error: true` whose
//! text tells the model what to do next. Tools reach processes and files only through the
//! backends in [`ToolContext`] (host now, Docker sandbox later), so they do not know where they
//! run. [`router::ToolRouter`] holds the tools that survived the policy and dispatches calls.

pub mod apply_patch;
pub mod backend;
pub mod browser;
pub mod confined;
pub mod edit;
pub mod exec;
pub mod fs;
pub mod host;
pub mod jobs;
pub mod process;
pub mod router;
pub mod sessions;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use openclaw_protocol::ContentBlock;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

pub use backend::{BackendError, ExecBackend, FsBackend};
pub use jobs::{JobLimits, JobRegistry};
pub use router::{ToolRouter, ToolSpec};
pub use sessions::SessionsApi;

/// What a tool call produced; maps 1:1 onto the transcript's `toolResult` message
/// (`content`, `details`, `isError`).
#[derive(Debug, Clone, PartialEq)]
pub struct ToolOutput {
    pub content: Vec<ContentBlock>,
    pub details: Option<Value>,
    pub is_error: bool,
}

impl ToolOutput {
    pub fn text(text: impl Into<String>) -> Self {
        Self {
            content: vec![ContentBlock::text(text)],
            details: None,
            is_error: false,
        }
    }

    pub fn error(text: impl Into<String>) -> Self {
        Self {
            content: vec![ContentBlock::text(text)],
            details: None,
            is_error: true,
        }
    }

    pub fn with_details(mut self, details: Value) -> Self {
        self.details = Some(details);
        self
    }

    /// All text blocks joined (what a log line or a test looks at).
    pub fn text_content(&self) -> String {
        self.content
            .iter()
            .filter_map(|b| match b {
                ContentBlock::Text { text } => Some(text.as_str()),
                _ => None,
            })
            .collect::<Vec<_>>()
            .join("")
    }
}

/// A tool the model can call. Implementations must be cheap to share (`Send + Sync`); parallel
/// calls are the caller's business.
#[async_trait]
pub trait Tool: Send + Sync {
    fn name(&self) -> &str;
    fn description(&self) -> &str;
    /// JSON Schema of the arguments: a flat `{"type": "object", ...}` without top-level
    /// `anyOf`/`oneOf` (several providers reject those).
    fn parameters(&self) -> Value;
    async fn call(&self, ctx: &ToolContext, args: Value, cancel: CancellationToken) -> ToolOutput;
}

/// Exec defaults for one agent (resolved from `tools.exec.*`).
#[derive(Debug, Clone, PartialEq)]
pub struct ExecSettings {
    /// `tools.exec.timeoutSeconds`, default 1800 s; `None` = no deadline.
    pub default_timeout: Option<Duration>,
    /// `tools.exec.backgroundMs`, default 10 s: auto-background after this long.
    pub default_yield: Duration,
    /// False when the `process` tool is not allowed: exec then runs to completion and ignores
    /// `background`/`yieldMs` (nobody could follow up on a background job).
    pub background_allowed: bool,
}

impl Default for ExecSettings {
    fn default() -> Self {
        Self {
            default_timeout: Some(Duration::from_secs(1800)),
            default_yield: Duration::from_millis(10_000),
            background_allowed: true,
        }
    }
}

/// Everything a tool call may use. Built per turn by the runtime.
#[derive(Clone)]
pub struct ToolContext {
    pub agent_id: String,
    /// The calling session, when there is one.
    pub session_key: Option<String>,
    /// Host path of the workspace: default exec workdir and root of relative file paths.
    pub workspace: PathBuf,
    pub exec: Arc<dyn ExecBackend>,
    /// Backend for `read`, `write`, `edit` (confined when `tools.fs.workspaceOnly`).
    pub fs: Arc<dyn FsBackend>,
    /// Backend for `apply_patch` (confined unless `tools.exec.applyPatch.workspaceOnly: false`).
    pub patch_fs: Arc<dyn FsBackend>,
    /// Background jobs of this agent; share one registry per agent across turns.
    pub jobs: Arc<JobRegistry>,
    pub exec_settings: ExecSettings,
    /// Session operations for the `sessions_*` tools; `None` makes them report "unavailable".
    pub sessions: Option<Arc<dyn SessionsApi>>,
    /// The browsers the `browser` tool may drive; `None` makes it report "unavailable".
    pub browser: Option<browser::BrowserAccess>,
}

impl std::fmt::Debug for ToolContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ToolContext")
            .field("agent_id", &self.agent_id)
            .field("session_key", &self.session_key)
            .field("workspace", &self.workspace)
            .field("exec", &self.exec.name())
            .field("browser", &self.browser)
            .finish_non_exhaustive()
    }
}

/// Host file-access options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostFsOptions {
    /// `tools.fs.workspaceOnly` (default false).
    pub workspace_only: bool,
    /// `tools.exec.applyPatch.workspaceOnly` (default true).
    pub apply_patch_workspace_only: bool,
}

impl Default for HostFsOptions {
    fn default() -> Self {
        Self {
            workspace_only: false,
            apply_patch_workspace_only: true,
        }
    }
}

/// Config key named in escape errors of the file tools.
pub const FS_WORKSPACE_ONLY_KEY: &str = "tools.fs.workspaceOnly";
/// Config key named in escape errors of `apply_patch`.
pub const APPLY_PATCH_WORKSPACE_ONLY_KEY: &str = "tools.exec.applyPatch.workspaceOnly";

impl ToolContext {
    /// A context that runs everything on the host. The workspace must exist when any
    /// confinement is on.
    pub fn host(
        agent_id: impl Into<String>,
        workspace: impl Into<PathBuf>,
        fs: HostFsOptions,
        jobs: Arc<JobRegistry>,
    ) -> Result<Self, BackendError> {
        let workspace = workspace.into();
        let make = |confine: bool, key: &'static str| -> Result<Arc<dyn FsBackend>, BackendError> {
            Ok(if confine {
                Arc::new(host::HostFs::confined(&workspace, key)?)
            } else {
                Arc::new(host::HostFs::new(&workspace))
            })
        };
        Ok(Self {
            agent_id: agent_id.into(),
            session_key: None,
            fs: make(fs.workspace_only, FS_WORKSPACE_ONLY_KEY)?,
            patch_fs: make(
                fs.apply_patch_workspace_only || fs.workspace_only,
                APPLY_PATCH_WORKSPACE_ONLY_KEY,
            )?,
            exec: Arc::new(host::HostExec),
            workspace,
            jobs,
            exec_settings: ExecSettings::default(),
            sessions: None,
            browser: None,
        })
    }

    /// Resolve a model-supplied path against the workspace (for display and exec workdirs).
    pub fn resolve(&self, path: &str) -> PathBuf {
        let p = Path::new(path);
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.workspace.join(p)
        }
    }
}

/// Every built-in tool this crate implements, before policy filtering.
pub fn builtin_tools() -> Vec<Arc<dyn Tool>> {
    vec![
        Arc::new(fs::ReadTool),
        Arc::new(fs::WriteTool),
        Arc::new(edit::EditTool),
        Arc::new(apply_patch::ApplyPatchTool),
        Arc::new(exec::ExecTool),
        Arc::new(process::ProcessTool),
        Arc::new(sessions::SessionsListTool),
        Arc::new(sessions::SessionsHistoryTool),
        Arc::new(sessions::SessionsSendTool),
        Arc::new(sessions::SessionsSpawnTool),
        Arc::new(sessions::SessionStatusTool),
        Arc::new(sessions::AgentsListTool),
        Arc::new(browser::BrowserTool),
    ]
}

/// Argument helpers shared by the tools: typed reads from the JSON object with model-facing
/// errors.
pub(crate) mod args {
    use serde_json::Value;

    pub fn str<'a>(args: &'a Value, keys: &[&str]) -> Option<&'a str> {
        keys.iter()
            .find_map(|k| args.get(*k).and_then(Value::as_str))
    }

    pub fn required_str<'a>(args: &'a Value, keys: &[&str], tool: &str) -> Result<&'a str, String> {
        str(args, keys).ok_or_else(|| {
            format!(
                "{tool}: missing required string parameter \"{}\"",
                keys.first().copied().unwrap_or("")
            )
        })
    }

    /// A non-negative number (integers or floats; numeric strings are accepted too).
    pub fn f64(args: &Value, key: &str, tool: &str) -> Result<Option<f64>, String> {
        match args.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => n
                .as_f64()
                .filter(|v| *v >= 0.0 && v.is_finite())
                .map(Some)
                .ok_or_else(|| format!("{tool}: \"{key}\" must be a non-negative number")),
            Some(Value::String(s)) => s
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|v| *v >= 0.0 && v.is_finite())
                .map(Some)
                .ok_or_else(|| {
                    format!("{tool}: \"{key}\" must be a non-negative number, got {s:?}")
                }),
            Some(other) => Err(format!("{tool}: \"{key}\" must be a number, got {other}")),
        }
    }

    pub fn usize(args: &Value, key: &str, tool: &str) -> Result<Option<usize>, String> {
        Ok(f64(args, key, tool)?.map(|v| v as usize))
    }

    pub fn bool(args: &Value, key: &str, tool: &str) -> Result<Option<bool>, String> {
        match args.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(Value::String(s)) if s == "true" || s == "false" => Ok(Some(s == "true")),
            Some(other) => Err(format!(
                "{tool}: \"{key}\" must be true or false, got {other}"
            )),
        }
    }
}
