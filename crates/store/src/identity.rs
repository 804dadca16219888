//! Device identity: the CLI's own Ed25519 key pair (`<state>/identity/device.json`), its cached
//! device tokens (`identity/device-auth.json`), and the connect-signature payloads.
//!
//! The payload builders and [`verify`] live here so the client that signs and the gateway that
//! checks use one implementation. Formats follow OpenClaw 2026.2:
//! - `deviceId` = lowercase hex SHA-256 of the raw 32-byte public key;
//! - public key on the wire = base64url (no padding) of the raw key (PEM also accepted);
//! - signature = base64url Ed25519 over the UTF-8 payload
//!   `v2|deviceId|clientId|clientMode|role|scopesCSV|signedAtMs|token|nonce`, or `v3|…` with
//!   `|platform|deviceFamily` appended (trimmed, ASCII-lower-cased), or `v4|…v3…|instanceId`.
//!
//! Keys are stored as PKCS#8 / SPKI PEM exactly as Node's `crypto` writes them, so a
//! `device.json` moves between OpenClaw and this implementation either way.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::atomic_file::write_atomic;
use crate::error::StoreError;

/// Why a device signature check failed. [`code`](Self::code) is the wire `details.code`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeviceAuthError {
    #[error("device public key is not a valid Ed25519 key (send base64url of the raw 32 bytes)")]
    PublicKeyInvalid,
    #[error("device signature does not verify (re-sign the current payload with the device key)")]
    SignatureInvalid,
    #[error(
        "device id does not match the public key fingerprint (deviceId = sha256(publicKey) hex)"
    )]
    DeviceIdMismatch,
}

impl DeviceAuthError {
    pub fn code(&self) -> &'static str {
        match self {
            DeviceAuthError::PublicKeyInvalid => "DEVICE_AUTH_PUBLIC_KEY_INVALID",
            DeviceAuthError::SignatureInvalid => "DEVICE_AUTH_SIGNATURE_INVALID",
            DeviceAuthError::DeviceIdMismatch => "DEVICE_AUTH_DEVICE_ID_MISMATCH",
        }
    }
}

/// Lowercase hex SHA-256 of the raw public key.
pub fn device_id_from_public_key(raw: &[u8; 32]) -> String {
    hex::encode(Sha256::digest(raw))
}

fn b64url_decode(s: &str) -> Option<Vec<u8>> {
    // Accept base64url or standard base64, padded or not, as OpenClaw's decoder does.
    let norm: String = s
        .trim()
        .trim_end_matches('=')
        .chars()
        .map(|c| match c {
            '+' => '-',
            '/' => '_',
            c => c,
        })
        .collect();
    URL_SAFE_NO_PAD.decode(norm).ok()
}

/// Raw 32-byte key from base64url (or base64) of the raw key, or from SPKI PEM.
pub fn decode_public_key(s: &str) -> Result<[u8; 32], DeviceAuthError> {
    let t = s.trim();
    if t.starts_with("-----BEGIN") {
        return VerifyingKey::from_public_key_pem(t)
            .map(|k| k.to_bytes())
            .map_err(|_| DeviceAuthError::PublicKeyInvalid);
    }
    b64url_decode(t)
        .and_then(|b| <[u8; 32]>::try_from(b.as_slice()).ok())
        .filter(|b| VerifyingKey::from_bytes(b).is_ok())
        .ok_or(DeviceAuthError::PublicKeyInvalid)
}

/// Check that `device_id` is the fingerprint of `public_key`.
pub fn check_device_id(device_id: &str, public_key: &str) -> Result<(), DeviceAuthError> {
    let raw = decode_public_key(public_key)?;
    if device_id_from_public_key(&raw).eq_ignore_ascii_case(device_id.trim()) {
        Ok(())
    } else {
        Err(DeviceAuthError::DeviceIdMismatch)
    }
}

/// Verify a base64url Ed25519 `signature` over `payload` with `public_key` (base64url raw or
/// PEM). Strict verification: non-canonical signatures and weak keys are rejected.
pub fn verify(public_key: &str, payload: &str, signature: &str) -> Result<(), DeviceAuthError> {
    let raw = decode_public_key(public_key)?;
    let key = VerifyingKey::from_bytes(&raw).map_err(|_| DeviceAuthError::PublicKeyInvalid)?;
    let sig_bytes = b64url_decode(signature)
        .and_then(|b| <[u8; 64]>::try_from(b.as_slice()).ok())
        .ok_or(DeviceAuthError::SignatureInvalid)?;
    let sig = Signature::from_bytes(&sig_bytes);
    key.verify_strict(payload.as_bytes(), &sig)
        .map_err(|_| DeviceAuthError::SignatureInvalid)
}

/// The fields a device signs at connect.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DeviceAuthPayload {
    pub device_id: String,
    pub client_id: String,
    pub client_mode: String,
    pub role: String,
    pub scopes: Vec<String>,
    pub signed_at_ms: u64,
    /// The auth token sent with the connect (shared or device token); empty if none.
    pub token: Option<String>,
    pub nonce: String,
    pub platform: Option<String>,
    pub device_family: Option<String>,
    pub instance_id: Option<String>,
}

