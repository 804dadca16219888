//! The container's security posture, built in ONE pure function so no caller can drift to a
//! weaker container. Everything Docker is told at create time comes from `build_create_body`.
//!
//! Posture: read-only root, tmpfs `/tmp /var/tmp /run`, network `none`, cap-drop ALL,
//! `no-new-privileges`, `init` (reaps zombies), optional pids/memory/swap/cpus/ulimits/seccomp/
//! apparmor/dns/extra hosts, configured user, workdir, env, the `openclaw.*` labels and
//! `sleep infinity` as the command (tools `exec` into the long-lived container).
//!
//! Mounts per `workspaceAccess`:
//! - `rw`: agent workspace read-write at `/workspace`.
//! - `ro`: sandbox workspace at `/workspace`, agent workspace read-only at `/agent`; the file
//!   bridge refuses writes (the documented "read-only tools" mode).
//! - `none`: the per-scope sandbox workspace at `/workspace`, **writable**. This is what the docs
//!   promise ("an isolated sandbox workspace"); upstream later mounted it read-only, which users
//!   report as a bug. We keep the documented behaviour deliberately.

use std::collections::HashMap;
use std::path::PathBuf;

use bollard::models::{ContainerCreateBody, HostConfig, ResourcesUlimits};

use crate::error::SandboxError;
use crate::spec::{SandboxSpec, WorkspaceAccess};

/// Container path of the read-only agent workspace mount (`ro` access).
pub const AGENT_MOUNT: &str = "/agent";

/// The host directories mounted into the container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkspaceMounts {
    /// Host directory mounted at `docker.workdir`.
    pub workspace_dir: PathBuf,
    /// Whether that mount is writable.
    pub workspace_writable: bool,
    /// Agent workspace mounted read-only at `/agent` (`ro` access only).
    pub agent_dir: Option<PathBuf>,
}

impl WorkspaceMounts {
    /// The mounts for `access` given the per-scope sandbox workspace and the agent workspace.
    pub fn for_access(access: WorkspaceAccess, sandbox_ws: PathBuf, agent_ws: PathBuf) -> Self {
        match access {
            WorkspaceAccess::Rw => WorkspaceMounts {
                workspace_dir: agent_ws,
                workspace_writable: true,
                agent_dir: None,
            },
            WorkspaceAccess::Ro => WorkspaceMounts {
                workspace_dir: sandbox_ws,
                workspace_writable: true,
                agent_dir: Some(agent_ws),
            },
            WorkspaceAccess::None => WorkspaceMounts {
                workspace_dir: sandbox_ws,
                workspace_writable: true,
                agent_dir: None,
            },
        }
    }
}

/// Labels stamped on the container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateLabels {
    pub scope_key: String,
    pub created_at_ms: i64,
    pub config_hash: String,
}

/// Label marking our containers (used for list/cleanup filters).
pub const LABEL_SANDBOX: &str = "openclaw.sandbox";
pub const LABEL_SESSION_KEY: &str = "openclaw.sessionKey";
pub const LABEL_CREATED_AT: &str = "openclaw.createdAtMs";
pub const LABEL_CONFIG_HASH: &str = "openclaw.configHash";

