//! The CLI's gateway client: one WebSocket, the connect handshake, then sequential calls.
//!
//! The CLI is a protocol client like any other (same frames as the Control UI). Calls are
//! sequential, so the client reads until the matching response arrives and keeps any events
//! that arrived meanwhile for callers that want them (`agent` streaming).

use std::collections::VecDeque;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use openclaw_protocol::{ConnectAuth, ErrorShape, Frame, PROTOCOL_MAX, PROTOCOL_MIN};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error(
        "cannot reach the gateway at {url}: {reason} (is it running? start it with `openclaw gateway`)"
    )]
    Unreachable { url: String, reason: String },
    #[error("gateway closed the connection ({code}): {reason}")]
    Closed { code: u16, reason: String },
    #[error("{message}")]
    Rpc { error: ErrorShape, message: String },
    #[error("timed out after {0:?} waiting for the gateway")]
    Timeout(Duration),
    #[error("protocol error: {0}")]
    Protocol(String),
}

impl ClientError {
    fn rpc(error: ErrorShape) -> Self {
        let mut message = error.message.clone();
        if let Some(code) = error.detail_code() {
            message = format!("{message} [{code}]");
        }
        ClientError::Rpc { error, message }
    }
}

#[derive(Clone, Debug)]
pub struct ConnectOptions {
    pub url: String,
    pub auth: ConnectAuth,
    pub timeout: Duration,
    pub scopes: Vec<String>,
    pub caps: Vec<String>,
    pub client_mode: String,
}

pub struct GatewayClient {
    ws: Ws,
    next_id: u64,
    timeout: Duration,
    pub hello: Value,
    pending_events: VecDeque<Value>,
}

impl GatewayClient {
    pub async fn connect(opts: ConnectOptions) -> Result<Self, ClientError> {
        let url = opts.url.clone();
        let unreachable = |reason: String| ClientError::Unreachable {
            url: url.clone(),
            reason,
        };
        let connecting =
            tokio_tungstenite::connect_async_with_config(opts.url.as_str(), None, true);
        let (mut ws, _) = tokio::time::timeout(opts.timeout, connecting)
            .await
            .map_err(|_| unreachable(format!("no answer within {:?}", opts.timeout)))?
            .map_err(|e| unreachable(e.to_string()))?;

        let challenge = read_frame(&mut ws, opts.timeout).await?;
        let (nonce, ts) = match &challenge {
            Frame::Event(e) if e.event == "connect.challenge" => {
                let p = e.payload.clone().unwrap_or_default();
                (
                    p["nonce"].as_str().unwrap_or_default().to_string(),
                    p["ts"].as_u64().unwrap_or(0),
                )
            }
            other => {
                return Err(ClientError::Protocol(format!(
                    "expected connect.challenge, got {other:?}"
                )));
            }
        };
        let instance_id = uuid::Uuid::new_v4().to_string();
        let params = json!({
            "minProtocol": PROTOCOL_MIN,
            "maxProtocol": PROTOCOL_MAX,
            "client": {"id": "cli", "version": env!("CARGO_PKG_VERSION"), "platform": std::env::consts::OS,
                       "mode": opts.client_mode, "instanceId": instance_id},
            "role": "operator",
            "scopes": opts.scopes,
            "caps": opts.caps,
            "auth": opts.auth,
        });
        let _ = (&nonce, ts);
        let req = json!({"type": "req", "id": "connect", "method": "connect", "params": params});
        ws.send(Message::Text(req.to_string().into()))
            .await
            .map_err(|e| ClientError::Protocol(e.to_string()))?;
        let mut client = Self {
            ws,
            next_id: 1,
            timeout: opts.timeout,
            hello: Value::Null,
            pending_events: VecDeque::new(),
        };
        let res = client.wait_response("connect").await?;
        client.hello = res;
        Ok(client)
    }

    /// Call a method and return its payload.
    pub async fn call(&mut self, method: &str, params: Value) -> Result<Value, ClientError> {
        let id = self.send_request(method, params).await?;
        self.wait_response(&id).await
    }

    /// Call a two-stage method (`agent`): skip the `accepted` acknowledgement and return the
    /// final response. `on_event` sees every event that arrives meanwhile.
    pub async fn call_expect_final(
        &mut self,
        method: &str,
        params: Value,
        mut on_event: impl FnMut(&Value),
    ) -> Result<Value, ClientError> {
        let id = self.send_request(method, params).await?;
        loop {
            let frame = read_frame(&mut self.ws, self.timeout).await?;
            match frame {
                Frame::Res(r) if r.id == id => {
                    if !r.ok {
                        return Err(ClientError::rpc(
                            r.error
                                .unwrap_or_else(|| ErrorShape::new("UNKNOWN", "request failed")),
                        ));
                    }
                    let payload = r.payload.unwrap_or(Value::Null);
                    if payload["status"] == "accepted" {
                        continue;
                    }
                    return Ok(payload);
                }
                Frame::Event(e) => on_event(&json!(e)),
                _ => {}
            }
        }
    }

    async fn send_request(&mut self, method: &str, params: Value) -> Result<String, ClientError> {
        let id = format!("r{}", self.next_id);
        self.next_id += 1;
        let req = json!({"type": "req", "id": id, "method": method, "params": params});
        self.ws
            .send(Message::Text(req.to_string().into()))
            .await
            .map_err(|e| ClientError::Protocol(e.to_string()))?;
        Ok(id)
    }

    async fn wait_response(&mut self, id: &str) -> Result<Value, ClientError> {
        loop {
            match read_frame(&mut self.ws, self.timeout).await? {
                Frame::Res(r) if r.id == id => {
                    return if r.ok {
                        Ok(r.payload.unwrap_or(Value::Null))
                    } else {
                        Err(ClientError::rpc(r.error.unwrap_or_else(|| {
                            ErrorShape::new("UNKNOWN", "request failed")
                        })))
                    };
                }
                Frame::Event(e) if self.pending_events.len() < 1024 => {
                    self.pending_events.push_back(json!(e));
                }
                _ => {}
            }
        }
    }

    pub async fn close(mut self) {
        let _ = self.ws.close(None).await;
    }
}

async fn read_frame(ws: &mut Ws, timeout: Duration) -> Result<Frame, ClientError> {
    loop {
        let msg = tokio::time::timeout(timeout, ws.next())
            .await
            .map_err(|_| ClientError::Timeout(timeout))?;
        match msg {
            None => {
                return Err(ClientError::Closed {
                    code: 1006,
                    reason: "connection ended".into(),
                });
            }
            Some(Err(e)) => {
                return Err(ClientError::Closed {
                    code: 1006,
                    reason: e.to_string(),
                });
            }
            Some(Ok(Message::Text(t))) => {
                return serde_json::from_str(t.as_str())
                    .map_err(|e| ClientError::Protocol(e.to_string()));
            }
            Some(Ok(Message::Close(c))) => {
                let (code, reason) = c
                    .map(|c| (u16::from(c.code), c.reason.to_string()))
                    .unwrap_or((1005, String::new()));
                return Err(ClientError::Closed { code, reason });
            }
            Some(Ok(_)) => continue,
        }
    }
}
