//! The senders an owner approved through `openclaw pairing approve`, as a transport reads them.
//!
//! Approvals land in the pairing store's allowlist files, possibly written by another process
//! (the CLI) while the gateway runs, so each read checks the files' modification time and size
//! and parses them again only when they changed. An unreadable file counts as empty (fail
//! closed) and is logged. Reads run on the blocking pool: the store takes file locks.

use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use openclaw_store::ChannelPairingStore;

type Stamp = Vec<Option<(SystemTime, u64)>>;

struct Cached {
    stamp: Stamp,
    entries: Vec<String>,
}

/// The approved senders of one channel account.
pub(crate) struct AllowFromCache {
    channel: &'static str,
    account: String,
    cached: Arc<Mutex<Option<Cached>>>,
}

impl AllowFromCache {
    pub fn new(channel: &'static str, account_id: &str) -> AllowFromCache {
        AllowFromCache {
            channel,
            account: account_id.to_string(),
            cached: Arc::new(Mutex::new(None)),
        }
    }

    pub async fn read(&self, store: &ChannelPairingStore) -> Vec<String> {
        let store = store.clone();
        let channel = self.channel;
        let account = self.account.clone();
        let cached = self.cached.clone();
        let read = tokio::task::spawn_blocking(move || {
            let files = store
                .allow_from_files(channel, &account)
                .unwrap_or_default();
            let stamp: Stamp = files
                .iter()
                .map(|f| {
                    let m = std::fs::metadata(f).ok()?;
                    Some((m.modified().ok()?, m.len()))
                })
                .collect();
            let mut cache = cached.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(c) = cache.as_ref()
                && c.stamp == stamp
            {
                return c.entries.clone();
            }
            let entries = match store.read_allow_from(channel, &account) {
                Ok(e) => e,
                Err(e) => {
                    tracing::warn!(channel, error = %e, "cannot read the pairing allowlist; treating it as empty");
                    Vec::new()
                }
            };
            *cache = Some(Cached {
                stamp,
                entries: entries.clone(),
            });
            entries
        })
        .await;
        read.unwrap_or_default()
    }
}

/// Record a pairing request from `sender` (on the blocking pool: the store takes file locks).
/// Returns the code to send back, or `None` when nothing should be sent: the sender already has
/// a pending request, the store refused (3 pending), or the store failed (logged).
pub(crate) async fn new_pairing_code(
    store: &ChannelPairingStore,
    channel: &'static str,
    sender: &str,
    account_id: &str,
    meta: serde_json::Map<String, serde_json::Value>,
) -> Option<String> {
    let store = store.clone();
    let (sender, account) = (sender.to_string(), account_id.to_string());
    let upserted = tokio::task::spawn_blocking(move || {
        store.upsert(channel, &sender, &account, meta, chrono::Utc::now())
    })
    .await;
    let upserted = match upserted {
        Ok(Ok(u)) => u,
        Ok(Err(e)) => {
            tracing::warn!(channel, error = %e, "cannot record a pairing request");
            return None;
        }
        Err(e) => {
            tracing::warn!(channel, error = %e, "pairing request task failed");
            return None;
        }
    };
    if !upserted.created {
        if upserted.code.is_empty() {
            tracing::info!(
                channel,
                "pairing request ignored (3 requests already pending; approve or let them expire)"
            );
        }
        return None;
    }
    Some(upserted.code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn approvals_are_seen_without_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let store = ChannelPairingStore::new(dir.path());
        let cache = AllowFromCache::new("discord", "default");
        assert!(cache.read(&store).await.is_empty());
        let up = store
            .upsert(
                "discord",
                "123",
                "default",
                serde_json::Map::new(),
                chrono::Utc::now(),
            )
            .unwrap();
        store
            .approve("discord", &up.code, None, chrono::Utc::now())
            .unwrap()
            .unwrap();
        assert_eq!(cache.read(&store).await, vec!["123".to_string()]);
    }
}
