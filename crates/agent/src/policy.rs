//! Tool policy: which tools a session may use, and why a tool is missing.
//!
//! Layers are evaluated in order and each can only narrow; deny wins inside every layer and
//! a non-empty allow list means "only these":
//!
//! 1. profile: `agents.list[].tools.profile` replaces `tools.profile`; `alsoAllow` (global and
//!    agent) adds to the profile's list;
//! 2. global `tools.allow` / `tools.deny`;
//! 3. agent `agents.list[].tools.allow` / `.deny`;
//! 4. sandbox (only when the session is sandboxed): `agents.list[].tools.sandbox.tools` replaces
//!    `tools.sandbox.tools` list by list, falling back to the defaults in [`tables`]; `alsoAllow`
//!    adds, an explicit allow re-enables a default-denied tool, `image` is always allowed unless
//!    denied.
//!
//! Names are case-insensitive, `*` is a wildcard, `group:*` entries expand from [`tables`], and
//! an allow entry of `write` also allows `apply_patch` (deny of `write` does not deny it).
//! Input is the camelCase config JSON (`tools` and `agents.list[].tools`), so this module does
//! not depend on the config crate. Provider (`byProvider`), group/channel and sub-agent layers
//! are not modelled yet.

pub mod tables;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The config could not be read as a tool policy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("invalid tool policy at {key}: {message}")]
    InvalidConfig { key: String, message: String },
}

/// Lowercase, trim and apply aliases (`bash` → `exec`).
pub fn normalize_tool_name(name: &str) -> String {
    let n = name.trim().to_ascii_lowercase();
    tables::TOOL_ALIASES
        .iter()
        .find(|(a, _)| *a == n)
        .map(|(_, t)| (*t).to_string())
        .unwrap_or(n)
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListPolicy {
    allow: Option<Vec<String>>,
    also_allow: Option<Vec<String>>,
    deny: Option<Vec<String>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
struct SandboxSection {
    tools: Option<ListPolicy>,
}

/// The policy-relevant part of a `tools` block (other keys are ignored here).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ToolsSection {
    profile: Option<String>,
    #[serde(flatten)]
    lists: ListPolicy,
    sandbox: Option<SandboxSection>,
}

/// Tool policy input from config JSON.
#[derive(Debug, Clone, Default)]
pub struct ToolPolicyInput {
    global: ToolsSection,
    agent: ToolsSection,
    agent_path: String,
}

/// Which layer a decision came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum PolicyLayer {
    Profile,
    Global,
    Agent,
    Sandbox,
}

/// Where a list came from (for `openclaw sandbox explain`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ListSource {
    Agent,
    Global,
    Default,
}

/// A tool the policy refuses, with the key to change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Blocked {
    pub tool: String,
    pub layer: PolicyLayer,
    pub fix_key: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Pattern {
    Exact(String),
    Glob(String),
}

fn glob_match(pat: &str, s: &str) -> bool {
    let parts: Vec<&str> = pat.split('*').collect();
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !s.starts_with(first) || s.len() < first.len() + last.len() || !s.ends_with(last) {
        return false;
    }
    let mut rest = &s[first.len()..s.len() - last.len()];
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid) {
            Some(i) => rest = &rest[i + mid.len()..],
            None => return false,
        }
    }
    true
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Patterns(Vec<Pattern>);

impl Patterns {
    fn compile(entries: &[String], warnings: &mut Vec<String>, key: &str) -> Self {
        let mut out = Vec::new();
        for e in entries {
            let n = normalize_tool_name(e);
            if n.is_empty() {
                continue;
            }
            if n.starts_with("group:") && !n.contains('*') {
                match tables::group_members(&n) {
                    Some(m) => out.extend(m.into_iter().map(|t| Pattern::Exact(t.to_string()))),
                    None => {
                        warnings.push(format!("{key}: unknown tool group \"{e}\" matches nothing"))
                    }
                }
            } else if n.contains('*') {
                out.push(Pattern::Glob(n));
            } else {
                out.push(Pattern::Exact(n));
            }
        }
        Self(out)
    }

    fn matches(&self, name: &str) -> bool {
        self.0.iter().any(|p| match p {
            Pattern::Exact(e) => e == name,
            Pattern::Glob(g) => glob_match(g, name),
        })
    }

    /// Allow semantics: `write` in the list also admits `apply_patch`.
    fn admits(&self, name: &str) -> bool {
        self.matches(name) || (name == "apply_patch" && self.matches("write"))
    }
}

#[derive(Debug, Clone)]
struct Layer {
    kind: PolicyLayer,
    /// `None` = no restriction.
    allow: Option<Patterns>,
    deny: Patterns,
    allow_entries: Option<Vec<String>>,
    deny_entries: Vec<String>,
    allow_key: String,
    deny_key: String,
    allow_source: Option<ListSource>,
    deny_source: Option<ListSource>,
}

