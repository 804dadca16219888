//! Device pairing state in the legacy JSON layout the baseline uses:
//! `<state>/devices/paired.json` (deviceId → [`PairedDevice`]) and
//! `<state>/devices/pending.json` (requestId → [`PendingRequest`]).
//!
//! [`DeviceStore`] keeps both maps in memory and rewrites the files atomically (0600) after
//! every change; pairing changes are rare, so there is no write coalescing here. Device tokens
//! are 32 random bytes, base64url, one per device and role, and are compared in constant time.
//! Unknown fields in either file are kept.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use subtle::ConstantTimeEq;

use crate::atomic_file::write_atomic_async;
use crate::error::StoreError;

/// Node pairing requests expire this long after the node's last retry.
pub const NODE_PENDING_TTL_MS: u64 = 5 * 60 * 1000;

/// A device token for one role. `token` is secret; `Debug` redacts it.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceToken {
    pub token: String,
    pub role: String,
    #[serde(default)]
    pub scopes: Vec<String>,
    pub created_at_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotated_at_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used_at_ms: Option<u64>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl std::fmt::Debug for DeviceToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceToken")
            .field("token", &"<redacted>")
            .field("role", &self.role)
            .field("scopes", &self.scopes)
            .field("revoked_at_ms", &self.revoked_at_ms)
            .finish()
    }
}

/// An approved device (`paired.json` value).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PairedDevice {
    pub device_id: String,
    pub public_key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_family: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_mode: Option<String>,
    /// Role of the latest approval.
    #[serde(default)]
    pub role: String,
    /// Every role ever approved.
    #[serde(default)]
    pub roles: Vec<String>,
    /// Union of approved scopes.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// role → token.
    #[serde(default)]
    pub tokens: BTreeMap<String, DeviceToken>,
    #[serde(default)]
    pub created_at_ms: u64,
    #[serde(default)]
    pub approved_at_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_ip: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A request waiting for an operator (`pending.json` value).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PendingRequest {
    pub request_id: String,
    pub device_id: String,
    pub public_key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_family: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_mode: Option<String>,
    #[serde(default)]
    pub role: String,
    #[serde(default)]
    pub scopes: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_ip: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub silent: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_repair: Option<bool>,
    /// Unix ms of the request (refreshed on each identical retry).
    pub ts: u64,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// What a connecting device asks for.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PairingRequestInput {
    pub device_id: String,
    pub public_key: String,
    pub display_name: Option<String>,
    pub platform: Option<String>,
    pub device_family: Option<String>,
    pub client_id: Option<String>,
    pub client_mode: Option<String>,
    pub role: String,
    pub scopes: Vec<String>,
    pub remote_ip: Option<String>,
    pub silent: bool,
    pub is_repair: bool,
}

/// Result of [`DeviceStore::request_pairing`].
#[derive(Debug, Clone, PartialEq)]
pub struct PairingOutcome {
    pub request: PendingRequest,
    /// A new request was stored (emit `device.pair.requested`); false for an identical retry.
    pub created: bool,
    /// Id of an older request from the same device that this one replaced.
    pub superseded: Option<String>,
}

/// A device token that verified.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedDevice {
    pub device: PairedDevice,
    pub role: String,
    pub scopes: Vec<String>,
}

/// `devices list` / `device.pair.list` data.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DeviceList {
    pub pending: Vec<PendingRequest>,
    pub paired: Vec<PairedDevice>,
}

#[derive(Default)]
struct State {
    paired: BTreeMap<String, PairedDevice>,
    pending: BTreeMap<String, PendingRequest>,
}

/// Paired devices and pending requests of one state dir.
pub struct DeviceStore {
    paired_path: PathBuf,
    pending_path: PathBuf,
    state: Mutex<State>,
    /// Serializes file writes so a newer snapshot is never overwritten by an older one.
    write_lock: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for DeviceStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceStore")
            .field("paired_path", &self.paired_path)
            .finish()
    }
}

/// A fresh device token: 32 random bytes, base64url without padding.
pub fn new_device_token() -> String {
    URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
}

fn sorted_union(a: &[String], b: &[String]) -> Vec<String> {
    let mut v: Vec<String> = a.iter().chain(b).cloned().collect();
    v.sort();
    v.dedup();
    v
}

fn same_set(a: &[String], b: &[String]) -> bool {
    sorted_union(a, &[]) == sorted_union(b, &[])
}

