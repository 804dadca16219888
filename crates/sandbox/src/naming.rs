//! Scope keys, container names and sandbox workspace paths, byte-compatible with OpenClaw so
//! existing containers, `docker ps` habits and registries keep working.
//!
//! The 8-hex suffix is a digest of the trimmed key. The baseline release (2026.2.6-3) used SHA-1
//! (its recorded container for `agent:main:main` is `openclaw-sbx-agent-main-main-20ceb99b`);
//! later upstream releases switched to SHA-256 (`agent:main` → `agent-main-f331f052`). We follow
//! the baseline by default so its containers and workspaces are adopted; `SlugHash::Sha256`
//! reproduces the later naming.

use std::path::{Path, PathBuf};

use sha1::Sha1;
use sha2::{Digest, Sha256};

use crate::spec::{SandboxMode, SandboxScope};

/// Docker's container-name limit we keep to.
pub const MAX_CONTAINER_NAME: usize = 63;

/// Scope key: `session` → the session key, `agent` → `agent:<id>`, `shared` → `shared`.
pub fn scope_key(scope: SandboxScope, agent_id: &str, session_key: &str) -> String {
    match scope {
        SandboxScope::Session => session_key.trim().to_string(),
        SandboxScope::Agent => format!("agent:{}", agent_id.trim()),
        SandboxScope::Shared => "shared".to_string(),
    }
}

/// Digest used for the slug suffix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SlugHash {
    /// OpenClaw 2026.2.6 (the compatibility baseline).
    #[default]
    Sha1,
    /// Later OpenClaw releases.
    Sha256,
}

/// `slugify(key)` with the baseline digest: lowercase `[a-z0-9._-]` runs (max 32 chars) + `-` +
/// 8 hex chars of the key's digest.
pub fn slugify(key: &str) -> String {
    slugify_with(key, SlugHash::default())
}

/// `slugify` with an explicit digest.
pub fn slugify_with(key: &str, hash: SlugHash) -> String {
    let trimmed = key.trim();
    let trimmed = if trimmed.is_empty() {
        "session"
    } else {
        trimmed
    };
    let digest = match hash {
        SlugHash::Sha1 => hex::encode(Sha1::digest(trimmed.as_bytes())),
        SlugHash::Sha256 => hex::encode(Sha256::digest(trimmed.as_bytes())),
    };
    let hash8 = &digest[..8];
    let mut safe = String::new();
    let mut in_run = false;
    for c in trimmed.to_lowercase().chars() {
        if c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-') {
            safe.push(c);
            in_run = false;
        } else if !in_run {
            safe.push('-');
            in_run = true;
        }
    }
    let safe = safe.trim_matches('-');
    let head: String = safe.chars().take(32).collect();
    let head = if head.is_empty() {
        "session".to_string()
    } else {
        head
    };
    format!("{head}-{hash8}")
}

/// The slug used for names and directories (`shared` scope uses the literal `shared`).
pub fn scope_slug(scope: SandboxScope, scope_key: &str) -> String {
    match scope {
        SandboxScope::Shared => "shared".to_string(),
        _ => slugify(scope_key),
    }
}

/// `containerPrefix + slug`, truncated to 63 characters.
pub fn container_name(prefix: &str, scope: SandboxScope, scope_key: &str) -> String {
    let full = format!("{prefix}{}", scope_slug(scope, scope_key));
    full.chars().take(MAX_CONTAINER_NAME).collect()
}

/// Per-scope sandbox workspace: `workspaceRoot/<slug>`, or the root itself for `shared`.
pub fn sandbox_workspace_dir(root: &Path, scope: SandboxScope, scope_key: &str) -> PathBuf {
    match scope {
        SandboxScope::Shared => root.to_path_buf(),
        _ => root.join(slugify(scope_key)),
    }
}

/// The agent id encoded in a session key (`agent:<id>:…`); other shapes fall back to `main`.
pub fn agent_id_from_session_key(session_key: &str) -> String {
    let mut parts = session_key.trim().split(':');
    match (parts.next(), parts.next()) {
        (Some(p), Some(id)) if p.eq_ignore_ascii_case("agent") && !id.is_empty() => {
            id.to_lowercase()
        }
        _ => "main".to_string(),
    }
}

