//! Sandbox tool policy: which tools a sandboxed session may use. Layered after the global/agent
//! tool policy by the agent crate. Resolution: agent `tools.sandbox.tools.allow` replaces the
//! global one, which replaces the default (same for deny); `alsoAllow` merges into allow (and lets
//! an explicit entry re-enable a default-denied tool); `image` is added unless denied. Deny wins;
//! an empty allow list means "everything not denied". `group:*` names expand.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::SandboxError;

/// Default allow list.
pub const DEFAULT_ALLOW: &[&str] = &[
    "exec",
    "process",
    "read",
    "write",
    "edit",
    "apply_patch",
    "image",
    "sessions_list",
    "sessions_history",
    "sessions_send",
    "sessions_spawn",
    "session_status",
];
/// Default deny list (host-only tools and every channel id).
pub const DEFAULT_DENY: &[&str] = &[
    "browser",
    "canvas",
    "nodes",
    "cron",
    "gateway",
    "discord",
    "telegram",
    "whatsapp",
    "slack",
    "signal",
    "imessage",
    "googlechat",
    "msteams",
    "matrix",
    "mattermost",
    "irc",
    "line",
    "nostr",
    "zalo",
    "feishu",
];

/// Where a list came from (for `explain`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PolicySource {
    Agent,
    Global,
    Default,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawToolPolicy {
    allow: Option<Vec<String>>,
    deny: Option<Vec<String>>,
    also_allow: Option<Vec<String>>,
}

/// The resolved policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SandboxToolPolicy {
    pub allow: Vec<String>,
    pub deny: Vec<String>,
    pub allow_source: PolicySource,
    pub deny_source: PolicySource,
}

/// Why a tool is blocked, with the key that would allow it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("Tool \"{tool}\" is blocked by sandbox tool policy ({reason}). To allow it: {fix}")]
pub struct BlockedMessage {
    pub tool: String,
    pub reason: String,
    pub fix: String,
}

/// Expand `group:*` names (lowercased); unknown groups stay as written.
pub fn expand_groups(names: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for n in names {
        let n = n.trim().to_lowercase();
        let group: &[&str] = match n.as_str() {
            "group:runtime" => &["exec", "process"],
            "group:fs" => &["read", "write", "edit", "apply_patch"],
            "group:sessions" => &[
                "sessions_list",
                "sessions_history",
                "sessions_send",
                "sessions_spawn",
                "session_status",
            ],
            _ => {
                if !out.contains(&n) {
                    out.push(n);
                }
                continue;
            }
        };
        for g in group {
            if !out.iter().any(|o| o == g) {
                out.push((*g).to_string());
            }
        }
    }
    out
}

fn parse(v: Option<&Value>, key: &str) -> Result<RawToolPolicy, SandboxError> {
    match v {
        None | Some(Value::Null) => Ok(RawToolPolicy::default()),
        Some(v) => {
            serde_json::from_value(v.clone()).map_err(|e| SandboxError::config(key, e.to_string()))
        }
    }
}

impl SandboxToolPolicy {
    /// Resolve from `tools.sandbox.tools` (global) and `agents.list[].tools.sandbox.tools` (agent).
    pub fn resolve(
        global: Option<&Value>,
        agent: Option<&Value>,
    ) -> Result<SandboxToolPolicy, SandboxError> {
        let g = parse(global, "tools.sandbox.tools")?;
        let a = parse(agent, "agents.list[].tools.sandbox.tools")?;
        let defaults = |l: &[&str]| l.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let (allow, allow_source) = match (a.allow, g.allow) {
            (Some(x), _) => (x, PolicySource::Agent),
            (None, Some(x)) => (x, PolicySource::Global),
            (None, None) => (defaults(DEFAULT_ALLOW), PolicySource::Default),
        };
        let (deny, deny_source) = match (a.deny, g.deny) {
            (Some(x), _) => (x, PolicySource::Agent),
            (None, Some(x)) => (x, PolicySource::Global),
            (None, None) => (defaults(DEFAULT_DENY), PolicySource::Default),
        };
        let mut allow = expand_groups(&allow);
        let mut deny = expand_groups(&deny);
        let also: Vec<String> = g
            .also_allow
            .into_iter()
            .chain(a.also_allow)
            .flatten()
            .collect();
        let also = expand_groups(&also);
        if !allow.is_empty() {
            for t in &also {
                if !allow.contains(t) {
                    allow.push(t.clone());
                }
            }
        }
        // An explicit allow (or alsoAllow) re-enables a tool that is only *default*-denied.
        if deny_source == PolicySource::Default {
            let explicit: Vec<&String> = if allow_source == PolicySource::Default {
                also.iter().collect()
            } else {
                allow.iter().chain(also.iter()).collect()
            };
            deny.retain(|d| !explicit.contains(&d));
        }
        if !allow.is_empty()
            && !deny.iter().any(|d| d == "image")
            && !allow.iter().any(|a| a == "image")
        {
            allow.push("image".into());
        }
        Ok(SandboxToolPolicy {
            allow,
            deny,
            allow_source,
            deny_source,
        })
    }

