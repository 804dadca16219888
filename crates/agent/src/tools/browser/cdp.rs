//! A small Chrome DevTools Protocol client: JSON-RPC over one browser-level WebSocket.
//!
//! One connection per browser. Pages are reached through flattened sessions
//! (`Target.attachToTarget {flatten: true}`): a command for a page carries its `sessionId` and
//! travels on the same socket, so there is one reader task and one writer task per browser.
//! Every call has a deadline; a call that outlives it is forgotten (its late answer is
//! dropped). Events fan out on a bounded broadcast channel: a subscriber that falls more than
//! [`EVENT_CAPACITY`] events behind loses the oldest ones (`Lagged`), which only costs console
//! history or a load event, never a reply.
//!
//! Only `ws://` and `http://` endpoints: the browsers we drive listen on loopback (the host
//! browser we launch, the sandbox container's published port) or on a `cdpUrl` the user chose.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_util::sync::CancellationToken;

/// Deadline of one CDP call unless the caller gives another.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(30);
/// Deadline of the WebSocket handshake and of the `/json/version` request.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Events buffered per subscriber before the oldest are dropped.
pub const EVENT_CAPACITY: usize = 1024;
/// Outgoing messages queued for the writer task; callers wait when it is full.
const WRITE_QUEUE: usize = 64;
/// Largest message accepted from the browser (a full-page screenshot is the big one). A larger
/// one closes the connection rather than growing memory without bound.
const MAX_MESSAGE_BYTES: usize = 64 * 1024 * 1024;
/// Largest `/json/version` answer read.
const MAX_VERSION_BYTES: u64 = 64 * 1024;

/// What went wrong talking to the browser. The text is what the model reads.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CdpError {
    #[error("cannot connect to the browser at {url}: {detail}")]
    Connect { url: String, detail: String },
    #[error("the browser did not answer {method} within {secs} s")]
    Timeout { method: String, secs: u64 },
    #[error("{method} failed: {message}")]
    Protocol {
        method: String,
        code: i64,
        message: String,
    },
    #[error("the connection to the browser closed (browser exited or was stopped); start it again")]
    Closed,
}

/// An event from the browser; `session_id` names the page session it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct CdpEvent {
    pub method: String,
    pub params: Value,
    pub session_id: Option<String>,
}

type Reply = Result<Value, (i64, String)>;
type Pending = Arc<Mutex<HashMap<u64, oneshot::Sender<Reply>>>>;

/// One WebSocket connection to a browser.
pub struct CdpClient {
    url: String,
    out: mpsc::Sender<Message>,
    pending: Pending,
    next_id: AtomicU64,
    events: broadcast::Sender<CdpEvent>,
    closed: CancellationToken,
    tasks: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for CdpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CdpClient")
            .field("url", &redact(&self.url))
            .field("closed", &self.closed.is_cancelled())
            .finish_non_exhaustive()
    }
}

impl Drop for CdpClient {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl CdpClient {
    /// Connect to a browser-level WebSocket URL (`ws://host:port/devtools/browser/<id>`).
    pub async fn connect(ws_url: &str) -> Result<CdpClient, CdpError> {
        let connect_err = |detail: String| CdpError::Connect {
            url: redact(ws_url),
            detail,
        };
        if !ws_url.starts_with("ws://") {
            return Err(connect_err(
                "only ws:// endpoints are supported (no TLS)".into(),
            ));
        }
        let config = WebSocketConfig::default()
            .max_message_size(Some(MAX_MESSAGE_BYTES))
            .max_frame_size(Some(MAX_MESSAGE_BYTES));
        let (ws, _) = tokio::time::timeout(
            CONNECT_TIMEOUT,
            tokio_tungstenite::connect_async_with_config(ws_url, Some(config), true),
        )
        .await
        .map_err(|_| {
            connect_err(format!(
                "no handshake within {} s",
                CONNECT_TIMEOUT.as_secs()
            ))
        })?
        .map_err(|e| connect_err(e.to_string()))?;
        let (mut sink, mut stream) = ws.split();
        let (out, mut out_rx) = mpsc::channel::<Message>(WRITE_QUEUE);
        let pending: Pending = Arc::default();
        let (events, _) = broadcast::channel(EVENT_CAPACITY);
        let closed = CancellationToken::new();

        let writer_closed = closed.clone();
        let writer = tokio::spawn(async move {
            while let Some(msg) = out_rx.recv().await {
                if sink.send(msg).await.is_err() {
                    break;
                }
            }
            let _ = sink.close().await;
            writer_closed.cancel();
        });
        let reader_pending = pending.clone();
        let reader_events = events.clone();
        let reader_closed = closed.clone();
        let reader = tokio::spawn(async move {
            while let Some(Ok(msg)) = stream.next().await {
                let text = match msg {
                    Message::Text(t) => t,
                    Message::Close(_) => break,
                    _ => continue,
                };
                let Ok(v) = serde_json::from_str::<Value>(&text) else {
                    continue;
                };
                dispatch(v, &reader_pending, &reader_events);
            }
            reader_closed.cancel();
            // Wake every waiting caller: dropping the senders makes their receivers fail.
            lock(&reader_pending).clear();
        });
        Ok(CdpClient {
            url: ws_url.to_string(),
            out,
            pending,
            next_id: AtomicU64::new(1),
            events,
            closed,
            tasks: vec![writer, reader],
        })
    }

