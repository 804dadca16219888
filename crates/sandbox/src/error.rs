//! The crate's one error type. Every message names the next step; no variant means "fall back to
//! the host" — when the sandbox cannot be honoured the call fails.

use std::path::PathBuf;
use std::time::Duration;

/// Errors returned by the sandbox crate.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// A sandbox config value is invalid.
    #[error("invalid sandbox config at {key}: {message}")]
    Config { key: String, message: String },
    /// A config value is refused by the security validation.
    #[error("sandbox security check failed at {key}: {message}")]
    Security { key: String, message: String },
    /// The Docker daemon did not answer.
    #[error(
        "cannot reach Docker at {host} — is the daemon running (`docker info`)? Or set agents.defaults.sandbox.mode to \"off\" ({detail})"
    )]
    DockerUnreachable { host: String, detail: String },
    /// A Docker Engine API call failed.
    #[error("docker {op} failed: {detail}")]
    Docker { op: &'static str, detail: String },
    /// The configured image is not present on the engine.
    #[error("Sandbox image not found: {image}. {hint}")]
    ImageMissing { image: String, hint: String },
    /// An external wait passed its deadline.
    #[error("docker {op} timed out after {after:?}; check `docker info` and the daemon load")]
    Timeout { op: &'static str, after: Duration },
    /// A path resolves outside every sandbox mount.
    #[error("Path escapes sandbox root: {path}")]
    PathEscape { path: String },
    /// A write was attempted on a read-only sandbox path.
    #[error(
        "Sandbox path is read-only; cannot {action}: {path} (agents.defaults.sandbox.workspaceAccess is \"{access}\"; set it to \"rw\" to allow writes to the agent workspace)"
    )]
    ReadOnly {
        action: &'static str,
        path: String,
        access: &'static str,
    },
    /// A host file operation failed.
    #[error("{context} {path}: {source}")]
    Io {
        context: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// `docker.setupCommand` exited non-zero; the half-made container was removed.
    #[error(
        "sandbox setupCommand failed in {container} (exit {exit_code:?}); the container was removed. Fix agents.defaults.sandbox.docker.setupCommand (note: network \"none\" and readOnlyRoot block package installs). Output: {output}"
    )]
    SetupFailed {
        container: String,
        exit_code: Option<i64>,
        output: String,
    },
    /// The container stopped or vanished while in use.
    #[error(
        "sandbox container {container} is not running ({detail}); the next tool call recreates it"
    )]
    ContainerGone { container: String, detail: String },
    /// The sandbox browser container did not come up; it was removed.
    #[error(
        "sandbox browser {container} {detail}; the container was removed and the next browser call recreates it"
    )]
    BrowserNotReady { container: String, detail: String },
    /// The operation was cancelled by the caller.
    #[error("sandbox operation cancelled")]
    Cancelled,
    /// The container registry file could not be read or written.
    #[error("sandbox registry {path}: {detail}")]
    Registry { path: PathBuf, detail: String },
    /// Docker-out-of-Docker: a gateway path has no host equivalent.
    #[error(
        "{path} is not reachable from the Docker host: the gateway runs in a container and no mount covers it. Mount it at the identical host path (-v {path}:{path}) or point the config at a host path"
    )]
    NotReachableFromHost { path: String },
    /// An inbound media file lies outside the media directory.
    #[error("media source {path} is outside the media directory {media_dir}; refusing to stage it")]
    MediaOutsideDir { path: PathBuf, media_dir: PathBuf },
}

impl SandboxError {
    pub(crate) fn io(
        context: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        SandboxError::Io {
            context,
            path: path.into(),
            source,
        }
    }

    pub(crate) fn docker(op: &'static str, err: impl std::fmt::Display) -> Self {
        SandboxError::Docker {
            op,
            detail: err.to_string(),
        }
    }

    pub(crate) fn config(key: impl Into<String>, message: impl Into<String>) -> Self {
        SandboxError::Config {
            key: key.into(),
            message: message.into(),
        }
    }

    pub(crate) fn security(key: impl Into<String>, message: impl Into<String>) -> Self {
        SandboxError::Security {
            key: key.into(),
            message: message.into(),
        }
    }
}

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
