//! Data for the `openclaw sandbox list | recreate | explain` commands, plus Docker-out-of-Docker
//! support (the gateway itself in a container: bind sources are resolved by the daemon on the
//! host, so gateway paths must be translated to host paths or refused).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::engine::Engine;
use crate::error::{SandboxError, now_ms};
use crate::naming::{is_sandboxed, main_session_key, sandbox_workspace_dir, scope_key};
use crate::registry::Registry;
use crate::spec::{SandboxMode, SandboxScope, SandboxSpec, WorkspaceAccess};

/// One row of `sandbox list`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerRow {
    pub name: String,
    pub running: bool,
    /// `false` when the container no longer exists.
    pub exists: bool,
    pub image: String,
    pub image_match: bool,
    pub age_ms: i64,
    pub idle_ms: i64,
    pub session_key: String,
}

/// `sandbox list`: registry entries checked against the engine.
pub async fn list(
    engine: &Engine,
    registry: &Registry,
    configured_image: &str,
) -> Result<Vec<ContainerRow>, SandboxError> {
    let now = now_ms();
    let mut rows = Vec::new();
    for e in registry.entries().await? {
        let info = engine.inspect(&e.container_name).await?;
        let image = info
            .as_ref()
            .and_then(|i| i.image.clone())
            .unwrap_or_else(|| e.image.clone());
        rows.push(ContainerRow {
            running: info.as_ref().is_some_and(|i| i.running),
            exists: info.is_some(),
            image_match: image == configured_image,
            image,
            age_ms: now - e.created_at_ms,
            idle_ms: now - e.last_used_at_ms,
            session_key: e.session_key,
            name: e.container_name,
        });
    }
    Ok(rows)
}

/// What `sandbox recreate` targets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecreateTarget {
    All,
    /// Exact scope key.
    Session(String),
    /// Matches `agent:<id>` and `agent:<id>:*`.
    Agent(String),
}

impl RecreateTarget {
    pub fn matches(&self, scope_key: &str) -> bool {
        match self {
            RecreateTarget::All => true,
            RecreateTarget::Session(k) => scope_key == k,
            RecreateTarget::Agent(id) => {
                let base = format!("agent:{id}");
                scope_key == base || scope_key.starts_with(&format!("{base}:"))
            }
        }
    }
}

/// `sandbox recreate`: remove matching containers and registry entries; the next use recreates.
pub async fn recreate(
    engine: &Engine,
    registry: &Registry,
    target: &RecreateTarget,
) -> Result<Vec<String>, SandboxError> {
    let mut removed = Vec::new();
    for e in registry.entries().await? {
        if target.matches(&e.session_key) {
            engine.remove(&e.container_name).await?;
            registry.remove(&e.container_name).await?;
            removed.push(e.container_name);
        }
    }
    Ok(removed)
}

/// `sandbox explain` output (the sandbox half; the agent crate adds the effective tool policy,
/// whose tables it owns).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Explain {
    pub agent_id: String,
    pub session_key: String,
    pub main_session_key: String,
    /// `sandboxed` or `direct`.
    pub runtime: &'static str,
    pub mode: SandboxMode,
    pub scope: SandboxScope,
    pub workspace_access: WorkspaceAccess,
    pub workspace_root: PathBuf,
    /// Host directory mounted at the workdir.
    pub workspace: PathBuf,
    pub workdir: String,
    pub image: String,
    pub container_name: String,
    pub why: String,
    pub warnings: Vec<String>,
    /// Config keys that change the outcome.
    pub fix_keys: Vec<&'static str>,
}

/// Build `explain` for one session.
pub fn explain(
    spec: &SandboxSpec,
    agent_id: &str,
    session_key: &str,
    agent_workspace: &Path,
    main_key: &str,
) -> Explain {
    let main = main_session_key(agent_id, main_key, false);
    let sandboxed = is_sandboxed(spec.mode, session_key, &main);
    let why = match spec.mode {
        SandboxMode::Off => "agents.defaults.sandbox.mode is \"off\"".to_string(),
        SandboxMode::All => "mode \"all\" sandboxes every session".to_string(),
        SandboxMode::NonMain if sandboxed => {
            format!("mode \"non-main\" and {session_key} is not the main session {main}")
        }
        SandboxMode::NonMain => format!("mode \"non-main\" and {session_key} is the main session"),
    };
    let key = scope_key(spec.scope, agent_id, session_key);
    let workspace = if spec.workspace_access == WorkspaceAccess::Rw {
        agent_workspace.to_path_buf()
    } else {
        sandbox_workspace_dir(&spec.workspace_root, spec.scope, &key)
    };
    let mut warnings = Vec::new();
    if spec.scope == SandboxScope::Shared {
        warnings.push(
            "scope \"shared\": all sessions share one container and one workspace".to_string(),
        );
    }
    Explain {
        agent_id: agent_id.to_string(),
        session_key: session_key.to_string(),
        main_session_key: main,
        runtime: if sandboxed { "sandboxed" } else { "direct" },
        mode: spec.mode,
        scope: spec.scope,
        workspace_access: spec.workspace_access,
        workspace_root: spec.workspace_root.clone(),
        workspace,
        workdir: spec.docker.workdir.clone(),
        image: spec.docker.image.clone(),
        container_name: crate::naming::container_name(
            &spec.docker.container_prefix,
            spec.scope,
            &key,
        ),
        why,
        warnings,
        fix_keys: vec![
            "agents.defaults.sandbox.mode",
            "agents.list[].sandbox.mode",
            "tools.sandbox.tools.allow",
            "tools.sandbox.tools.deny",
            "agents.list[].tools.sandbox.tools",
        ],
    }
}