    /// True once the socket has closed; every later call fails with [`CdpError::Closed`].
    pub fn is_closed(&self) -> bool {
        self.closed.is_cancelled()
    }

    /// Events from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<CdpEvent> {
        self.events.subscribe()
    }

    /// `method` with [`CALL_TIMEOUT`]; `session` targets a page session.
    pub async fn call(
        &self,
        method: &str,
        params: Value,
        session: Option<&str>,
    ) -> Result<Value, CdpError> {
        self.call_with(method, params, session, CALL_TIMEOUT).await
    }

    /// `method` with an explicit deadline.
    pub async fn call_with(
        &self,
        method: &str,
        params: Value,
        session: Option<&str>,
        timeout: Duration,
    ) -> Result<Value, CdpError> {
        if self.is_closed() {
            return Err(CdpError::Closed);
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        lock(&self.pending).insert(id, tx);
        let mut msg = json!({"id": id, "method": method, "params": params});
        if let Some(s) = session {
            msg["sessionId"] = Value::String(s.to_string());
        }
        let exchange = async {
            self.out
                .send(Message::text(msg.to_string()))
                .await
                .map_err(|_| CdpError::Closed)?;
            rx.await.map_err(|_| CdpError::Closed)
        };
        let result = tokio::time::timeout(timeout, exchange).await;
        lock(&self.pending).remove(&id);
        match result {
            Err(_) => Err(CdpError::Timeout {
                method: method.to_string(),
                secs: timeout.as_secs().max(1),
            }),
            Ok(Err(e)) => Err(e),
            Ok(Ok(Ok(v))) => Ok(v),
            Ok(Ok(Err((code, message)))) => Err(CdpError::Protocol {
                method: method.to_string(),
                code,
                message,
            }),
        }
    }
}

/// Route one incoming message: a reply to its waiting caller, anything else to the events.
fn dispatch(v: Value, pending: &Pending, events: &broadcast::Sender<CdpEvent>) {
    if let Some(id) = v.get("id").and_then(Value::as_u64) {
        let Some(tx) = lock(pending).remove(&id) else {
            return;
        };
        let reply = match v.get("error") {
            Some(e) => Err((
                e.get("code").and_then(Value::as_i64).unwrap_or(0),
                e.get("message")
                    .and_then(Value::as_str)
                    .unwrap_or("unknown error")
                    .to_string(),
            )),
            None => Ok(v.get("result").cloned().unwrap_or(Value::Null)),
        };
        let _ = tx.send(reply);
    } else if let Some(method) = v.get("method").and_then(Value::as_str) {
        // No subscriber is fine: nobody is interested right now.
        let _ = events.send(CdpEvent {
            method: method.to_string(),
            params: v.get("params").cloned().unwrap_or(Value::Null),
            session_id: v
                .get("sessionId")
                .and_then(Value::as_str)
                .map(str::to_string),
        });
    }
}

/// `url` without credentials or query (a `cdpUrl` may carry a token), for messages.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) => {
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.set_query(None);
            u.to_string()
        }
        Err(_) => "<invalid URL>".to_string(),
    }
}

/// `GET <http_url>/json/version` → the browser's `webSocketDebuggerUrl`.
pub async fn browser_ws_url(http_url: &str) -> Result<String, CdpError> {
    let err = |detail: String| CdpError::Connect {
        url: redact(http_url),
        detail,
    };
    let url = url::Url::parse(http_url).map_err(|e| err(format!("not a URL: {e}")))?;
    if url.scheme() == "ws" {
        return Ok(http_url.to_string());
    }
    if url.scheme() != "http" {
        return Err(err("only http:// and ws:// endpoints are supported".into()));
    }
    let host = url.host_str().ok_or_else(|| err("no host".into()))?;
    let port = url.port_or_known_default().unwrap_or(80);
    let fetch = async {
        let mut stream = tokio::net::TcpStream::connect((host, port))
            .await
            .map_err(|e| err(e.to_string()))?;
        // Chromium builds webSocketDebuggerUrl from the Host header, so it points back here.
        // It ignores HTTP/1.0 requests and keeps HTTP/1.1 connections open whatever the
        // Connection header says, so the answer ends where its Content-Length says.
        let req = format!(
            "GET /json/version HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: application/json\r\nConnection: close\r\n\r\n"
        );
        stream
            .write_all(req.as_bytes())
            .await
            .map_err(|e| err(e.to_string()))?;
        read_response(&mut stream)
            .await
            .map_err(|e| err(e.to_string()))
    };
    let raw = tokio::time::timeout(CONNECT_TIMEOUT, fetch)
        .await
        .map_err(|_| {
            err(format!(
                "/json/version did not answer within {} s",
                CONNECT_TIMEOUT.as_secs()
            ))
        })??;
    parse_version(&raw).ok_or_else(|| err("/json/version gave no webSocketDebuggerUrl".into()))
}

