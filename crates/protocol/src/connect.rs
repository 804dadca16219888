//! Handshake payloads: `connect.challenge`, `connect` params and the `hello-ok` result.
//!
//! `ConnectParams` ignores unknown fields. OpenClaw's own validator rejects them, but the
//! recorded clients of different releases disagree on optional fields (`deviceFamily`,
//! `userAgent`, `locale`, `pathEnv`), and refusing a client over a field we do not use would
//! break the drop-in promise. Required fields are still required.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::frame::StateVersion;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChallengePayload {
    pub nonce: String,
    pub ts: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectParams {
    pub min_protocol: u32,
    pub max_protocol: u32,
    pub client: ClientInfo,
    #[serde(default)]
    pub role: Option<String>,
    #[serde(default)]
    pub scopes: Option<Vec<String>>,
    #[serde(default)]
    pub caps: Option<Vec<String>>,
    #[serde(default)]
    pub commands: Option<Vec<String>>,
    #[serde(default)]
    pub permissions: Option<Value>,
    #[serde(default)]
    pub auth: Option<ConnectAuth>,
    #[serde(default)]
    pub device: Option<DeviceProof>,
    #[serde(default)]
    pub locale: Option<String>,
    #[serde(default)]
    pub user_agent: Option<String>,
}

impl ConnectParams {
    pub fn has_cap(&self, cap: &str) -> bool {
        self.caps
            .as_deref()
            .unwrap_or_default()
            .iter()
            .any(|c| c == cap)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ClientInfo {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub platform: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_family: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_identifier: Option<String>,
    #[serde(default)]
    pub mode: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_id: Option<String>,
}

/// Credentials a client may present. Secret values are never logged: `Debug` redacts them.
#[derive(Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ConnectAuth {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bootstrap_token: Option<String>,
}

impl std::fmt::Debug for ConnectAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mark = |o: &Option<String>| o.as_ref().map(|_| "<redacted>");
        f.debug_struct("ConnectAuth")
            .field("token", &mark(&self.token))
            .field("device_token", &mark(&self.device_token))
            .field("password", &mark(&self.password))
            .field("bootstrap_token", &mark(&self.bootstrap_token))
            .finish()
    }
}

/// A device's proof of key possession for this connection (signature over the challenge).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceProof {
    pub id: String,
    pub public_key: String,
    pub signature: String,
    pub signed_at: u64,
    #[serde(default)]
    pub nonce: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HelloOk {
    /// Always `"hello-ok"`.
    #[serde(rename = "type")]
    pub kind: String,
    pub protocol: u32,
    pub server: ServerInfo,
    pub features: Features,
    pub snapshot: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<HelloAuth>,
    pub policy: Policy,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerInfo {
    pub version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    pub conn_id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Features {
    pub methods: Vec<String>,
    pub events: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HelloAuth {
    pub role: String,
    pub scopes: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issued_at_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Policy {
    pub max_payload: u64,
    pub max_buffered_bytes: u64,
    pub tick_interval_ms: u64,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            max_payload: 26_214_400,
            max_buffered_bytes: 52_428_800,
            tick_interval_ms: 15_000,
        }
    }
}

/// The `snapshot` block of `hello-ok`, as far as this implementation fills it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Snapshot {
    pub presence: Vec<Value>,
    pub health: Value,
    pub state_version: StateVersion,
    pub uptime_ms: u64,
    pub config_path: String,
    pub state_dir: String,
    pub session_defaults: SessionDefaults,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_mode: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionDefaults {
    pub default_agent_id: String,
    pub main_key: String,
    pub main_session_key: String,
    pub scope: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_recorded_v3_connect_params() {
        let text = r#"{"minProtocol": 3, "maxProtocol": 3, "client": {"id": "cli", "version": "probe",
            "platform": "linux", "mode": "cli", "instanceId": "5aa6"}, "caps": [],
            "auth": {"token": "testtoken123"}, "role": "operator",
            "scopes": ["operator.admin", "operator.read"]}"#;
        let p: ConnectParams = serde_json::from_str(text).unwrap();
        assert_eq!(p.client.id, "cli");
        assert_eq!(
            p.auth.as_ref().unwrap().token.as_deref(),
            Some("testtoken123")
        );
        assert!(!p.has_cap("tool-events"));
    }

    #[test]
    fn auth_debug_redacts_secrets() {
        let a = ConnectAuth {
            token: Some("sekrit".into()),
            ..Default::default()
        };
        let s = format!("{a:?}");
        assert!(!s.contains("sekrit"), "{s}");
        assert!(s.contains("<redacted>"));
    }
}