/// The resolved policy of one session.
#[derive(Debug, Clone)]
pub struct EffectivePolicy {
    layers: Vec<Layer>,
    profile: Option<(String, ListSource)>,
    sandbox_mode: Option<String>,
    warnings: Vec<String>,
}

/// One layer in [`PolicyExplain`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LayerExplain {
    pub layer: PolicyLayer,
    /// `None` = no restriction.
    pub allow: Option<Vec<String>>,
    pub deny: Vec<String>,
    pub allow_key: String,
    pub deny_key: String,
    pub allow_source: Option<ListSource>,
    pub deny_source: Option<ListSource>,
}

/// The verdict for one built-in tool in [`PolicyExplain`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolVerdict {
    pub tool: String,
    pub allowed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blocked_by: Option<PolicyLayer>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix_key: Option<String>,
}

/// What `openclaw sandbox explain` prints about tools.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyExplain {
    pub sandboxed: bool,
    pub sandbox_mode: Option<String>,
    pub profile: Option<String>,
    pub profile_source: Option<ListSource>,
    pub layers: Vec<LayerExplain>,
    pub tools: Vec<ToolVerdict>,
    pub warnings: Vec<String>,
}

fn parse_section(v: Option<&Value>, key: &str) -> Result<ToolsSection, PolicyError> {
    match v {
        None | Some(Value::Null) => Ok(ToolsSection::default()),
        Some(v) => parse_checked(v.clone()).map_err(|(path, message)| PolicyError::InvalidConfig {
            key: if path.is_empty() {
                key.to_string()
            } else {
                format!("{key}.{path}")
            },
            message,
        }),
    }
}

/// Deserialize and report the offending field name when a list has the wrong shape.
fn parse_checked(v: Value) -> Result<ToolsSection, (String, String)> {
    let check_list =
        |obj: &serde_json::Map<String, Value>, prefix: &str| -> Result<(), (String, String)> {
            for k in ["allow", "alsoAllow", "deny"] {
                if let Some(x) = obj.get(k) {
                    let ok =
                        x.is_null() || x.as_array().is_some_and(|a| a.iter().all(Value::is_string));
                    if !ok {
                        return Err((
                            format!("{prefix}{k}"),
                            "expected an array of tool names (strings)".into(),
                        ));
                    }
                }
            }
            Ok(())
        };
    if let Some(obj) = v.as_object() {
        check_list(obj, "")?;
        if let Some(p) = obj.get("profile") {
            match p.as_str() {
                Some(name)
                    if tables::PROFILE_NAMES
                        .contains(&name.trim().to_ascii_lowercase().as_str()) => {}
                None if p.is_null() => {}
                _ => {
                    return Err((
                        "profile".into(),
                        format!("expected one of {}", tables::PROFILE_NAMES.join(", ")),
                    ));
                }
            }
        }
        if let Some(t) = obj
            .get("sandbox")
            .and_then(|s| s.get("tools"))
            .and_then(Value::as_object)
        {
            check_list(t, "sandbox.tools.")?;
        }
    }
    serde_json::from_value(v).map_err(|e| (String::new(), e.to_string()))
}

fn concat(a: &Option<Vec<String>>, b: &Option<Vec<String>>) -> Vec<String> {
    a.iter()
        .flatten()
        .chain(b.iter().flatten())
        .cloned()
        .collect()
}

impl ToolPolicyInput {
    /// Read the global `tools` block and the agent's `agents.list[].tools` block.
    pub fn from_values(
        global_tools: Option<&Value>,
        agent_tools: Option<&Value>,
    ) -> Result<Self, PolicyError> {
        Ok(Self {
            global: parse_section(global_tools, "tools")?,
            agent: parse_section(agent_tools, "agents.list[].tools")?,
            agent_path: "agents.list[].tools".into(),
        })
    }

    /// Name the agent block in messages, e.g. `agents.list[2].tools`.
    pub fn with_agent_path(mut self, path: impl Into<String>) -> Self {
        self.agent_path = path.into();
        self
    }

