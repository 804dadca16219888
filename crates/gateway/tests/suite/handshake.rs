//! The connect handshake: protocol negotiation, shared-secret auth, origins, limits.

use serde_json::json;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use super::client::*;
use openclaw_gateway::{AuthConfig, Secret};

#[tokio::test]
async fn v3_client_gets_protocol_3_and_hello_ok_shape() {
    let srv = TestServer::start(TestServer::token("T")).await;
    let (_ws, res) = handshake(&srv.url, 3, 3, json!({"token":"T"}), ALL_SCOPES).await;
    assert_eq!(res["ok"], true);
    let p = &res["payload"];
    assert_eq!(p["type"], "hello-ok");
    assert_eq!(p["protocol"], 3);
    for key in ["server", "features", "snapshot", "policy", "auth"] {
        assert!(p.get(key).is_some(), "hello-ok lacks {key}: {p}");
    }
    assert!(p["server"]["connId"].is_string());
    assert!(
        p["features"]["methods"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m == "health")
    );
    for key in [
        "presence",
        "health",
        "stateVersion",
        "uptimeMs",
        "configPath",
        "stateDir",
        "sessionDefaults",
    ] {
        assert!(p["snapshot"].get(key).is_some(), "snapshot lacks {key}");
    }
    assert_eq!(
        p["snapshot"]["sessionDefaults"]["mainSessionKey"],
        "agent:main:main"
    );
    assert!(p["policy"]["maxPayload"].as_u64().unwrap() > 0);
    assert_eq!(p["policy"]["tickIntervalMs"], 15000);
}

#[tokio::test]
async fn v4_client_gets_protocol_4_and_range_picks_highest() {
    let srv = TestServer::start(TestServer::token("T")).await;
    let (_ws, res) = handshake(&srv.url, 4, 4, json!({"token":"T"}), ALL_SCOPES).await;
    assert_eq!(res["payload"]["protocol"], 4);
    let (_ws, res) = handshake(&srv.url, 3, 9, json!({"token":"T"}), ALL_SCOPES).await;
    assert_eq!(res["payload"]["protocol"], 4);
}

#[tokio::test]
async fn protocol_mismatch_closes_1002() {
    let srv = TestServer::start(TestServer::token("T")).await;
    let (mut ws, res) = handshake(&srv.url, 5, 6, json!({"token":"T"}), ALL_SCOPES).await;
    assert_eq!(res["ok"], false);
    assert_eq!(res["error"]["details"]["code"], "PROTOCOL_MISMATCH");
    let close = expect_close(&mut ws).await.unwrap();
    assert_eq!(u16::from(close.code), 1002);
}

