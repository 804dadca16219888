//! Device identity at connect: signature checks and the pairing flow.

use std::sync::Arc;

use futures::SinkExt;
use openclaw_gateway::{AuthConfig, Secret, ServerSettings, Services};
use openclaw_store::devices::DeviceStore;
use openclaw_store::identity::{DeviceAuthPayload, DeviceIdentity};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use super::client::*;

async fn start() -> (TestServer, Arc<DeviceStore>) {
    let dir = tempfile::tempdir().unwrap();
    let devices = Arc::new(DeviceStore::open(dir.path().join("devices")).await.unwrap());
    let settings =
        ServerSettings::for_tests(dir.path().into(), AuthConfig::Token(Secret::new("T")));
    #[allow(clippy::needless_update)]
    let services = Services {
        devices: Some(devices.clone()),
        ..Default::default()
    };
    let gw = openclaw_gateway::start(settings, services).await.unwrap();
    let url = format!("ws://{}/", gw.local_addr());
    (
        TestServer {
            gw: Some(gw),
            url,
            _dir: dir,
        },
        devices,
    )
}

const SCOPES: &[&str] = &["operator.read", "operator.write"];

/// Connect with a device proof. `tamper` lets a test break one part of it.
async fn device_connect(
    url: &str,
    id: &DeviceIdentity,
    forwarded: bool,
    tamper: impl FnOnce(&mut Value, &str, u64),
) -> (Ws, Value) {
    device_connect_with(url, id, "T", forwarded, tamper).await
}

async fn device_connect_with(
    url: &str,
    id: &DeviceIdentity,
    token: &str,
    forwarded: bool,
    tamper: impl FnOnce(&mut Value, &str, u64),
) -> (Ws, Value) {
    let mut req = url.into_client_request().unwrap();
    if forwarded {
        req.headers_mut()
            .insert("X-Forwarded-For", "192.168.1.50".parse().unwrap());
    }
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    let challenge = next_json(&mut ws).await;
    let nonce = challenge["payload"]["nonce"].as_str().unwrap().to_string();
    let ts = challenge["payload"]["ts"].as_u64().unwrap();
    let payload = DeviceAuthPayload {
        device_id: id.device_id().to_string(),
        client_id: "openclaw-control-ui".into(),
        client_mode: "webchat".into(),
        role: "operator".into(),
        scopes: SCOPES.iter().map(|s| s.to_string()).collect(),
        signed_at_ms: ts,
        token: Some(token.into()),
        nonce: nonce.clone(),
        platform: Some("linux".into()),
        device_family: None,
        instance_id: None,
    };
    let signature = id.sign_connect_payload(&payload);
    let mut frame = json!({"type":"req","id":"c1","method":"connect","params":{
        "minProtocol":3,"maxProtocol":4,
        "client":{"id":"openclaw-control-ui","version":"t","platform":"linux","mode":"webchat"},
        "role":"operator","scopes":SCOPES,"caps":[],"auth":{"token":token},
        "device":{"id":id.device_id(),"publicKey":id.public_key_b64url(),"signature":signature,"signedAt":ts,"nonce":nonce}}});
    tamper(&mut frame, &nonce, ts);
    ws.send(Message::Text(frame.to_string().into()))
        .await
        .unwrap();
    let res = next_json(&mut ws).await;
    (ws, res)
}

