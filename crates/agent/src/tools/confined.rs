//! Workspace confinement by construction.
//!
//! Every path is opened relative to a directory fd of the workspace root with Linux
//! `openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS)`. The kernel, not a string check, refuses
//! `..` above the root, absolute paths outside it and symlinks (file or directory, old or created
//! after the fact) that resolve outside. Directory creation walks the path and `mkdirat`s one
//! component at a time beneath an fd that was itself opened beneath the root; writes go to a temp
//! file created beneath the root and are `renameat`ed into place, so a symlink at the target name
//! is replaced, never followed.
//!
//! All calls here are blocking syscalls: callers run them in `spawn_blocking`.

use std::ffi::OsStr;
use std::fs::File;
use std::io::{self, Write};
use std::os::fd::OwnedFd;
use std::path::{Component, Path, PathBuf};

use rustix::fs::{AtFlags, Mode, OFlags, ResolveFlags};
use rustix::io::Errno;

/// What can go wrong under a confined root.
#[derive(Debug, thiserror::Error)]
pub enum ConfinedError {
    /// The path resolves outside the root (`..`, absolute path, symlink).
    #[error("Path escapes workspace: {path} ({key} is on)")]
    Escape { path: String, key: &'static str },
    #[error("File not found: {path}")]
    NotFound { path: String },
    #[error("cannot {op} {path}: {source}")]
    Io {
        op: &'static str,
        path: String,
        source: io::Error,
    },
}

/// An open workspace root; every operation resolves beneath it.
#[derive(Debug)]
pub struct ConfinedRoot {
    given: PathBuf,
    canonical: PathBuf,
    dir: OwnedFd,
    key: &'static str,
}

/// File type and size of a path beneath the root (symlinks followed, beneath only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConfinedStat {
    pub is_dir: bool,
    pub is_file: bool,
    pub size: u64,
    pub mode: u32,
    pub modified_ms: i64,
}

/// Retries of `openat2` on EAGAIN (see `open_beneath`).
const OPENAT2_EAGAIN_RETRIES: u32 = 64;

const RESOLVE: ResolveFlags = ResolveFlags::BENEATH.union(ResolveFlags::NO_MAGICLINKS);

impl ConfinedRoot {
    /// Open `root` (which must be an existing directory). `key` is the config key named in the
    /// escape error, e.g. `tools.fs.workspaceOnly`.
    pub fn open(root: &Path, key: &'static str) -> Result<Self, ConfinedError> {
        let io_err = |source| ConfinedError::Io {
            op: "open workspace root",
            path: root.display().to_string(),
            source,
        };
        let canonical = std::fs::canonicalize(root).map_err(io_err)?;
        let dir = rustix::fs::open(
            &canonical,
            OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| io_err(e.into()))?;
        Ok(Self {
            given: root.to_path_buf(),
            canonical,
            dir,
            key,
        })
    }

    pub fn root(&self) -> &Path {
        &self.given
    }

