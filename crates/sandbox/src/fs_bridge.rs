//! The file bridge for sandboxed file tools (`read`, `write`, `edit`, `apply_patch`).
//!
//! Paths are container paths (relative ones are under `docker.workdir`) or host paths under a
//! mount. Host-backed paths (`/workspace`, `/agent`, binds) are read and written through the host
//! after a boundary check: the path is resolved through its deepest existing ancestor and must
//! stay inside the mount's real root, and the final open uses `O_NOFOLLOW`. Anything else is
//! "Path escapes sandbox root", except the container-only tmpfs paths (`/tmp`, …), which go through
//! `exec` (`cat`, `sh -c 'cat > …'`) — no python needed in the image. We do not use the archive
//! endpoints for those: the Engine cannot copy into tmpfs mounts and refuses uploads to a
//! read-only root. Under `workspaceAccess: "ro"` every write is refused, naming the setting.

use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::engine::Engine;
use crate::error::SandboxError;
use crate::exec::run_argv;
use crate::lifecycle::chown_if_root;
use crate::mounts::MountTable;
use crate::validate::{normalize_lexical, resolve_existing_ancestor};

/// Largest file the bridge reads in one call.
pub const MAX_READ_BYTES: usize = 16 * 1024 * 1024;

/// Where a path lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResolvedPath {
    /// Backed by a host directory.
    Host {
        container_path: String,
        host_path: PathBuf,
        /// The mount's host root (the boundary).
        root: PathBuf,
        writable: bool,
    },
    /// Only inside the container (tmpfs).
    Container { container_path: String },
}

/// `stat` result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FileStat {
    pub is_dir: bool,
    pub size: u64,
    pub mtime_ms: i64,
}

/// The bridge for one container.
#[derive(Debug, Clone)]
pub struct FsBridge {
    engine: Option<Engine>,
    container: String,
    table: MountTable,
    owner: Option<(u32, u32)>,
}

fn escape(path: &str) -> SandboxError {
    SandboxError::PathEscape {
        path: path.to_string(),
    }
}

impl FsBridge {
    /// A bridge; `engine` may be `None` for host-only use (tmpfs paths then fail).
    pub fn new(
        engine: Option<Engine>,
        container: String,
        table: MountTable,
        owner: Option<(u32, u32)>,
    ) -> FsBridge {
        FsBridge {
            engine,
            container,
            table,
            owner,
        }
    }

    pub fn table(&self) -> &MountTable {
        &self.table
    }

    /// Map a tool path to where it lives, refusing escapes.
    pub fn resolve(&self, path: &str) -> Result<ResolvedPath, SandboxError> {
        let trimmed = path.trim();
        if trimmed.is_empty() || trimmed.contains('\0') {
            return Err(escape(path));
        }
        let container_path = if trimmed.starts_with('/') {
            match self.table.to_container(Path::new(trimmed)) {
                Some(c) => c,
                None => normalize_lexical(Path::new(trimmed))
                    .to_string_lossy()
                    .into_owned(),
            }
        } else {
            let joined = normalize_lexical(&Path::new(self.table.workdir()).join(trimmed));
            if !joined.starts_with(self.table.workdir()) {
                return Err(escape(path));
            }
            joined.to_string_lossy().into_owned()
        };
        if let Some((entry, host_path)) = self.table.to_host(&container_path) {
            let root = std::fs::canonicalize(&entry.host)
                .unwrap_or_else(|_| normalize_lexical(&entry.host));
            let real = resolve_existing_ancestor(&host_path);
            if !real.starts_with(&root) {
                return Err(escape(path));
            }
            return Ok(ResolvedPath::Host {
                container_path,
                host_path: real,
                root,
                writable: entry.writable,
            });
        }
        if self.table.is_tmpfs(&container_path) {
            return Ok(ResolvedPath::Container { container_path });
        }
        Err(escape(path))
    }

    fn writable(&self, path: &str, action: &'static str) -> Result<ResolvedPath, SandboxError> {
        let r = self.resolve(path)?;
        if let ResolvedPath::Host {
            writable: false,
            container_path,
            ..
        } = &r
        {
            return Err(SandboxError::ReadOnly {
                action,
                path: container_path.clone(),
                access: self.table.access().as_str(),
            });
        }
        Ok(r)
    }