    /// Deny wins; an empty allow allows everything not denied.
    pub fn is_allowed(&self, name: &str) -> Result<(), BlockedMessage> {
        let n = name.trim().to_lowercase();
        let key = |s: PolicySource, list: &str| match s {
            PolicySource::Agent => format!("agents.list[].tools.sandbox.tools.{list}"),
            _ => format!("tools.sandbox.tools.{list}"),
        };
        if self.deny.contains(&n) {
            return Err(BlockedMessage {
                tool: n.clone(),
                reason: format!("denied by {}", key(self.deny_source, "deny")),
                fix: format!(
                    "remove \"{n}\" from {} (deny wins over allow), or disable sandboxing for this session with agents.defaults.sandbox.mode",
                    key(self.deny_source, "deny")
                ),
            });
        }
        if self.allow.is_empty() || self.allow.contains(&n) {
            return Ok(());
        }
        Err(BlockedMessage {
            tool: n.clone(),
            reason: format!("not in {}", key(self.allow_source, "allow")),
            fix: format!(
                "add \"{n}\" to tools.sandbox.tools.alsoAllow (or {})",
                key(self.allow_source, "allow")
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn defaults() {
        let p = SandboxToolPolicy::resolve(None, None).unwrap();
        for t in [
            "exec",
            "process",
            "read",
            "write",
            "edit",
            "apply_patch",
            "image",
            "sessions_send",
            "session_status",
        ] {
            assert!(p.is_allowed(t).is_ok(), "{t}");
        }
        for t in [
            "browser", "canvas", "nodes", "cron", "gateway", "discord", "telegram", "whatsapp",
            "slack",
        ] {
            let m = p.is_allowed(t).unwrap_err();
            assert!(m.to_string().contains("tools.sandbox.tools.deny"), "{m}");
        }
        let m = p.is_allowed("message").unwrap_err();
        assert!(m.to_string().contains("alsoAllow"), "{m}");
    }

    #[test]
    fn agent_replaces_global_groups_also_allow() {
        let g = json!({"allow": ["group:fs"], "deny": ["exec"]});
        let a = json!({"allow": ["group:runtime", "read"]});
        let p = SandboxToolPolicy::resolve(Some(&g), Some(&a)).unwrap();
        assert_eq!(p.allow_source, PolicySource::Agent);
        assert!(p.is_allowed("process").is_ok());
        assert!(p.is_allowed("write").is_err());
        assert!(p.is_allowed("exec").is_err(), "deny wins");
        let p =
            SandboxToolPolicy::resolve(Some(&json!({"alsoAllow": ["message", "browser"]})), None)
                .unwrap();
        assert!(p.is_allowed("message").is_ok());
        assert!(
            p.is_allowed("browser").is_ok(),
            "explicit alsoAllow re-enables a default deny"
        );
        let p = SandboxToolPolicy::resolve(Some(&json!({"allow": [], "deny": ["exec"]})), None)
            .unwrap();
        assert!(p.is_allowed("anything").is_ok());
        assert!(p.is_allowed("EXEC").is_err());
        let p =
            SandboxToolPolicy::resolve(Some(&json!({"allow": ["read"], "deny": ["image"]})), None)
                .unwrap();
        assert!(p.is_allowed("image").is_err());
        let p = SandboxToolPolicy::resolve(Some(&json!({"allow": ["read"]})), None).unwrap();
        assert!(p.is_allowed("image").is_ok(), "image auto-allowed");
        assert!(SandboxToolPolicy::resolve(Some(&json!({"alow": []})), None).is_err());
    }
}
