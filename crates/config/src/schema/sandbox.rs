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
    /// The sandbox browser: a Chromium container per scope that the `browser` tool drives over
    /// CDP (only when `browser` passes the sandbox tool policy).
    pub struct SandboxBrowser {
        /// Start a browser container for sandboxed sessions (default false).
        pub enabled: Option<bool>,
        /// Default `openclaw-sandbox-browser:bookworm-slim` (build: scripts/sandbox-browser-setup.sh).
        pub image: Option<String>,
        /// Container name prefix (default `openclaw-sbx-browser-`).
        pub container_prefix: Option<String>,
        /// Docker network (default `openclaw-sandbox-browser`, a bridge created on demand;
        /// `none` cannot work, `host` is refused).
        pub network: Option<String>,
        /// Container-side CDP port (default 9222), published on a random 127.0.0.1 port.
        pub cdp_port: Option<u16>,
        /// CIDR allowed to reach CDP inside the container, e.g. `172.21.0.1/32`.
        pub cdp_source_range: Option<String>,
        /// Container-side VNC port (default 5900).
        pub vnc_port: Option<u16>,
        /// Container-side noVNC port (default 6080), published on 127.0.0.1 when enabled.
        pub no_vnc_port: Option<u16>,
        /// Run Chromium headless (default false; no noVNC then).
        pub headless: Option<bool>,
        /// Serve the noVNC observer when not headless (default true).
        pub enable_no_vnc: Option<bool>,
        /// Later spelling of `enableNoVnc`.
        pub no_vnc_enabled: Option<bool>,
        /// Let sandboxed sessions target the host browser (default false).
        pub allow_host_control: Option<bool>,
        /// Wait for CDP to answer before the browser is used (default true).
        pub auto_start: Option<bool>,
        /// How long to wait for CDP (default 12000); the container is removed after that.
        pub auto_start_timeout_ms: Option<u64>,
        /// `host:container[:ro|rw]`; when set (even `[]`) replaces `docker.binds` for the browser.
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