    /// Resolve for a session. `sandbox_mode` is the sandbox mode (`non-main`/`all`) when the
    /// session is sandboxed, `None` otherwise.
    pub fn resolve(&self, sandbox_mode: Option<&str>) -> EffectivePolicy {
        let mut warnings = Vec::new();
        let ap = &self.agent_path;
        let mut layers = Vec::new();

        // 1. profile
        let profile = match (&self.agent.profile, &self.global.profile) {
            (Some(p), _) => Some((p.trim().to_ascii_lowercase(), ListSource::Agent)),
            (None, Some(p)) => Some((p.trim().to_ascii_lowercase(), ListSource::Global)),
            _ => None,
        };
        let also = concat(&self.global.lists.also_allow, &self.agent.lists.also_allow);
        if let Some((name, source)) = &profile
            && let Some(entries) = tables::profile_entries(name)
        {
            let mut list: Vec<String> = entries.iter().map(|s| s.to_string()).collect();
            list.extend(also.iter().cloned());
            let profile_key = if *source == ListSource::Agent {
                format!("{ap}.profile")
            } else {
                "tools.profile".into()
            };
            let also_key = if *source == ListSource::Agent {
                format!("{ap}.alsoAllow")
            } else {
                "tools.alsoAllow".into()
            };
            layers.push(Layer {
                kind: PolicyLayer::Profile,
                allow: Some(Patterns::compile(&list, &mut warnings, &profile_key)),
                deny: Patterns::default(),
                allow_entries: Some(list),
                deny_entries: Vec::new(),
                allow_key: also_key,
                deny_key: profile_key,
                allow_source: Some(*source),
                deny_source: None,
            });
        }

        // 2./3. global and agent lists
        for (section, kind, base, src) in [
            (
                &self.global,
                PolicyLayer::Global,
                "tools".to_string(),
                ListSource::Global,
            ),
            (
                &self.agent,
                PolicyLayer::Agent,
                ap.clone(),
                ListSource::Agent,
            ),
        ] {
            let l = &section.lists;
            if l.allow.as_ref().is_some_and(|a| !a.is_empty())
                && l.also_allow.as_ref().is_some_and(|a| !a.is_empty())
            {
                warnings.push(format!(
                    "{base}.allow and {base}.alsoAllow are mutually exclusive; both were applied"
                ));
            }
            let allow = l.allow.clone().filter(|a| !a.is_empty()).map(|mut a| {
                a.extend(l.also_allow.iter().flatten().cloned());
                a
            });
            let deny = l.deny.clone().unwrap_or_default();
            if allow.is_none() && deny.is_empty() {
                continue;
            }
            layers.push(Layer {
                kind,
                allow: allow
                    .as_ref()
                    .map(|a| Patterns::compile(a, &mut warnings, &format!("{base}.allow"))),
                deny: Patterns::compile(&deny, &mut warnings, &format!("{base}.deny")),
                allow_entries: allow,
                deny_entries: deny,
                allow_key: format!("{base}.allow"),
                deny_key: format!("{base}.deny"),
                allow_source: Some(src),
                deny_source: Some(src),
            });
        }

        // 4. sandbox
        if sandbox_mode.is_some() {
            layers.push(self.sandbox_layer(&mut warnings));
        }

        EffectivePolicy {
            layers,
            profile,
            sandbox_mode: sandbox_mode.map(str::to_string),
            warnings,
        }
    }

    fn sandbox_layer(&self, warnings: &mut Vec<String>) -> Layer {
        let ap = &self.agent_path;
        let agent = self.agent.sandbox.as_ref().and_then(|s| s.tools.as_ref());
        let global = self.global.sandbox.as_ref().and_then(|s| s.tools.as_ref());
        let pick =
            |f: fn(&ListPolicy) -> &Option<Vec<String>>| -> (Option<Vec<String>>, ListSource) {
                if let Some(v) = agent.and_then(|a| f(a).clone()) {
                    (Some(v), ListSource::Agent)
                } else if let Some(v) = global.and_then(|g| f(g).clone()) {
                    (Some(v), ListSource::Global)
                } else {
                    (None, ListSource::Default)
                }
            };
        let (allow, allow_src) = pick(|l| &l.allow);
        let (deny, deny_src) = pick(|l| &l.deny);
        let also: Vec<String> = agent
            .or(global)
            .and_then(|l| l.also_allow.clone())
            .unwrap_or_default();
        let mut allow = allow.unwrap_or_else(|| {
            tables::SANDBOX_DEFAULT_ALLOW
                .iter()
                .map(|s| s.to_string())
                .collect()
        });
        let explicit: Vec<String> = if allow_src == ListSource::Default {
            also.clone()
        } else {
            allow.iter().chain(&also).cloned().collect()
        };
        allow.extend(also);
        let mut deny = deny.unwrap_or_else(|| {
            tables::sandbox_default_deny()
                .into_iter()
                .map(str::to_string)
                .collect()
        });
        if deny_src == ListSource::Default {
            // An explicit allow re-enables a default-denied tool.
            let explicit = Patterns::compile(&explicit, warnings, "tools.sandbox.tools.allow");
            deny.retain(|d| !explicit.matches(&normalize_tool_name(d)));
        }
        let deny_p = Patterns::compile(&deny, warnings, "tools.sandbox.tools.deny");
        if !deny_p.matches("image") && !allow.iter().any(|a| normalize_tool_name(a) == "image") {
            allow.push("image".into());
        }
        let base = |src: ListSource| {
            if src == ListSource::Agent {
                format!("{ap}.sandbox.tools")
            } else {
                "tools.sandbox.tools".into()
            }
        };
        Layer {
            kind: PolicyLayer::Sandbox,
            allow: (!allow.is_empty())
                .then(|| Patterns::compile(&allow, warnings, "tools.sandbox.tools.allow")),
            deny: deny_p,
            allow_entries: Some(allow),
            deny_entries: deny,
            allow_key: format!("{}.allow", base(allow_src)),
            deny_key: format!("{}.deny", base(deny_src)),
            allow_source: Some(allow_src),
            deny_source: Some(deny_src),
        }
    }
}

