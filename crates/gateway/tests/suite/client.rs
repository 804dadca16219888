//! A minimal protocol client for tests: connect, call, wait for events.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use openclaw_gateway::{AuthConfig, RunningGateway, Secret, ServerSettings, Services};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;

pub type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub struct TestServer {
    pub gw: Option<RunningGateway>,
    pub url: String,
    pub _dir: tempfile::TempDir,
}

impl TestServer {
    pub async fn start(auth: AuthConfig) -> Self {
        Self::start_with(auth, |_| {}).await
    }

    pub async fn start_with(auth: AuthConfig, tweak: impl FnOnce(&mut ServerSettings)) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut settings = ServerSettings::for_tests(dir.path().to_path_buf(), auth);
        tweak(&mut settings);
        let gw = openclaw_gateway::start(settings, Services::default())
            .await
            .unwrap();
        let url = format!("ws://{}/", gw.local_addr());
        Self {
            gw: Some(gw),
            url,
            _dir: dir,
        }
    }

    pub fn token(t: &str) -> AuthConfig {
        AuthConfig::Token(Secret::new(t))
    }

    pub fn http(&self) -> String {
        self.url.replace("ws://", "http://")
    }
}

pub async fn open(url: &str) -> Ws {
    let (ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    ws
}

/// Next text frame as JSON, failing the test after 5 s.
pub async fn next_json(ws: &mut Ws) -> Value {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .expect("timed out waiting for a frame")
            .expect("socket ended")
            .expect("socket error");
        match msg {
            Message::Text(t) => return serde_json::from_str(t.as_str()).unwrap(),
            Message::Close(c) => panic!("socket closed: {c:?}"),
            _ => continue,
        }
    }
}

/// Read until the socket closes; return the close frame.
pub async fn expect_close(ws: &mut Ws) -> Option<CloseFrame> {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .expect("timed out waiting for close");
        match msg {
            None => return None,
            Some(Err(_)) => return None,
            Some(Ok(Message::Close(c))) => return c,
            Some(Ok(_)) => continue,
        }
    }
}

pub fn connect_frame(min: u32, max: u32, auth: Value, scopes: &[&str]) -> Value {
    json!({"type":"req","id":"c1","method":"connect","params":{
        "minProtocol": min, "maxProtocol": max,
        "client": {"id":"cli","version":"test","platform":"linux","mode":"cli","instanceId":"i-1"},
        "caps": [], "auth": auth, "role": "operator", "scopes": scopes}})
}

pub async fn send(ws: &mut Ws, v: &Value) {
    ws.send(Message::Text(v.to_string().into())).await.unwrap();
}

/// Open, read the challenge, send connect; return the connect response.
pub async fn handshake(url: &str, min: u32, max: u32, auth: Value, scopes: &[&str]) -> (Ws, Value) {
    let mut ws = open(url).await;
    let challenge = next_json(&mut ws).await;
    assert_eq!(challenge["event"], "connect.challenge");
    send(&mut ws, &connect_frame(min, max, auth, scopes)).await;
    let res = next_json(&mut ws).await;
    (ws, res)
}

pub async fn connected(url: &str, token: &str, scopes: &[&str]) -> Ws {
    let (ws, res) = handshake(url, 3, 4, json!({"token": token}), scopes).await;
    assert_eq!(res["ok"], true, "{res}");
    ws
}

/// Call a method and return the response frame, skipping events.
pub async fn call(ws: &mut Ws, id: &str, method: &str, params: Value) -> Value {
    send(
        ws,
        &json!({"type":"req","id":id,"method":method,"params":params}),
    )
    .await;
    loop {
        let f = next_json(ws).await;
        if f["type"] == "res" && f["id"] == id {
            return f;
        }
    }
}

/// Wait for an event by name, skipping everything else.
pub async fn wait_event(ws: &mut Ws, name: &str) -> Value {
    loop {
        let f = next_json(ws).await;
        if f["type"] == "event" && f["event"] == name {
            return f;
        }
    }
}

pub const ALL_SCOPES: &[&str] = &[
    "operator.admin",
    "operator.read",
    "operator.write",
    "operator.approvals",
    "operator.pairing",
];
