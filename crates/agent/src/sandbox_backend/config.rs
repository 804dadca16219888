//! Sandbox settings from config JSON, and the data behind `sandbox list | recreate | explain`.
//!
//! [`AgentSandbox::resolve`] reads `agents.defaults.sandbox` + `agents.list[].sandbox` (merged by
//! the sandbox crate's `resolve_in`), the agent's workspace and main session key, and the tool
//! policy blocks (`tools`, `agents.list[].tools`). The gateway methods and the CLI share these
//! functions so that both answer the same; the CLI calls them without a running gateway.

use std::collections::HashMap;
use std::path::PathBuf;

use openclaw_config::{LoadedConfig, Paths};
use openclaw_sandbox::manage::{Explain, RecreateTarget};
use openclaw_sandbox::naming::{agent_id_from_session_key, is_sandboxed, main_session_key};
use openclaw_sandbox::registry::Registry;
use openclaw_sandbox::spec::SandboxMode;
use openclaw_sandbox::{SandboxError, SandboxManager, SandboxSpec};
use serde::Serialize;
use serde_json::Value;

use crate::policy::{EffectivePolicy, PolicyError, PolicyExplain, ToolPolicyInput};

/// One agent's sandbox settings.
#[derive(Debug, Clone)]
pub struct AgentSandbox {
    pub agent_id: String,
    pub spec: SandboxSpec,
    /// The agent's host workspace.
    pub agent_workspace: PathBuf,
    /// `agent:<id>:<mainKey>` (or `global` under `session.scope: "global"`).
    pub main_session_key: String,
    /// `session.mainKey`.
    pub main_key: String,
    pub tools: ToolPolicyInput,
}

fn policy_err(e: PolicyError) -> SandboxError {
    match e {
        PolicyError::InvalidConfig { key, message } => SandboxError::Config { key, message },
    }
}

impl AgentSandbox {
    /// Resolve for `agent_id` from the loaded config.
    pub fn resolve(
        loaded: &LoadedConfig,
        paths: &Paths,
        agent_id: &str,
    ) -> Result<AgentSandbox, SandboxError> {
        let value = &loaded.value;
        let settings = openclaw_config::resolve::AgentSettings::resolve(&loaded.config, paths);
        let list = value
            .pointer("/agents/list")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let index = list
            .iter()
            .position(|a| a.get("id").and_then(Value::as_str) == Some(agent_id));
        let entry = index.and_then(|i| list.get(i));
        let spec = openclaw_sandbox::resolve_in(
            value.pointer("/agents/defaults/sandbox"),
            entry.and_then(|e| e.get("sandbox")),
            &paths.state_dir,
            &paths.home,
        )?;
        let mut tools =
            ToolPolicyInput::from_values(value.get("tools"), entry.and_then(|e| e.get("tools")))
                .map_err(policy_err)?;
        if let Some(i) = index {
            tools = tools.with_agent_path(format!("agents.list[{i}].tools"));
        }
        let agent_workspace = settings
            .get(agent_id)
            .map(|a| a.workspace.clone())
            .unwrap_or_else(|| paths.state_dir.join(format!("workspace-{agent_id}")));
        let global = value.pointer("/session/scope").and_then(Value::as_str) == Some("global");
        Ok(AgentSandbox {
            agent_id: agent_id.to_string(),
            main_session_key: main_session_key(agent_id, &settings.main_key, global),
            main_key: settings.main_key.clone(),
            spec,
            agent_workspace,
            tools,
        })
    }

    /// Whether a run of `session_key` is sandboxed.
    pub fn is_sandboxed(&self, session_key: &str) -> bool {
        is_sandboxed(self.spec.mode, session_key, &self.main_session_key)
    }

    /// The sandbox mode to pass to [`ToolPolicyInput::resolve`]: `Some` when sandboxed.
    pub fn policy_mode(&self, session_key: &str) -> Option<&'static str> {
        if !self.is_sandboxed(session_key) {
            return None;
        }
        match self.spec.mode {
            SandboxMode::Off => None,
            SandboxMode::NonMain => Some("non-main"),
            SandboxMode::All => Some("all"),
        }
    }

    /// The tool policy of `session_key` (with the sandbox layer when sandboxed).
    pub fn effective_policy(&self, session_key: &str) -> EffectivePolicy {
        self.tools.resolve(self.policy_mode(session_key))
    }

    /// `sandbox explain` for `session_key`.
    pub fn explain(&self, session_key: &str) -> SandboxExplainReport {
        let sandbox = openclaw_sandbox::manage::explain(
            &self.spec,
            &self.agent_id,
            session_key,
            &self.agent_workspace,
            &self.main_key,
        );
        SandboxExplainReport {
            sandboxed: self.is_sandboxed(session_key),
            tool_policy: self.effective_policy(session_key).explain(),
            sandbox,
        }
    }
}

/// `sandbox explain`: the sandbox half from the sandbox crate plus the effective tool policy.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SandboxExplainReport {
    #[serde(flatten)]
    pub sandbox: Explain,
    pub sandboxed: bool,
    pub tool_policy: PolicyExplain,
}

