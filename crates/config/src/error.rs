//! The one error type of this crate.
//!
//! Every error about the config file carries a [`Location`] (file, line, column) and, where it
//! concerns a key, the dotted key path plus a hint that names the next step (closest known key,
//! accepted values, where to set a missing variable). Exit codes are decided here, exhaustively.

use std::fmt;
use std::path::PathBuf;

/// Exit code for an invalid configuration (`EX_CONFIG`); systemd units use
/// `RestartPreventExitStatus=78`.
pub const EXIT_INVALID_CONFIG: i32 = 78;

/// Where in which file something happened. `line`/`column` are 1-based; `0:0` means "the file as
/// a whole" (e.g. an unreadable file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// File name as shown to the user (home directory abbreviated to `~`).
    pub file: String,
    pub line: usize,
    pub column: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}", self.file)
        } else {
            write!(f, "{}:{}:{}", self.file, self.line, self.column)
        }
    }
}

fn at_path(path: &str) -> String {
    if path.is_empty() {
        "the top level".to_string()
    } else {
        path.to_string()
    }
}

fn hint_suffix(hint: &Option<String>) -> String {
    match hint {
        Some(h) => format!(" ({h})"),
        None => String::new(),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The text is not valid JSON5.
    #[error("{at}: {message}")]
    Syntax { at: Location, message: String },

    /// The text parses but does not match the schema (unknown key, wrong type, bad value).
    #[error("{at}: {message} at {}{}", at_path(.key_path), hint_suffix(.hint))]
    Invalid {
        at: Location,
        /// Dotted key path, e.g. `gateway.auth.mode` or `agents.list[0].id`.
        key_path: String,
        message: String,
        hint: Option<String>,
        /// For unknown keys / bad enum values: every accepted key or value.
        accepted: Vec<String>,
    },

    /// `${VAR}` references a variable that is unset or empty.
    #[error(
        "{at}: environment variable \"{var}\" is missing or empty (referenced at {}); set {var} in the environment or in ~/.openclaw/.env, or write $${{{var}}} for a literal",
        at_path(.key_path)
    )]
    MissingEnvVar {
        at: Location,
        key_path: String,
        var: String,
    },

    /// A `$include` could not be resolved (missing file, cycle, too deep, bad value).
    #[error("{at}: $include at {}: {message}", at_path(.key_path))]
    Include {
        at: Location,
        key_path: String,
        message: String,
    },

    /// A file operation failed.
    #[error("cannot {op} {}: {source}", .path.display())]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// `config get/unset` on a path that holds nothing.
    #[error("config path not found: {path}")]
    PathNotFound { path: String },

    /// A dotted/bracket path that cannot be parsed or walked (e.g. indexing into a string).
    #[error("invalid config path \"{path}\": {message}")]
    BadPath { path: String, message: String },

    /// Neither `OPENCLAW_HOME` nor `HOME` is set, so no default path can be formed.
    #[error(
        "cannot find the home directory: set HOME (or OPENCLAW_HOME), or set OPENCLAW_STATE_DIR and OPENCLAW_CONFIG_PATH"
    )]
    NoHome,
}

impl ConfigError {
    /// Process exit code for this error when it ends a command.
    pub fn exit_code(&self) -> i32 {
        match self {
            ConfigError::Syntax { .. }
            | ConfigError::Invalid { .. }
            | ConfigError::MissingEnvVar { .. }
            | ConfigError::Include { .. }
            | ConfigError::NoHome => EXIT_INVALID_CONFIG,
            // EX_IOERR
            ConfigError::Io { .. } => 74,
            ConfigError::PathNotFound { .. } | ConfigError::BadPath { .. } => 1,
        }
    }

    /// True for errors that mean "the config content is invalid" (as opposed to I/O or usage).
    pub fn is_invalid_config(&self) -> bool {
        self.exit_code() == EXIT_INVALID_CONFIG
    }

    /// The location, when the error points into a file.
    pub fn location(&self) -> Option<&Location> {
        match self {
            ConfigError::Syntax { at, .. }
            | ConfigError::Invalid { at, .. }
            | ConfigError::MissingEnvVar { at, .. }
            | ConfigError::Include { at, .. } => Some(at),
            ConfigError::Io { .. }
            | ConfigError::PathNotFound { .. }
            | ConfigError::BadPath { .. }
            | ConfigError::NoHome => None,
        }
    }

    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        ConfigError::Io {
            op,
            path: path.into(),
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_renders_file_line_col_path_and_hint() {
        let e = ConfigError::Invalid {
            at: Location {
                file: "~/.openclaw/openclaw.json".into(),
                line: 12,
                column: 5,
            },
            key_path: "agents.defaults".into(),
            message: "unknown key \"sandox\"".into(),
            hint: Some("did you mean \"sandbox\"?".into()),
            accepted: vec!["sandbox".into()],
        };
        assert_eq!(
            e.to_string(),
            "~/.openclaw/openclaw.json:12:5: unknown key \"sandox\" at agents.defaults (did you mean \"sandbox\"?)"
        );
        assert_eq!(e.exit_code(), 78);
    }

    #[test]
    fn missing_env_names_variable_and_fix() {
        let e = ConfigError::MissingEnvVar {
            at: Location {
                file: "x.json".into(),
                line: 3,
                column: 14,
            },
            key_path: "models.providers.p.apiKey".into(),
            var: "LITELLM_KEY".into(),
        };
        let s = e.to_string();
        assert!(
            s.starts_with("x.json:3:14: environment variable \"LITELLM_KEY\""),
            "{s}"
        );
        assert!(s.contains("models.providers.p.apiKey"), "{s}");
        assert!(
            s.contains("set LITELLM_KEY in the environment or in ~/.openclaw/.env"),
            "{s}"
        );
        assert!(s.contains("$${LITELLM_KEY}"), "{s}");
    }
}
