//! Device identity and pairing at connect time (after shared-secret auth).
//!
//! A client that presents `device` proves possession of its Ed25519 key by signing the
//! connection's challenge nonce (payload v2/v3/v4, shared with the store's identity module).
//! Known devices get their device token in `hello-ok`; unknown ones are auto-approved on a
//! direct loopback connection and otherwise parked as a pending request for an operator
//! (`openclaw devices approve <requestId>`), and the socket closes 1008 "pairing required".
//! A browser reaching a containerized gateway arrives through the Docker bridge, which is
//! not loopback, so it needs that approval; the UI shows the exact command.

use openclaw_protocol::{ConnectParams, ErrorShape, Scope, codes, detail_codes, names, now_ms};
use openclaw_store::devices::{DeviceStore, PairedDevice, PairingRequestInput};
use openclaw_store::identity::{DeviceAuthPayload, check_device_id};
use serde_json::json;

use crate::state::SharedState;
use crate::ws::PeerInfo;

/// How far `signedAt` may be from the gateway clock.
const MAX_SIGNATURE_SKEW_MS: u64 = 10 * 60 * 1000;

pub enum DeviceOutcome {
    /// No device identity presented (CLI/backend clients with the shared secret).
    Anonymous,
    /// A paired device: its token for this role, and the scopes it may hold.
    Paired {
        device_id: String,
        token: String,
        approved_scopes: Vec<String>,
    },
    /// Refuse the connection with this error (close 1008).
    Refused(ErrorShape),
}

fn refuse(code: &'static str, message: impl Into<String>) -> DeviceOutcome {
    DeviceOutcome::Refused(
        ErrorShape::new(codes::INVALID_REQUEST, message).with_details(json!({"code": code})),
    )
}

/// The token the client sent (what its signature covers).
pub fn presented_token(params: &ConnectParams) -> Option<String> {
    let a = params.auth.as_ref()?;
    a.token.clone().or_else(|| a.device_token.clone())
}