/// Which agent and session `explain` is about: `--agent` and/or `--session`; the agent defaults
/// to the session key's agent (else the default agent), the session to the agent's main session.
pub fn explain_for(
    loaded: &LoadedConfig,
    paths: &Paths,
    session_key: Option<&str>,
    agent_id: Option<&str>,
) -> Result<SandboxExplainReport, SandboxError> {
    let settings = openclaw_config::resolve::AgentSettings::resolve(&loaded.config, paths);
    let session_key = session_key.map(str::trim).filter(|s| !s.is_empty());
    let agent = match (agent_id, session_key) {
        (Some(a), _) => a.trim().to_lowercase(),
        (None, Some(k)) if k.starts_with("agent:") => agent_id_from_session_key(k),
        _ => settings.default_agent_id.clone(),
    };
    let sandbox = AgentSandbox::resolve(loaded, paths, &agent)?;
    let key = match session_key {
        Some(k) if k.contains(':') || k == "global" => k.to_string(),
        // A short name (`main`, `work`) is a key under the agent.
        Some(k) => format!("agent:{agent}:{k}"),
        None => sandbox.main_session_key.clone(),
    };
    Ok(sandbox.explain(&key))
}

/// One row of `sandbox list` (the Control UI's Sandbox tab reads these field names).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SandboxRow {
    pub container_name: String,
    /// The scope key (`agent:<id>`, a session key, or `shared`).
    pub session_key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<String>,
    pub image: String,
    pub image_match: bool,
    pub running: bool,
    /// False when the registry knows a container the engine no longer has.
    pub exists: bool,
    pub created_at_ms: i64,
    pub last_used_at_ms: i64,
    pub age_ms: i64,
    pub idle_ms: i64,
    /// Browser rows: the 127.0.0.1 host port publishing CDP.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cdp_port: Option<u16>,
    /// Browser rows: the 127.0.0.1 host port publishing noVNC.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_vnc_port: Option<u16>,
}

/// `sandbox list`: registry entries checked against the engine. `imageMatch` compares with the
/// image configured for the entry's agent.
pub async fn list_rows(
    manager: &SandboxManager,
    loaded: &LoadedConfig,
    paths: &Paths,
) -> Result<Vec<SandboxRow>, SandboxError> {
    rows_of(manager, manager.registry(), loaded, paths, |s| {
        s.docker.image.clone()
    })
    .await
}

/// `sandbox list --browser`: the sandbox browser containers, compared with `browser.image`.
pub async fn list_browser_rows(
    manager: &SandboxManager,
    loaded: &LoadedConfig,
    paths: &Paths,
) -> Result<Vec<SandboxRow>, SandboxError> {
    rows_of(manager, manager.browser_registry(), loaded, paths, |s| {
        s.browser.image.clone()
    })
    .await
}

async fn rows_of(
    manager: &SandboxManager,
    registry: &Registry,
    loaded: &LoadedConfig,
    paths: &Paths,
    configured_image: fn(&SandboxSpec) -> String,
) -> Result<Vec<SandboxRow>, SandboxError> {
    let engine = manager.engine().await?;
    let now = chrono::Utc::now().timestamp_millis();
    let mut images: HashMap<String, String> = HashMap::new();
    let mut rows = Vec::new();
    for e in registry.entries().await? {
        let agent_id = e
            .session_key
            .starts_with("agent:")
            .then(|| agent_id_from_session_key(&e.session_key));
        let agent_for_image = agent_id.clone().unwrap_or_else(|| {
            openclaw_config::resolve::AgentSettings::resolve(&loaded.config, paths).default_agent_id
        });
        let configured = match images.get(&agent_for_image) {
            Some(i) => i.clone(),
            None => {
                let i = AgentSandbox::resolve(loaded, paths, &agent_for_image)
                    .map(|a| configured_image(&a.spec))
                    .unwrap_or_else(|_| configured_image(&SandboxSpec::defaults(&paths.state_dir)));
                images.insert(agent_for_image, i.clone());
                i
            }
        };
        let info = engine.inspect(&e.container_name).await?;
        let image = info
            .as_ref()
            .and_then(|i| i.image.clone())
            .unwrap_or_else(|| e.image.clone());
        rows.push(SandboxRow {
            running: info.as_ref().is_some_and(|i| i.running),
            exists: info.is_some(),
            image_match: image == configured,
            image,
            created_at_ms: e.created_at_ms,
            last_used_at_ms: e.last_used_at_ms,
            age_ms: now - e.created_at_ms,
            idle_ms: now - e.last_used_at_ms,
            agent_id,
            cdp_port: e.cdp_port,
            no_vnc_port: e.no_vnc_port,
            session_key: e.session_key,
            container_name: e.container_name,
        });
    }
    Ok(rows)
}

/// The target of `sandbox recreate`: exactly one of `all`, `session`, `agent`.
pub fn recreate_target(
    all: bool,
    session: Option<&str>,
    agent: Option<&str>,
) -> Result<RecreateTarget, String> {
    let session = session.map(str::trim).filter(|s| !s.is_empty());
    let agent = agent.map(str::trim).filter(|s| !s.is_empty());
    match (all, session, agent) {
        (true, None, None) => Ok(RecreateTarget::All),
        (false, Some(s), None) => Ok(RecreateTarget::Session(s.to_string())),
        (false, None, Some(a)) => Ok(RecreateTarget::Agent(a.to_lowercase())),
        _ => Err(
            "choose exactly one target: --all, --session <scope key> or --agent <id>".to_string(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn recreate_needs_exactly_one_target() {
        assert_eq!(recreate_target(true, None, None), Ok(RecreateTarget::All));
        assert_eq!(
            recreate_target(false, None, Some("Work")),
            Ok(RecreateTarget::Agent("work".into()))
        );
        assert_eq!(
            recreate_target(false, Some("agent:main:x"), None),
            Ok(RecreateTarget::Session("agent:main:x".into()))
        );
        assert!(recreate_target(false, None, None).is_err());
        assert!(recreate_target(true, Some("a"), None).is_err());
    }
}
