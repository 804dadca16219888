//! Small value shapes shared by several sections.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

config_enum! {
    /// Where a secret comes from.
    pub enum SecretSource { Env, File, Exec, Store }
}

config_struct! {
    /// A reference to a secret instead of the secret itself.
    pub struct SecretRef {
        pub source: Option<SecretSource>,
        pub provider: Option<String>,
        pub id: Option<String>,
    }
}

/// A credential field: a plain string (often `${VAR}`) or a [`SecretRef`].
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum SecretInput {
    Plain(String),
    Ref(SecretRef),
}

/// Number or string (e.g. `memory: "2g"` or `memory: 2147483648`, allowlist ids).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum StringOrNumber {
    Number(serde_json::Number),
    Text(String),
}

impl StringOrNumber {
    /// The value as text (numbers in their JSON form).
    pub fn to_text(&self) -> String {
        match self {
            StringOrNumber::Number(n) => n.to_string(),
            StringOrNumber::Text(s) => s.clone(),
        }
    }
}

/// A model reference: `"provider/model"` or `{ primary, fallbacks }`.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum ModelSelection {
    Ref(String),
    Detailed(ModelChoice),
}

config_struct! {
    pub struct ModelChoice {
        pub primary: Option<String>,
        pub fallbacks: Option<Vec<String>>,
    }
}

impl ModelSelection {
    pub fn primary(&self) -> Option<&str> {
        match self {
            ModelSelection::Ref(s) => Some(s.as_str()),
            ModelSelection::Detailed(c) => c.primary.as_deref(),
        }
    }

    pub fn fallbacks(&self) -> &[String] {
        match self {
            ModelSelection::Ref(_) => &[],
            ModelSelection::Detailed(c) => c.fallbacks.as_deref().unwrap_or(&[]),
        }
    }
}

config_struct! {
    /// `allow` / `alsoAllow` / `deny` lists of tool names, groups or wildcards.
    pub struct ToolPolicy {
        pub profile: Option<String>,
        pub allow: Option<Vec<String>>,
        pub also_allow: Option<Vec<String>>,
        pub deny: Option<Vec<String>>,
    }
}
