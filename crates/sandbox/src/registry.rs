//! The gateway-side record of sandbox containers: `<stateDir>/sandbox/containers.json`, and of
//! sandbox browser containers: `<stateDir>/sandbox/browsers.json` (`{"entries":[…]}` each,
//! OpenClaw's early layout; browser entries add the published `cdpPort`/`noVncPort`). It backs
//! `sandbox list/recreate`, prune and the 5-minute "hot container" rule, and survives restarts. Writes are atomic (temp file + rename);
//! one async mutex serializes them inside the process.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

use crate::error::SandboxError;

/// One container record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegistryEntry {
    pub container_name: String,
    /// The scope key (`agent:<id>`, the session key, or `shared`).
    pub session_key: String,
    pub created_at_ms: i64,
    pub last_used_at_ms: i64,
    pub image: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_hash: Option<String>,
    /// Browser entries: the 127.0.0.1 host port publishing CDP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cdp_port: Option<u16>,
    /// Browser entries: the 127.0.0.1 host port publishing noVNC (when enabled, not headless).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_vnc_port: Option<u16>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct RegistryFile {
    #[serde(default)]
    entries: Vec<RegistryEntry>,
}

/// The persisted registry.
#[derive(Debug)]
pub struct Registry {
    path: PathBuf,
    lock: Mutex<()>,
}

impl Registry {
    /// The registry under `state_dir` (the file is created on first write).
    pub fn new(state_dir: &Path) -> Registry {
        Registry {
            path: state_dir.join("sandbox").join("containers.json"),
            lock: Mutex::new(()),
        }
    }

    /// The browser registry under `state_dir` (`sandbox/browsers.json`).
    pub fn browsers(state_dir: &Path) -> Registry {
        Registry {
            path: state_dir.join("sandbox").join("browsers.json"),
            lock: Mutex::new(()),
        }
    }

    /// The file path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    async fn load(&self) -> Result<RegistryFile, SandboxError> {
        match tokio::fs::read(&self.path).await {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| SandboxError::Registry {
                path: self.path.clone(),
                detail: format!("{e}; fix or delete the file (entries are rebuilt on next use)"),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(RegistryFile::default()),
            Err(e) => Err(SandboxError::io("read", &self.path, e)),
        }
    }

    async fn store(&self, file: &RegistryFile) -> Result<(), SandboxError> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        tokio::fs::create_dir_all(dir)
            .await
            .map_err(|e| SandboxError::io("create dir", dir, e))?;
        let bytes = serde_json::to_vec_pretty(file).map_err(|e| SandboxError::Registry {
            path: self.path.clone(),
            detail: e.to_string(),
        })?;
        let tmp = self
            .path
            .with_extension(format!("json.tmp-{}", std::process::id()));
        tokio::fs::write(&tmp, bytes)
            .await
            .map_err(|e| SandboxError::io("write", &tmp, e))?;
        tokio::fs::rename(&tmp, &self.path)
            .await
            .map_err(|e| SandboxError::io("rename into", &self.path, e))
    }

    /// All entries.
    pub async fn entries(&self) -> Result<Vec<RegistryEntry>, SandboxError> {
        let _g = self.lock.lock().await;
        Ok(self.load().await?.entries)
    }

    /// One entry by container name.
    pub async fn get(&self, container_name: &str) -> Result<Option<RegistryEntry>, SandboxError> {
        Ok(self
            .entries()
            .await?
            .into_iter()
            .find(|e| e.container_name == container_name))
    }

    /// Insert or replace by container name. `createdAtMs` of an existing entry is kept.
    pub async fn upsert(&self, mut entry: RegistryEntry) -> Result<(), SandboxError> {
        let _g = self.lock.lock().await;
        let mut file = self.load().await?;
        if let Some(old) = file
            .entries
            .iter_mut()
            .find(|e| e.container_name == entry.container_name)
        {
            entry.created_at_ms = old.created_at_ms.min(entry.created_at_ms);
            *old = entry;
        } else {
            file.entries.push(entry);
        }
        self.store(&file).await
    }

    /// Set `lastUsedAtMs` (no-op when the entry is absent).
    pub async fn touch(&self, container_name: &str, now_ms: i64) -> Result<(), SandboxError> {
        let _g = self.lock.lock().await;
        let mut file = self.load().await?;
        if let Some(e) = file
            .entries
            .iter_mut()
            .find(|e| e.container_name == container_name)
        {
            e.last_used_at_ms = now_ms;
            self.store(&file).await?;
        }
        Ok(())
    }

    /// Remove an entry by container name.
    pub async fn remove(&self, container_name: &str) -> Result<(), SandboxError> {
        let _g = self.lock.lock().await;
        let mut file = self.load().await?;
        let before = file.entries.len();
        file.entries.retain(|e| e.container_name != container_name);
        if file.entries.len() != before {
            self.store(&file).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn entry(name: &str, created: i64) -> RegistryEntry {
        RegistryEntry {
            container_name: name.into(),
            session_key: "agent:main".into(),
            created_at_ms: created,
            last_used_at_ms: created,
            image: "img".into(),
            config_hash: Some("h".into()),
            cdp_port: None,
            no_vnc_port: None,
        }
    }

    #[tokio::test]
    async fn persists_across_instances() {
        let dir = tempfile::tempdir().unwrap();
        let r = Registry::new(dir.path());
        assert!(r.entries().await.unwrap().is_empty());
        r.upsert(entry("a", 10)).await.unwrap();
        r.upsert(entry("b", 20)).await.unwrap();
        let mut newer = entry("a", 50);
        newer.last_used_at_ms = 60;
        r.upsert(newer).await.unwrap();
        r.touch("b", 99).await.unwrap();
        let r2 = Registry::new(dir.path());
        let all = r2.entries().await.unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].created_at_ms, 10);
        assert_eq!(all[0].last_used_at_ms, 60);
        assert_eq!(all[1].last_used_at_ms, 99);
        r2.remove("a").await.unwrap();
        assert_eq!(
            r.entries().await.unwrap(),
            vec![RegistryEntry {
                last_used_at_ms: 99,
                ..entry("b", 20)
            }]
        );
        let raw: serde_json::Value = serde_json::from_slice(
            &std::fs::read(dir.path().join("sandbox/containers.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(raw["entries"][0]["containerName"], "b");
        assert_eq!(raw["entries"][0]["configHash"], "h");
        assert!(raw["entries"][0].get("cdpPort").is_none());
    }

    #[tokio::test]
    async fn browsers_live_in_their_own_file() {
        let dir = tempfile::tempdir().unwrap();
        let b = Registry::browsers(dir.path());
        b.upsert(RegistryEntry {
            cdp_port: Some(32768),
            ..entry("openclaw-sbx-browser-x", 1)
        })
        .await
        .unwrap();
        assert!(
            Registry::new(dir.path())
                .entries()
                .await
                .unwrap()
                .is_empty()
        );
        let raw: serde_json::Value = serde_json::from_slice(
            &std::fs::read(dir.path().join("sandbox/browsers.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(raw["entries"][0]["cdpPort"], 32768);
        assert!(raw["entries"][0].get("noVncPort").is_none());
    }
}
