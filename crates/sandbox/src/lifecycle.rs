//! Container lifecycle: ensure the scope's container exists, runs, and matches the config hash.
//!
//! Rules: stale hash + idle ≥ 5 min (or stopped) → removed and recreated; stale + used in the last
//! 5 minutes → kept, and the handle carries a warning with the exact `openclaw sandbox recreate`
//! command. A new container is created, started, and `setupCommand` runs once via `sh -lc`; if any
//! step fails the half-made container is removed. Also here: seeding the sandbox workspace with
//! the agent's bootstrap files, and staging inbound media into it.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use sha2::{Digest, Sha256};
use tokio_util::sync::CancellationToken;

use crate::engine::Engine;
use crate::error::{SandboxError, now_ms};
use crate::exec::{ExecRequest, run_exec};
use crate::hash::config_hash;
use crate::manage::DoodMounts;
use crate::naming::container_name;
use crate::posture::{CreateLabels, WorkspaceMounts, build_create_body};
use crate::registry::{Registry, RegistryEntry};
use crate::spec::{SandboxScope, SandboxSpec};
use crate::validate::validate;

/// A container used within this window is "hot" and is not recreated on config drift.
pub const HOT_WINDOW_MS: i64 = 5 * 60 * 1000;
/// Deadline for `setupCommand`.
pub const SETUP_TIMEOUT: Duration = Duration::from_secs(600);
/// Files copied once from the agent workspace into a fresh sandbox workspace.
pub const BOOTSTRAP_FILES: &[&str] = &[
    "AGENTS.md",
    "SOUL.md",
    "TOOLS.md",
    "IDENTITY.md",
    "USER.md",
    "BOOTSTRAP.md",
    "HEARTBEAT.md",
];
/// Inbound media larger than this are refused.
pub const MAX_MEDIA_BYTES: u64 = 64 * 1024 * 1024;

/// The host directories a container is built around.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopeDirs {
    /// Per-scope sandbox workspace (`workspaceRoot/<slug>`).
    pub sandbox_workspace: PathBuf,
    /// The agent's real workspace.
    pub agent_workspace: PathBuf,
}

/// A ready container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerHandle {
    pub name: String,
    pub scope_key: String,
    pub config_hash: String,
    /// True when this call created the container.
    pub created: bool,
    /// True when this call created or (re)started the container: processes from before are gone.
    pub started: bool,
    /// Set when a hot container with a stale config was kept.
    pub warning: Option<String>,
    /// Validation warnings (secret-looking env keys …).
    pub validation_warnings: Vec<String>,
    pub mounts: WorkspaceMounts,
}

/// The recreate command for a scope.
pub fn recreate_hint(scope: SandboxScope, scope_key: &str) -> String {
    match scope {
        SandboxScope::Session => format!("openclaw sandbox recreate --session {scope_key}"),
        SandboxScope::Agent => format!(
            "openclaw sandbox recreate --agent {}",
            scope_key.strip_prefix("agent:").unwrap_or(scope_key)
        ),
        SandboxScope::Shared => "openclaw sandbox recreate --all".to_string(),
    }
}

/// Ensure the container for `scope_key` exists, runs and matches `spec`.
pub async fn ensure_container(
    engine: &Engine,
    registry: &Registry,
    spec: &SandboxSpec,
    scope_key: &str,
    dirs: &ScopeDirs,
) -> Result<ContainerHandle, SandboxError> {
    ensure_container_with(engine, registry, spec, scope_key, dirs, None).await
}

