//! Resolved sandbox settings (`agents.defaults.sandbox` merged with `agents.list[].sandbox`).
//!
//! The caller hands us the two raw JSON blocks (`serde_json::Value`), so this crate does not depend
//! on the config crate's types. Raw blocks are strict (`deny_unknown_fields`): a typo fails with the
//! key path instead of silently running with a default. Merge rules: the agent block overrides key
//! by key; `docker.binds` and `browser.binds` concatenate; `docker.env` and `docker.ulimits` merge
//! (agent wins per key);
//! the agent's `docker`/`browser`/`prune` blocks are ignored when the resolved scope is `shared`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::SandboxError;

mod browser;

pub use browser::{BrowserSpec, DEFAULT_BROWSER_IMAGE, DEFAULT_BROWSER_NETWORK};
use browser::{RawBrowser, merge_browser};

/// When sessions run their tools in a sandbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum SandboxMode {
    /// Never sandboxed.
    #[default]
    Off,
    /// Every session except the agent's main session.
    NonMain,
    /// Every session.
    All,
}

/// Which sessions share one container and one sandbox workspace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum SandboxScope {
    /// One container per session key.
    Session,
    /// One container per agent.
    #[default]
    Agent,
    /// One container for everything (no cross-session isolation).
    Shared,
}

/// How the agent workspace is exposed inside the container.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum WorkspaceAccess {
    /// Isolated, writable sandbox workspace at `/workspace`; agent workspace not mounted.
    #[default]
    None,
    /// Sandbox workspace at `/workspace`, agent workspace read-only at `/agent`.
    Ro,
    /// Agent workspace read-write at `/workspace`.
    Rw,
}

impl WorkspaceAccess {
    /// The config spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            WorkspaceAccess::None => "none",
            WorkspaceAccess::Ro => "ro",
            WorkspaceAccess::Rw => "rw",
        }
    }
}

/// A memory size as written in config: bytes (number) or a docker size string (`"512m"`, `"1g"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum MemorySize {
    Bytes(i64),
    Text(String),
}

impl MemorySize {
    /// Bytes as the Engine API wants them (`-1` = unlimited swap).
    pub fn to_bytes(&self) -> Option<i64> {
        match self {
            MemorySize::Bytes(n) => Some(*n),
            MemorySize::Text(s) => parse_ram(s),
        }
    }
}

/// Docker's `RAMInBytes`: a number with an optional binary unit suffix (b, k, m, g, t, p).
fn parse_ram(s: &str) -> Option<i64> {
    let s = s.trim().to_ascii_lowercase();
    if s == "-1" {
        return Some(-1);
    }
    let s = s.strip_suffix('b').filter(|r| !r.is_empty()).unwrap_or(&s);
    let (num, mult): (&str, i64) = match s.chars().last()? {
        'k' => (&s[..s.len() - 1], 1 << 10),
        'm' => (&s[..s.len() - 1], 1 << 20),
        'g' => (&s[..s.len() - 1], 1 << 30),
        't' => (&s[..s.len() - 1], 1 << 40),
        'p' => (&s[..s.len() - 1], 1 << 50),
        _ => (s, 1),
    };
    let n: f64 = num.trim().parse().ok()?;
    if !n.is_finite() || n < 0.0 {
        return None;
    }
    Some((n * mult as f64) as i64)
}

/// One ulimit: `n`, `"n"` or `{soft, hard}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Ulimit {
    Number(i64),
    Text(String),
    Pair {
        #[serde(skip_serializing_if = "Option::is_none")]
        soft: Option<i64>,
        #[serde(skip_serializing_if = "Option::is_none")]
        hard: Option<i64>,
    },
}

impl Ulimit {
    /// `(soft, hard)`; a single number sets both.
    pub fn soft_hard(&self) -> Option<(i64, i64)> {
        match self {
            Ulimit::Number(n) => Some((*n, *n)),
            Ulimit::Text(s) => {
                let n: i64 = s.trim().parse().ok()?;
                Some((n, n))
            }
            Ulimit::Pair { soft, hard } => match (soft, hard) {
                (Some(s), Some(h)) => Some((*s, *h)),
                (Some(s), None) => Some((*s, *s)),
                (None, Some(h)) => Some((*h, *h)),
                (None, None) => None,
            },
        }
    }
}

