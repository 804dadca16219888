//! The tool router: the enabled tools of one turn, after the policy has filtered them.
//!
//! `specs()` is what the model sees; `dispatch()` finds a tool by name (case-insensitive,
//! `bash` → `exec`), refuses tools the policy removed with the message that names the config
//! key to change, and turns a panicking tool into an error result instead of taking the turn
//! down.

use std::collections::BTreeMap;
use std::sync::Arc;

use futures::FutureExt;
use serde::Serialize;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use super::{Tool, ToolContext, ToolOutput};
use crate::policy::{Blocked, EffectivePolicy, normalize_tool_name};

/// One tool as offered to the model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ToolSpec {
    pub name: String,
    pub description: String,
    pub parameters: Value,
}

/// Enabled tools plus the reasons the others were removed.
#[derive(Clone, Default)]
pub struct ToolRouter {
    tools: BTreeMap<String, Arc<dyn Tool>>,
    order: Vec<String>,
    blocked: BTreeMap<String, Blocked>,
}

impl std::fmt::Debug for ToolRouter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ToolRouter")
            .field("enabled", &self.order)
            .field("blocked", &self.blocked.keys())
            .finish()
    }
}

impl ToolRouter {
    /// Keep the tools `policy` allows, in the given order; remember why the others are gone.
    pub fn new(tools: Vec<Arc<dyn Tool>>, policy: &EffectivePolicy) -> Self {
        let mut router = Self::default();
        for tool in tools {
            let name = normalize_tool_name(tool.name());
            match policy.allowed(&name) {
                Ok(()) => {
                    if !router.tools.contains_key(&name) {
                        router.order.push(name.clone());
                    }
                    router.tools.insert(name, tool);
                }
                Err(blocked) => {
                    router.blocked.insert(name, blocked);
                }
            }
        }
        router
    }

    /// Specs for the model, in registration order.
    pub fn specs(&self) -> Vec<ToolSpec> {
        self.order
            .iter()
            .filter_map(|n| self.tools.get(n))
            .map(|t| ToolSpec {
                name: t.name().to_string(),
                description: t.description().to_string(),
                parameters: t.parameters(),
            })
            .collect()
    }

    pub fn names(&self) -> Vec<String> {
        self.order.clone()
    }

    pub fn is_enabled(&self, name: &str) -> bool {
        self.tools.contains_key(&normalize_tool_name(name))
    }

    /// Why a known tool was removed, if it was.
    pub fn blocked(&self, name: &str) -> Option<&Blocked> {
        self.blocked.get(&normalize_tool_name(name))
    }

    /// Run one call. Unknown or blocked tools, bad arguments and panics all come back as error
    /// outputs.
    pub async fn dispatch(
        &self,
        ctx: &ToolContext,
        name: &str,
        args: Value,
        cancel: CancellationToken,
    ) -> ToolOutput {
        let key = normalize_tool_name(name);
        let Some(tool) = self.tools.get(&key) else {
            if let Some(b) = self.blocked.get(&key) {
                return ToolOutput::error(b.message.clone());
            }
            return ToolOutput::error(format!(
                "Tool \"{name}\" not found. Available tools: {}. If it is a tool you expect, check tools.profile / tools.allow / tools.alsoAllow in the config.",
                self.order.join(", ")
            ));
        };
        // Some models send the arguments as a JSON string.
        let args = match args {
            Value::String(s) => match serde_json::from_str::<Value>(&s) {
                Ok(v @ Value::Object(_)) => v,
                _ => return ToolOutput::error(format!("{key}: arguments must be a JSON object")),
            },
            Value::Null => Value::Object(Default::default()),
            v @ Value::Object(_) => v,
            _ => return ToolOutput::error(format!("{key}: arguments must be a JSON object")),
        };
        match std::panic::AssertUnwindSafe(tool.call(ctx, args, cancel))
            .catch_unwind()
            .await
        {
            Ok(out) => out,
            Err(_) => {
                tracing::error!(tool = %key, "tool panicked");
                ToolOutput::error(format!(
                    "Tool \"{key}\" failed internally (a bug); the call had no effect you can rely on. Try again or use another tool."
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::ToolPolicyInput;
    use crate::tools::{HostFsOptions, JobRegistry};
    use async_trait::async_trait;
    use serde_json::json;

    struct Boom;
    #[async_trait]
    impl Tool for Boom {
        fn name(&self) -> &str {
            "exec"
        }
        fn description(&self) -> &str {
            "panics"
        }
        fn parameters(&self) -> Value {
            json!({"type": "object", "properties": {}})
        }
        async fn call(&self, _: &ToolContext, _: Value, _: CancellationToken) -> ToolOutput {
            panic!("boom")
        }
    }

    fn ctx() -> ToolContext {
        ToolContext::host(
            "main",
            std::env::temp_dir(),
            HostFsOptions {
                workspace_only: false,
                apply_patch_workspace_only: false,
            },
            Arc::new(JobRegistry::default()),
        )
        .unwrap()
    }

    #[tokio::test]
    async fn panics_unknown_and_blocked_become_errors() {
        let policy = ToolPolicyInput::from_values(Some(&json!({"deny": ["read"]})), None)
            .unwrap()
            .resolve(None);
        let router = ToolRouter::new(
            vec![Arc::new(Boom), Arc::new(crate::tools::fs::ReadTool)],
            &policy,
        );
        assert_eq!(router.names(), vec!["exec".to_string()]);
        let c = ctx();
        let out = router
            .dispatch(&c, "BASH", json!({}), CancellationToken::new())
            .await;
        assert!(out.is_error && out.text_content().contains("failed internally"));
        let out = router
            .dispatch(&c, "read", json!({}), CancellationToken::new())
            .await;
        assert!(out.is_error);
        assert!(
            out.text_content().contains("tools.deny"),
            "{}",
            out.text_content()
        );
        let out = router
            .dispatch(&c, "nope", json!({}), CancellationToken::new())
            .await;
        assert!(out.is_error && out.text_content().contains("Available tools: exec"));
    }
}