/// As `ensure_container`; with `host_paths` (Docker-out-of-Docker) every bind source of a new
/// container is translated from the gateway's view to the Docker host's, or the call fails
/// with the path that the host cannot reach. Hashes, the registry and the file bridge keep the
/// gateway's paths.
pub async fn ensure_container_with(
    engine: &Engine,
    registry: &Registry,
    spec: &SandboxSpec,
    scope_key: &str,
    dirs: &ScopeDirs,
    host_paths: Option<&DoodMounts>,
) -> Result<ContainerHandle, SandboxError> {
    let name = container_name(&spec.docker.container_prefix, spec.scope, scope_key);
    let mounts = WorkspaceMounts::for_access(
        spec.workspace_access,
        dirs.sandbox_workspace.clone(),
        dirs.agent_workspace.clone(),
    );
    let home = crate::spec::home_dir();
    let validation_warnings = validate(spec, &mounts.workspace_dir, &dirs.agent_workspace, &home)?;
    let expected = config_hash(
        &spec.docker,
        spec.workspace_access,
        &mounts.workspace_dir,
        &dirs.agent_workspace,
    );
    let now = now_ms();
    let existing = engine.inspect(&name).await?;
    let prior = registry.get(&name).await?;
    let mut warning = None;
    let mut recorded_hash = expected.clone();
    let mut created = false;
    let mut started = false;
    let mut created_at = now;

    let keep = match &existing {
        None => false,
        Some(info) => {
            let current = info
                .config_hash()
                .map(str::to_string)
                .or_else(|| prior.as_ref().and_then(|p| p.config_hash.clone()));
            if current.as_deref() == Some(expected.as_str()) {
                true
            } else {
                let hot = info.running
                    && prior
                        .as_ref()
                        .is_none_or(|p| now - p.last_used_at_ms < HOT_WINDOW_MS);
                if hot {
                    let hint = recreate_hint(spec.scope, scope_key);
                    let msg = format!(
                        "Sandbox config changed for {name} (recently used). Recreate to apply: {hint}"
                    );
                    tracing::warn!("{msg}");
                    warning = Some(msg);
                    recorded_hash = current.unwrap_or_default();
                    true
                } else {
                    engine.remove(&name).await?;
                    false
                }
            }
        }
    };

    if keep {
        if let Some(info) = &existing {
            created_at = info.created_at_ms().unwrap_or(now);
            if !info.running {
                engine.start(&name).await?;
                started = true;
            }
        }
    } else {
        prepare_workspace(spec, dirs).await?;
        engine.ensure_image(&spec.docker.image).await?;
        let mut create_spec = spec.clone();
        create_spec.docker.seccomp_profile =
            load_seccomp(spec.docker.seccomp_profile.as_deref()).await?;
        let labels = CreateLabels {
            scope_key: scope_key.to_string(),
            created_at_ms: now,
            config_hash: expected.clone(),
        };
        let mut body = build_create_body(&create_spec, &mounts, &labels)?;
        if let (Some(t), Some(hc)) = (host_paths, body.host_config.as_mut()) {
            hc.binds = Some(t.translate_binds(hc.binds.as_deref().unwrap_or_default())?);
        }
        engine.create(&name, body).await?;
        if spec.workspace_access != crate::spec::WorkspaceAccess::Rw
            && let Some((uid, gid)) = container_owner(engine, spec, &name).await
        {
            chown_tree_shallow(&dirs.sandbox_workspace, uid, gid).await;
        }
        if let Err(e) = start_and_setup(engine, spec, &name).await {
            if let Err(rm) = engine.remove(&name).await {
                tracing::warn!(container = %name, error = %rm, "could not remove half-made sandbox container");
            }
            return Err(e);
        }
        created = true;
        started = true;
    }

    registry
        .upsert(RegistryEntry {
            container_name: name.clone(),
            session_key: scope_key.to_string(),
            created_at_ms: prior
                .as_ref()
                .map(|p| p.created_at_ms)
                .filter(|_| keep)
                .unwrap_or(created_at),
            last_used_at_ms: now,
            image: spec.docker.image.clone(),
            config_hash: Some(recorded_hash),
            cdp_port: None,
            no_vnc_port: None,
        })
        .await?;
    Ok(ContainerHandle {
        name,
        scope_key: scope_key.to_string(),
        config_hash: expected,
        created,
        started,
        warning,
        validation_warnings,
        mounts,
    })
}

/// The Engine API wants seccomp profile JSON, not a path: read the file like the CLI does.
pub(crate) async fn load_seccomp(profile: Option<&str>) -> Result<Option<String>, SandboxError> {
    match profile {
        None => Ok(None),
        Some(p) if p.trim_start().starts_with('{') => Ok(Some(p.to_string())),
        Some(p) => tokio::fs::read_to_string(p).await.map(Some).map_err(|e| {
            SandboxError::io(
                "read seccomp profile (agents.defaults.sandbox.docker.seccompProfile)",
                p,
                e,
            )
        }),
    }
}