impl EffectivePolicy {
    /// A policy that allows everything (no config, not sandboxed).
    pub fn allow_all() -> Self {
        ToolPolicyInput::default().resolve(None)
    }

    /// `Ok` when `name` may be used; otherwise the first layer that refuses it.
    pub fn allowed(&self, name: &str) -> Result<(), Blocked> {
        let n = normalize_tool_name(name);
        for layer in &self.layers {
            if layer.deny.matches(&n) {
                return Err(self.blocked(&n, layer, true));
            }
            if layer.allow.as_ref().is_some_and(|a| !a.admits(&n)) {
                return Err(self.blocked(&n, layer, false));
            }
        }
        Ok(())
    }

    fn blocked(&self, tool: &str, layer: &Layer, denied: bool) -> Blocked {
        let fix_key = if denied {
            layer.deny_key.clone()
        } else {
            layer.allow_key.clone()
        };
        let message = match layer.kind {
            PolicyLayer::Sandbox => format!(
                "Tool \"{tool}\" blocked by sandbox tool policy (mode={}): remove it from {} or add it to {}, or set agents.defaults.sandbox.mode=\"off\"; see openclaw sandbox explain",
                self.sandbox_mode.as_deref().unwrap_or("?"),
                layer.deny_key,
                layer.allow_key
            ),
            PolicyLayer::Profile => {
                let name = self.profile.as_ref().map(|p| p.0.as_str()).unwrap_or("");
                format!(
                    "Tool \"{tool}\" is not in tool profile \"{name}\" ({}): add it to {} or set the profile to \"full\"",
                    layer.deny_key, layer.allow_key
                )
            }
            PolicyLayer::Global | PolicyLayer::Agent if denied => {
                format!(
                    "Tool \"{tool}\" blocked by tool policy: remove it from {}",
                    layer.deny_key
                )
            }
            PolicyLayer::Global | PolicyLayer::Agent => format!(
                "Tool \"{tool}\" blocked by tool policy: add it to {} (a non-empty allow list permits only the tools it names)",
                layer.allow_key
            ),
        };
        Blocked {
            tool: tool.to_string(),
            layer: layer.kind,
            fix_key,
            message,
        }
    }

    pub fn is_sandboxed(&self) -> bool {
        self.sandbox_mode.is_some()
    }

    /// Non-fatal config problems found while resolving (unknown groups, allow+alsoAllow).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The layers and a verdict for every built-in tool.
    pub fn explain(&self) -> PolicyExplain {
        let tools = tables::BUILTIN_TOOLS
            .iter()
            .map(|t| match self.allowed(t) {
                Ok(()) => ToolVerdict {
                    tool: t.to_string(),
                    allowed: true,
                    blocked_by: None,
                    fix_key: None,
                },
                Err(b) => ToolVerdict {
                    tool: t.to_string(),
                    allowed: false,
                    blocked_by: Some(b.layer),
                    fix_key: Some(b.fix_key),
                },
            })
            .collect();
        PolicyExplain {
            sandboxed: self.is_sandboxed(),
            sandbox_mode: self.sandbox_mode.clone(),
            profile: self.profile.as_ref().map(|p| p.0.clone()),
            profile_source: self.profile.as_ref().map(|p| p.1),
            layers: self
                .layers
                .iter()
                .map(|l| LayerExplain {
                    layer: l.kind,
                    allow: l.allow_entries.clone(),
                    deny: l.deny_entries.clone(),
                    allow_key: l.allow_key.clone(),
                    deny_key: l.deny_key.clone(),
                    allow_source: l.allow_source,
                    deny_source: l.deny_source,
                })
                .collect(),
            tools,
            warnings: self.warnings.clone(),
        }
    }
}

#[cfg(test)]
mod tests;