pub async fn evaluate(
    state: &SharedState,
    params: &ConnectParams,
    nonce: &str,
    peer: &PeerInfo,
) -> DeviceOutcome {
    let Some(dev) = &params.device else {
        if peer.is_browser() && !peer.is_direct_loopback() && !state.settings.allow_insecure_auth {
            return refuse(
                detail_codes::DEVICE_IDENTITY_REQUIRED,
                "control ui requires device identity (use HTTPS or localhost secure context)",
            );
        }
        return DeviceOutcome::Anonymous;
    };
    let Some(store) = state.services.devices.clone() else {
        return DeviceOutcome::Anonymous;
    };
    match dev.nonce.as_deref() {
        None | Some("") => {
            return refuse(
                detail_codes::DEVICE_AUTH_NONCE_REQUIRED,
                "device signature must include the challenge nonce",
            );
        }
        Some(n) if n != nonce => {
            return refuse(
                detail_codes::DEVICE_AUTH_NONCE_MISMATCH,
                "device signature was made for another challenge (nonce mismatch)",
            );
        }
        Some(_) => {}
    }
    let now = now_ms();
    if now.abs_diff(dev.signed_at) > MAX_SIGNATURE_SKEW_MS {
        return refuse(
            detail_codes::DEVICE_AUTH_SIGNATURE_EXPIRED,
            "device signature is stale (signedAt too far from the gateway clock; check the device's time)",
        );
    }
    if let Err(e) = check_device_id(&dev.id, &dev.public_key) {
        return refuse(e.code(), format!("device identity rejected: {e}"));
    }
    let role = params.role.clone().unwrap_or_else(|| "operator".into());
    let scopes = params.scopes.clone().unwrap_or_default();
    let payload = DeviceAuthPayload {
        device_id: dev.id.clone(),
        client_id: params.client.id.clone(),
        client_mode: params.client.mode.clone(),
        role: role.clone(),
        scopes: scopes.clone(),
        signed_at_ms: dev.signed_at,
        token: presented_token(params),
        nonce: nonce.to_string(),
        platform: Some(params.client.platform.clone()),
        device_family: params.client.device_family.clone(),
        instance_id: params.client.instance_id.clone(),
    };
    if let Err(e) = payload.verify_any(&dev.public_key, &dev.signature) {
        return refuse(e.code(), format!("device signature invalid: {e}"));
    }

    let input = PairingRequestInput {
        device_id: dev.id.clone(),
        public_key: dev.public_key.clone(),
        display_name: params.client.display_name.clone(),
        platform: Some(params.client.platform.clone()),
        device_family: params.client.device_family.clone(),
        client_id: Some(params.client.id.clone()),
        client_mode: Some(params.client.mode.clone()),
        role: role.clone(),
        scopes: scopes.clone(),
        remote_ip: Some(peer.addr.ip().to_string()),
        silent: false,
        is_repair: false,
    };
    if let Some(paired) = store.get_paired(&dev.id)
        && paired.public_key == dev.public_key
        && covers(&paired, &role, &scopes)
    {
        return paired_outcome(&store, paired, &role, now).await;
    }
    if peer.is_direct_loopback() && state.settings.auto_approve_local {
        match store.auto_approve(input, now).await {
            Ok(paired) => {
                tracing::info!(device = %short(&paired.device_id), role = %role, "device pairing auto-approved (loopback)");
                return paired_outcome(&store, paired, &role, now).await;
            }
            Err(e) => {
                return DeviceOutcome::Refused(ErrorShape::new(
                    codes::UNAVAILABLE,
                    format!("cannot record pairing: {e}"),
                ));
            }
        }
    }
    match store.request_pairing(input, now).await {
        Ok(outcome) => {
            let req = &outcome.request;
            if outcome.created {
                state.bus.emit(names::DEVICE_PAIR_REQUESTED, json!(req));
                tracing::info!(request = %req.request_id, device = %short(&req.device_id), ip = %peer.addr.ip(), "device pairing requested");
            }
            DeviceOutcome::Refused(
                ErrorShape::new(codes::NOT_PAIRED, "pairing required").with_details(json!({
                    "code": detail_codes::PAIRING_REQUIRED,
                    "requestId": req.request_id,
                    "deviceId": req.device_id,
                    "recommendedNextStep": "wait_then_retry",
                    "approveCommand": format!("openclaw devices approve {}", req.request_id),
                })),
            )
        }
        Err(e) => DeviceOutcome::Refused(ErrorShape::new(
            codes::UNAVAILABLE,
            format!("cannot record pairing request: {e}"),
        )),
    }
}

fn short(id: &str) -> &str {
    &id[..id.len().min(12)]
}

/// Whether the device's approval covers this role and every requested scope.
fn covers(paired: &PairedDevice, role: &str, scopes: &[String]) -> bool {
    let has_role = paired.role == role || paired.roles.iter().any(|r| r == role);
    let approved: Vec<Scope> = paired
        .scopes
        .iter()
        .filter_map(|s| Scope::parse(s))
        .collect();
    has_role
        && scopes.iter().all(|s| match Scope::parse(s) {
            Some(scope) => openclaw_protocol::scopes_satisfy(&approved, scope),
            None => true,
        })
}

async fn paired_outcome(
    store: &DeviceStore,
    paired: PairedDevice,
    role: &str,
    now: u64,
) -> DeviceOutcome {
    let live = paired
        .tokens
        .get(role)
        .filter(|t| t.revoked_at_ms.is_none())
        .map(|t| t.token.clone());
    let token = match live {
        Some(t) => t,
        None => match store.rotate_token(&paired.device_id, role, None, now).await {
            Ok(t) => t.token,
            Err(e) => {
                return DeviceOutcome::Refused(ErrorShape::new(
                    codes::UNAVAILABLE,
                    format!("cannot issue device token: {e}"),
                ));
            }
        },
    };
    DeviceOutcome::Paired {
        device_id: paired.device_id,
        token,
        approved_scopes: paired.scopes,
    }
}
