//! openclaw-config: everything about `~/.openclaw/openclaw.json`.
//!
//! Load pipeline (one hop per module): [`paths`] finds the file → [`json5`] parses it with
//! positions → [`include`] resolves `$include` → [`env`] substitutes `${VAR}` → [`validate`]
//! checks it against the typed [`schema`] → [`resolve`] applies defaults for callers.
//! Writing goes through [`edit`] (get/set/unset, merge patch) and [`write`] (atomic, `.bak`).
//! [`redact`] hides secrets for `config.get`; [`reload`] says which changes need a restart.
//! Everything here is synchronous; async callers run it in `spawn_blocking`.

// `ConfigError` carries file/line/column, key path, hint and accepted values so it can name the
// fix; it is returned on cold paths only, so its size does not matter.
#![allow(clippy::result_large_err)]

pub mod edit;
pub mod env;
pub mod error;
pub mod include;
pub mod json5;
pub mod keypath;
pub mod paths;
pub mod redact;
pub mod reload;
pub mod resolve;
pub mod schema;
pub mod secret;
pub mod source;
pub mod validate;
pub mod write;

mod load;

pub use env::{EnvMap, load_dotenv, merge_env};
pub use error::{ConfigError, EXIT_INVALID_CONFIG, Location};
pub use keypath::KeyPath;
pub use load::{LoadedConfig, load, load_env, load_file, parse_str, parse_with};
pub use paths::Paths;
pub use redact::{REDACTED, redact};
pub use reload::{ReloadPlan, reload_plan};
pub use resolve::{
    AgentInfo, AgentSettings, AuthSettings, GatewayOverrides, GatewaySettings, ModelRefs,
};
pub use schema::{OpenClawConfig, config_schema};
pub use secret::Secret;
pub use write::{render, stamp_meta, write_config, write_config_text};
