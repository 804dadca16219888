//! The typed shape of `openclaw.json`, split by section.
//!
//! Raw layer only: every field is optional and mirrors the file; defaults are applied in
//! [`crate::resolve`]. Structs people type are strict (`deny_unknown_fields`) so a typo such as
//! `sandox` is an error with a position and a suggestion. Sections that plugins or later releases
//! own (`plugins`, `skills`, `cron`, …) are kept as free-form JSON. The JSON Schema served by
//! `config.schema` is derived from these types ([`config_schema`]).

/// Declare a strict, camelCase config struct (all the derives every section needs).
macro_rules! config_struct {
    ($(#[$m:meta])* pub struct $name:ident { $($body:tt)* }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Default, PartialEq, serde::Deserialize, schemars::JsonSchema)]
        #[serde(deny_unknown_fields, rename_all = "camelCase")]
        pub struct $name { $($body)* }
    };
}

/// Declare a closed string enum (kebab-case values).
macro_rules! config_enum {
    ($(#[$m:meta])* pub enum $name:ident { $($(#[$vm:meta])* $variant:ident),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
        #[serde(rename_all = "kebab-case")]
        pub enum $name { $($(#[$vm])* $variant),* }
    };
}

pub mod agents;
pub mod channels;
pub mod common;
pub mod gateway;
pub mod messages;
pub mod misc;
pub mod models;
pub mod root;
pub mod sandbox;
pub mod session;
pub mod tools;

pub use agents::*;
pub use channels::*;
pub use common::*;
pub use gateway::*;
pub use messages::*;
pub use misc::*;
pub use models::*;
pub use root::*;
pub use sandbox::*;
pub use session::*;
pub use tools::*;

/// JSON Schema (draft 2020-12) of the whole config file, for `config.schema`.
pub fn config_schema() -> serde_json::Value {
    let schema = schemars::schema_for!(OpenClawConfig);
    serde_json::to_value(&schema).unwrap_or(serde_json::Value::Null)
}