    fn engine(&self) -> Result<&Engine, SandboxError> {
        self.engine
            .as_ref()
            .ok_or_else(|| SandboxError::ContainerGone {
                container: self.container.clone(),
                detail: "no engine attached to the file bridge".into(),
            })
    }

    async fn container_exec(
        &self,
        argv: Vec<String>,
        stdin: Option<Vec<u8>>,
        what: &str,
    ) -> Result<Vec<u8>, SandboxError> {
        let out = run_argv(
            self.engine()?,
            &self.container,
            argv,
            stdin,
            MAX_READ_BYTES + 1,
        )
        .await?;
        if out.exit_code != Some(0) {
            return Err(SandboxError::Docker {
                op: "sandbox fs",
                detail: format!("{what}: {}", out.stderr.trim()),
            });
        }
        if out.stdout.len() > MAX_READ_BYTES {
            return Err(SandboxError::Docker {
                op: "sandbox fs",
                detail: format!("{what}: larger than {MAX_READ_BYTES} bytes"),
            });
        }
        Ok(out.stdout.into_bytes())
    }

    /// Read a file.
    pub async fn read_file(&self, path: &str) -> Result<Vec<u8>, SandboxError> {
        match self.resolve(path)? {
            ResolvedPath::Host {
                host_path, root, ..
            } => blocking(move || read_host(&host_path, &root)).await,
            ResolvedPath::Container { container_path } => {
                self.container_exec(
                    vec!["cat".into(), "--".into(), container_path.clone()],
                    None,
                    &container_path,
                )
                .await
            }
        }
    }

    /// Create or replace a file (parents created).
    pub async fn write_file(&self, path: &str, bytes: &[u8]) -> Result<(), SandboxError> {
        match self.writable(path, "write")? {
            ResolvedPath::Host {
                host_path, root, ..
            } => {
                let bytes = bytes.to_vec();
                let owner = self.owner;
                blocking(move || write_host(&host_path, &root, &bytes, owner)).await
            }
            ResolvedPath::Container { container_path } => {
                let script = "mkdir -p \"$(dirname \"$1\")\" && cat > \"$1\"";
                let argv = vec![
                    "sh".into(),
                    "-c".into(),
                    script.into(),
                    "openclaw-fs".into(),
                    container_path.clone(),
                ];
                self.container_exec(argv, Some(bytes.to_vec()), &container_path)
                    .await
                    .map(|_| ())
            }
        }
    }

    /// `mkdir -p`.
    pub async fn mkdir(&self, path: &str) -> Result<(), SandboxError> {
        match self.writable(path, "mkdir")? {
            ResolvedPath::Host {
                host_path, root, ..
            } => {
                let owner = self.owner;
                blocking(move || {
                    std::fs::create_dir_all(&host_path)
                        .map_err(|e| SandboxError::io("mkdir", &host_path, e))?;
                    recheck(&host_path, &root)?;
                    if let Some((u, g)) = owner {
                        chown_if_root(&host_path, u, g);
                    }
                    Ok(())
                })
                .await
            }
            ResolvedPath::Container { container_path } => self
                .container_exec(
                    vec![
                        "mkdir".into(),
                        "-p".into(),
                        "--".into(),
                        container_path.clone(),
                    ],
                    None,
                    &container_path,
                )
                .await
                .map(|_| ()),
        }
    }

    /// Remove a file or (with `recursive`) a directory tree.
    pub async fn remove(&self, path: &str, recursive: bool) -> Result<(), SandboxError> {
        match self.writable(path, "remove")? {
            ResolvedPath::Host {
                host_path, root, ..
            } => {
                blocking(move || {
                    if host_path == root {
                        return Err(escape(&host_path.to_string_lossy()));
                    }
                    let meta = std::fs::symlink_metadata(&host_path)
                        .map_err(|e| SandboxError::io("stat", &host_path, e))?;
                    let r = if meta.is_dir() && recursive {
                        std::fs::remove_dir_all(&host_path)
                    } else if meta.is_dir() {
                        std::fs::remove_dir(&host_path)
                    } else {
                        std::fs::remove_file(&host_path)
                    };
                    r.map_err(|e| SandboxError::io("remove", &host_path, e))
                })
                .await
            }
            ResolvedPath::Container { container_path } => {
                let flag = if recursive { "-rf" } else { "-f" };
                self.container_exec(
                    vec![
                        "rm".into(),
                        flag.into(),
                        "--".into(),
                        container_path.clone(),
                    ],
                    None,
                    &container_path,
                )
                .await
                .map(|_| ())
            }
        }
    }