#[tokio::test]
async fn loopback_device_is_auto_approved_and_gets_a_device_token() {
    let (srv, devices) = start().await;
    let id = DeviceIdentity::generate();
    let (_ws, res) = device_connect(&srv.url, &id, false, |_, _, _| {}).await;
    assert_eq!(res["ok"], true, "{res}");
    let token = res["payload"]["auth"]["deviceToken"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(!token.is_empty());
    assert_eq!(devices.list().paired.len(), 1);
    // The device token alone (no shared secret) logs the device in again.
    let (_ws, res) = device_connect_with(&srv.url, &id, &token, false, |_, _, _| {}).await;
    assert_eq!(res["ok"], true, "{res}");
    assert_eq!(res["payload"]["auth"]["method"], "device-token");
    // A wrong token does not pass, even with a valid signature over it.
    let (_ws, res) = device_connect_with(&srv.url, &id, "wrong", false, |_, _, _| {}).await;
    assert_eq!(
        res["error"]["details"]["code"], "AUTH_TOKEN_MISMATCH",
        "{res}"
    );
}

#[tokio::test]
async fn signature_with_the_wrong_key_is_refused() {
    let (srv, _) = start().await;
    let id = DeviceIdentity::generate();
    let other = DeviceIdentity::generate();
    let (mut ws, res) = device_connect(&srv.url, &id, false, |f, _, _| {
        f["params"]["device"]["publicKey"] = json!(other.public_key_b64url());
    })
    .await;
    // The id no longer matches the key's fingerprint.
    assert_eq!(
        res["error"]["details"]["code"], "DEVICE_AUTH_DEVICE_ID_MISMATCH",
        "{res}"
    );
    assert_eq!(u16::from(expect_close(&mut ws).await.unwrap().code), 1008);
    let (_ws, res) = device_connect(&srv.url, &id, false, |f, _, _| {
        f["params"]["device"]["signature"] = json!(other.sign("something else"));
    })
    .await;
    assert_eq!(
        res["error"]["details"]["code"], "DEVICE_AUTH_SIGNATURE_INVALID",
        "{res}"
    );
}

#[tokio::test]
async fn replayed_nonce_and_stale_signature_are_refused() {
    let (srv, _) = start().await;
    let id = DeviceIdentity::generate();
    // A proof made for another connection's challenge.
    let (_ws, res) = device_connect(&srv.url, &id, false, |f, _, _| {
        f["params"]["device"]["nonce"] = json!("an-old-nonce");
    })
    .await;
    assert_eq!(
        res["error"]["details"]["code"], "DEVICE_AUTH_NONCE_MISMATCH",
        "{res}"
    );
    let (_ws, res) = device_connect(&srv.url, &id, false, |f, _, _| {
        f["params"]["device"]["nonce"] = Value::Null;
    })
    .await;
    assert_eq!(
        res["error"]["details"]["code"], "DEVICE_AUTH_NONCE_REQUIRED",
        "{res}"
    );
    let (_ws, res) = device_connect(&srv.url, &id, false, |f, _, ts| {
        f["params"]["device"]["signedAt"] = json!(ts - 3_600_000);
    })
    .await;
    assert_eq!(
        res["error"]["details"]["code"], "DEVICE_AUTH_SIGNATURE_EXPIRED",
        "{res}"
    );
}

#[tokio::test]
async fn remote_device_needs_approval_then_connects() {
    let (srv, _) = start().await;
    let mut admin = connected(&srv.url, "T", ALL_SCOPES).await;
    let id = DeviceIdentity::generate();
    let (mut ws, res) = device_connect(&srv.url, &id, true, |_, _, _| {}).await;
    assert_eq!(res["ok"], false);
    assert_eq!(res["error"]["message"], "pairing required");
    assert_eq!(res["error"]["details"]["code"], "PAIRING_REQUIRED");
    let request_id = res["error"]["details"]["requestId"]
        .as_str()
        .unwrap()
        .to_string();
    let close = expect_close(&mut ws).await.unwrap();
    assert_eq!(u16::from(close.code), 1008);
    assert_eq!(close.reason.as_str(), "pairing required");

    let ev = wait_event(&mut admin, "device.pair.requested").await;
    assert_eq!(ev["payload"]["requestId"], request_id.as_str());
    let list = call(&mut admin, "1", "device.pair.list", json!({})).await;
    assert_eq!(
        list["payload"]["pending"][0]["requestId"],
        request_id.as_str()
    );
    let ok = call(
        &mut admin,
        "2",
        "device.pair.approve",
        json!({"requestId": request_id}),
    )
    .await;
    assert_eq!(ok["ok"], true, "{ok}");
    assert!(
        ok["payload"]["device"]["tokens"]["operator"]
            .get("token")
            .is_none(),
        "token values never leave"
    );
    let ev = wait_event(&mut admin, "device.pair.resolved").await;
    assert_eq!(ev["payload"]["decision"], "approved");

    let (_ws, res) = device_connect(&srv.url, &id, true, |_, _, _| {}).await;
    assert_eq!(res["ok"], true, "{res}");
    assert!(res["payload"]["auth"]["deviceToken"].is_string());
}

#[tokio::test]
async fn remote_browser_without_device_identity_is_refused() {
    let (srv, _) = start().await;
    let mut req = srv.url.as_str().into_client_request().unwrap();
    req.headers_mut()
        .insert("Origin", "http://127.0.0.1:18789".parse().unwrap());
    req.headers_mut()
        .insert("X-Forwarded-For", "10.1.2.3".parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    let _ = next_json(&mut ws).await;
    send(&mut ws, &connect_frame(3, 4, json!({"token":"T"}), SCOPES)).await;
    let res = next_json(&mut ws).await;
    assert_eq!(
        res["error"]["details"]["code"], "DEVICE_IDENTITY_REQUIRED",
        "{res}"
    );
}