impl DeviceStore {
    /// Load `<devices_dir>/paired.json` and `pending.json`; missing files mean empty.
    pub async fn open(devices_dir: impl AsRef<Path>) -> Result<Self, StoreError> {
        let dir = devices_dir.as_ref();
        let paired_path = dir.join("paired.json");
        let pending_path = dir.join("pending.json");
        let paired = read_map(&paired_path).await?;
        let pending = read_map(&pending_path).await?;
        Ok(DeviceStore {
            paired_path,
            pending_path,
            state: Mutex::new(State { paired, pending }),
            write_lock: tokio::sync::Mutex::new(()),
        })
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn list(&self) -> DeviceList {
        let st = self.state();
        let mut pending: Vec<_> = st.pending.values().cloned().collect();
        pending.sort_by_key(|p| p.ts);
        DeviceList {
            pending,
            paired: st.paired.values().cloned().collect(),
        }
    }

    pub fn get_paired(&self, device_id: &str) -> Option<PairedDevice> {
        self.state().paired.get(device_id).cloned()
    }

    pub fn get_pending(&self, request_id: &str) -> Option<PendingRequest> {
        self.state().pending.get(request_id).cloned()
    }

    /// Record a pairing request. An identical retry (same role, scopes and key) returns the
    /// existing request with a refreshed `ts`; a different one supersedes it with a new id.
    pub async fn request_pairing(
        &self,
        input: PairingRequestInput,
        now_ms: u64,
    ) -> Result<PairingOutcome, StoreError> {
        let outcome = {
            let mut st = self.state();
            let existing = st
                .pending
                .values()
                .find(|p| p.device_id == input.device_id)
                .cloned();
            match existing {
                Some(mut p)
                    if p.role == input.role
                        && p.public_key == input.public_key
                        && same_set(&p.scopes, &input.scopes) =>
                {
                    p.ts = now_ms;
                    st.pending.insert(p.request_id.clone(), p.clone());
                    PairingOutcome {
                        request: p,
                        created: false,
                        superseded: None,
                    }
                }
                other => {
                    let superseded = other.map(|p| {
                        st.pending.remove(&p.request_id);
                        p.request_id
                    });
                    let req = PendingRequest {
                        request_id: uuid::Uuid::new_v4().to_string(),
                        device_id: input.device_id,
                        public_key: input.public_key,
                        display_name: input.display_name,
                        platform: input.platform,
                        device_family: input.device_family,
                        client_id: input.client_id,
                        client_mode: input.client_mode,
                        role: input.role,
                        scopes: sorted_union(&input.scopes, &[]),
                        remote_ip: input.remote_ip,
                        silent: input.silent.then_some(true),
                        is_repair: input.is_repair.then_some(true),
                        ts: now_ms,
                        extra: Map::new(),
                    };
                    st.pending.insert(req.request_id.clone(), req.clone());
                    PairingOutcome {
                        request: req,
                        created: true,
                        superseded,
                    }
                }
            }
        };
        self.persist().await?;
        Ok(outcome)
    }

    /// Approve a pending request: the device is (re)paired with the request's key and
    /// metadata, roles and scopes are merged, and a fresh token is issued for the role.
    pub async fn approve(
        &self,
        request_id: &str,
        display_name: Option<String>,
        now_ms: u64,
    ) -> Result<PairedDevice, StoreError> {
        let device = {
            let mut st = self.state();
            let req = st.pending.remove(request_id).ok_or_else(|| {
                StoreError::PairingRequestNotFound {
                    request_id: request_id.to_string(),
                }
            })?;
            let device = apply_approval(&mut st, req, display_name, now_ms);
            // Other requests of the same device are answered by this approval.
            st.pending.retain(|_, p| p.device_id != device.device_id);
            device
        };
        self.persist().await?;
        Ok(device)
    }

    /// Pair without an operator (loopback auto-approval): request + approve in one step.
    pub async fn auto_approve(
        &self,
        input: PairingRequestInput,
        now_ms: u64,
    ) -> Result<PairedDevice, StoreError> {
        let device = {
            let mut st = self.state();
            st.pending.retain(|_, p| p.device_id != input.device_id);
            let req = PendingRequest {
                request_id: uuid::Uuid::new_v4().to_string(),
                device_id: input.device_id,
                public_key: input.public_key,
                display_name: input.display_name,
                platform: input.platform,
                device_family: input.device_family,
                client_id: input.client_id,
                client_mode: input.client_mode,
                role: input.role,
                scopes: sorted_union(&input.scopes, &[]),
                remote_ip: input.remote_ip,
                silent: Some(true),
                is_repair: None,
                ts: now_ms,
                extra: Map::new(),
            };
            apply_approval(&mut st, req, None, now_ms)
        };
        self.persist().await?;
        Ok(device)
    }

    pub async fn reject(&self, request_id: &str) -> Result<PendingRequest, StoreError> {
        let req = self.state().pending.remove(request_id).ok_or_else(|| {
            StoreError::PairingRequestNotFound {
                request_id: request_id.to_string(),
            }
        })?;
        self.persist().await?;
        Ok(req)
    }

    /// Unpair a device (its tokens stop working) and drop its pending requests.
    pub async fn remove(&self, device_id: &str) -> Result<PairedDevice, StoreError> {
        let device = {
            let mut st = self.state();
            let d = st
                .paired
                .remove(device_id)
                .ok_or_else(|| StoreError::DeviceNotFound {
                    device_id: device_id.to_string(),
                })?;
            st.pending.retain(|_, p| p.device_id != device_id);
            d
        };
        self.persist().await?;
        Ok(device)
    }

    pub async fn rename(&self, device_id: &str, display_name: &str) -> Result<(), StoreError> {
        {
            let mut st = self.state();
            let d = st
                .paired
                .get_mut(device_id)
                .ok_or_else(|| StoreError::DeviceNotFound {
                    device_id: device_id.to_string(),
                })?;
            d.display_name = Some(display_name.to_string());
        }
        self.persist().await
    }

    /// Check a presented device token. With `device_id`, only that device's tokens are
    /// considered. Every candidate is compared in constant time and the scan does not stop
    /// at the first match. Revoked tokens never match. Marks `lastUsedAtMs` in memory; it
    /// reaches disk with the next persisted change.
    pub fn verify_device_token(
        &self,
        device_id: Option<&str>,
        token: &str,
        now_ms: u64,
    ) -> Option<VerifiedDevice> {
        let mut st = self.state();
        let mut found: Option<(String, String)> = None;
        for (id, dev) in st.paired.iter() {
            if device_id.is_some_and(|want| want != id) {
                continue;
            }
            for (role, t) in &dev.tokens {
                let eq: bool = t.token.as_bytes().ct_eq(token.as_bytes()).into();
                if eq && t.revoked_at_ms.is_none() && found.is_none() {
                    found = Some((id.clone(), role.clone()));
                }
            }
        }
        let (id, role) = found?;
        let dev = st.paired.get_mut(&id)?;
        let t = dev.tokens.get_mut(&role)?;
        t.last_used_at_ms = Some(now_ms);
        let scopes = t.scopes.clone();
        Some(VerifiedDevice {
            device: dev.clone(),
            role,
            scopes,
        })
    }

    /// Issue a new token for `role` (optionally with new scopes); the old one stops working.
    pub async fn rotate_token(
        &self,
        device_id: &str,
        role: &str,
        scopes: Option<Vec<String>>,
        now_ms: u64,
    ) -> Result<DeviceToken, StoreError> {
        let token = {
            let mut st = self.state();
            let dev = st
                .paired
                .get_mut(device_id)
                .ok_or_else(|| StoreError::DeviceNotFound {
                    device_id: device_id.to_string(),
                })?;
            let t = dev
                .tokens
                .get_mut(role)
                .ok_or_else(|| StoreError::TokenNotFound {
                    device_id: device_id.to_string(),
                    role: role.to_string(),
                })?;
            t.token = new_device_token();
            t.rotated_at_ms = Some(now_ms);
            t.revoked_at_ms = None;
            if let Some(s) = scopes {
                t.scopes = sorted_union(&s, &[]);
            }
            t.clone()
        };
        self.persist().await?;
        Ok(token)
    }

    /// Revoke the token for `role`; the device stays paired and can be re-issued a token by
    /// [`rotate_token`](Self::rotate_token).
    pub async fn revoke_token(
        &self,
        device_id: &str,
        role: &str,
        now_ms: u64,
    ) -> Result<(), StoreError> {
        {
            let mut st = self.state();
            let dev = st
                .paired
                .get_mut(device_id)
                .ok_or_else(|| StoreError::DeviceNotFound {
                    device_id: device_id.to_string(),
                })?;
            let t = dev
                .tokens
                .get_mut(role)
                .ok_or_else(|| StoreError::TokenNotFound {
                    device_id: device_id.to_string(),
                    role: role.to_string(),
                })?;
            t.revoked_at_ms = Some(now_ms);
        }
        self.persist().await
    }

    /// Drop node-role requests older than [`NODE_PENDING_TTL_MS`]; returns them.
    pub async fn expire_pending(&self, now_ms: u64) -> Result<Vec<PendingRequest>, StoreError> {
        let expired: Vec<PendingRequest> = {
            let mut st = self.state();
            let ids: Vec<String> = st
                .pending
                .values()
                .filter(|p| p.role == "node" && now_ms.saturating_sub(p.ts) >= NODE_PENDING_TTL_MS)
                .map(|p| p.request_id.clone())
                .collect();
            ids.iter().filter_map(|id| st.pending.remove(id)).collect()
        };
        if !expired.is_empty() {
            self.persist().await?;
        }
        Ok(expired)
    }

    /// Write both files (atomic, 0600) from the current in-memory state.
    pub async fn persist(&self) -> Result<(), StoreError> {
        let _guard = self.write_lock.lock().await;
        // Snapshot after taking the write lock: whoever writes last writes the newest state.
        let (paired, pending) = {
            let st = self.state();
            (
                to_json(&st.paired, &self.paired_path)?,
                to_json(&st.pending, &self.pending_path)?,
            )
        };
        write_atomic_async(self.paired_path.clone(), paired).await?;
        write_atomic_async(self.pending_path.clone(), pending).await
    }
}

fn to_json<T: Serialize>(value: &T, path: &Path) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec_pretty(value).map_err(|source| StoreError::Parse {
        path: path.to_path_buf(),
        source,
    })
}

