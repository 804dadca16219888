//! Lazy pruning of idle and old sandbox containers. Called at the start of sandbox context
//! resolution (no timer), throttled process-wide to once per 5 minutes. An entry is pruned when
//! `idleHours > 0 && idle > idleHours` or `maxAgeDays > 0 && age > maxAgeDays`. Pruning removes the
//! container, its registry entry, and its per-scope workspace (never the shared root). Browser
//! containers (their own registry, the same rules) are pruned in the same pass; their workspace
//! belongs to the sandbox container and is left alone. If a container cannot be removed the
//! registry entry is kept so the next pass retries.

use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::engine::Engine;
use crate::error::{SandboxError, now_ms};
use crate::naming::slugify;
use crate::registry::{Registry, RegistryEntry};
use crate::spec::PruneSpec;

/// Minimum interval between prune passes.
pub const PRUNE_INTERVAL: Duration = Duration::from_secs(5 * 60);

/// Entries that the rules select at `now_ms`.
pub fn select_expired(
    entries: &[RegistryEntry],
    rules: PruneSpec,
    now_ms: i64,
) -> Vec<RegistryEntry> {
    let idle_ms = (rules.idle_hours * 3_600_000.0) as i64;
    let age_ms = (rules.max_age_days * 86_400_000.0) as i64;
    entries
        .iter()
        .filter(|e| {
            (idle_ms > 0 && now_ms - e.last_used_at_ms > idle_ms)
                || (age_ms > 0 && now_ms - e.created_at_ms > age_ms)
        })
        .cloned()
        .collect()
}

/// Throttle state (one per process, held by the manager).
#[derive(Debug, Default)]
pub struct Pruner {
    last: Mutex<Option<Instant>>,
}

impl Pruner {
    /// Run a pass unless one ran in the last 5 minutes. Returns removed container names.
    pub async fn maybe_prune(
        &self,
        engine: &Engine,
        registry: &Registry,
        rules: PruneSpec,
        workspace_root: &Path,
    ) -> Result<Vec<String>, SandboxError> {
        if !self.due() {
            return Ok(Vec::new());
        }
        prune_now(engine, registry, rules, workspace_root, now_ms()).await
    }

    /// As `maybe_prune`, and the browser containers of `browsers` in the same pass.
    pub async fn maybe_prune_with_browsers(
        &self,
        engine: &Engine,
        registry: &Registry,
        browsers: &Registry,
        rules: PruneSpec,
        workspace_root: &Path,
    ) -> Result<Vec<String>, SandboxError> {
        if !self.due() {
            return Ok(Vec::new());
        }
        let now = now_ms();
        let mut removed = prune_now(engine, registry, rules, workspace_root, now).await?;
        removed.extend(prune_browsers_now(engine, browsers, rules, now).await?);
        Ok(removed)
    }

    /// Claim the next pass: false when one ran in the last `PRUNE_INTERVAL`.
    fn due(&self) -> bool {
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        if last.is_some_and(|t| t.elapsed() < PRUNE_INTERVAL) {
            return false;
        }
        *last = Some(Instant::now());
        true
    }
}

/// One unthrottled pass over the browser registry at `now_ms` (no workspace removal).
pub async fn prune_browsers_now(
    engine: &Engine,
    browsers: &Registry,
    rules: PruneSpec,
    now_ms: i64,
) -> Result<Vec<String>, SandboxError> {
    prune_registry(engine, browsers, rules, None, now_ms).await
}

/// One unthrottled pass at `now_ms`.
pub async fn prune_now(
    engine: &Engine,
    registry: &Registry,
    rules: PruneSpec,
    workspace_root: &Path,
    now_ms: i64,
) -> Result<Vec<String>, SandboxError> {
    prune_registry(engine, registry, rules, Some(workspace_root), now_ms).await
}

/// Remove the expired entries of `registry`; with `workspace_root`, their scope workspaces too.
async fn prune_registry(
    engine: &Engine,
    registry: &Registry,
    rules: PruneSpec,
    workspace_root: Option<&Path>,
    now_ms: i64,
) -> Result<Vec<String>, SandboxError> {
    let expired = select_expired(&registry.entries().await?, rules, now_ms);
    let mut removed = Vec::new();
    for e in expired {
        if let Err(err) = engine.remove(&e.container_name).await {
            tracing::warn!(container = %e.container_name, error = %err, "prune: remove failed; will retry");
            continue;
        }
        registry.remove(&e.container_name).await?;
        if let Some(workspace_root) = workspace_root
            && e.session_key != "shared"
        {
            let dir = workspace_root.join(slugify(&e.session_key));
            if dir.starts_with(workspace_root)
                && dir != workspace_root
                && let Err(err) = tokio::fs::remove_dir_all(&dir).await
                && err.kind() != std::io::ErrorKind::NotFound
            {
                tracing::warn!(dir = %dir.display(), error = %err, "prune: workspace removal failed");
            }
        }
        removed.push(e.container_name);
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn e(name: &str, created: i64, used: i64) -> RegistryEntry {
        RegistryEntry {
            container_name: name.into(),
            session_key: name.into(),
            created_at_ms: created,
            last_used_at_ms: used,
            image: "i".into(),
            config_hash: None,
            cdp_port: None,
            no_vnc_port: None,
        }
    }

    #[test]
    fn rules() {
        let h = 3_600_000;
        let now = 100 * 24 * h;
        let entries = vec![
            e("fresh", now - h, now - h),
            e("idle", now - 2 * h, now - 25 * h),
            e("old", now - 8 * 24 * h, now),
        ];
        let names = |r: PruneSpec| {
            select_expired(&entries, r, now)
                .into_iter()
                .map(|e| e.container_name)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            names(PruneSpec::default()),
            vec!["idle".to_string(), "old".into()]
        );
        assert_eq!(
            names(PruneSpec {
                idle_hours: 0.0,
                max_age_days: 7.0
            }),
            vec!["old".to_string()]
        );
        assert_eq!(
            names(PruneSpec {
                idle_hours: 24.0,
                max_age_days: 0.0
            }),
            vec!["idle".to_string()]
        );
        assert!(
            names(PruneSpec {
                idle_hours: 0.0,
                max_age_days: 0.0
            })
            .is_empty()
        );
    }
}