#[tokio::test]
async fn missing_token_is_refused_with_1008_and_baseline_wording() {
    let srv = TestServer::start(TestServer::token("T")).await;
    let (mut ws, res) = handshake(&srv.url, 3, 3, json!({}), ALL_SCOPES).await;
    assert_eq!(res["ok"], false);
    assert_eq!(res["error"]["code"], "INVALID_REQUEST");
    assert_eq!(res["error"]["details"]["code"], "AUTH_TOKEN_MISSING");
    assert!(
        res["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("unauthorized: gateway token missing")
    );
    let close = expect_close(&mut ws).await.unwrap();
    assert_eq!(u16::from(close.code), 1008);
    assert!(close.reason.as_str().contains("gateway token missing"));
}

#[tokio::test]
async fn wrong_token_is_refused() {
    let srv = TestServer::start(TestServer::token("T")).await;
    let (mut ws, res) = handshake(&srv.url, 3, 4, json!({"token":"nope"}), ALL_SCOPES).await;
    assert_eq!(res["error"]["details"]["code"], "AUTH_TOKEN_MISMATCH");
    assert_eq!(u16::from(expect_close(&mut ws).await.unwrap().code), 1008);
}

#[tokio::test]
async fn password_mode() {
    let srv = TestServer::start(AuthConfig::Password(Secret::new("pw"))).await;
    let (_ws, res) = handshake(&srv.url, 3, 4, json!({"password":"pw"}), ALL_SCOPES).await;
    assert_eq!(res["ok"], true, "{res}");
    assert_eq!(res["payload"]["snapshot"]["authMode"], "password");
    let (_ws, res) = handshake(&srv.url, 3, 4, json!({"password":"bad"}), ALL_SCOPES).await;
    assert_eq!(res["error"]["details"]["code"], "AUTH_PASSWORD_MISMATCH");
    let (_ws, res) = handshake(&srv.url, 3, 4, json!({"token":"pw"}), ALL_SCOPES).await;
    assert_eq!(res["error"]["details"]["code"], "AUTH_PASSWORD_MISSING");
}

#[tokio::test]
async fn first_frame_must_be_connect() {
    let srv = TestServer::start(TestServer::token("T")).await;
    let mut ws = open(&srv.url).await;
    let _challenge = next_json(&mut ws).await;
    send(
        &mut ws,
        &json!({"type":"req","id":"1","method":"health","params":{}}),
    )
    .await;
    let close = expect_close(&mut ws).await.unwrap();
    assert_eq!(u16::from(close.code), 1002);
}

#[tokio::test]
async fn oversized_frames_are_refused_before_and_after_connect() {
    let srv = TestServer::start_with(TestServer::token("T"), |s| {
        s.max_preauth_payload = 1024;
        s.policy.max_payload = 4096;
    })
    .await;
    // Before connect: the pre-auth cap applies.
    let mut ws = open(&srv.url).await;
    let _ = next_json(&mut ws).await;
    let mut big = connect_frame(3, 4, json!({"token":"T"}), ALL_SCOPES);
    big["params"]["client"]["displayName"] = json!("x".repeat(2000));
    send(&mut ws, &big).await;
    let close = expect_close(&mut ws).await.unwrap();
    assert_eq!(u16::from(close.code), 1009);
    // After connect: policy.maxPayload applies.
    let mut ws = connected(&srv.url, "T", ALL_SCOPES).await;
    send(
        &mut ws,
        &json!({"type":"req","id":"x","method":"health","params":{"pad":"y".repeat(5000)}}),
    )
    .await;
    let close = expect_close(&mut ws).await;
    if let Some(c) = close {
        assert_eq!(u16::from(c.code), 1009);
    }
}

#[tokio::test]
async fn foreign_browser_origin_is_refused() {
    let srv = TestServer::start(TestServer::token("T")).await;
    let mut req = srv.url.as_str().into_client_request().unwrap();
    req.headers_mut()
        .insert("Origin", "https://evil.example".parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    let _ = next_json(&mut ws).await;
    send(
        &mut ws,
        &connect_frame(3, 4, json!({"token":"T"}), ALL_SCOPES),
    )
    .await;
    let res = next_json(&mut ws).await;
    assert_eq!(
        res["error"]["details"]["code"],
        "CONTROL_UI_ORIGIN_NOT_ALLOWED"
    );
    assert_eq!(u16::from(expect_close(&mut ws).await.unwrap().code), 1008);

    let mut req = srv.url.as_str().into_client_request().unwrap();
    req.headers_mut()
        .insert("Origin", "http://127.0.0.1:18789".parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    let _ = next_json(&mut ws).await;
    send(
        &mut ws,
        &connect_frame(3, 4, json!({"token":"T"}), ALL_SCOPES),
    )
    .await;
    assert_eq!(next_json(&mut ws).await["ok"], true);
}

#[tokio::test]
async fn non_loopback_bind_without_auth_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = openclaw_gateway::ServerSettings::for_tests(dir.path().into(), AuthConfig::None);
    s.bind = "0.0.0.0:0".parse().unwrap();
    let err = openclaw_gateway::start(s, openclaw_gateway::Services::default())
        .await
        .err()
        .unwrap();
    assert!(err.to_string().contains("refusing to bind"), "{err}");
}
