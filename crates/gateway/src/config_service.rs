//! The gateway's view of `openclaw.json`: the last accepted snapshot, guarded writes
//! (base-hash check against lost updates, whole-config validation, atomic write with `.bak`),
//! and a file watcher that hot-reloads valid edits and keeps the last good snapshot otherwise.

use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use openclaw_config::reload::ReloadPlan;
use openclaw_config::{ConfigError, EnvMap, LoadedConfig, Paths};
use serde_json::json;

pub struct ConfigService {
    pub paths: Paths,
    pub env: EnvMap,
    current: RwLock<Arc<LoadedConfig>>,
    /// Serializes writers so two `config.*` calls cannot interleave read-check-write.
    write_lock: tokio::sync::Mutex<()>,
    last_seen: std::sync::Mutex<Option<(SystemTime, u64)>>,
}

#[derive(Debug)]
pub enum WriteError {
    /// `baseHash` was required (the file exists) but not given.
    BaseHashRequired {
        current: String,
    },
    /// The file changed since the caller read it.
    BaseHashMismatch {
        current: String,
    },
    /// The proposed config is invalid; nothing was written.
    Invalid(ConfigError),
    /// Parsing the request itself failed (bad patch JSON5).
    BadRequest(String),
    Io(ConfigError),
}

pub struct Written {
    pub loaded: Arc<LoadedConfig>,
    pub plan: ReloadPlan,
}

impl ConfigService {
    pub fn new(paths: Paths, env: EnvMap, loaded: LoadedConfig) -> Self {
        let stamp = file_stamp(&paths.config_path);
        Self {
            paths,
            env,
            current: RwLock::new(Arc::new(loaded)),
            write_lock: tokio::sync::Mutex::new(()),
            last_seen: std::sync::Mutex::new(stamp),
        }
    }

