//! The mount table: which container paths are backed by which host directories. Exec uses it to
//! map a host working directory into the container, and the fs bridge uses it to map container
//! paths back to host paths. Longest container prefix wins, so a bind under another mount is
//! found before its parent.

use std::path::{Path, PathBuf};

use crate::error::SandboxError;
use crate::posture::{AGENT_MOUNT, WorkspaceMounts};
use crate::spec::{SandboxSpec, WorkspaceAccess};
use crate::validate::{normalize_lexical, parse_bind};

/// What backs a mount.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MountKind {
    /// The main workspace at `docker.workdir`.
    Workspace,
    /// The agent workspace at `/agent` (`ro` access).
    Agent,
    /// A `docker.binds` entry.
    Bind,
}

/// One host-backed container mount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountEntry {
    pub container: String,
    pub host: PathBuf,
    /// Writable for the file tools (the workspace under `ro`/`none` policy is decided by access).
    pub writable: bool,
    pub kind: MountKind,
}

/// All host-backed mounts plus the container-only tmpfs paths.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountTable {
    entries: Vec<MountEntry>,
    tmpfs: Vec<String>,
    workdir: String,
    access: WorkspaceAccess,
}

impl MountTable {
    /// Build from the resolved spec and the workspace mounts.
    pub fn new(spec: &SandboxSpec, mounts: &WorkspaceMounts) -> Result<MountTable, SandboxError> {
        let access = spec.workspace_access;
        let mut entries = vec![MountEntry {
            container: normalize_lexical(Path::new(&spec.docker.workdir))
                .to_string_lossy()
                .into_owned(),
            host: mounts.workspace_dir.clone(),
            // `ro` exposes a workspace the file tools must not write; `none` is a writable scratch copy.
            writable: mounts.workspace_writable && access != WorkspaceAccess::Ro,
            kind: MountKind::Workspace,
        }];
        if let Some(agent) = &mounts.agent_dir {
            entries.push(MountEntry {
                container: AGENT_MOUNT.to_string(),
                host: agent.clone(),
                writable: false,
                kind: MountKind::Agent,
            });
        }
        for raw in &spec.docker.binds {
            let b = parse_bind(raw)?;
            entries.push(MountEntry {
                container: b.target,
                host: b.source,
                writable: !b.read_only && access != WorkspaceAccess::Ro,
                kind: MountKind::Bind,
            });
        }
        entries.sort_by_key(|e| std::cmp::Reverse(e.container.len()));
        Ok(MountTable {
            entries,
            tmpfs: spec.docker.tmpfs.clone(),
            workdir: spec.docker.workdir.clone(),
            access,
        })
    }

    pub fn entries(&self) -> &[MountEntry] {
        &self.entries
    }
    pub fn workdir(&self) -> &str {
        &self.workdir
    }
    pub fn access(&self) -> WorkspaceAccess {
        self.access
    }

    /// Is `container_path` (normalized) on a container-only tmpfs?
    pub fn is_tmpfs(&self, container_path: &str) -> bool {
        self.tmpfs
            .iter()
            .any(|t| Path::new(container_path).starts_with(t))
    }

    /// Map a container path to its mount and host path.
    pub fn to_host(&self, container_path: &str) -> Option<(&MountEntry, PathBuf)> {
        let p = normalize_lexical(Path::new(container_path));
        self.entries.iter().find_map(|e| {
            let rest = p.strip_prefix(&e.container).ok()?;
            Some((e, e.host.join(rest)))
        })
    }

    /// Map a host path (under some mount's host dir) to its container path.
    pub fn to_container(&self, host_path: &Path) -> Option<String> {
        let p = normalize_lexical(host_path);
        let mut best: Option<(&MountEntry, PathBuf)> = None;
        for e in &self.entries {
            if let Ok(rest) = p.strip_prefix(normalize_lexical(&e.host)) {
                let longer = best
                    .as_ref()
                    .is_none_or(|(b, _)| e.host.as_os_str().len() > b.host.as_os_str().len());
                if longer {
                    best = Some((e, rest.to_path_buf()));
                }
            }
        }
        best.map(|(e, rest)| {
            let joined = Path::new(&e.container).join(rest);
            joined.to_string_lossy().into_owned()
        })
    }

