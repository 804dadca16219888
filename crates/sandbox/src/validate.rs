//! Security validation of a resolved spec before any container is created.
//!
//! Refuses (fail closed, each message names the config key and the fix): relative or blocked bind
//! sources (system dirs, the Docker socket, home credential dirs), sources that escape through a
//! symlinked ancestor, binds outside the workspace roots, binds onto the reserved `/workspace` and
//! `/agent` targets, `host` networking, `container:*` namespace joins, `unconfined` seccomp/apparmor,
//! and env entries with NUL bytes or invalid names. Secret-looking env keys are passed through —
//! the operator declared them — but reported as warnings for `explain`.

use std::path::{Component, Path, PathBuf};

use crate::error::SandboxError;
use crate::spec::SandboxSpec;

const BINDS_KEY: &str = "agents.defaults.sandbox.docker.binds";
const BLOCKED_ROOTS: &[&str] = &[
    "/etc",
    "/private/etc",
    "/proc",
    "/sys",
    "/dev",
    "/boot",
    "/root",
    "/run",
    "/var/run",
    "/private/var/run",
];
const HOME_CREDENTIAL_DIRS: &[&str] = &[
    ".aws", ".cargo", ".config", ".docker", ".gnupg", ".netrc", ".npm", ".ssh",
];
const RESERVED_TARGETS: &[&str] = &["/workspace", "/agent"];
const SECRET_SUFFIXES: &[&str] = &[
    "_API_KEY",
    "_APIKEY",
    "_TOKEN",
    "_PASSWORD",
    "_SECRET",
    "_PRIVATE_KEY",
    "_ACCESS_KEY",
];
const SECRET_NAMES: &[&str] = &[
    "OPENCLAW_GATEWAY_TOKEN",
    "OPENCLAW_GATEWAY_PASSWORD",
    "TELEGRAM_BOT_TOKEN",
    "AWS_SECRET_ACCESS_KEY",
    "GH_TOKEN",
    "GITHUB_TOKEN",
    "NPM_TOKEN",
    "DISCORD_BOT_TOKEN",
];

/// A parsed `host:container[:mode]` bind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindSpec {
    pub source: PathBuf,
    pub target: String,
    pub read_only: bool,
}

/// Parse one bind string.
pub fn parse_bind(raw: &str) -> Result<BindSpec, SandboxError> {
    let parts: Vec<&str> = raw.split(':').collect();
    let (source, target, mode) = match parts.as_slice() {
        [s, t] => (*s, *t, ""),
        [s, t, m] => (*s, *t, *m),
        _ => {
            return Err(SandboxError::security(
                BINDS_KEY,
                format!("\"{raw}\" is not host:container[:ro|rw]"),
            ));
        }
    };
    let mut read_only = false;
    for opt in mode.split(',').filter(|o| !o.is_empty()) {
        match opt {
            "ro" => read_only = true,
            "rw" | "z" | "Z" | "private" | "rprivate" | "slave" | "rslave" | "nocopy" => {}
            other => {
                return Err(SandboxError::security(
                    BINDS_KEY,
                    format!("\"{raw}\": unknown bind option \"{other}\" (accepted: ro, rw, z, Z)"),
                ));
            }
        }
    }
    if !target.starts_with('/') {
        return Err(SandboxError::security(
            BINDS_KEY,
            format!("\"{raw}\": container target must be absolute"),
        ));
    }
    Ok(BindSpec {
        source: PathBuf::from(source),
        target: normalize_lexical(Path::new(target))
            .to_string_lossy()
            .into_owned(),
        read_only,
    })
}