/// Payload version, the string's first field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayloadVersion {
    V2,
    V3,
    V4,
}

fn norm_meta(s: &Option<String>) -> String {
    s.as_deref().unwrap_or("").trim().to_ascii_lowercase()
}

impl DeviceAuthPayload {
    fn base(&self, version: &str) -> Vec<String> {
        vec![
            version.to_string(),
            self.device_id.clone(),
            self.client_id.clone(),
            self.client_mode.clone(),
            self.role.clone(),
            self.scopes.join(","),
            self.signed_at_ms.to_string(),
            self.token.clone().unwrap_or_default(),
            self.nonce.clone(),
        ]
    }

    /// `v2|deviceId|clientId|clientMode|role|scopesCSV|signedAtMs|token|nonce`
    pub fn v2(&self) -> String {
        self.base("v2").join("|")
    }

    /// `v3|…v2 fields…|platform|deviceFamily` (metadata trimmed and lower-cased).
    pub fn v3(&self) -> String {
        let mut f = self.base("v3");
        f.push(norm_meta(&self.platform));
        f.push(norm_meta(&self.device_family));
        f.join("|")
    }

    /// `v4|…v3 fields…|instanceId`.
    pub fn v4(&self) -> String {
        let mut f = self.base("v4");
        f.push(norm_meta(&self.platform));
        f.push(norm_meta(&self.device_family));
        f.push(self.instance_id.clone().unwrap_or_default());
        f.join("|")
    }

    pub fn build(&self, version: PayloadVersion) -> String {
        match version {
            PayloadVersion::V2 => self.v2(),
            PayloadVersion::V3 => self.v3(),
            PayloadVersion::V4 => self.v4(),
        }
    }

    /// Server side: accept a signature over the v3 payload, else v2 (then v4 when an
    /// instance id is present). Returns the version that verified.
    pub fn verify_any(
        &self,
        public_key: &str,
        signature: &str,
    ) -> Result<PayloadVersion, DeviceAuthError> {
        decode_public_key(public_key)?;
        let mut order = vec![PayloadVersion::V3, PayloadVersion::V2];
        if self.instance_id.is_some() {
            order.insert(0, PayloadVersion::V4);
        }
        for v in order {
            if verify(public_key, &self.build(v), signature).is_ok() {
                return Ok(v);
            }
        }
        Err(DeviceAuthError::SignatureInvalid)
    }
}

/// On-disk shape of `identity/device.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct IdentityFile {
    version: u32,
    device_id: String,
    public_key_pem: String,
    private_key_pem: String,
    created_at_ms: u64,
    #[serde(flatten)]
    extra: Map<String, Value>,
}

/// This client's device key pair. `Debug` never prints the private key.
#[derive(Clone)]
pub struct DeviceIdentity {
    key: SigningKey,
    device_id: String,
    created_at_ms: u64,
}

impl std::fmt::Debug for DeviceIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceIdentity")
            .field("device_id", &self.device_id)
            .finish()
    }
}

const PKCS8_ED25519_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];
const SPKI_ED25519_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];

fn pem(label: &str, der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

impl DeviceIdentity {
    pub fn generate() -> Self {
        Self::from_signing_key(
            SigningKey::generate(&mut rand::rngs::OsRng),
            crate::now_ms(),
        )
    }

    fn from_signing_key(key: SigningKey, created_at_ms: u64) -> Self {
        let device_id = device_id_from_public_key(&key.verifying_key().to_bytes());
        DeviceIdentity {
            key,
            device_id,
            created_at_ms,
        }
    }

    pub fn device_id(&self) -> &str {
        &self.device_id
    }

    pub fn created_at_ms(&self) -> u64 {
        self.created_at_ms
    }

    /// Base64url (no padding) of the raw public key: what `connect.device.publicKey` carries.
    pub fn public_key_b64url(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.key.verifying_key().to_bytes())
    }

    /// SPKI PEM, as Node's `crypto` exports it.
    pub fn public_key_pem(&self) -> String {
        let mut der = SPKI_ED25519_PREFIX.to_vec();
        der.extend_from_slice(&self.key.verifying_key().to_bytes());
        pem("PUBLIC KEY", &der)
    }

    fn private_key_pem(&self) -> String {
        let mut der = PKCS8_ED25519_PREFIX.to_vec();
        der.extend_from_slice(&self.key.to_bytes());
        pem("PRIVATE KEY", &der)
    }

    /// Base64url Ed25519 signature over `payload`.
    pub fn sign(&self, payload: &str) -> String {
        URL_SAFE_NO_PAD.encode(self.key.sign(payload.as_bytes()).to_bytes())
    }

    /// Sign the v3 connect payload built from `fields` (its `device_id` should be ours).
    pub fn sign_connect_payload(&self, fields: &DeviceAuthPayload) -> String {
        self.sign(&fields.v3())
    }

    /// Read `device.json`. A stored `deviceId` that does not match the key is corrected.
    pub fn load(path: &Path) -> Result<Self, StoreError> {
        let bytes = std::fs::read(path).map_err(|e| StoreError::io("read", path, e))?;
        let file: IdentityFile =
            serde_json::from_slice(&bytes).map_err(|source| StoreError::Parse {
                path: path.to_path_buf(),
                source,
            })?;
        let key = SigningKey::from_pkcs8_pem(file.private_key_pem.trim()).map_err(|e| {
            StoreError::InvalidKey {
                path: path.to_path_buf(),
                reason: e.to_string(),
            }
        })?;
        let id = Self::from_signing_key(key, file.created_at_ms);
        if id.device_id != file.device_id {
            tracing::warn!(path = %path.display(), "device.json deviceId does not match its key; using the key's fingerprint");
        }
        Ok(id)
    }

    /// Write `device.json` atomically with mode 0600.
    pub fn save(&self, path: &Path) -> Result<(), StoreError> {
        let file = IdentityFile {
            version: 1,
            device_id: self.device_id.clone(),
            public_key_pem: self.public_key_pem(),
            private_key_pem: self.private_key_pem(),
            created_at_ms: self.created_at_ms,
            extra: Map::new(),
        };
        let bytes = serde_json::to_vec_pretty(&file).map_err(|source| StoreError::Parse {
            path: path.to_path_buf(),
            source,
        })?;
        write_atomic(path, &bytes)
    }

    /// Load `path`, or generate and save a new identity when it does not exist.
    pub async fn load_or_create(path: impl Into<PathBuf>) -> Result<Self, StoreError> {
        let path = path.into();
        let p = path.clone();
        tokio::task::spawn_blocking(move || {
            if p.exists() {
                Self::load(&p)
            } else {
                let id = Self::generate();
                id.save(&p)?;
                Ok(id)
            }
        })
        .await
        .map_err(|e| StoreError::io("load identity", path, std::io::Error::other(e)))?
    }
}