/// The resolved `docker` block. Serialized (camelCase) into the config hash.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DockerSpec {
    pub image: String,
    pub container_prefix: String,
    pub workdir: String,
    pub read_only_root: bool,
    pub tmpfs: Vec<String>,
    pub network: String,
    pub user: Option<String>,
    pub cap_drop: Vec<String>,
    pub env: BTreeMap<String, String>,
    pub setup_command: Option<String>,
    pub pids_limit: Option<i64>,
    pub memory: Option<MemorySize>,
    pub memory_swap: Option<MemorySize>,
    pub cpus: Option<f64>,
    pub ulimits: BTreeMap<String, Ulimit>,
    pub seccomp_profile: Option<String>,
    pub apparmor_profile: Option<String>,
    pub dns: Vec<String>,
    pub extra_hosts: Vec<String>,
    pub binds: Vec<String>,
    pub dangerously_allow_external_bind_sources: bool,
    pub dangerously_allow_reserved_container_targets: bool,
    pub dangerously_allow_container_namespace_join: bool,
}

/// Default image name.
pub const DEFAULT_IMAGE: &str = "openclaw-sandbox:bookworm-slim";

impl Default for DockerSpec {
    fn default() -> Self {
        DockerSpec {
            image: DEFAULT_IMAGE.to_string(),
            container_prefix: "openclaw-sbx-".to_string(),
            workdir: "/workspace".to_string(),
            read_only_root: true,
            tmpfs: vec!["/tmp".into(), "/var/tmp".into(), "/run".into()],
            network: "none".to_string(),
            user: None,
            cap_drop: vec!["ALL".into()],
            env: BTreeMap::from([("LANG".to_string(), "C.UTF-8".to_string())]),
            setup_command: None,
            pids_limit: None,
            memory: None,
            memory_swap: None,
            cpus: None,
            ulimits: BTreeMap::new(),
            seccomp_profile: None,
            apparmor_profile: None,
            dns: Vec::new(),
            extra_hosts: Vec::new(),
            binds: Vec::new(),
            dangerously_allow_external_bind_sources: false,
            dangerously_allow_reserved_container_targets: false,
            dangerously_allow_container_namespace_join: false,
        }
    }
}

/// Prune rules; `0` disables a criterion.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PruneSpec {
    pub idle_hours: f64,
    pub max_age_days: f64,
}

impl Default for PruneSpec {
    fn default() -> Self {
        PruneSpec {
            idle_hours: 24.0,
            max_age_days: 7.0,
        }
    }
}

/// Fully resolved sandbox settings for one agent.
#[derive(Debug, Clone, PartialEq)]
pub struct SandboxSpec {
    pub mode: SandboxMode,
    pub scope: SandboxScope,
    pub workspace_access: WorkspaceAccess,
    pub workspace_root: PathBuf,
    pub docker: DockerSpec,
    pub prune: PruneSpec,
    pub browser: BrowserSpec,
}