/// Container path → host path for the gateway's own container.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DoodMounts {
    /// Destination (in the gateway container) → source (on the host).
    pub mounts: BTreeMap<PathBuf, PathBuf>,
}

impl DoodMounts {
    /// Translate a gateway path to the host path the daemon will see.
    pub fn translate_to_host(&self, path: &Path) -> Result<PathBuf, SandboxError> {
        let best = self
            .mounts
            .iter()
            .filter(|(dst, _)| path.starts_with(dst))
            .max_by_key(|(dst, _)| dst.as_os_str().len());
        match best {
            Some((dst, src)) => match path.strip_prefix(dst) {
                Ok(rest) if !rest.as_os_str().is_empty() => Ok(src.join(rest)),
                _ => Ok(src.clone()),
            },
            None => Err(SandboxError::NotReachableFromHost {
                path: path.display().to_string(),
            }),
        }
    }
}

impl DoodMounts {
    /// Translate the source of every `source:target[:options]` bind to the host's path.
    pub fn translate_binds(&self, binds: &[String]) -> Result<Vec<String>, SandboxError> {
        binds
            .iter()
            .map(|b| match b.split_once(':') {
                Some((src, rest)) if src.starts_with('/') => {
                    let host = self.translate_to_host(Path::new(src))?;
                    Ok(format!("{}:{rest}", host.display()))
                }
                _ => Ok(b.clone()),
            })
            .collect()
    }
}

/// Are we running in a container? Then inspect it (by hostname, which Docker sets to the short
/// id) and return its bind mounts; `None` when not in a container or not found on this engine.
pub async fn detect_own_container_mounts(
    engine: &Engine,
) -> Result<Option<DoodMounts>, SandboxError> {
    let in_container = Path::new("/.dockerenv").exists()
        || tokio::fs::read_to_string("/proc/self/mountinfo")
            .await
            .is_ok_and(|m| m.contains("/docker/containers/"));
    if !in_container {
        return Ok(None);
    }
    let Ok(hostname) = tokio::fs::read_to_string("/etc/hostname").await else {
        return Ok(None);
    };
    let res = tokio::time::timeout(
        crate::engine::CALL_TIMEOUT,
        engine.docker().inspect_container(hostname.trim(), None),
    )
    .await;
    let info = match res {
        Ok(Ok(i)) => i,
        Ok(Err(_)) => return Ok(None),
        Err(_) => {
            return Err(SandboxError::Timeout {
                op: "inspect self",
                after: crate::engine::CALL_TIMEOUT,
            });
        }
    };
    let mut mounts = BTreeMap::new();
    for m in info.mounts.unwrap_or_default() {
        if let (Some(src), Some(dst)) = (m.source, m.destination) {
            mounts.insert(PathBuf::from(dst), PathBuf::from(src));
        }
    }
    Ok(Some(DoodMounts { mounts }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn recreate_matching() {
        let a = RecreateTarget::Agent("main".into());
        assert!(a.matches("agent:main"));
        assert!(a.matches("agent:main:telegram:dm:1"));
        assert!(!a.matches("agent:mainly"));
        assert!(RecreateTarget::Session("agent:main:x".into()).matches("agent:main:x"));
        assert!(!RecreateTarget::Session("agent:main:x".into()).matches("agent:main"));
        assert!(RecreateTarget::All.matches("shared"));
    }

    #[test]
    fn dood_translation() {
        let m = DoodMounts {
            mounts: BTreeMap::from([
                (
                    PathBuf::from("/home/node/.openclaw"),
                    PathBuf::from("/srv/oc"),
                ),
                (
                    PathBuf::from("/home/node/.openclaw/ws"),
                    PathBuf::from("/data/ws"),
                ),
            ]),
        };
        assert_eq!(
            m.translate_to_host(Path::new("/home/node/.openclaw/sandboxes/x"))
                .unwrap(),
            PathBuf::from("/srv/oc/sandboxes/x")
        );
        assert_eq!(
            m.translate_to_host(Path::new("/home/node/.openclaw/ws/a"))
                .unwrap(),
            PathBuf::from("/data/ws/a")
        );
        assert_eq!(
            m.translate_binds(&[
                "/home/node/.openclaw/sandboxes/x:/workspace".into(),
                "/home/node/.openclaw/ws:/agent:ro".into(),
                "named-volume:/data".into(),
            ])
            .unwrap(),
            vec![
                "/srv/oc/sandboxes/x:/workspace".to_string(),
                "/data/ws:/agent:ro".into(),
                "named-volume:/data".into(),
            ]
        );
        assert!(m.translate_binds(&["/tmp/y:/y".into()]).is_err());
        let err = m
            .translate_to_host(Path::new("/tmp/x"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("not reachable from the Docker host"), "{err}");
    }

    #[test]
    fn explain_non_main() {
        let mut spec = SandboxSpec::defaults(Path::new("/s"));
        spec.mode = SandboxMode::NonMain;
        let e = explain(&spec, "main", "agent:main:main", Path::new("/ws"), "main");
        assert_eq!(e.runtime, "direct");
        let e = explain(
            &spec,
            "main",
            "agent:main:telegram:group:1",
            Path::new("/ws"),
            "main",
        );
        assert_eq!(e.runtime, "sandboxed");
        assert_eq!(e.container_name, "openclaw-sbx-agent-main-0d71ad7a");
        assert_eq!(
            e.workspace,
            PathBuf::from("/s/sandboxes/agent-main-0d71ad7a")
        );
    }
}