async fn start_and_setup(
    engine: &Engine,
    spec: &SandboxSpec,
    name: &str,
) -> Result<(), SandboxError> {
    engine.start(name).await?;
    let Some(cmd) = spec
        .docker
        .setup_command
        .as_deref()
        .filter(|c| !c.trim().is_empty())
    else {
        return Ok(());
    };
    let req = ExecRequest {
        argv: vec!["sh".into(), "-lc".into(), cmd.to_string()],
        env: spec
            .docker
            .env
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect(),
        workdir: spec.docker.workdir.clone(),
        exec_id: format!("setup-{name}"),
    };
    let out = run_exec(
        engine,
        name,
        &req,
        SETUP_TIMEOUT,
        &CancellationToken::new(),
        16 * 1024,
    )
    .await?;
    if out.exit_code == Some(0) {
        return Ok(());
    }
    Err(SandboxError::SetupFailed {
        container: name.to_string(),
        exit_code: out.exit_code,
        output: out
            .aggregated
            .chars()
            .rev()
            .take(2000)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect(),
    })
}

/// Create the sandbox workspace (for non-`rw` access) and seed it once.
pub(crate) async fn prepare_workspace(
    spec: &SandboxSpec,
    dirs: &ScopeDirs,
) -> Result<(), SandboxError> {
    let dirs = dirs.clone();
    let owner = numeric_owner(spec.docker.user.as_deref());
    let seed = spec.workspace_access != crate::spec::WorkspaceAccess::Rw;
    tokio::task::spawn_blocking(move || -> Result<(), SandboxError> {
        std::fs::create_dir_all(&dirs.sandbox_workspace).map_err(|e| {
            SandboxError::io("create sandbox workspace", &dirs.sandbox_workspace, e)
        })?;
        if seed {
            seed_workspace(&dirs.agent_workspace, &dirs.sandbox_workspace, owner)?;
        }
        if let Some((uid, gid)) = owner {
            chown_if_root(&dirs.sandbox_workspace, uid, gid);
        }
        Ok(())
    })
    .await
    .map_err(|e| SandboxError::docker("prepare workspace", e))?
}

/// The uid:gid the container runs as: numeric `docker.user`, else the image's `USER` looked up in
/// the container's `/etc/passwd` (read through the archive endpoint, which works on the image
/// layers). `None` means root or unknown. Used to hand the sandbox workspace to that user so the
/// writable `/workspace` promise holds for a non-root image user.
pub async fn container_owner(
    engine: &Engine,
    spec: &SandboxSpec,
    container: &str,
) -> Option<(u32, u32)> {
    if let Some(o) = numeric_owner(spec.docker.user.as_deref()) {
        return Some(o);
    }
    let user = match spec.docker.user.clone() {
        Some(u) => u,
        None => {
            let img = tokio::time::timeout(
                crate::engine::CALL_TIMEOUT,
                engine.docker().inspect_image(&spec.docker.image),
            )
            .await
            .ok()?
            .ok()?;
            img.config.and_then(|c| c.user).unwrap_or_default()
        }
    };
    if user.is_empty() || user == "root" || user == "0" {
        return None;
    }
    if let Some(o) = numeric_owner(Some(&user)) {
        return Some(o);
    }
    let name = user.split(':').next().unwrap_or_default().to_string();
    let passwd = download_small_file(engine, container, "/etc/passwd").await?;
    passwd.lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        if f.len() >= 4 && f[0] == name {
            Some((f[2].parse().ok()?, f[3].parse().ok()?))
        } else {
            None
        }
    })
}

async fn download_small_file(engine: &Engine, container: &str, path: &str) -> Option<String> {
    use futures::StreamExt;
    let opts = bollard::query_parameters::DownloadFromContainerOptionsBuilder::default()
        .path(path)
        .build();
    let mut stream = engine
        .docker()
        .download_from_container(container, Some(opts));
    let mut tar_bytes = Vec::new();
    let read = async {
        while let Some(chunk) = stream.next().await {
            tar_bytes.extend_from_slice(&chunk.ok()?);
            if tar_bytes.len() > 1 << 20 {
                return None;
            }
        }
        Some(())
    };
    tokio::time::timeout(crate::engine::CALL_TIMEOUT, read)
        .await
        .ok()??;
    let mut archive = tar::Archive::new(tar_bytes.as_slice());
    let mut entry = archive.entries().ok()?.next()?.ok()?;
    let mut s = String::new();
    entry.read_to_string(&mut s).ok()?;
    Some(s)
}

/// `docker.user` as `uid[:gid]` when numeric (used to hand the sandbox workspace to that user).
pub fn numeric_owner(user: Option<&str>) -> Option<(u32, u32)> {
    let user = user?;
    let mut it = user.splitn(2, ':');
    let uid: u32 = it.next()?.parse().ok()?;
    let gid: u32 = match it.next() {
        Some(g) => g.parse().ok()?,
        None => uid,
    };
    Some((uid, gid))
}