    pub fn snapshot(&self) -> Arc<LoadedConfig> {
        self.current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn check_base(&self, base_hash: Option<&str>) -> Result<Arc<LoadedConfig>, WriteError> {
        let cur = self.snapshot();
        match base_hash {
            None if cur.exists() => Err(WriteError::BaseHashRequired {
                current: cur.hash.clone(),
            }),
            Some(h) if h != cur.hash => Err(WriteError::BaseHashMismatch {
                current: cur.hash.clone(),
            }),
            _ => Ok(cur),
        }
    }

    /// Replace the whole file with `raw` (JSON5). Redacted placeholders are restored from the
    /// current config so a client can round-trip what `config.get` showed it.
    pub async fn replace_text(
        &self,
        raw: String,
        base_hash: Option<String>,
    ) -> Result<Written, WriteError> {
        let _guard = self.write_lock.lock().await;
        let cur = self.check_base(base_hash.as_deref())?;
        let path = self.paths.config_path.clone();
        let env = self.env.clone();
        let result =
            tokio::task::spawn_blocking(move || -> Result<Arc<LoadedConfig>, WriteError> {
                let proposed =
                    openclaw_config::parse_str(&raw, &path, &env).map_err(WriteError::Invalid)?;
                let mut parsed = proposed.parsed.clone();
                // `restore_redacted` answers the placeholders it could NOT restore.
                let missing = openclaw_config::redact::restore_redacted(&mut parsed, &cur.parsed);
                if !missing.is_empty() {
                    return Err(WriteError::BadRequest(format!(
                        "{} still hold the redacted placeholder and have no current value: type the real value",
                        missing.join(", ")
                    )));
                }
                let text = if parsed == proposed.parsed {
                    raw
                } else {
                    openclaw_config::render(&parsed)
                };
                let checked =
                    openclaw_config::parse_str(&text, &path, &env).map_err(WriteError::Invalid)?;
                openclaw_config::write_config_text(&path, &text).map_err(WriteError::Io)?;
                Ok(Arc::new(checked))
            })
            .await
            .map_err(|e| WriteError::BadRequest(e.to_string()))??;
        Ok(self.install(result))
    }

    /// Apply a JSON merge patch (RFC 7396; `null` deletes) given as JSON5 text.
    pub async fn patch(
        &self,
        raw_patch: String,
        base_hash: Option<String>,
    ) -> Result<Written, WriteError> {
        let _guard = self.write_lock.lock().await;
        let cur = self.check_base(base_hash.as_deref())?;
        let path = self.paths.config_path.clone();
        let env = self.env.clone();
        let result =
            tokio::task::spawn_blocking(move || -> Result<Arc<LoadedConfig>, WriteError> {
                let (patch, _) = openclaw_config::json5::parse(&raw_patch).map_err(|e| {
                    WriteError::BadRequest(format!("patch is not valid JSON5: {e:?}"))
                })?;
                let mut doc = if cur.parsed.is_object() {
                    cur.parsed.clone()
                } else {
                    json!({})
                };
                openclaw_config::edit::merge_patch(&mut doc, &patch);
                let missing = openclaw_config::redact::restore_redacted(&mut doc, &cur.parsed);
            if !missing.is_empty() {
                return Err(WriteError::BadRequest(format!(
                    "the redaction placeholder was sent for {} but there is no current value to keep: send the real value",
                    missing.join(", ")
                )));
            }
                openclaw_config::stamp_meta(
                    &mut doc,
                    env!("CARGO_PKG_VERSION"),
                    chrono::Utc::now(),
                );
                let checked =
                    openclaw_config::edit::check(&doc, &path, &env).map_err(WriteError::Invalid)?;
                openclaw_config::write_config(&path, &doc).map_err(WriteError::Io)?;
                Ok(Arc::new(checked))
            })
            .await
            .map_err(|e| WriteError::BadRequest(e.to_string()))??;
        Ok(self.install(result))
    }

    fn install(&self, loaded: Arc<LoadedConfig>) -> Written {
        let old = self.snapshot();
        let plan = openclaw_config::reload::reload_plan(&old.value, &loaded.value);
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = loaded.clone();
        *self.last_seen.lock().unwrap_or_else(|p| p.into_inner()) =
            file_stamp(&self.paths.config_path);
        Written { loaded, plan }
    }

    /// Re-read the file if it changed on disk. `Ok(None)` = unchanged; an invalid edit is
    /// reported and the last good snapshot stays active.
    pub async fn poll_file(&self) -> Result<Option<Written>, ConfigError> {
        let stamp = file_stamp(&self.paths.config_path);
        {
            let mut seen = self.last_seen.lock().unwrap_or_else(|p| p.into_inner());
            if *seen == stamp {
                return Ok(None);
            }
            *seen = stamp;
        }
        let _guard = self.write_lock.lock().await;
        let paths = self.paths.clone();
        let env = self.env.clone();
        let loaded = tokio::task::spawn_blocking(move || openclaw_config::load(&paths, &env))
            .await
            .map_err(|e| ConfigError::BadPath {
                path: "config".into(),
                message: e.to_string(),
            })??;
        if loaded.hash == self.snapshot().hash {
            return Ok(None);
        }
        Ok(Some(self.install(Arc::new(loaded))))
    }
}

fn file_stamp(path: &std::path::Path) -> Option<(SystemTime, u64)> {
    let m = std::fs::metadata(path).ok()?;
    Some((m.modified().ok()?, m.len()))
}

/// The watcher task: poll every second (cheap `stat`), reload on change.
pub async fn watch(state: crate::state::SharedState) {
    let Some(cfg) = state.services.config.clone() else {
        return;
    };
    let mut every = tokio::time::interval(Duration::from_secs(1));
    loop {
        every.tick().await;
        match cfg.poll_file().await {
            Ok(None) => {}
            Ok(Some(w)) => {
                if w.plan.needs_restart() {
                    tracing::warn!(paths = ?w.plan.restart, "config changed on disk; restart the gateway to apply these keys");
                } else {
                    tracing::info!("config reloaded from disk");
                }
                announce(&state, &w);
            }
            Err(e) => {
                tracing::warn!(error = %e, "config reload skipped (invalid config); keeping the last good config")
            }
        }
    }
}

/// Apply a new snapshot to what hot-reloads (the agent runtime: models, agents, tools,
/// sandbox, queue; the channel transports: a changed token restarts a bot, other
/// `channels.*` settings apply in place) and broadcast the hash-only `config.changed` event.
pub fn announce(state: &crate::state::SharedState, w: &Written) {
    if let (Some(rt), Some(cfg)) = (&state.services.agent, &state.services.config) {
        rt.update_config(&w.loaded, &cfg.paths, &cfg.env);
    }
    if let Some(channels) = &state.services.channels {
        channels.apply(&w.loaded.config);
    }
    state.bus.emit(
        openclaw_protocol::names::CONFIG_CHANGED,
        json!({"path": w.loaded.path, "hash": w.loaded.hash, "ts": openclaw_protocol::now_ms()}),
    );
}

impl WriteError {
    pub fn to_error(&self) -> openclaw_protocol::ErrorShape {
        use openclaw_protocol::{ErrorShape, codes, detail_codes};
        match self {
            WriteError::BaseHashRequired { current } => ErrorShape::new(
                codes::INVALID_REQUEST,
                "baseHash is required once the config file exists: call config.get and pass its hash",
            )
            .with_details(json!({"code": detail_codes::CONFIG_BASE_HASH_REQUIRED, "currentHash": current})),
            WriteError::BaseHashMismatch { current } => ErrorShape::new(
                codes::INVALID_REQUEST,
                "config changed since it was read (base hash mismatch): reload and apply your edit again",
            )
            .with_details(json!({"code": detail_codes::CONFIG_BASE_HASH_MISMATCH, "currentHash": current})),
            WriteError::Invalid(e) => {
                let mut details = json!({"code": detail_codes::CONFIG_INVALID});
                if let Some(at) = e.location() {
                    details["line"] = json!(at.line);
                    details["column"] = json!(at.column);
                }
                if let ConfigError::Invalid { key_path, hint, accepted, .. } = e {
                    details["path"] = json!(key_path);
                    details["hint"] = json!(hint);
                    details["accepted"] = json!(accepted);
                }
                if let ConfigError::MissingEnvVar { key_path, var, .. } = e {
                    details["path"] = json!(key_path);
                    details["hint"] = json!(format!("set {var} in the environment or ~/.openclaw/.env"));
                }
                ErrorShape::new(codes::INVALID_REQUEST, format!("invalid config: {e}")).with_details(details)
            }
            WriteError::BadRequest(m) => ErrorShape::new(codes::INVALID_REQUEST, m.clone()),
            WriteError::Io(e) => ErrorShape::new(codes::UNAVAILABLE, format!("cannot write config: {e}")),
        }
    }
}