    /// Rename within host-backed mounts.
    pub async fn rename(&self, from: &str, to: &str) -> Result<(), SandboxError> {
        let (a, b) = (self.writable(from, "rename")?, self.writable(to, "rename")?);
        match (a, b) {
            (
                ResolvedPath::Host { host_path: src, .. },
                ResolvedPath::Host {
                    host_path: dst,
                    root,
                    ..
                },
            ) => {
                blocking(move || {
                    if let Some(parent) = dst.parent() {
                        std::fs::create_dir_all(parent)
                            .map_err(|e| SandboxError::io("mkdir", parent, e))?;
                        recheck(parent, &root)?;
                    }
                    std::fs::rename(&src, &dst).map_err(|e| SandboxError::io("rename", &src, e))
                })
                .await
            }
            (
                ResolvedPath::Container { container_path: s },
                ResolvedPath::Container { container_path: d },
            ) => self
                .container_exec(
                    vec!["mv".into(), "-f".into(), "--".into(), s.clone(), d],
                    None,
                    &s,
                )
                .await
                .map(|_| ()),
            _ => Err(SandboxError::Docker {
                op: "sandbox fs",
                detail: format!("cannot move {from} to {to} across mounts"),
            }),
        }
    }

    /// Metadata, `None` when absent.
    pub async fn stat(&self, path: &str) -> Result<Option<FileStat>, SandboxError> {
        match self.resolve(path)? {
            ResolvedPath::Host { host_path, .. } => {
                blocking(move || match std::fs::metadata(&host_path) {
                    Ok(m) => Ok(Some(FileStat {
                        is_dir: m.is_dir(),
                        size: m.len(),
                        mtime_ms: m
                            .modified()
                            .ok()
                            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                            .map(|d| d.as_millis() as i64)
                            .unwrap_or(0),
                    })),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                    Err(e) => Err(SandboxError::io("stat", &host_path, e)),
                })
                .await
            }
            ResolvedPath::Container { container_path } => {
                let script = "[ -e \"$1\" ] || exit 3; if [ -d \"$1\" ]; then echo d; else echo f; fi; wc -c < \"$1\" 2>/dev/null || echo 0";
                let argv = vec![
                    "sh".into(),
                    "-c".into(),
                    script.into(),
                    "openclaw-fs".into(),
                    container_path.clone(),
                ];
                let out = run_argv(self.engine()?, &self.container, argv, None, 4096).await?;
                if out.exit_code == Some(3) {
                    return Ok(None);
                }
                let mut lines = out.stdout.lines();
                let is_dir = lines.next() == Some("d");
                let size = lines
                    .next()
                    .and_then(|l| l.trim().parse().ok())
                    .unwrap_or(0);
                Ok(Some(FileStat {
                    is_dir,
                    size: if is_dir { 0 } else { size },
                    mtime_ms: 0,
                }))
            }
        }
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, SandboxError> + Send + 'static,
) -> Result<T, SandboxError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| SandboxError::Docker {
            op: "sandbox fs",
            detail: e.to_string(),
        })?
}

/// Re-resolve after a mutation created directories: still inside the root?
fn recheck(path: &Path, root: &Path) -> Result<(), SandboxError> {
    if resolve_existing_ancestor(path).starts_with(root) {
        Ok(())
    } else {
        Err(escape(&path.to_string_lossy()))
    }
}

fn read_host(path: &Path, root: &Path) -> Result<Vec<u8>, SandboxError> {
    let real = std::fs::canonicalize(path).map_err(|e| SandboxError::io("read", path, e))?;
    if !real.starts_with(root) {
        return Err(escape(&path.to_string_lossy()));
    }
    let mut f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(&real)
        .map_err(|e| SandboxError::io("read", &real, e))?;
    let mut buf = Vec::new();
    Read::by_ref(&mut f)
        .take(MAX_READ_BYTES as u64 + 1)
        .read_to_end(&mut buf)
        .map_err(|e| SandboxError::io("read", &real, e))?;
    if buf.len() > MAX_READ_BYTES {
        return Err(SandboxError::io(
            "read (file larger than 16 MiB)",
            &real,
            std::io::Error::from(std::io::ErrorKind::InvalidData),
        ));
    }
    Ok(buf)
}