/// The agent's main session key: `agent:<id>:<mainKey>`, or `global` when `session.scope` is global.
pub fn main_session_key(agent_id: &str, main_key: &str, global_scope: bool) -> String {
    if global_scope {
        "global".to_string()
    } else {
        format!(
            "agent:{}:{}",
            agent_id.trim().to_lowercase(),
            main_key.trim().to_lowercase()
        )
    }
}

/// Whether a run for `session_key` is sandboxed under `mode`.
pub fn is_sandboxed(mode: SandboxMode, session_key: &str, main_session_key: &str) -> bool {
    match mode {
        SandboxMode::Off => false,
        SandboxMode::All => true,
        SandboxMode::NonMain => !session_key
            .trim()
            .eq_ignore_ascii_case(main_session_key.trim()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn slug_matches_openclaw() {
        assert_eq!(
            slugify_with("agent:main", SlugHash::Sha256),
            "agent-main-f331f052"
        );
        assert_eq!(
            slugify_with("agent:main:main", SlugHash::Sha1),
            "agent-main-main-20ceb99b"
        );
        assert_eq!(slugify("agent:main"), "agent-main-0d71ad7a");
        assert_eq!(
            container_name("openclaw-sbx-", SandboxScope::Agent, "agent:main"),
            "openclaw-sbx-agent-main-0d71ad7a"
        );
        assert_eq!(
            container_name("openclaw-sbx-", SandboxScope::Session, "agent:main:main"),
            "openclaw-sbx-agent-main-main-20ceb99b"
        );
        assert_eq!(
            container_name("openclaw-sbx-", SandboxScope::Shared, "shared"),
            "openclaw-sbx-shared"
        );
        assert!(slugify("   ").starts_with("session-"));
        assert!(slugify("::").starts_with("session-"));
    }

    #[test]
    fn long_keys_are_capped() {
        let key = format!("agent:main:telegram:group:{}", "9".repeat(80));
        let slug = slugify(&key);
        assert_eq!(slug.len(), 32 + 1 + 8);
        let name = container_name(&"p".repeat(40), SandboxScope::Session, &key);
        assert_eq!(name.len(), MAX_CONTAINER_NAME);
    }

    #[test]
    fn scope_keys_and_dirs() {
        assert_eq!(
            scope_key(SandboxScope::Session, "main", "agent:main:x"),
            "agent:main:x"
        );
        assert_eq!(
            scope_key(SandboxScope::Agent, "main", "agent:main:x"),
            "agent:main"
        );
        assert_eq!(
            scope_key(SandboxScope::Shared, "main", "agent:main:x"),
            "shared"
        );
        let root = Path::new("/r");
        assert_eq!(
            sandbox_workspace_dir(root, SandboxScope::Shared, "shared"),
            PathBuf::from("/r")
        );
        assert_eq!(
            sandbox_workspace_dir(root, SandboxScope::Agent, "agent:main"),
            PathBuf::from("/r/agent-main-0d71ad7a")
        );
    }

    #[test]
    fn main_session_detection() {
        let main = main_session_key("main", "main", false);
        assert_eq!(main, "agent:main:main");
        assert!(!is_sandboxed(
            SandboxMode::NonMain,
            "agent:main:main",
            &main
        ));
        assert!(!is_sandboxed(
            SandboxMode::NonMain,
            "Agent:Main:Main",
            &main
        ));
        assert!(is_sandboxed(
            SandboxMode::NonMain,
            "agent:main:telegram:group:1",
            &main
        ));
        assert!(is_sandboxed(SandboxMode::All, "agent:main:main", &main));
        assert!(!is_sandboxed(SandboxMode::Off, "agent:main:x", &main));
        assert_eq!(
            agent_id_from_session_key("agent:Family:whatsapp:dm:1"),
            "family"
        );
        assert_eq!(agent_id_from_session_key("weird"), "main");
    }
}