    /// Resolve a user-supplied cwd (host path, container path, or workspace-relative) to a
    /// container path; anything outside the mounts and tmpfs is refused.
    pub fn container_cwd(&self, cwd: Option<&str>) -> Result<String, SandboxError> {
        let Some(cwd) = cwd.map(str::trim).filter(|c| !c.is_empty()) else {
            return Ok(self.workdir.clone());
        };
        let escape = || SandboxError::PathEscape {
            path: cwd.to_string(),
        };
        if !cwd.starts_with('/') {
            if Path::new(cwd)
                .components()
                .any(|c| matches!(c, std::path::Component::ParentDir))
            {
                let joined = normalize_lexical(&Path::new(&self.workdir).join(cwd));
                if !joined.starts_with(&self.workdir) {
                    return Err(escape());
                }
                return Ok(joined.to_string_lossy().into_owned());
            }
            return Ok(Path::new(&self.workdir)
                .join(cwd)
                .to_string_lossy()
                .into_owned());
        }
        if let Some(c) = self.to_container(Path::new(cwd)) {
            return Ok(c);
        }
        let norm = normalize_lexical(Path::new(cwd))
            .to_string_lossy()
            .into_owned();
        if self.to_host(&norm).is_some() || self.is_tmpfs(&norm) {
            return Ok(norm);
        }
        Err(escape())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn table(access: WorkspaceAccess) -> MountTable {
        let mut spec = SandboxSpec::defaults(Path::new("/s"));
        spec.workspace_access = access;
        spec.docker.binds = vec!["/ws/data:/data:ro".into()];
        let mounts = WorkspaceMounts::for_access(access, "/s/sbx".into(), "/ws".into());
        MountTable::new(&spec, &mounts).unwrap()
    }

    #[test]
    fn maps_both_ways() {
        let t = table(WorkspaceAccess::Ro);
        assert_eq!(
            t.to_container(Path::new("/s/sbx/a/b")),
            Some("/workspace/a/b".into())
        );
        assert_eq!(t.to_container(Path::new("/ws/x")), Some("/agent/x".into()));
        assert_eq!(
            t.to_container(Path::new("/ws/data/f")),
            Some("/data/f".into())
        );
        let (e, host) = t.to_host("/agent/../agent/k").unwrap();
        assert_eq!((e.kind, host), (MountKind::Agent, PathBuf::from("/ws/k")));
        let (e, _) = t.to_host("/workspace/f").unwrap();
        assert!(!e.writable, "ro access keeps file tools read-only");
        assert!(
            table(WorkspaceAccess::None)
                .to_host("/workspace/f")
                .unwrap()
                .0
                .writable
        );
        assert_eq!(t.to_host("/etc/passwd"), None);
    }

    #[test]
    fn cwd_mapping_and_escapes() {
        let t = table(WorkspaceAccess::None);
        assert_eq!(t.container_cwd(None).unwrap(), "/workspace");
        assert_eq!(
            t.container_cwd(Some("sub/dir")).unwrap(),
            "/workspace/sub/dir"
        );
        assert_eq!(
            t.container_cwd(Some("/s/sbx/sub")).unwrap(),
            "/workspace/sub"
        );
        assert_eq!(
            t.container_cwd(Some("/workspace/x")).unwrap(),
            "/workspace/x"
        );
        assert_eq!(t.container_cwd(Some("/tmp/w")).unwrap(), "/tmp/w");
        assert_eq!(t.container_cwd(Some("/data")).unwrap(), "/data");
        for bad in ["/etc", "../x", "/home/user/project", "a/../../b"] {
            assert!(
                matches!(
                    t.container_cwd(Some(bad)),
                    Err(SandboxError::PathEscape { .. })
                ),
                "{bad}"
            );
        }
    }
}
