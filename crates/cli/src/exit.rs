//! Exit codes, decided in one place: 78 for an invalid config (as OpenClaw and systemd's
//! `RestartPreventExitStatus=78` expect), 1 for everything else that failed.

use openclaw_config::ConfigError;

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("{0}")]
    Config(ConfigError),
    #[error(transparent)]
    Client(#[from] crate::client::ClientError),
    #[error("{0}")]
    Message(String),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl CliError {
    pub fn msg(m: impl Into<String>) -> Self {
        CliError::Message(m.into())
    }

    pub fn exit_code(&self) -> i32 {
        match self {
            CliError::Config(e) => e.exit_code(),
            _ => 1,
        }
    }
}