fn write_host(
    path: &Path,
    root: &Path,
    bytes: &[u8],
    owner: Option<(u32, u32)>,
) -> Result<(), SandboxError> {
    let parent = path
        .parent()
        .ok_or_else(|| escape(&path.to_string_lossy()))?;
    std::fs::create_dir_all(parent).map_err(|e| SandboxError::io("mkdir", parent, e))?;
    recheck(parent, root)?;
    let real_parent =
        std::fs::canonicalize(parent).map_err(|e| SandboxError::io("resolve", parent, e))?;
    let name = path
        .file_name()
        .ok_or_else(|| escape(&path.to_string_lossy()))?;
    let target = real_parent.join(name);
    let existed = target.exists();
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(&target)
        .map_err(|e| SandboxError::io("write", &target, e))?;
    f.write_all(bytes)
        .map_err(|e| SandboxError::io("write", &target, e))?;
    if !existed && let Some((u, g)) = owner {
        chown_if_root(&target, u, g);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::posture::WorkspaceMounts;
    use crate::spec::{SandboxSpec, WorkspaceAccess};

    fn bridge(dir: &Path, access: WorkspaceAccess) -> FsBridge {
        let sbx = dir.join("sbx");
        let agent = dir.join("agent");
        std::fs::create_dir_all(&sbx).unwrap();
        std::fs::create_dir_all(&agent).unwrap();
        let mut spec = SandboxSpec::defaults(dir);
        spec.workspace_access = access;
        let mounts = WorkspaceMounts::for_access(access, sbx, agent);
        FsBridge::new(
            None,
            "c".into(),
            MountTable::new(&spec, &mounts).unwrap(),
            None,
        )
    }

    #[tokio::test]
    async fn host_reads_writes_and_escapes() {
        let d = tempfile::tempdir().unwrap();
        let b = bridge(d.path(), WorkspaceAccess::None);
        b.write_file("notes/a.txt", b"hello").await.unwrap();
        assert_eq!(
            b.read_file("/workspace/notes/a.txt").await.unwrap(),
            b"hello"
        );
        assert_eq!(
            std::fs::read(d.path().join("sbx/notes/a.txt")).unwrap(),
            b"hello"
        );
        let host = d.path().join("sbx/notes/a.txt");
        assert_eq!(
            b.read_file(&host.to_string_lossy()).await.unwrap(),
            b"hello"
        );
        assert!(b.stat("notes").await.unwrap().unwrap().is_dir);
        assert_eq!(b.stat("nope").await.unwrap(), None);
        std::fs::write(d.path().join("secret"), "s").unwrap();
        std::os::unix::fs::symlink(d.path().join("secret"), d.path().join("sbx/link")).unwrap();
        std::os::unix::fs::symlink(d.path(), d.path().join("sbx/dirlink")).unwrap();
        for bad in [
            "../secret",
            "/etc/passwd",
            "link",
            "dirlink/secret",
            "dirlink/new.txt",
            "/workspace/../etc",
        ] {
            let err = b.read_file(bad).await.unwrap_err().to_string();
            assert!(err.contains("Path escapes sandbox root"), "{bad}: {err}");
            let err = b.write_file(bad, b"x").await.unwrap_err().to_string();
            assert!(err.contains("Path escapes sandbox root"), "{bad}: {err}");
        }
        assert_eq!(
            std::fs::read_to_string(d.path().join("secret")).unwrap(),
            "s"
        );
        b.rename("notes/a.txt", "notes/b.txt").await.unwrap();
        b.remove("notes", true).await.unwrap();
        assert!(!d.path().join("sbx/notes").exists());
    }

    #[tokio::test]
    async fn ro_refuses_writes_and_reads_agent() {
        let d = tempfile::tempdir().unwrap();
        let b = bridge(d.path(), WorkspaceAccess::Ro);
        std::fs::write(d.path().join("agent/AGENTS.md"), "a").unwrap();
        assert_eq!(b.read_file("/agent/AGENTS.md").await.unwrap(), b"a");
        for p in ["x.txt", "/agent/AGENTS.md"] {
            let err = b.write_file(p, b"x").await.unwrap_err().to_string();
            assert!(
                err.contains("read-only") && err.contains("workspaceAccess"),
                "{err}"
            );
        }
        assert!(matches!(
            b.resolve("/tmp/x").unwrap(),
            ResolvedPath::Container { .. }
        ));
    }
}
