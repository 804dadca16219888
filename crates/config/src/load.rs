//! The load pipeline: read → JSON5 → `$include` → `${VAR}` → schema.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::env::{self, EnvMap};
use crate::error::{ConfigError, Location};
use crate::include::Resolver;
use crate::json5;
use crate::keypath::KeyPath;
use crate::paths::{Paths, display_with_home};
use crate::schema::OpenClawConfig;
use crate::source::{self, SourceMap};
use crate::validate;
use crate::write::hash_bytes;

/// A loaded, validated config.
#[derive(Debug, Clone)]
pub struct LoadedConfig {
    /// The config file path.
    pub path: PathBuf,
    /// The root file's text; `None` when the file does not exist (defaults apply).
    pub raw_text: Option<String>,
    /// The root file parsed as written (before `$include` and `${VAR}`); `{}` when missing.
    pub parsed: Value,
    /// The effective config as JSON (after `$include` and `${VAR}`).
    pub value: Value,
    /// The effective config, typed.
    pub config: OpenClawConfig,
    /// sha256 hex of the root file bytes (of the empty string when missing).
    pub hash: String,
    /// Positions of every key, for callers that report their own errors.
    pub source_map: SourceMap,
}

impl LoadedConfig {
    pub fn exists(&self) -> bool {
        self.raw_text.is_some()
    }
}

/// Process env overlaid on `<state>/.env` (the process wins).
pub fn load_env(paths: &Paths, process: &EnvMap) -> Result<EnvMap, ConfigError> {
    Ok(env::merge_env(
        process,
        env::load_dotenv(&paths.dotenv_path())?,
    ))
}

/// Load and validate the config at `paths.config_path`. `env` is the variable map used for
/// `${VAR}` (usually [`load_env`]).
pub fn load(paths: &Paths, env: &EnvMap) -> Result<LoadedConfig, ConfigError> {
    load_file(&paths.config_path, Some(&paths.home), env)
}

/// Load and validate the config at `path`; `home` (if given) abbreviates file names to `~`.
pub fn load_file(
    path: &Path,
    home: Option<&Path>,
    env: &EnvMap,
) -> Result<LoadedConfig, ConfigError> {
    match std::fs::metadata(path) {
        Ok(m) if !m.is_file() => {
            return Err(ConfigError::Io {
                op: "read config file",
                path: path.to_path_buf(),
                source: std::io::Error::other("not a regular file"),
            });
        }
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(LoadedConfig {
                path: path.to_path_buf(),
                raw_text: None,
                parsed: Value::Object(Default::default()),
                value: Value::Object(Default::default()),
                config: OpenClawConfig::default(),
                hash: hash_bytes(b""),
                source_map: SourceMap::new(display_with_home(path, home)),
            });
        }
        Err(e) => return Err(ConfigError::io("read config file", path, e)),
    }
    let text =
        std::fs::read_to_string(path).map_err(|e| ConfigError::io("read config file", path, e))?;
    parse_with(&text, path, home, env)
}

/// Validate proposed config text as if it were stored at `origin` (for `config.set`/`apply`),
/// without writing anything. `$include` paths resolve relative to `origin`.
pub fn parse_str(text: &str, origin: &Path, env: &EnvMap) -> Result<LoadedConfig, ConfigError> {
    parse_with(text, origin, None, env)
}

/// Like [`parse_str`], with `~` abbreviation of file names in errors.
pub fn parse_with(
    text: &str,
    origin: &Path,
    home: Option<&Path>,
    env: &EnvMap,
) -> Result<LoadedConfig, ConfigError> {
    let display = |p: &Path| display_with_home(p, home);
    let shown = display(origin);
    let (parsed, spans) = json5::parse(text).map_err(|e| ConfigError::Syntax {
        at: Location {
            file: shown.clone(),
            line: e.pos.line,
            column: e.pos.column,
        },
        message: e.message,
    })?;
    let mut map = SourceMap::new(shown);
    let (mut value, locs) = {
        let mut resolver = Resolver {
            map: &mut map,
            display: &display,
        };
        resolver.resolve(parsed.clone(), source::tag(spans, 0), origin)?
    };
    map.set_locs(locs);
    let mut env = env.clone();
    env::apply_config_env(&mut env, &value);
    env::substitute_value(&mut value, &env, &map, &KeyPath::root())?;
    let config = validate::validate(&value, &map)?;
    Ok(LoadedConfig {
        path: origin.to_path_buf(),
        raw_text: Some(text.to_string()),
        parsed,
        value,
        config,
        hash: hash_bytes(text.as_bytes()),
        source_map: map,
    })
}