async fn chown_tree_shallow(dir: &Path, uid: u32, gid: u32) {
    let dir = dir.to_path_buf();
    let _ = tokio::task::spawn_blocking(move || {
        chown_if_root(&dir, uid, gid);
        if let Ok(rd) = std::fs::read_dir(&dir) {
            for e in rd.flatten() {
                if e.file_type().is_ok_and(|t| !t.is_symlink()) {
                    chown_if_root(&e.path(), uid, gid);
                }
            }
        }
    })
    .await;
}

pub(crate) fn chown_if_root(path: &Path, uid: u32, gid: u32) {
    // SAFETY-free: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0
        && let Err(e) = std::os::unix::fs::chown(path, Some(uid), Some(gid))
    {
        tracing::warn!(path = %path.display(), error = %e, "chown of sandbox path failed");
    }
}

/// Copy the bootstrap files from `agent_ws` into `sandbox_ws`: never overwrite (exclusive
/// create), never follow a symlink that leaves the agent workspace, regular files only.
pub fn seed_workspace(
    agent_ws: &Path,
    sandbox_ws: &Path,
    owner: Option<(u32, u32)>,
) -> Result<Vec<String>, SandboxError> {
    let Ok(root) = std::fs::canonicalize(agent_ws) else {
        return Ok(Vec::new());
    };
    let mut copied = Vec::new();
    for name in BOOTSTRAP_FILES {
        let src = agent_ws.join(name);
        let Ok(real) = std::fs::canonicalize(&src) else {
            continue;
        };
        if !real.starts_with(&root) {
            tracing::warn!(file = %src.display(), "bootstrap file escapes the agent workspace; not seeded");
            continue;
        }
        let Ok(meta) = std::fs::metadata(&real) else {
            continue;
        };
        if !meta.is_file() {
            continue;
        }
        let dst = sandbox_ws.join(name);
        let mut out = match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&dst)
        {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(SandboxError::io("seed", &dst, e)),
        };
        let mut input =
            std::fs::File::open(&real).map_err(|e| SandboxError::io("read", &real, e))?;
        let mut bytes = Vec::new();
        input
            .read_to_end(&mut bytes)
            .map_err(|e| SandboxError::io("read", &real, e))?;
        out.write_all(&bytes)
            .map_err(|e| SandboxError::io("write", &dst, e))?;
        if let Some((uid, gid)) = owner {
            chown_if_root(&dst, uid, gid);
        }
        copied.push((*name).to_string());
    }
    Ok(copied)
}

