//! Which config changes apply live and which need a gateway restart.
//!
//! Restart: `gateway.*` (except `gateway.reload` and `gateway.remote`), `discovery`, `browser`,
//! `plugins.load`, `plugins.installs`. Everything else is hot (channels, agents, models, tools,
//! session, messages, hooks, cron, skills, logging, bindings, …).

use serde_json::Value;

use crate::keypath::KeyPath;

/// Changed paths, split by how they apply.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReloadPlan {
    /// Paths that apply without a restart.
    pub hot: Vec<String>,
    /// Paths that need a gateway restart.
    pub restart: Vec<String>,
}

impl ReloadPlan {
    pub fn is_empty(&self) -> bool {
        self.hot.is_empty() && self.restart.is_empty()
    }

    pub fn needs_restart(&self) -> bool {
        !self.restart.is_empty()
    }

    /// The CLI's one-line hint after `config set/unset`.
    pub fn hint(&self) -> &'static str {
        if self.needs_restart() {
            "Restart the gateway to apply."
        } else if self.is_empty() {
            "No gateway restart needed."
        } else {
            "Change will apply without restarting the gateway."
        }
    }
}

/// Does a change at `path` need a restart?
pub fn needs_restart(path: &KeyPath) -> bool {
    use crate::keypath::Seg::Key;
    match path.0.as_slice() {
        [Key(a), Key(b), ..] if a == "gateway" => b != "reload" && b != "remote",
        [Key(a)] if a == "gateway" => true,
        [Key(a), ..] if a == "discovery" || a == "browser" => true,
        [Key(a), Key(b), ..] if a == "plugins" => b == "load" || b == "installs",
        [Key(a)] if a == "plugins" => true,
        _ => false,
    }
}

/// Compare two effective configs.
pub fn reload_plan(old: &Value, new: &Value) -> ReloadPlan {
    let mut changed = Vec::new();
    diff(old, new, &KeyPath::root(), &mut changed);
    let mut plan = ReloadPlan::default();
    for path in changed {
        if needs_restart(&path) {
            plan.restart.push(path.to_string());
        } else {
            plan.hot.push(path.to_string());
        }
    }
    plan
}

fn diff(old: &Value, new: &Value, path: &KeyPath, out: &mut Vec<KeyPath>) {
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in a {
                match b.get(k) {
                    Some(w) => diff(v, w, &path.child_key(k), out),
                    None => out.push(path.child_key(k)),
                }
            }
            for k in b.keys() {
                if !a.contains_key(k) {
                    out.push(path.child_key(k));
                }
            }
        }
        (a, b) if a == b => {}
        _ => out.push(path.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;
    use serde_json::json;

    #[test]
    fn classifies_changes() {
        let old = json!({"gateway": {"port": 1, "reload": {"mode": "hybrid"}, "remote": {"url": "a"}},
                         "channels": {"telegram": {"enabled": true}}, "plugins": {"entries": {}, "load": {"paths": []}}});
        let new = json!({"gateway": {"port": 2, "reload": {"mode": "off"}, "remote": {"url": "b"}},
                         "channels": {"telegram": {"enabled": false}}, "plugins": {"entries": {"x": {}}, "load": {"paths": ["p"]}},
                         "browser": {"enabled": true}});
        let plan = reload_plan(&old, &new);
        assert_eq!(
            plan.restart,
            vec!["gateway.port", "plugins.load.paths", "browser"]
        );
        assert_eq!(
            plan.hot,
            vec![
                "gateway.reload.mode",
                "gateway.remote.url",
                "channels.telegram.enabled",
                "plugins.entries.x"
            ]
        );
        assert_eq!(plan.hint(), "Restart the gateway to apply.");
        assert_eq!(reload_plan(&old, &old).hint(), "No gateway restart needed.");
    }
}