/// A cached device token in `device-auth.json`. `Debug` redacts the token.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredDeviceToken {
    pub token: String,
    pub role: String,
    #[serde(default)]
    pub scopes: Vec<String>,
    #[serde(default)]
    pub updated_at_ms: u64,
}

impl std::fmt::Debug for StoredDeviceToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredDeviceToken")
            .field("token", &"<redacted>")
            .field("role", &self.role)
            .field("scopes", &self.scopes)
            .finish()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DeviceAuthFile {
    version: u32,
    device_id: String,
    #[serde(default)]
    tokens: BTreeMap<String, StoredDeviceToken>,
}

/// `identity/device-auth.json`: device tokens the gateway issued to this client, by role.
/// Tokens cached for another device id (an old identity) are ignored.
#[derive(Debug, Clone)]
pub struct DeviceAuthStore {
    path: PathBuf,
}

impl DeviceAuthStore {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        DeviceAuthStore { path: path.into() }
    }

    async fn read(&self) -> Result<Option<DeviceAuthFile>, StoreError> {
        match tokio::fs::read(&self.path).await {
            Ok(bytes) => {
                serde_json::from_slice(&bytes)
                    .map(Some)
                    .map_err(|source| StoreError::Parse {
                        path: self.path.clone(),
                        source,
                    })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(StoreError::io("read", &self.path, e)),
        }
    }

    pub async fn get(
        &self,
        device_id: &str,
        role: &str,
    ) -> Result<Option<StoredDeviceToken>, StoreError> {
        Ok(self
            .read()
            .await?
            .filter(|f| f.device_id == device_id)
            .and_then(|mut f| f.tokens.remove(role)))
    }

    pub async fn set(
        &self,
        device_id: &str,
        role: &str,
        token: &str,
        scopes: &[String],
        now_ms: u64,
    ) -> Result<(), StoreError> {
        let mut file = self
            .read()
            .await?
            .filter(|f| f.device_id == device_id)
            .unwrap_or(DeviceAuthFile {
                version: 1,
                device_id: device_id.to_string(),
                tokens: BTreeMap::new(),
            });
        file.tokens.insert(
            role.to_string(),
            StoredDeviceToken {
                token: token.to_string(),
                role: role.to_string(),
                scopes: scopes.to_vec(),
                updated_at_ms: now_ms,
            },
        );
        self.write(&file).await
    }

    /// Forget the token for `role` (after `AUTH_DEVICE_TOKEN_MISMATCH`).
    pub async fn clear(&self, device_id: &str, role: &str) -> Result<(), StoreError> {
        let Some(mut file) = self.read().await?.filter(|f| f.device_id == device_id) else {
            return Ok(());
        };
        if file.tokens.remove(role).is_some() {
            self.write(&file).await?;
        }
        Ok(())
    }

    async fn write(&self, file: &DeviceAuthFile) -> Result<(), StoreError> {
        let bytes = serde_json::to_vec_pretty(file).map_err(|source| StoreError::Parse {
            path: self.path.clone(),
            source,
        })?;
        crate::atomic_file::write_atomic_async(self.path.clone(), bytes).await
    }
}

#[cfg(test)]
#[path = "identity_tests.rs"]
mod tests;