/// Copy an inbound media file from under `media_dir` into `<sandbox_ws>/media/inbound/` as
/// `<stem>-<8 hex><ext>`; returns the workspace-relative path (`media/inbound/<file>`).
pub fn stage_inbound_media(
    media_dir: &Path,
    source: &Path,
    sandbox_ws: &Path,
) -> Result<String, SandboxError> {
    let root = std::fs::canonicalize(media_dir)
        .map_err(|e| SandboxError::io("open media dir", media_dir, e))?;
    let real =
        std::fs::canonicalize(source).map_err(|e| SandboxError::io("open media", source, e))?;
    if !real.starts_with(&root) || real == root {
        return Err(SandboxError::MediaOutsideDir {
            path: source.to_path_buf(),
            media_dir: media_dir.to_path_buf(),
        });
    }
    let meta = std::fs::metadata(&real).map_err(|e| SandboxError::io("stat media", &real, e))?;
    if !meta.is_file() || meta.len() > MAX_MEDIA_BYTES {
        return Err(SandboxError::io(
            "stage media (not a regular file or larger than 64 MiB)",
            &real,
            std::io::Error::from(std::io::ErrorKind::InvalidInput),
        ));
    }
    let stem: String = real
        .file_stem()
        .map(|s| {
            s.to_string_lossy()
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
                .take(64)
                .collect()
        })
        .filter(|s: &String| !s.is_empty())
        .unwrap_or_else(|| "media".into());
    let ext: String = real
        .extension()
        .map(|e| {
            format!(
                ".{}",
                e.to_string_lossy()
                    .chars()
                    .filter(char::is_ascii_alphanumeric)
                    .take(16)
                    .collect::<String>()
            )
        })
        .unwrap_or_default();
    let nonce_src = format!(
        "{}:{}:{:?}",
        real.display(),
        now_ms(),
        std::time::Instant::now()
    );
    let nonce = &hex::encode(Sha256::digest(nonce_src.as_bytes()))[..8];
    let inbound = sandbox_ws.join("media").join("inbound");
    std::fs::create_dir_all(&inbound).map_err(|e| SandboxError::io("create", &inbound, e))?;
    let file = format!("{stem}-{nonce}{ext}");
    let dst = inbound.join(&file);
    let mut out = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&dst)
        .map_err(|e| SandboxError::io("create", &dst, e))?;
    let mut input = std::fs::File::open(&real).map_err(|e| SandboxError::io("read", &real, e))?;
    std::io::copy(
        &mut Read::by_ref(&mut input).take(MAX_MEDIA_BYTES),
        &mut out,
    )
    .map_err(|e| SandboxError::io("copy", &dst, e))?;
    Ok(format!("media/inbound/{file}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints_per_scope() {
        assert_eq!(
            recreate_hint(SandboxScope::Session, "agent:main:x"),
            "openclaw sandbox recreate --session agent:main:x"
        );
        assert_eq!(
            recreate_hint(SandboxScope::Agent, "agent:work"),
            "openclaw sandbox recreate --agent work"
        );
        assert_eq!(
            recreate_hint(SandboxScope::Shared, "shared"),
            "openclaw sandbox recreate --all"
        );
    }

    #[test]
    fn seeding_is_once_and_confined() {
        let d = tempfile::tempdir().unwrap();
        let agent = d.path().join("agent");
        let sbx = d.path().join("sbx");
        std::fs::create_dir_all(&agent).unwrap();
        std::fs::create_dir_all(&sbx).unwrap();
        std::fs::write(agent.join("AGENTS.md"), "hi").unwrap();
        std::fs::write(d.path().join("secret"), "s").unwrap();
        std::os::unix::fs::symlink(d.path().join("secret"), agent.join("SOUL.md")).unwrap();
        std::fs::write(sbx.join("USER.md"), "mine").unwrap();
        std::fs::write(agent.join("USER.md"), "theirs").unwrap();
        let copied = seed_workspace(&agent, &sbx, None).unwrap();
        assert_eq!(copied, vec!["AGENTS.md".to_string()]);
        assert!(!sbx.join("SOUL.md").exists());
        assert_eq!(
            std::fs::read_to_string(sbx.join("USER.md")).unwrap(),
            "mine"
        );
        std::fs::write(agent.join("AGENTS.md"), "changed").unwrap();
        assert!(seed_workspace(&agent, &sbx, None).unwrap().is_empty());
        assert_eq!(
            std::fs::read_to_string(sbx.join("AGENTS.md")).unwrap(),
            "hi"
        );
    }

    #[test]
    fn media_staging() {
        let d = tempfile::tempdir().unwrap();
        let media = d.path().join("media");
        let sbx = d.path().join("sbx");
        std::fs::create_dir_all(media.join("in")).unwrap();
        std::fs::write(media.join("in/photo 1.jpg"), b"jpeg").unwrap();
        std::fs::write(d.path().join("outside.txt"), b"x").unwrap();
        let rel = stage_inbound_media(&media, &media.join("in/photo 1.jpg"), &sbx).unwrap();
        assert!(
            rel.starts_with("media/inbound/photo1-") && rel.ends_with(".jpg"),
            "{rel}"
        );
        assert_eq!(rel.len(), "media/inbound/photo1-".len() + 8 + 4);
        assert_eq!(std::fs::read(sbx.join(&rel)).unwrap(), b"jpeg");
        let err = stage_inbound_media(&media, &media.join("../outside.txt"), &sbx).unwrap_err();
        assert!(matches!(err, SandboxError::MediaOutsideDir { .. }));
        std::os::unix::fs::symlink(d.path().join("outside.txt"), media.join("link.txt")).unwrap();
        assert!(stage_inbound_media(&media, &media.join("link.txt"), &sbx).is_err());
    }

    #[test]
    fn owners() {
        assert_eq!(numeric_owner(Some("1000:1001")), Some((1000, 1001)));
        assert_eq!(numeric_owner(Some("1000")), Some((1000, 1000)));
        assert_eq!(numeric_owner(Some("sandbox")), None);
        assert_eq!(numeric_owner(None), None);
    }
}