/// One HTTP response: up to EOF, or to the end of a `Content-Length` body, at most
/// [`MAX_VERSION_BYTES`].
async fn read_response(stream: &mut (impl AsyncReadExt + Unpin)) -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(buf);
        }
        buf.extend_from_slice(&chunk[..n]);
        if complete(&buf) || buf.len() as u64 >= MAX_VERSION_BYTES {
            return Ok(buf);
        }
    }
}

/// Whether `raw` holds the head and the whole `Content-Length` body.
fn complete(raw: &[u8]) -> bool {
    let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") else {
        return false;
    };
    let head = String::from_utf8_lossy(&raw[..end]);
    let length = head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim()
            .eq_ignore_ascii_case("content-length")
            .then(|| v.trim().parse::<usize>().ok())
            .flatten()
    });
    length.is_some_and(|len| raw.len() >= end + 4 + len)
}

/// The `webSocketDebuggerUrl` of a 200 answer to `/json/version`.
fn parse_version(raw: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text.split_once("\r\n\r\n")?;
    let mut status = head.lines().next()?.split_whitespace();
    if !status.next()?.starts_with("HTTP/") || status.next()? != "200" {
        return None;
    }
    let v: Value = serde_json::from_str(body.trim()).ok()?;
    v.get("webSocketDebuggerUrl")?.as_str().map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn version_answer_gives_the_websocket_url() {
        let ok = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{\"Browser\":\"Chrome/1\",\"webSocketDebuggerUrl\":\"ws://127.0.0.1:9/devtools/browser/x\"}";
        assert_eq!(
            parse_version(ok).as_deref(),
            Some("ws://127.0.0.1:9/devtools/browser/x")
        );
        assert_eq!(parse_version(b"HTTP/1.1 404 Not Found\r\n\r\n{}"), None);
        assert_eq!(parse_version(b"HTTP/1.1 200 OK\r\n\r\nnot json"), None);
    }

    #[test]
    fn a_response_ends_at_its_content_length() {
        assert!(!complete(b"HTTP/1.1 200 OK\r\nContent-Length:4\r\n"));
        assert!(!complete(b"HTTP/1.1 200 OK\r\nContent-Length:4\r\n\r\n{}"));
        assert!(complete(b"HTTP/1.1 200 OK\r\nContent-Length:4\r\n\r\n{ }}"));
        assert!(complete(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}"));
        // Without a length the answer ends at EOF.
        assert!(!complete(b"HTTP/1.1 200 OK\r\n\r\n{}"));
    }

    #[tokio::test]
    async fn replies_go_to_their_caller_and_events_to_subscribers() {
        let pending: Pending = Arc::default();
        let (events, mut rx) = broadcast::channel(4);
        let (tx, reply) = oneshot::channel();
        lock(&pending).insert(7, tx);
        dispatch(json!({"id": 7, "result": {"a": 1}}), &pending, &events);
        assert_eq!(reply.await.unwrap(), Ok(json!({"a": 1})));
        let (tx, reply) = oneshot::channel();
        lock(&pending).insert(8, tx);
        dispatch(
            json!({"id": 8, "error": {"code": -32000, "message": "No target"}}),
            &pending,
            &events,
        );
        assert_eq!(reply.await.unwrap(), Err((-32000, "No target".to_string())));
        dispatch(
            json!({"method": "Page.loadEventFired", "params": {}, "sessionId": "S"}),
            &pending,
            &events,
        );
        let ev = rx.recv().await.unwrap();
        assert_eq!(ev.method, "Page.loadEventFired");
        assert_eq!(ev.session_id.as_deref(), Some("S"));
    }

    #[test]
    fn redaction_drops_credentials_and_query() {
        assert_eq!(
            redact("ws://user:pw@host:9222/devtools/browser/x?token=s3cret"),
            "ws://host:9222/devtools/browser/x"
        );
        assert_eq!(redact("not a url"), "<invalid URL>");
    }

    #[tokio::test]
    async fn refuses_tls_and_unknown_schemes() {
        assert!(matches!(
            CdpClient::connect("wss://example.invalid/x").await,
            Err(CdpError::Connect { .. })
        ));
        assert!(matches!(
            browser_ws_url("https://example.invalid").await,
            Err(CdpError::Connect { .. })
        ));
    }
}