fn apply_approval(
    st: &mut State,
    req: PendingRequest,
    display_name: Option<String>,
    now_ms: u64,
) -> PairedDevice {
    let token = DeviceToken {
        token: new_device_token(),
        role: req.role.clone(),
        scopes: req.scopes.clone(),
        created_at_ms: now_ms,
        rotated_at_ms: None,
        revoked_at_ms: None,
        last_used_at_ms: None,
        extra: Map::new(),
    };
    let device = match st.paired.remove(&req.device_id) {
        Some(mut d) => {
            d.public_key = req.public_key;
            d.display_name = display_name.or(req.display_name).or(d.display_name);
            d.platform = req.platform.or(d.platform);
            d.device_family = req.device_family.or(d.device_family);
            d.client_id = req.client_id.or(d.client_id);
            d.client_mode = req.client_mode.or(d.client_mode);
            d.remote_ip = req.remote_ip.or(d.remote_ip);
            d.roles = sorted_union(&d.roles, std::slice::from_ref(&req.role));
            d.scopes = sorted_union(&d.scopes, &req.scopes);
            d.role = req.role.clone();
            d.approved_at_ms = now_ms;
            d.tokens.insert(req.role, token);
            d
        }
        None => {
            let mut tokens = BTreeMap::new();
            tokens.insert(req.role.clone(), token);
            PairedDevice {
                device_id: req.device_id,
                public_key: req.public_key,
                display_name: display_name.or(req.display_name),
                platform: req.platform,
                device_family: req.device_family,
                client_id: req.client_id,
                client_mode: req.client_mode,
                role: req.role.clone(),
                roles: vec![req.role],
                scopes: req.scopes,
                tokens,
                created_at_ms: now_ms,
                approved_at_ms: now_ms,
                remote_ip: req.remote_ip,
                extra: Map::new(),
            }
        }
    };
    st.paired.insert(device.device_id.clone(), device.clone());
    device
}

async fn read_map<T: serde::de::DeserializeOwned>(
    path: &Path,
) -> Result<BTreeMap<String, T>, StoreError> {
    match tokio::fs::read(path).await {
        Ok(bytes) if bytes.iter().all(u8::is_ascii_whitespace) => Ok(BTreeMap::new()),
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|source| StoreError::Parse {
            path: path.to_path_buf(),
            source,
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
        Err(e) => Err(StoreError::io("read", path, e)),
    }
}

#[cfg(test)]
#[path = "devices_tests.rs"]
mod tests;
