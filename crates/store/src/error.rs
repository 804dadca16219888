//! The one error type at this crate's boundary. Each variant names the file or the record it
//! concerns and says what to do next.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A filesystem operation failed.
    #[error(
        "{op} {path}: {source} (check that the state dir is writable and the disk is not full)"
    )]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A file exists but its JSON could not be read.
    #[error(
        "cannot parse {path}: {source} (fix or move the file aside; OpenClaw state files are plain JSON)"
    )]
    Parse {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    /// A transcript file does not start with a `{"type":"session"}` header line.
    #[error("{path} is not a session transcript (first line is not a session header)")]
    NotATranscript { path: PathBuf },
    /// No session under this key in the index.
    #[error("no session {key} (list sessions with `openclaw sessions list`)")]
    SessionNotFound { key: String },
    /// No pending pairing request with this id.
    #[error(
        "no pending pairing request {request_id} (it may have been approved, rejected, superseded or expired; run `openclaw devices list`)"
    )]
    PairingRequestNotFound { request_id: String },
    /// No paired device with this id.
    #[error("no paired device {device_id} (run `openclaw devices list`)")]
    DeviceNotFound { device_id: String },
    /// The device has no token for this role.
    #[error(
        "device {device_id} has no {role} token (approve a pairing request for that role first)"
    )]
    TokenNotFound { device_id: String, role: String },
    /// A key file holds something that is not a usable Ed25519 key.
    #[error(
        "invalid device key in {path}: {reason} (move the file aside to generate a new identity)"
    )]
    InvalidKey { path: PathBuf, reason: String },
    /// A channel or account id that cannot name a file.
    #[error("invalid {what} {value:?}: use letters, digits, `-` or `_`")]
    InvalidName { what: &'static str, value: String },
    /// Another process held a state file's lock for too long.
    #[error(
        "{path} is held by another process (an `openclaw` command or the gateway); retry, or remove the file if no such process is running"
    )]
    LockBusy { path: PathBuf },
    /// The writer task of a store or transcript is gone (runtime shutting down or a panic).
    #[error("{what} writer for {path} has stopped; reopen it")]
    WriterGone { what: &'static str, path: PathBuf },
}

impl StoreError {
    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        StoreError::Io {
            op,
            path: path.into(),
            source,
        }
    }
}