/// Lexically normalize an absolute path (`.` dropped, `..` pops, never above `/`).
pub fn normalize_lexical(path: &Path) -> PathBuf {
    let mut out = PathBuf::from("/");
    for c in path.components() {
        match c {
            Component::Normal(p) => out.push(p),
            Component::ParentDir => {
                out.pop();
            }
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
    out
}

/// Resolve `path` through its deepest existing ancestor (symlinks resolved there), then append
/// the non-existent remainder. Symlink-parent escapes are visible in the result.
pub fn resolve_existing_ancestor(path: &Path) -> PathBuf {
    let norm = normalize_lexical(path);
    let mut existing = norm.clone();
    let mut rest: Vec<std::ffi::OsString> = Vec::new();
    loop {
        if let Ok(real) = std::fs::canonicalize(&existing) {
            let mut out = real;
            for part in rest.iter().rev() {
                out.push(part);
            }
            return out;
        }
        match (
            existing.file_name().map(|f| f.to_os_string()),
            existing.parent(),
        ) {
            (Some(name), Some(parent)) => {
                rest.push(name);
                existing = parent.to_path_buf();
            }
            _ => return norm,
        }
    }
}

fn blocked_reason(path: &Path, home: &Path) -> Option<String> {
    if path == Path::new("/") {
        return Some("the host root".into());
    }
    if path.file_name().is_some_and(|n| n == "docker.sock")
        || path.components().any(|c| c.as_os_str() == "docker.sock")
    {
        return Some("the Docker socket (never mount it into a sandbox)".into());
    }
    for root in BLOCKED_ROOTS {
        if path.starts_with(root) {
            return Some(format!("the system path {root}"));
        }
    }
    for dir in HOME_CREDENTIAL_DIRS {
        let cred = home.join(dir);
        if path.starts_with(&cred) {
            return Some(format!("the credential directory {}", cred.display()));
        }
    }
    None
}

/// Does `key` look like it holds a secret?
pub fn looks_secret(key: &str) -> bool {
    let upper = key.to_ascii_uppercase();
    SECRET_NAMES.contains(&upper.as_str())
        || SECRET_SUFFIXES.iter().any(|s| upper.ends_with(s))
        || upper == "PASSWORD"
        || upper == "TOKEN"
}

/// Validate the spec against the workspace roots. Returns warnings for `explain`.
pub fn validate(
    spec: &SandboxSpec,
    workspace_dir: &Path,
    agent_workspace_dir: &Path,
    home: &Path,
) -> Result<Vec<String>, SandboxError> {
    let d = &spec.docker;
    let mut warnings = Vec::new();
    let net_key = "agents.defaults.sandbox.docker.network";
    if d.network.eq_ignore_ascii_case("host") {
        return Err(SandboxError::security(
            net_key,
            "network \"host\" is refused (it shares the host network stack); use \"none\" (default) or a named bridge network",
        ));
    }
    if d.network.to_ascii_lowercase().starts_with("container:")
        && !d.dangerously_allow_container_namespace_join
    {
        return Err(SandboxError::security(
            net_key,
            format!(
                "network \"{}\" joins another container's namespace; use \"none\" or set docker.dangerouslyAllowContainerNamespaceJoin: true",
                d.network
            ),
        ));
    }
    for (field, v) in [
        ("seccompProfile", &d.seccomp_profile),
        ("apparmorProfile", &d.apparmor_profile),
    ] {
        if v.as_deref()
            .is_some_and(|p| p.trim().eq_ignore_ascii_case("unconfined"))
        {
            return Err(SandboxError::security(
                format!("agents.defaults.sandbox.docker.{field}"),
                "\"unconfined\" disables the profile; remove the key (Docker's default profile) or name a profile",
            ));
        }
    }
    for (k, v) in &d.env {
        let key = format!("agents.defaults.sandbox.docker.env.{k}");
        if k.is_empty() || k.contains('=') || k.contains('\0') {
            return Err(SandboxError::security(
                key,
                "invalid variable name; use letters, digits and _",
            ));
        }
        if v.contains('\0') {
            return Err(SandboxError::security(
                key,
                "value contains a NUL byte; remove it",
            ));
        }
        if looks_secret(k) {
            warnings.push(format!(
                "docker.env.{k} looks like a secret; it is passed because the operator declared it, and is visible to anyone who can `docker inspect` the container"
            ));
        }
        if v.len() > 32768 {
            warnings.push(format!("docker.env.{k} is longer than 32768 characters"));
        }
    }
    let roots = [
        resolve_existing_ancestor(workspace_dir),
        resolve_existing_ancestor(agent_workspace_dir),
    ];
    for raw in &d.binds {
        let bind = parse_bind(raw)?;
        if !bind.source.is_absolute() {
            return Err(SandboxError::security(
                BINDS_KEY,
                format!("\"{raw}\": bind source must be an absolute host path"),
            ));
        }
        let normalized = normalize_lexical(&bind.source);
        let resolved = resolve_existing_ancestor(&bind.source);
        for candidate in [&normalized, &resolved] {
            if let Some(why) = blocked_reason(candidate, home) {
                return Err(SandboxError::security(
                    BINDS_KEY,
                    format!(
                        "\"{raw}\" would expose {why} (resolved: {}); remove this bind",
                        candidate.display()
                    ),
                ));
            }
        }
        if !d.dangerously_allow_external_bind_sources
            && !roots.iter().any(|r| resolved.starts_with(r))
        {
            return Err(SandboxError::security(
                BINDS_KEY,
                format!(
                    "\"{raw}\": source {} is outside the sandbox workspace roots; move it under the workspace or set docker.dangerouslyAllowExternalBindSources: true",
                    resolved.display()
                ),
            ));
        }
        if !d.dangerously_allow_reserved_container_targets
            && RESERVED_TARGETS
                .iter()
                .chain(std::iter::once(&d.workdir.as_str()))
                .any(|t| Path::new(&bind.target).starts_with(t))
        {
            return Err(SandboxError::security(
                BINDS_KEY,
                format!(
                    "\"{raw}\": target {} is reserved for the sandbox workspace; pick another container path or set docker.dangerouslyAllowReservedContainerTargets: true",
                    bind.target
                ),
            ));
        }
    }
    Ok(warnings)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn spec_with(f: impl FnOnce(&mut SandboxSpec)) -> SandboxSpec {
        let mut s = SandboxSpec::defaults(Path::new("/state"));
        f(&mut s);
        s
    }

    fn check(s: &SandboxSpec, ws: &Path) -> Result<Vec<String>, SandboxError> {
        validate(s, ws, ws, Path::new("/home/u"))
    }

    #[test]
    fn blocked_sources_and_targets() {
        let dir = tempfile::tempdir().unwrap();
        let ws = dir.path();
        for bind in [
            "/:/h",
            "/etc:/e",
            "/proc/1:/p",
            "/var/run/docker.sock:/s",
            "/home/u/.ssh:/k",
            "/home/u/.aws/creds:/k:ro",
            "relative:/x",
            "/tmp/x",
            "/x:/y:weird",
        ] {
            let s = spec_with(|s| s.docker.binds = vec![bind.into()]);
            let err = check(&s, ws).unwrap_err().to_string();
            assert!(err.contains("docker.binds"), "{bind}: {err}");
        }
        let outside = spec_with(|s| s.docker.binds = vec!["/srv/data:/data:ro".into()]);
        let err = check(&outside, ws).unwrap_err().to_string();
        assert!(err.contains("dangerouslyAllowExternalBindSources"), "{err}");
        std::fs::create_dir(ws.join("data")).unwrap();
        let inside =
            spec_with(|s| s.docker.binds = vec![format!("{}/data:/data:ro", ws.display())]);
        check(&inside, ws).unwrap();
        let reserved =
            spec_with(|s| s.docker.binds = vec![format!("{}/data:/workspace/x", ws.display())]);
        assert!(
            check(&reserved, ws)
                .unwrap_err()
                .to_string()
                .contains("reserved")
        );
    }

    #[test]
    fn symlinked_ancestor_escape_fails_closed() {
        let dir = tempfile::tempdir().unwrap();
        let ws = dir.path().join("ws");
        std::fs::create_dir(&ws).unwrap();
        std::os::unix::fs::symlink("/etc", ws.join("link")).unwrap();
        let s = spec_with(|s| s.docker.binds = vec![format!("{}/link/not-there:/x", ws.display())]);
        let err = check(&s, &ws).unwrap_err().to_string();
        assert!(err.contains("/etc"), "{err}");
    }

    #[test]
    fn network_profiles_env() {
        let dir = tempfile::tempdir().unwrap();
        let ws = dir.path();
        let host = spec_with(|s| s.docker.network = "host".into());
        assert!(
            check(&host, ws)
                .unwrap_err()
                .to_string()
                .contains("docker.network")
        );
        let join = spec_with(|s| s.docker.network = "container:abc".into());
        assert!(check(&join, ws).is_err());
        let join_ok = spec_with(|s| {
            s.docker.network = "container:abc".into();
            s.docker.dangerously_allow_container_namespace_join = true;
        });
        check(&join_ok, ws).unwrap();
        let unconf = spec_with(|s| s.docker.seccomp_profile = Some("unconfined".into()));
        assert!(
            check(&unconf, ws)
                .unwrap_err()
                .to_string()
                .contains("seccompProfile")
        );
        let unconf = spec_with(|s| s.docker.apparmor_profile = Some("Unconfined".into()));
        assert!(
            check(&unconf, ws)
                .unwrap_err()
                .to_string()
                .contains("apparmorProfile")
        );
        let nul = spec_with(|s| {
            s.docker.env.insert("X".into(), "a\0b".into());
        });
        assert!(
            check(&nul, ws)
                .unwrap_err()
                .to_string()
                .contains("docker.env.X")
        );
        let secret = spec_with(|s| {
            s.docker.env.insert("OPENAI_API_KEY".into(), "sk".into());
            s.docker
                .env
                .insert("OPENCLAW_GATEWAY_TOKEN".into(), "t".into());
        });
        let warnings = check(&secret, ws).unwrap();
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(!looks_secret("LANG"));
    }
}
