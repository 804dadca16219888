//! Requests after the handshake: dispatch, scopes, ticks, shutdown, HTTP probes.

use serde_json::json;

use super::client::*;

#[tokio::test]
async fn unknown_method_gets_an_error_response_and_socket_stays_open() {
    let srv = TestServer::start(TestServer::token("T")).await;
    let mut ws = connected(&srv.url, "T", ALL_SCOPES).await;
    let res = call(&mut ws, "1", "no.such.method", json!({})).await;
    assert_eq!(res["ok"], false);
    assert_eq!(res["error"]["code"], "INVALID_REQUEST");
    assert_eq!(res["error"]["details"]["code"], "METHOD_NOT_FOUND");
    let res = call(&mut ws, "2", "health", json!({})).await;
    assert_eq!(res["ok"], true);
    assert_eq!(res["payload"]["ok"], true);
}

#[tokio::test]
async fn missing_scope_is_forbidden_with_details() {
    let srv = TestServer::start(TestServer::token("T")).await;
    let mut ws = connected(&srv.url, "T", &["operator.read"]).await;
    let res = call(&mut ws, "1", "config.get", json!({})).await;
    assert_eq!(res["error"]["code"], "FORBIDDEN");
    assert_eq!(res["error"]["details"]["code"], "MISSING_SCOPE");
    assert_eq!(res["error"]["details"]["missingScope"], "operator.admin");
    let res = call(&mut ws, "2", "status", json!({})).await;
    assert_eq!(res["ok"], true);
}

#[tokio::test]
async fn ticks_arrive_with_increasing_seq() {
    let srv =
        TestServer::start_with(TestServer::token("T"), |s| s.policy.tick_interval_ms = 50).await;
    let mut ws = connected(&srv.url, "T", ALL_SCOPES).await;
    let a = wait_event(&mut ws, "tick").await;
    let b = wait_event(&mut ws, "tick").await;
    assert!(a["payload"]["ts"].as_u64().unwrap() > 0);
    assert!(b["seq"].as_u64().unwrap() > a["seq"].as_u64().unwrap());
}

#[tokio::test]
async fn shutdown_event_then_close() {
    let mut srv = TestServer::start(TestServer::token("T")).await;
    let mut ws = connected(&srv.url, "T", ALL_SCOPES).await;
    let gw = srv.gw.take().unwrap();
    let stopper = tokio::spawn(gw.shutdown());
    let ev = wait_event(&mut ws, "shutdown").await;
    assert!(ev["payload"]["reason"].is_string());
    let close = expect_close(&mut ws).await.unwrap();
    assert_eq!(u16::from(close.code), 1001);
    stopper.await.unwrap().unwrap();
}

#[tokio::test]
async fn health_request_also_broadcasts_health_event() {
    let srv = TestServer::start(TestServer::token("T")).await;
    let mut ws = connected(&srv.url, "T", ALL_SCOPES).await;
    let mut other = connected(&srv.url, "T", &["operator.read"]).await;
    let _ = call(&mut ws, "1", "health", json!({})).await;
    let ev = wait_event(&mut other, "health").await;
    assert_eq!(ev["payload"]["ok"], true);
    assert!(ev["stateVersion"]["health"].as_u64().unwrap() >= 1);
}

#[tokio::test]
async fn http_probes_need_no_auth_and_other_routes_need_bearer() {
    let srv = TestServer::start(TestServer::token("T")).await;
    let base = srv.http();
    for path in ["healthz", "readyz", "health", "ready"] {
        let body = http_get(&format!("{base}{path}"), None).await;
        assert!(body.starts_with("HTTP/1.1 200"), "{path}: {body}");
    }
    let r = http_get(&format!("{base}api/nothing"), None).await;
    assert!(r.starts_with("HTTP/1.1 401"), "{r}");
    let r = http_get(&format!("{base}api/nothing"), Some("T")).await;
    assert!(r.starts_with("HTTP/1.1 404"), "{r}");
    let r = http_get(&base, None).await;
    assert!(
        r.starts_with("HTTP/1.1 200") && r.contains("text/html"),
        "{r}"
    );
}

/// A tiny HTTP/1.1 GET over a raw socket (keeps reqwest out of this crate's tests).
async fn http_get(url: &str, bearer: Option<&str>) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest
        .split_once('/')
        .map(|(h, p)| (h, format!("/{p}")))
        .unwrap();
    let mut s = tokio::net::TcpStream::connect(host).await.unwrap();
    let auth = bearer
        .map(|b| format!("Authorization: Bearer {b}\r\n"))
        .unwrap_or_default();
    let req = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\n{auth}Connection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    out
}

#[tokio::test]
async fn presence_event_when_a_client_connects() {
    let srv = TestServer::start(TestServer::token("T")).await;
    let mut ws = connected(&srv.url, "T", ALL_SCOPES).await;
    let _other = connected(&srv.url, "T", ALL_SCOPES).await;
    let ev = wait_event(&mut ws, "presence").await;
    let list = ev["payload"]["presence"].as_array().unwrap();
    assert!(list.len() >= 2, "gateway itself plus clients: {ev}");
    assert_eq!(list[0]["mode"], "gateway");
    assert!(ev["stateVersion"]["presence"].as_u64().unwrap() > 1);
    let res = call(&mut ws, "p", "system-presence", json!({})).await;
    assert!(res["payload"].as_array().unwrap().len() >= 3);
}