impl SandboxSpec {
    /// OpenClaw's defaults with sandbox workspaces under `<state_dir>/sandboxes`.
    pub fn defaults(state_dir: &Path) -> Self {
        SandboxSpec {
            mode: SandboxMode::Off,
            scope: SandboxScope::Agent,
            workspace_access: WorkspaceAccess::None,
            workspace_root: state_dir.join("sandboxes"),
            docker: DockerSpec::default(),
            prune: PruneSpec::default(),
            browser: BrowserSpec::default(),
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawSandbox {
    mode: Option<SandboxMode>,
    scope: Option<SandboxScope>,
    per_session: Option<bool>,
    workspace_access: Option<WorkspaceAccess>,
    workspace_root: Option<String>,
    // Accepted here so the strict parse passes; the agent crate applies it.
    #[serde(rename = "sessionToolsVisibility")]
    _session_tools_visibility: Option<Value>,
    backend: Option<String>,
    docker: Option<RawDocker>,
    browser: Option<RawBrowser>,
    prune: Option<RawPrune>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawPrune {
    idle_hours: Option<f64>,
    max_age_days: Option<f64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawDocker {
    image: Option<String>,
    container_prefix: Option<String>,
    workdir: Option<String>,
    read_only_root: Option<bool>,
    tmpfs: Option<Vec<String>>,
    network: Option<String>,
    user: Option<String>,
    cap_drop: Option<Vec<String>>,
    env: Option<BTreeMap<String, String>>,
    setup_command: Option<String>,
    pids_limit: Option<i64>,
    memory: Option<MemorySize>,
    memory_swap: Option<MemorySize>,
    cpus: Option<f64>,
    gpus: Option<Value>,
    ulimits: Option<BTreeMap<String, Ulimit>>,
    seccomp_profile: Option<String>,
    apparmor_profile: Option<String>,
    dns: Option<Vec<String>>,
    extra_hosts: Option<Vec<String>>,
    binds: Option<Vec<String>>,
    dangerously_allow_external_bind_sources: Option<bool>,
    dangerously_allow_reserved_container_targets: Option<bool>,
    dangerously_allow_container_namespace_join: Option<bool>,
}

fn parse_block(value: Option<&Value>, key: &str) -> Result<RawSandbox, SandboxError> {
    match value {
        None | Some(Value::Null) => Ok(RawSandbox::default()),
        Some(v) => serde_path_to_error::deserialize(v).map_err(|e| {
            let path = e.path().to_string();
            let full = if path == "." {
                key.to_string()
            } else {
                format!("{key}.{path}")
            };
            SandboxError::config(full, e.into_inner().to_string())
        }),
    }
}

/// Default state dir: `$OPENCLAW_STATE_DIR` or `~/.openclaw`.
pub fn default_state_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("OPENCLAW_STATE_DIR") {
        return PathBuf::from(dir);
    }
    home_dir().join(".openclaw")
}

pub(crate) fn home_dir() -> PathBuf {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/root"))
}

fn expand_home(raw: &str, home: &Path) -> PathBuf {
    if raw == "~" {
        home.to_path_buf()
    } else if let Some(rest) = raw.strip_prefix("~/") {
        home.join(rest)
    } else {
        PathBuf::from(raw)
    }
}

/// Resolve with the default state dir (`~/.openclaw`).
pub fn resolve(
    defaults: Option<&Value>,
    agent: Option<&Value>,
) -> Result<SandboxSpec, SandboxError> {
    resolve_in(defaults, agent, &default_state_dir(), &home_dir())
}

/// Resolve `agents.defaults.sandbox` + `agents.list[].sandbox` with OpenClaw's merge rules.
/// `state_dir` supplies the default `workspaceRoot` (`<state>/sandboxes`); `home` expands `~`.
pub fn resolve_in(
    defaults: Option<&Value>,
    agent: Option<&Value>,
    state_dir: &Path,
    home: &Path,
) -> Result<SandboxSpec, SandboxError> {
    let g = parse_block(defaults, "agents.defaults.sandbox")?;
    let a = parse_block(agent, "agents.list[].sandbox")?;
    for (raw, key) in [
        (&g, "agents.defaults.sandbox"),
        (&a, "agents.list[].sandbox"),
    ] {
        if let Some(b) = raw.backend.as_deref().filter(|b| *b != "docker") {
            return Err(SandboxError::config(
                format!("{key}.backend"),
                format!("backend \"{b}\" is not supported; accepted: \"docker\""),
            ));
        }
    }
    let legacy = |r: &RawSandbox| {
        r.per_session.map(|p| {
            if p {
                SandboxScope::Session
            } else {
                SandboxScope::Shared
            }
        })
    };
    let scope = a
        .scope
        .or_else(|| legacy(&a))
        .or(g.scope)
        .or_else(|| legacy(&g))
        .unwrap_or_default();
    let shared = scope == SandboxScope::Shared;
    let mut spec = SandboxSpec::defaults(state_dir);
    spec.scope = scope;
    spec.mode = a.mode.or(g.mode).unwrap_or_default();
    spec.workspace_access = a
        .workspace_access
        .or(g.workspace_access)
        .unwrap_or_default();
    if let Some(root) = a.workspace_root.as_deref().or(g.workspace_root.as_deref()) {
        spec.workspace_root = expand_home(root, home);
    }

    let gd = g.docker.unwrap_or_default();
    let ad = if shared {
        RawDocker::default()
    } else {
        a.docker.unwrap_or_default()
    };
    spec.docker = merge_docker(gd, ad)?;

    let gp = g.prune.unwrap_or_default();
    let ap = if shared {
        RawPrune::default()
    } else {
        a.prune.unwrap_or_default()
    };
    if let Some(v) = ap.idle_hours.or(gp.idle_hours) {
        spec.prune.idle_hours = v;
    }
    if let Some(v) = ap.max_age_days.or(gp.max_age_days) {
        spec.prune.max_age_days = v;
    }
    let gb = g.browser.unwrap_or_default();
    let ab = if shared {
        RawBrowser::default()
    } else {
        a.browser.unwrap_or_default()
    };
    spec.browser = merge_browser(gb, ab)?;
    Ok(spec)
}

fn merge_docker(g: RawDocker, a: RawDocker) -> Result<DockerSpec, SandboxError> {
    let d = DockerSpec::default();
    let key = "agents.defaults.sandbox.docker";
    if a.gpus.is_some() || g.gpus.is_some() {
        return Err(SandboxError::config(
            format!("{key}.gpus"),
            "gpus is not supported by this release; remove the key",
        ));
    }
    let mut env = d.env.clone();
    env.extend(g.env.unwrap_or_default());
    env.extend(a.env.unwrap_or_default());
    let mut ulimits = g.ulimits.unwrap_or_default();
    ulimits.extend(a.ulimits.unwrap_or_default());
    let mut binds = g.binds.unwrap_or_default();
    binds.extend(a.binds.unwrap_or_default());
    let spec = DockerSpec {
        image: a.image.or(g.image).unwrap_or(d.image),
        container_prefix: a
            .container_prefix
            .or(g.container_prefix)
            .unwrap_or(d.container_prefix),
        workdir: a.workdir.or(g.workdir).unwrap_or(d.workdir),
        read_only_root: a
            .read_only_root
            .or(g.read_only_root)
            .unwrap_or(d.read_only_root),
        tmpfs: a.tmpfs.or(g.tmpfs).unwrap_or(d.tmpfs),
        network: a.network.or(g.network).unwrap_or(d.network),
        user: a.user.or(g.user),
        cap_drop: a.cap_drop.or(g.cap_drop).unwrap_or(d.cap_drop),
        env,
        setup_command: a.setup_command.or(g.setup_command),
        pids_limit: a.pids_limit.or(g.pids_limit).filter(|n| *n > 0),
        memory: a.memory.or(g.memory),
        memory_swap: a.memory_swap.or(g.memory_swap),
        cpus: a.cpus.or(g.cpus).filter(|c| *c > 0.0),
        ulimits,
        seccomp_profile: a.seccomp_profile.or(g.seccomp_profile),
        apparmor_profile: a.apparmor_profile.or(g.apparmor_profile),
        dns: a.dns.or(g.dns).unwrap_or_default(),
        extra_hosts: a.extra_hosts.or(g.extra_hosts).unwrap_or_default(),
        binds,
        dangerously_allow_external_bind_sources: a
            .dangerously_allow_external_bind_sources
            .or(g.dangerously_allow_external_bind_sources)
            .unwrap_or(false),
        dangerously_allow_reserved_container_targets: a
            .dangerously_allow_reserved_container_targets
            .or(g.dangerously_allow_reserved_container_targets)
            .unwrap_or(false),
        dangerously_allow_container_namespace_join: a
            .dangerously_allow_container_namespace_join
            .or(g.dangerously_allow_container_namespace_join)
            .unwrap_or(false),
    };
    for (field, v) in [("memory", &spec.memory), ("memorySwap", &spec.memory_swap)] {
        if let Some(m) = v
            && m.to_bytes().is_none()
        {
            return Err(SandboxError::config(
                format!("{key}.{field}"),
                format!("{m:?} is not a size; use bytes or a string like \"512m\" / \"1g\""),
            ));
        }
    }
    for (name, u) in &spec.ulimits {
        if u.soft_hard().is_none() {
            return Err(SandboxError::config(
                format!("{key}.ulimits.{name}"),
                "expected a number, a numeric string or {soft, hard}",
            ));
        }
    }
    if !spec.workdir.starts_with('/') {
        return Err(SandboxError::config(
            format!("{key}.workdir"),
            "must be an absolute container path such as \"/workspace\"",
        ));
    }
    Ok(spec)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;
    use serde_json::json;

    fn r(g: Value, a: Value) -> SandboxSpec {
        resolve_in(
            Some(&g),
            Some(&a),
            Path::new("/state"),
            Path::new("/home/u"),
        )
        .unwrap()
    }

    #[test]
    fn defaults_match_openclaw() {
        let s = resolve_in(None, None, Path::new("/state"), Path::new("/h")).unwrap();
        assert_eq!(s, SandboxSpec::defaults(Path::new("/state")));
        assert_eq!(s.workspace_root, PathBuf::from("/state/sandboxes"));
        assert_eq!(s.docker.image, "openclaw-sandbox:bookworm-slim");
        assert_eq!(s.scope, SandboxScope::Agent);
        assert_eq!(
            s.prune,
            PruneSpec {
                idle_hours: 24.0,
                max_age_days: 7.0
            }
        );
    }

    #[test]
    fn agent_overrides_key_by_key_and_merges_env_binds_ulimits() {
        let s = r(
            json!({"mode":"non-main","scope":"session","workspaceRoot":"~/sbx",
                   "docker":{"image":"g","env":{"A":"1","B":"1"},"binds":["/a:/a"],
                             "ulimits":{"nofile":{"soft":1,"hard":2},"nproc":5},"pidsLimit":64}}),
            json!({"mode":"all","docker":{"env":{"B":"2"},"binds":["/b:/b:ro"],
                   "ulimits":{"nproc":"7"},"memory":"1g"},"prune":{"idleHours":0}}),
        );
        assert_eq!(s.mode, SandboxMode::All);
        assert_eq!(s.scope, SandboxScope::Session);
        assert_eq!(s.workspace_root, PathBuf::from("/home/u/sbx"));
        assert_eq!(s.docker.image, "g");
        assert_eq!(s.docker.pids_limit, Some(64));
        assert_eq!(
            s.docker.binds,
            vec!["/a:/a".to_string(), "/b:/b:ro".to_string()]
        );
        assert_eq!(
            s.docker.env,
            BTreeMap::from([
                ("A".into(), "1".into()),
                ("B".into(), "2".into()),
                ("LANG".into(), "C.UTF-8".into())
            ])
        );
        assert_eq!(s.docker.ulimits["nproc"].soft_hard(), Some((7, 7)));
        assert_eq!(s.docker.ulimits["nofile"].soft_hard(), Some((1, 2)));
        assert_eq!(
            s.docker.memory.as_ref().and_then(MemorySize::to_bytes),
            Some(1 << 30)
        );
        assert_eq!(s.prune.idle_hours, 0.0);
        assert_eq!(s.prune.max_age_days, 7.0);
    }

    #[test]
    fn shared_scope_ignores_agent_docker_and_prune() {
        let s = r(
            json!({"scope":"shared","docker":{"image":"g"}}),
            json!({"mode":"all","docker":{"image":"a","binds":["/x:/x"]},"prune":{"idleHours":1}}),
        );
        assert_eq!(s.mode, SandboxMode::All);
        assert_eq!(s.docker.image, "g");
        assert!(s.docker.binds.is_empty());
        assert_eq!(s.prune.idle_hours, 24.0);
    }

    #[test]
    fn legacy_per_session_and_unknown_keys() {
        assert_eq!(
            r(json!({"perSession": true}), json!({})).scope,
            SandboxScope::Session
        );
        assert_eq!(
            r(json!({"perSession": false}), json!({})).scope,
            SandboxScope::Shared
        );
        let err = resolve_in(
            Some(&json!({"docker":{"imgae":"x"}})),
            None,
            Path::new("/s"),
            Path::new("/h"),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("agents.defaults.sandbox.docker"), "{err}");
        assert!(err.contains("imgae"), "{err}");
        let err = resolve_in(
            Some(&json!({"mode":"sometimes"})),
            None,
            Path::new("/s"),
            Path::new("/h"),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("agents.defaults.sandbox.mode"), "{err}");
    }

    #[test]
    fn ram_sizes() {
        assert_eq!(parse_ram("512m"), Some(512 << 20));
        assert_eq!(parse_ram("2GB"), Some(2 << 30));
        assert_eq!(parse_ram("1024"), Some(1024));
        assert_eq!(parse_ram("-1"), Some(-1));
        assert_eq!(parse_ram("lots"), None);
    }
}
