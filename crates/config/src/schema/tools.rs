//! `tools`: tool profile, allow/deny policy, exec, elevated mode, sandbox tool policy.

use std::collections::BTreeMap;

use super::common::{StringOrNumber, ToolPolicy};

config_enum! {
    /// Base allowlist.
    pub enum ToolProfile { Minimal, Coding, Messaging, Full }
}

config_enum! {
    /// Where `exec` runs.
    pub enum ExecHost { Sandbox, Gateway, Node }
}

config_enum! {
    pub enum ExecSecurity { Deny, Allowlist, Full }
}

config_enum! {
    pub enum ExecAsk { Off, OnMiss, Always }
}

config_struct! {
    pub struct ToolsConfig {
        pub profile: Option<ToolProfile>,
        pub allow: Option<Vec<String>>,
        pub also_allow: Option<Vec<String>>,
        pub deny: Option<Vec<String>>,
        /// Policy by `provider` or `provider/model`.
        pub by_provider: Option<BTreeMap<String, ToolPolicy>>,
        pub fs: Option<FsTools>,
        pub exec: Option<ExecTools>,
        pub elevated: Option<ElevatedTools>,
        pub sandbox: Option<SandboxTools>,
        pub subagents: Option<SandboxTools>,
        pub agent_to_agent: Option<AgentToAgent>,
        pub web: Option<serde_json::Value>,
        pub message: Option<serde_json::Value>,
        pub media: Option<serde_json::Value>,
        pub links: Option<serde_json::Value>,
        pub loop_detection: Option<serde_json::Value>,
        pub bash: Option<serde_json::Value>,
    }
}

config_struct! {
    /// `agents.list[].tools`: narrows the global policy.
    pub struct AgentTools {
        pub profile: Option<ToolProfile>,
        pub allow: Option<Vec<String>>,
        pub also_allow: Option<Vec<String>>,
        pub deny: Option<Vec<String>>,
        pub by_provider: Option<BTreeMap<String, ToolPolicy>>,
        pub fs: Option<FsTools>,
        pub exec: Option<ExecTools>,
        pub elevated: Option<ElevatedTools>,
        pub sandbox: Option<SandboxTools>,
    }
}

config_struct! {
    pub struct FsTools {
        /// Confine read/write/edit to the workspace.
        pub workspace_only: Option<bool>,
    }
}

config_struct! {
    pub struct ExecTools {
        pub host: Option<ExecHost>,
        pub security: Option<ExecSecurity>,
        pub ask: Option<ExecAsk>,
        pub node: Option<String>,
        pub timeout_seconds: Option<u64>,
        pub background_ms: Option<u64>,
        pub cleanup_ms: Option<u64>,
        pub path_prepend: Option<Vec<String>>,
        /// Stdin-only filters allowed without approval.
        pub safe_bins: Option<Vec<String>>,
        pub apply_patch: Option<ApplyPatchTools>,
        pub notify_on_exit: Option<bool>,
        pub approval_running_notice_ms: Option<u64>,
    }
}

config_struct! {
    pub struct ApplyPatchTools {
        pub enabled: Option<bool>,
        pub workspace_only: Option<bool>,
        pub allow_models: Option<Vec<String>>,
    }
}

config_struct! {
    pub struct ElevatedTools {
        pub enabled: Option<bool>,
        /// Senders allowed to use elevated mode, by channel.
        pub allow_from: Option<BTreeMap<String, Vec<StringOrNumber>>>,
    }
}

config_struct! {
    /// Wrapper holding a tool policy (`tools.sandbox.tools`, `tools.subagents.tools`).
    pub struct SandboxTools {
        pub tools: Option<ToolPolicy>,
    }
}

config_struct! {
    pub struct AgentToAgent {
        pub enabled: Option<bool>,
        pub allow: Option<Vec<String>>,
    }
}