    /// Turn an absolute path inside the root into a relative one. Anything else is passed on
    /// unchanged: the kernel refuses absolute paths and `..` escapes under `RESOLVE_BENEATH`.
    fn relative(&self, path: &Path) -> PathBuf {
        if path.is_absolute() {
            for base in [&self.given, &self.canonical] {
                if let Ok(rest) = path.strip_prefix(base) {
                    return if rest.as_os_str().is_empty() {
                        PathBuf::from(".")
                    } else {
                        rest.into()
                    };
                }
            }
            return path.to_path_buf();
        }
        if path.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            path.to_path_buf()
        }
    }

    fn map(&self, e: Errno, op: &'static str, path: &Path) -> ConfinedError {
        let shown = path.display().to_string();
        match e {
            Errno::XDEV => ConfinedError::Escape {
                path: shown,
                key: self.key,
            },
            Errno::NOENT => ConfinedError::NotFound { path: shown },
            other => ConfinedError::Io {
                op,
                path: shown,
                source: other.into(),
            },
        }
    }

    fn open_beneath(&self, rel: &Path, flags: OFlags, mode: Mode) -> Result<OwnedFd, Errno> {
        // With `..` in the path the kernel answers EAGAIN when any rename on the system raced
        // with the lookup (it cannot prove the walk stayed beneath); retrying is the documented
        // remedy. Bounded so a rename storm cannot spin us forever.
        let mut attempts = 0;
        loop {
            match rustix::fs::openat2(&self.dir, rel, flags | OFlags::CLOEXEC, mode, RESOLVE) {
                Err(Errno::AGAIN) if attempts < OPENAT2_EAGAIN_RETRIES => attempts += 1,
                other => return other,
            }
        }
    }

    /// Open an existing file for reading.
    pub fn open_read(&self, path: &Path) -> Result<File, ConfinedError> {
        let rel = self.relative(path);
        let fd = self
            .open_beneath(&rel, OFlags::RDONLY, Mode::empty())
            .map_err(|e| self.map(e, "open", path))?;
        Ok(File::from(fd))
    }

    /// Stat a path; `Ok(None)` when it does not exist. Escapes are errors, even for missing
    /// leaves (the kernel resolves the parents first).
    pub fn stat(&self, path: &Path) -> Result<Option<ConfinedStat>, ConfinedError> {
        let rel = self.relative(path);
        let fd = match self.open_beneath(&rel, OFlags::PATH, Mode::empty()) {
            Ok(fd) => fd,
            Err(Errno::NOENT) => {
                // Distinguish "missing leaf beneath the root" from "parent escapes".
                self.check_parent(&rel, path)?;
                return Ok(None);
            }
            Err(e) => return Err(self.map(e, "stat", path)),
        };
        let st = rustix::fs::fstat(&fd).map_err(|e| self.map(e, "stat", path))?;
        let kind = rustix::fs::FileType::from_raw_mode(st.st_mode);
        Ok(Some(ConfinedStat {
            is_dir: kind == rustix::fs::FileType::Directory,
            is_file: kind == rustix::fs::FileType::RegularFile,
            size: u64::try_from(st.st_size).unwrap_or(0),
            mode: st.st_mode,
            modified_ms: st.st_mtime.saturating_mul(1000),
        }))
    }

    fn check_parent(&self, rel: &Path, shown: &Path) -> Result<(), ConfinedError> {
        let mut cur = rel.to_path_buf();
        while cur.pop() {
            let probe = if cur.as_os_str().is_empty() {
                Path::new(".")
            } else {
                cur.as_path()
            };
            match self.open_beneath(probe, OFlags::PATH, Mode::empty()) {
                Ok(_) => return Ok(()),
                Err(Errno::NOENT) => continue,
                Err(e) => return Err(self.map(e, "stat", shown)),
            }
        }
        Ok(())
    }

    /// `mkdir -p` beneath the root, one `mkdirat` per missing component.
    pub fn create_dir_all(&self, path: &Path) -> Result<(), ConfinedError> {
        let rel = self.relative(path);
        let mut prefix = PathBuf::new();
        for comp in rel.components() {
            if comp == Component::CurDir {
                continue;
            }
            let parent = if prefix.as_os_str().is_empty() {
                PathBuf::from(".")
            } else {
                prefix.clone()
            };
            prefix.push(comp.as_os_str());
            match self.open_beneath(&prefix, OFlags::PATH | OFlags::DIRECTORY, Mode::empty()) {
                Ok(_) => continue,
                Err(Errno::NOENT) => {}
                Err(e) => return Err(self.map(e, "create directory", path)),
            }
            let Component::Normal(name) = comp else {
                return Err(self.map(Errno::NOENT, "create directory", path));
            };
            let pfd = self
                .open_beneath(&parent, OFlags::PATH | OFlags::DIRECTORY, Mode::empty())
                .map_err(|e| self.map(e, "create directory", path))?;
            match rustix::fs::mkdirat(&pfd, name, Mode::from_raw_mode(0o755)) {
                Ok(()) | Err(Errno::EXIST) => {}
                Err(e) => return Err(self.map(e, "create directory", path)),
            }
        }
        Ok(())
    }

    /// Split into the parent directory (created if missing) and a plain final name.
    fn parent_and_name<'a>(
        &self,
        rel: &'a Path,
        shown: &Path,
    ) -> Result<(OwnedFd, &'a OsStr), ConfinedError> {
        let Some(Component::Normal(name)) = rel.components().next_back() else {
            return Err(ConfinedError::Io {
                op: "write",
                path: shown.display().to_string(),
                source: io::Error::new(io::ErrorKind::InvalidInput, "path does not name a file"),
            });
        };
        let parent = rel
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        self.create_dir_all(parent).map_err(|e| match e {
            ConfinedError::Escape { key, .. } => ConfinedError::Escape {
                path: shown.display().to_string(),
                key,
            },
            other => other,
        })?;
        let pfd = self
            .open_beneath(parent, OFlags::PATH | OFlags::DIRECTORY, Mode::empty())
            .map_err(|e| self.map(e, "open parent directory", shown))?;
        Ok((pfd, name))
    }

    /// Write a whole file atomically (temp file beneath the root, then `renameat`).
    /// Missing parent directories are created. An existing file keeps its permission bits.
    pub fn write(&self, path: &Path, bytes: &[u8]) -> Result<(), ConfinedError> {
        let rel = self.relative(path);
        // An existing target (or its parents) that resolves outside is refused up front.
        let mode = match self.stat(&rel) {
            Ok(Some(st)) => st.mode & 0o7777,
            Ok(None) => 0o644,
            Err(ConfinedError::Escape { key, .. }) => {
                return Err(ConfinedError::Escape {
                    path: path.display().to_string(),
                    key,
                });
            }
            Err(e) => return Err(e),
        };
        let (pfd, name) = self.parent_and_name(&rel, path)?;
        let tmp = format!(
            ".{}.openclaw-tmp-{}",
            name.to_string_lossy(),
            uuid::Uuid::new_v4().simple()
        );
        let fd = rustix::fs::openat(
            &pfd,
            tmp.as_str(),
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::from_raw_mode(mode),
        )
        .map_err(|e| self.map(e, "create temp file for", path))?;
        let mut file = File::from(fd);
        let written = file.write_all(bytes).and_then(|()| file.flush());
        drop(file);
        let renamed = written.map_err(|source| ConfinedError::Io {
            op: "write",
            path: path.display().to_string(),
            source,
        });
        let renamed = renamed.and_then(|()| {
            rustix::fs::renameat(&pfd, tmp.as_str(), &pfd, name)
                .map_err(|e| self.map(e, "rename temp file onto", path))
        });
        if renamed.is_err() {
            let _ = rustix::fs::unlinkat(&pfd, tmp.as_str(), AtFlags::empty());
        }
        renamed
    }

    /// Remove a file (a symlink is removed itself, never its target).
    pub fn remove_file(&self, path: &Path) -> Result<(), ConfinedError> {
        let rel = self.relative(path);
        let Some(Component::Normal(name)) = rel.components().next_back() else {
            return Err(self.map(Errno::ISDIR, "remove", path));
        };
        let parent = rel
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let pfd = self
            .open_beneath(parent, OFlags::PATH | OFlags::DIRECTORY, Mode::empty())
            .map_err(|e| self.map(e, "remove", path))?;
        rustix::fs::unlinkat(&pfd, name, AtFlags::empty()).map_err(|e| self.map(e, "remove", path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::os::unix::fs::symlink;

    const KEY: &str = "tools.fs.workspaceOnly";

    fn setup() -> (tempfile::TempDir, PathBuf, PathBuf) {
        let tmp = tempfile::tempdir().unwrap();
        let ws = tmp.path().join("ws");
        let outside = tmp.path().join("outside");
        std::fs::create_dir_all(&ws).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::write(outside.join("secret.txt"), "secret").unwrap();
        std::fs::write(ws.join("a.txt"), "hello").unwrap();
        (tmp, ws, outside)
    }

    fn is_escape<T: std::fmt::Debug>(r: Result<T, ConfinedError>) -> bool {
        matches!(r, Err(ConfinedError::Escape { .. }))
    }

    #[test]
    fn reads_inside_and_through_inner_symlinks() {
        let (_t, ws, _o) = setup();
        symlink("a.txt", ws.join("link.txt")).unwrap();
        let root = ConfinedRoot::open(&ws, KEY).unwrap();
        let mut s = String::new();
        root.open_read(Path::new("link.txt"))
            .unwrap()
            .read_to_string(&mut s)
            .unwrap();
        assert_eq!(s, "hello");
        let mut s = String::new();
        root.open_read(&ws.join("a.txt"))
            .unwrap()
            .read_to_string(&mut s)
            .unwrap();
        assert_eq!(s, "hello");
    }

    #[test]
    fn refuses_every_escape() {
        let (_t, ws, outside) = setup();
        symlink(outside.join("secret.txt"), ws.join("file-link")).unwrap();
        symlink(&outside, ws.join("dir-link")).unwrap();
        symlink("../outside", ws.join("rel-dir-link")).unwrap();
        let root = ConfinedRoot::open(&ws, KEY).unwrap();
        for p in [
            PathBuf::from("../outside/secret.txt"),
            outside.join("secret.txt"),
            PathBuf::from("file-link"),
            PathBuf::from("dir-link/secret.txt"),
            PathBuf::from("rel-dir-link/secret.txt"),
            PathBuf::from("/proc/self/root/etc/passwd"),
        ] {
            assert!(is_escape(root.open_read(&p)), "read {p:?}");
            assert!(is_escape(root.write(&p, b"x")), "write {p:?}");
            assert!(is_escape(root.stat(&p)), "stat {p:?}");
        }
        assert!(is_escape(
            root.create_dir_all(Path::new("dir-link/new/deeper"))
        ));
        assert!(is_escape(root.write(Path::new("dir-link/new.txt"), b"x")));
        assert!(is_escape(
            root.remove_file(Path::new("dir-link/secret.txt"))
        ));
        assert_eq!(
            std::fs::read_to_string(outside.join("secret.txt")).unwrap(),
            "secret"
        );
        assert!(!outside.join("new.txt").exists());
        assert!(!outside.join("new").exists());
        let err = root
            .open_read(Path::new("../outside/secret.txt"))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "Path escapes workspace: ../outside/secret.txt (tools.fs.workspaceOnly is on)"
        );
    }

    #[test]
    fn symlink_created_after_open_is_still_refused() {
        let (_t, ws, outside) = setup();
        let root = ConfinedRoot::open(&ws, KEY).unwrap();
        std::fs::create_dir(ws.join("sub")).unwrap();
        std::fs::remove_dir(ws.join("sub")).unwrap();
        symlink(&outside, ws.join("sub")).unwrap();
        assert!(is_escape(root.write(Path::new("sub/secret.txt"), b"pwned")));
        assert_eq!(
            std::fs::read_to_string(outside.join("secret.txt")).unwrap(),
            "secret"
        );
    }

    #[test]
    fn write_creates_parents_and_replaces_atomically() {
        let (_t, ws, _o) = setup();
        let root = ConfinedRoot::open(&ws, KEY).unwrap();
        root.write(Path::new("x/y/z.txt"), b"deep").unwrap();
        assert_eq!(
            std::fs::read_to_string(ws.join("x/y/z.txt")).unwrap(),
            "deep"
        );
        root.write(Path::new("x/../a.txt"), b"again").unwrap();
        assert_eq!(std::fs::read_to_string(ws.join("a.txt")).unwrap(), "again");
        let leftovers: Vec<_> = std::fs::read_dir(&ws)
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().contains("openclaw-tmp"))
            .collect();
        assert!(leftovers.is_empty());
        let st = root.stat(Path::new("x/y")).unwrap().unwrap();
        assert!(st.is_dir);
        assert_eq!(root.stat(Path::new("nope/none")).unwrap(), None);
        root.remove_file(Path::new("x/y/z.txt")).unwrap();
        assert!(!ws.join("x/y/z.txt").exists());
    }
}