/// Build the complete create body. Pure: same inputs, same body.
pub fn build_create_body(
    spec: &SandboxSpec,
    mounts: &WorkspaceMounts,
    labels: &CreateLabels,
) -> Result<ContainerCreateBody, SandboxError> {
    let d = &spec.docker;
    let mut binds = vec![format!(
        "{}:{}{}",
        mounts.workspace_dir.display(),
        d.workdir,
        if mounts.workspace_writable { "" } else { ":ro" }
    )];
    if let Some(agent) = &mounts.agent_dir {
        binds.push(format!("{}:{AGENT_MOUNT}:ro", agent.display()));
    }
    binds.extend(d.binds.iter().cloned());

    let mut security_opt = vec!["no-new-privileges".to_string()];
    if let Some(p) = &d.seccomp_profile {
        security_opt.push(format!("seccomp={p}"));
    }
    if let Some(p) = &d.apparmor_profile {
        security_opt.push(format!("apparmor={p}"));
    }
    let ulimits: Vec<ResourcesUlimits> = d
        .ulimits
        .iter()
        .map(|(name, u)| {
            let (soft, hard) = u.soft_hard().ok_or_else(|| {
                SandboxError::config(
                    format!("agents.defaults.sandbox.docker.ulimits.{name}"),
                    "invalid ulimit",
                )
            })?;
            Ok(ResourcesUlimits {
                name: Some(name.clone()),
                soft: Some(soft),
                hard: Some(hard),
            })
        })
        .collect::<Result<_, SandboxError>>()?;
    let mem =
        |m: &Option<crate::spec::MemorySize>, field: &str| -> Result<Option<i64>, SandboxError> {
            m.as_ref()
                .map(|m| {
                    m.to_bytes().ok_or_else(|| {
                        SandboxError::config(
                            format!("agents.defaults.sandbox.docker.{field}"),
                            "not a size",
                        )
                    })
                })
                .transpose()
        };
    let non_empty = |v: &Vec<String>| if v.is_empty() { None } else { Some(v.clone()) };

    let host_config = HostConfig {
        binds: Some(binds),
        network_mode: Some(d.network.clone()),
        readonly_rootfs: Some(d.read_only_root),
        tmpfs: Some(
            d.tmpfs
                .iter()
                .map(|t| (t.clone(), String::new()))
                .collect::<HashMap<_, _>>(),
        ),
        cap_drop: Some(d.cap_drop.clone()),
        security_opt: Some(security_opt),
        init: Some(true),
        pids_limit: d.pids_limit,
        memory: mem(&d.memory, "memory")?,
        memory_swap: mem(&d.memory_swap, "memorySwap")?,
        nano_cpus: d.cpus.map(|c| (c * 1e9) as i64),
        ulimits: if ulimits.is_empty() {
            None
        } else {
            Some(ulimits)
        },
        dns: non_empty(&d.dns),
        extra_hosts: non_empty(&d.extra_hosts),
        ..Default::default()
    };
    let label_map = HashMap::from([
        (LABEL_SANDBOX.to_string(), "1".to_string()),
        (LABEL_SESSION_KEY.to_string(), labels.scope_key.clone()),
        (
            LABEL_CREATED_AT.to_string(),
            labels.created_at_ms.to_string(),
        ),
        (LABEL_CONFIG_HASH.to_string(), labels.config_hash.clone()),
    ]);
    Ok(ContainerCreateBody {
        image: Some(d.image.clone()),
        cmd: Some(vec!["sleep".into(), "infinity".into()]),
        user: d.user.clone(),
        working_dir: Some(d.workdir.clone()),
        env: Some(d.env.iter().map(|(k, v)| format!("{k}={v}")).collect()),
        labels: Some(label_map),
        network_disabled: None,
        host_config: Some(host_config),
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{MemorySize, Ulimit};
    use pretty_assertions::assert_eq;
    use std::path::Path;

    fn labels() -> CreateLabels {
        CreateLabels {
            scope_key: "agent:main".into(),
            created_at_ms: 1700000000000,
            config_hash: "abc".into(),
        }
    }

    #[test]
    fn default_spec_pins_complete_host_config() {
        let spec = SandboxSpec::defaults(Path::new("/state"));
        let mounts = WorkspaceMounts::for_access(
            spec.workspace_access,
            PathBuf::from("/state/sandboxes/agent-main-0d71ad7a"),
            PathBuf::from("/state/workspace"),
        );
        let body = build_create_body(&spec, &mounts, &labels()).unwrap();
        let expected_host = HostConfig {
            binds: Some(vec![
                "/state/sandboxes/agent-main-0d71ad7a:/workspace".into(),
            ]),
            network_mode: Some("none".into()),
            readonly_rootfs: Some(true),
            tmpfs: Some(HashMap::from([
                ("/tmp".to_string(), String::new()),
                ("/var/tmp".to_string(), String::new()),
                ("/run".to_string(), String::new()),
            ])),
            cap_drop: Some(vec!["ALL".into()]),
            security_opt: Some(vec!["no-new-privileges".into()]),
            init: Some(true),
            ..Default::default()
        };
        assert_eq!(body.host_config.clone().unwrap(), expected_host);
        let expected = ContainerCreateBody {
            image: Some("openclaw-sandbox:bookworm-slim".into()),
            cmd: Some(vec!["sleep".into(), "infinity".into()]),
            working_dir: Some("/workspace".into()),
            env: Some(vec!["LANG=C.UTF-8".into()]),
            labels: Some(HashMap::from([
                ("openclaw.sandbox".to_string(), "1".to_string()),
                ("openclaw.sessionKey".to_string(), "agent:main".to_string()),
                (
                    "openclaw.createdAtMs".to_string(),
                    "1700000000000".to_string(),
                ),
                ("openclaw.configHash".to_string(), "abc".to_string()),
            ])),
            host_config: Some(expected_host),
            ..Default::default()
        };
        assert_eq!(body, expected);
    }

    #[test]
    fn knobs_and_ro_mounts() {
        let mut spec = SandboxSpec::defaults(Path::new("/s"));
        spec.workspace_access = WorkspaceAccess::Ro;
        let d = &mut spec.docker;
        d.user = Some("1000:1000".into());
        d.pids_limit = Some(64);
        d.memory = Some(MemorySize::Text("256m".into()));
        d.memory_swap = Some(MemorySize::Bytes(-1));
        d.cpus = Some(0.5);
        d.ulimits.insert(
            "nofile".into(),
            Ulimit::Pair {
                soft: Some(10),
                hard: Some(20),
            },
        );
        d.seccomp_profile = Some("{}".into());
        d.apparmor_profile = Some("openclaw-sandbox".into());
        d.dns = vec!["1.1.1.1".into()];
        d.extra_hosts = vec!["h:10.0.0.5".into()];
        d.binds = vec!["/s/ws/data:/data:ro".into()];
        let mounts =
            WorkspaceMounts::for_access(WorkspaceAccess::Ro, "/s/sbx".into(), "/s/ws".into());
        let body = build_create_body(&spec, &mounts, &labels()).unwrap();
        let h = body.host_config.unwrap();
        assert_eq!(body.user.as_deref(), Some("1000:1000"));
        assert_eq!(
            h.binds.unwrap(),
            vec![
                "/s/sbx:/workspace".to_string(),
                "/s/ws:/agent:ro".into(),
                "/s/ws/data:/data:ro".into()
            ]
        );
        assert_eq!(h.pids_limit, Some(64));
        assert_eq!(h.memory, Some(256 << 20));
        assert_eq!(h.memory_swap, Some(-1));
        assert_eq!(h.nano_cpus, Some(500_000_000));
        assert_eq!(
            h.ulimits.unwrap(),
            vec![ResourcesUlimits {
                name: Some("nofile".into()),
                soft: Some(10),
                hard: Some(20)
            }]
        );
        assert_eq!(
            h.security_opt.unwrap(),
            vec![
                "no-new-privileges".to_string(),
                "seccomp={}".into(),
                "apparmor=openclaw-sandbox".into()
            ]
        );
        assert_eq!(h.dns.unwrap(), vec!["1.1.1.1".to_string()]);
        assert_eq!(h.extra_hosts.unwrap(), vec!["h:10.0.0.5".to_string()]);
    }

    #[test]
    fn rw_mounts_agent_workspace() {
        let m = WorkspaceMounts::for_access(WorkspaceAccess::Rw, "/sbx".into(), "/ws".into());
        assert_eq!(m.workspace_dir, PathBuf::from("/ws"));
        assert!(m.workspace_writable);
        assert_eq!(m.agent_dir, None);
    }
}
