//! `agents.defaults.sandbox` / `agents.list[].sandbox`: the Docker sandbox posture.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;

use super::common::StringOrNumber;

config_enum! {
    /// Which sessions run tools in a container.
    pub enum SandboxMode { Off, NonMain, All }
}

config_enum! {
    /// How containers are shared.
    pub enum SandboxScope { Session, Agent, Shared }
}

config_enum! {
    /// How the agent workspace is visible inside the container.
    pub enum WorkspaceAccess { None, Ro, Rw }
}

config_enum! {
    pub enum SessionToolsVisibility { Spawned, All }
}

config_struct! {
    pub struct SandboxConfig {
        /// `off` (default), `non-main` or `all`.
        pub mode: Option<SandboxMode>,
        /// `session`, `agent` (default) or `shared`.
        pub scope: Option<SandboxScope>,
        /// `none` (default), `ro` or `rw`.
        pub workspace_access: Option<WorkspaceAccess>,
        /// Host root for sandbox workspaces (default `~/.openclaw/sandboxes`).
        pub workspace_root: Option<String>,
        pub session_tools_visibility: Option<SessionToolsVisibility>,
        /// Legacy: `true` = scope `session`, `false` = scope `shared`.
        pub per_session: Option<bool>,
        /// Sandbox backend (`docker`).
        pub backend: Option<String>,
        pub docker: Option<SandboxDocker>,
        pub browser: Option<SandboxBrowser>,
        pub prune: Option<SandboxPrune>,
    }
}

config_struct! {
    pub struct SandboxDocker {
        pub image: Option<String>,
        pub container_prefix: Option<String>,
        pub workdir: Option<String>,
        pub read_only_root: Option<bool>,
        pub tmpfs: Option<Vec<String>>,
        /// Docker network (`none` default; `host` is refused).
        pub network: Option<String>,
        pub user: Option<String>,
        pub cap_drop: Option<Vec<String>>,
        pub env: Option<BTreeMap<String, String>>,
        /// Run once after the container is created (`sh -lc`).
        pub setup_command: Option<String>,
        pub pids_limit: Option<i64>,
        pub memory: Option<StringOrNumber>,
        pub memory_swap: Option<StringOrNumber>,
        pub cpus: Option<f64>,
        pub gpus: Option<String>,
        pub ulimits: Option<BTreeMap<String, Ulimit>>,
        pub seccomp_profile: Option<String>,
        pub apparmor_profile: Option<String>,
        pub dns: Option<Vec<String>>,
        pub extra_hosts: Option<Vec<String>>,
        /// `host:container[:ro|rw]`.
        pub binds: Option<Vec<String>>,
        pub dangerously_allow_external_bind_sources: Option<bool>,
        pub dangerously_allow_reserved_container_targets: Option<bool>,
        pub dangerously_allow_container_namespace_join: Option<bool>,
    }
}

/// A ulimit: `n`, `"n"` or `{ soft, hard }`.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Ulimit {
    Number(i64),
    Text(String),
    Range(UlimitRange),
}

config_struct! {
    pub struct UlimitRange {
        pub soft: Option<i64>,
        pub hard: Option<i64>,
    }
}

config_struct! {
    pub struct SandboxBrowser {
        pub enabled: Option<bool>,
        pub image: Option<String>,
        pub container_prefix: Option<String>,
        pub network: Option<String>,
        pub cdp_port: Option<u16>,
        pub cdp_source_range: Option<String>,
        pub vnc_port: Option<u16>,
        pub no_vnc_port: Option<u16>,
        pub headless: Option<bool>,
        pub enable_no_vnc: Option<bool>,
        pub no_vnc_enabled: Option<bool>,
        pub allow_host_control: Option<bool>,
        pub auto_start: Option<bool>,
        pub auto_start_timeout_ms: Option<u64>,
        pub binds: Option<Vec<String>>,
    }
}

config_struct! {
    pub struct SandboxPrune {
        /// Remove containers idle longer than this (0 disables; default 24).
        pub idle_hours: Option<f64>,
        /// Remove containers older than this (0 disables; default 7).
        pub max_age_days: Option<f64>,
    }
}
