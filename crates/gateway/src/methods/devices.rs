//! `device.pair.list|approve|reject|remove|rename`, `device.token.rotate|revoke`.
//! Token values never leave through `device.pair.list`.

use std::sync::Arc;

use openclaw_protocol::{names, now_ms};
use openclaw_store::devices::{DeviceStore, PairedDevice};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{CallCtx, MethodError, MethodResult, parse};

fn store(ctx: &CallCtx) -> Result<Arc<DeviceStore>, MethodError> {
    ctx.state
        .services
        .devices
        .clone()
        .ok_or_else(|| MethodError::Unavailable("device pairing store is not running".into()))
}

fn store_err(e: openclaw_store::StoreError) -> MethodError {
    MethodError::NotFound(e.to_string())
}

/// A paired device for the wire: token values stripped, token metadata kept.
pub fn public_device(d: &PairedDevice) -> Value {
    let mut v = json!(d);
    if let Some(tokens) = v.get_mut("tokens").and_then(Value::as_object_mut) {
        for t in tokens.values_mut() {
            if let Some(o) = t.as_object_mut() {
                o.remove("token");
            }
        }
    }
    v
}

pub async fn list(ctx: &CallCtx, _params: Value) -> MethodResult {
    let l = store(ctx)?.list();
    Ok(
        json!({"pending": l.pending, "paired": l.paired.iter().map(public_device).collect::<Vec<_>>()}),
    )
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RequestParams {
    request_id: String,
    display_name: Option<String>,
}

pub async fn approve(ctx: &CallCtx, params: Value) -> MethodResult {
    let p: RequestParams = parse(params)?;
    let device = store(ctx)?
        .approve(&p.request_id, p.display_name.clone(), now_ms())
        .await
        .map_err(store_err)?;
    ctx.state.bus.emit(
        names::DEVICE_PAIR_RESOLVED,
        json!({"requestId": p.request_id, "deviceId": device.device_id, "decision": "approved", "ts": now_ms()}),
    );
    tracing::info!(request = %p.request_id, "device pairing approved");
    Ok(json!({"requestId": p.request_id, "device": public_device(&device)}))
}

pub async fn reject(ctx: &CallCtx, params: Value) -> MethodResult {
    let p: RequestParams = parse(params)?;
    let req = store(ctx)?.reject(&p.request_id).await.map_err(store_err)?;
    ctx.state.bus.emit(
        names::DEVICE_PAIR_RESOLVED,
        json!({"requestId": p.request_id, "deviceId": req.device_id, "decision": "rejected", "ts": now_ms()}),
    );
    Ok(json!({"requestId": p.request_id, "deviceId": req.device_id}))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DeviceParams {
    device_id: String,
    label: Option<String>,
    role: Option<String>,
    scopes: Option<Vec<String>>,
}

pub async fn remove(ctx: &CallCtx, params: Value) -> MethodResult {
    let p: DeviceParams = parse(params)?;
    let d = store(ctx)?.remove(&p.device_id).await.map_err(store_err)?;
    Ok(json!({"deviceId": d.device_id, "removed": true}))
}

pub async fn rename(ctx: &CallCtx, params: Value) -> MethodResult {
    let p: DeviceParams = parse(params)?;
    let label = p
        .label
        .ok_or_else(|| MethodError::InvalidParams("label is required".into()))?;
    store(ctx)?
        .rename(&p.device_id, &label)
        .await
        .map_err(store_err)?;
    Ok(json!({"deviceId": p.device_id, "label": label}))
}

pub async fn rotate(ctx: &CallCtx, params: Value) -> MethodResult {
    let p: DeviceParams = parse(params)?;
    let role = p.role.unwrap_or_else(|| "operator".into());
    let t = store(ctx)?
        .rotate_token(&p.device_id, &role, p.scopes, now_ms())
        .await
        .map_err(store_err)?;
    Ok(json!({"deviceId": p.device_id, "role": role, "token": t.token, "scopes": t.scopes}))
}

pub async fn revoke(ctx: &CallCtx, params: Value) -> MethodResult {
    let p: DeviceParams = parse(params)?;
    let role = p.role.unwrap_or_else(|| "operator".into());
    store(ctx)?
        .revoke_token(&p.device_id, &role, now_ms())
        .await
        .map_err(store_err)?;
    Ok(json!({"deviceId": p.device_id, "role": role, "revoked": true}))
}
