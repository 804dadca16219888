//! One connection to the Discord gateway (API v10, JSON, no compression), over any WebSocket
//! `Stream + Sink` so the protocol can be driven by channels in tests.
//!
//! HELLO → IDENTIFY (or RESUME when a session is known) → heartbeats every
//! `heartbeat_interval` (the first after a random fraction of it, as Discord asks). A heartbeat
//! whose ACK has not arrived when the next one is due means a zombie connection: it is closed
//! with a non-1000 code (which keeps the session resumable) and the caller reconnects and
//! resumes. Every dispatch's sequence number is kept for RESUME and heartbeats.
//!
//! How a connection ends decides what happens next ([`End`]): close codes that reconnecting
//! cannot fix (4004 bad token, 4010–4014 shard, version and intent problems) stop the account
//! with an error that names the fix; 4007/4009 and `INVALID_SESSION` (not resumable) start a
//! new session; everything else (dropped sockets, RECONNECT, other codes) resumes.

use std::fmt::Display;
use std::time::Duration;

use futures::{Sink, SinkExt, Stream, StreamExt};
use openclaw_config::Secret;
use serde_json::{Value, json};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_util::sync::CancellationToken;

use super::types::{GatewayPayload, Ready, op};

/// Longest wait for HELLO after connecting.
pub const HELLO_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest wait for one frame to be written.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// Close code this client uses when it drops a connection it wants to resume.
const RESUMABLE_CLOSE: u16 = 4000;

/// What survives a connection: enough to RESUME.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct SessionState {
    pub session_id: Option<String>,
    pub resume_url: Option<String>,
    pub seq: Option<u64>,
}

impl SessionState {
    pub fn clear(&mut self) {
        *self = SessionState::default();
    }
}

/// What the connection reports while it runs.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Event {
    Ready(Box<Ready>),
    Resumed,
    Dispatch { t: String, d: Value },
}

/// How a connection ended.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum End {
    Cancelled,
    /// Reconnect and resume the session (`reason` for the log).
    Resume(String),
    /// Reconnect with a fresh IDENTIFY.
    Reidentify(String),
    /// Stop the account: reconnecting cannot help. The text names the fix.
    Fatal(String),
}

/// `wss://gateway.discord.gg` → `wss://gateway.discord.gg/?v=10&encoding=json`.
pub(crate) fn connect_url(base: &str) -> String {
    let base = base.trim();
    if base.contains('?') {
        return base.to_string();
    }
    format!("{}/?v=10&encoding=json", base.trim_end_matches('/'))
}

pub(crate) fn identify_payload(token: &Secret, intents: u64) -> Value {
    json!({"op": op::IDENTIFY, "d": {
        "token": token.expose(),
        "intents": intents,
        "properties": {"os": std::env::consts::OS, "browser": "openclaw", "device": "openclaw"},
    }})
}

pub(crate) fn resume_payload(token: &Secret, session_id: &str, seq: Option<u64>) -> Value {
    json!({"op": op::RESUME, "d": {"token": token.expose(), "session_id": session_id, "seq": seq}})
}

fn heartbeat_payload(seq: Option<u64>) -> Value {
    json!({"op": op::HEARTBEAT, "d": seq})
}

/// What a close code from Discord means for this client.
pub(crate) fn classify_close(code: u16, reason: &str) -> End {
    let said = if reason.trim().is_empty() {
        String::new()
    } else {
        format!(" ({})", reason.trim())
    };
    match code {
        4004 => End::Fatal(format!(
            "discord gateway closed with 4004{said}: the bot token was rejected; fix channels.discord.token (or DISCORD_BOT_TOKEN for the default account) — the Discord Developer Portal → your application → Bot → Reset Token gives a new one"
        )),
        4014 => End::Fatal(format!(
            "discord gateway closed with 4014{said}: the bot asked for privileged intents it is not allowed; enable Message Content Intent (and Server Members / Presence Intent if channels.discord.intents asks for them) in the Discord Developer Portal → your application → Bot → Privileged Gateway Intents, then restart the gateway — or set channels.discord.intents.messageContent: false for a mention-only bot"
        )),
        4013 => End::Fatal(format!(
            "discord gateway closed with 4013{said}: invalid intents; check channels.discord.intents"
        )),
        4010..=4012 => End::Fatal(format!(
            "discord gateway closed with {code}{said}: this build connects one shard with API v10, which Discord refused; a bot in more than 2,500 guilds needs sharding, which openclaw-rs does not do"
        )),
        4007 | 4009 => End::Reidentify(format!("gateway closed with {code}{said}")),
        _ => End::Resume(format!("gateway closed with {code}{said}")),
    }
}

async fn send<S>(ws: &mut S, v: &Value) -> Result<(), String>
where
    S: Sink<WsMessage> + Unpin,
    S::Error: Display,
{
    match tokio::time::timeout(SEND_TIMEOUT, ws.send(WsMessage::Text(v.to_string().into()))).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(format!("cannot write to the gateway: {e}")),
        Err(_) => Err("writing to the gateway timed out".to_string()),
    }
}

async fn close<S>(ws: &mut S, code: u16, reason: &str)
where
    S: Sink<WsMessage> + Unpin,
{
    let frame = CloseFrame {
        code: CloseCode::from(code),
        reason: reason.to_string().into(),
    };
    let _ = tokio::time::timeout(SEND_TIMEOUT, ws.send(WsMessage::Close(Some(frame)))).await;
}

/// One decoded frame, or why the connection is over.
enum Frame {
    Payload(GatewayPayload),
    Skip,
    Over(End),
}

fn decode<E: Display>(next: Option<Result<WsMessage, E>>) -> Frame {
    match next {
        None => Frame::Over(End::Resume("connection closed".into())),
        Some(Err(e)) => Frame::Over(End::Resume(format!("connection error: {e}"))),
        Some(Ok(WsMessage::Close(Some(f)))) => {
            Frame::Over(classify_close(u16::from(f.code), f.reason.as_str()))
        }
        Some(Ok(WsMessage::Close(None))) => {
            Frame::Over(End::Resume("connection closed without a code".into()))
        }
        Some(Ok(WsMessage::Text(t))) => match serde_json::from_str::<GatewayPayload>(t.as_str()) {
            Ok(p) => Frame::Payload(p),
            Err(e) => {
                tracing::debug!(error = %e, "discord: skipping a gateway frame that does not decode");
                Frame::Skip
            }
        },
        Some(Ok(_)) => Frame::Skip,
    }
}

/// Run one connection until it ends. `state` carries the session across connections;
/// `on_event` gets READY, RESUMED and every other dispatch, in order.
pub(crate) async fn drive<S, E>(
    ws: &mut S,
    token: &Secret,
    intents: u64,
    state: &mut SessionState,
    cancel: &CancellationToken,
    on_event: &mut (dyn FnMut(Event) + Send),
) -> End
where
    S: Stream<Item = Result<WsMessage, E>> + Sink<WsMessage> + Unpin,
    E: Display,
    <S as Sink<WsMessage>>::Error: Display,
{
    // HELLO.
    let hello_by = Instant::now() + HELLO_TIMEOUT;
    let interval = loop {
        let next = tokio::select! {
            _ = cancel.cancelled() => return End::Cancelled,
            r = tokio::time::timeout_at(hello_by, ws.next()) => match r {
                Ok(n) => n,
                Err(_) => return End::Resume("no HELLO from the gateway".into()),
            },
        };
        match decode(next) {
            Frame::Over(end) => return end,
            Frame::Skip => {}
            Frame::Payload(p) if p.op == op::HELLO => {
                let ms = p.d["heartbeat_interval"].as_u64().unwrap_or(41_250).max(1);
                break Duration::from_millis(ms);
            }
            Frame::Payload(_) => {}
        }
    };
    let opening = match &state.session_id {
        Some(id) => resume_payload(token, id, state.seq),
        None => {
            state.seq = None;
            identify_payload(token, intents)
        }
    };
    if let Err(e) = send(ws, &opening).await {
        return End::Resume(e);
    }
    let mut next_beat = Instant::now() + interval.mul_f64(rand::random::<f64>());
    let mut awaiting_ack = false;
    loop {
        let next = tokio::select! {
            _ = cancel.cancelled() => {
                close(ws, 1000, "shutting down").await;
                return End::Cancelled;
            }
            _ = tokio::time::sleep_until(next_beat) => {
                if awaiting_ack {
                    close(ws, RESUMABLE_CLOSE, "heartbeat ACK missed").await;
                    return End::Resume("no heartbeat ACK from the gateway".into());
                }
                if let Err(e) = send(ws, &heartbeat_payload(state.seq)).await {
                    return End::Resume(e);
                }
                awaiting_ack = true;
                next_beat = Instant::now() + interval;
                continue;
            }
            n = ws.next() => n,
        };
        let p = match decode(next) {
            Frame::Over(end) => {
                if matches!(end, End::Reidentify(_) | End::Fatal(_)) {
                    state.clear();
                }
                return end;
            }
            Frame::Skip => continue,
            Frame::Payload(p) => p,
        };
        match p.op {
            op::DISPATCH => {
                if let Some(s) = p.s {
                    state.seq = Some(state.seq.map_or(s, |old| old.max(s)));
                }
                let t = p.t.unwrap_or_default();
                match t.as_str() {
                    "READY" => match serde_json::from_value::<Ready>(p.d) {
                        Ok(r) => {
                            state.session_id = Some(r.session_id.clone());
                            state.resume_url = r.resume_gateway_url.clone();
                            on_event(Event::Ready(Box::new(r)));
                        }
                        Err(e) => {
                            state.clear();
                            return End::Reidentify(format!("READY does not decode: {e}"));
                        }
                    },
                    "RESUMED" => on_event(Event::Resumed),
                    _ => on_event(Event::Dispatch { t, d: p.d }),
                }
            }
            op::HEARTBEAT => {
                if let Err(e) = send(ws, &heartbeat_payload(state.seq)).await {
                    return End::Resume(e);
                }
            }
            op::HEARTBEAT_ACK => awaiting_ack = false,
            op::RECONNECT => {
                close(ws, RESUMABLE_CLOSE, "reconnect requested").await;
                return End::Resume("the gateway asked for a reconnect".into());
            }
            op::INVALID_SESSION => {
                close(ws, RESUMABLE_CLOSE, "invalid session").await;
                if p.d.as_bool() == Some(true) {
                    return End::Resume("invalid session (resumable)".into());
                }
                state.clear();
                return End::Reidentify("invalid session".into());
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use std::pin::Pin;
    use std::task::{Context, Poll};

    use futures::channel::mpsc;

    use super::*;
    use pretty_assertions::assert_eq;

    /// A socket made of two channels: what the test pushes is read, what the client writes
    /// comes out of `sent`.
    struct Duplex {
        rx: mpsc::UnboundedReceiver<Result<WsMessage, String>>,
        tx: mpsc::UnboundedSender<WsMessage>,
    }

    impl Stream for Duplex {
        type Item = Result<WsMessage, String>;
        fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
            Pin::new(&mut self.rx).poll_next(cx)
        }
    }

    impl Sink<WsMessage> for Duplex {
        type Error = mpsc::SendError;
        fn poll_ready(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
        ) -> Poll<Result<(), Self::Error>> {
            Pin::new(&mut self.tx).poll_ready(cx)
        }
        fn start_send(mut self: Pin<&mut Self>, item: WsMessage) -> Result<(), Self::Error> {
            Pin::new(&mut self.tx).start_send(item)
        }
        fn poll_flush(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
        ) -> Poll<Result<(), Self::Error>> {
            Pin::new(&mut self.tx).poll_flush(cx)
        }
        fn poll_close(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
        ) -> Poll<Result<(), Self::Error>> {
            Pin::new(&mut self.tx).poll_close(cx)
        }
    }

    struct Peer {
        push: mpsc::UnboundedSender<Result<WsMessage, String>>,
        sent: mpsc::UnboundedReceiver<WsMessage>,
    }

    impl Peer {
        fn send(&self, v: Value) {
            self.push
                .unbounded_send(Ok(WsMessage::Text(v.to_string().into())))
                .unwrap();
        }

        async fn next_json(&mut self) -> Value {
            match self.sent.next().await.unwrap() {
                WsMessage::Text(t) => serde_json::from_str(t.as_str()).unwrap(),
                other => panic!("expected text, got {other:?}"),
            }
        }
    }

    fn pair() -> (Duplex, Peer) {
        let (push, rx) = mpsc::unbounded();
        let (tx, sent) = mpsc::unbounded();
        (Duplex { rx, tx }, Peer { push, sent })
    }

    fn ready(seq: u64) -> Value {
        json!({"op": 0, "t": "READY", "s": seq, "d": {
            "v": 10, "user": {"id": "42", "username": "bot", "bot": true},
            "session_id": "sess-1", "resume_gateway_url": "wss://resume.example", "guilds": [],
            "application": {"id": "42"}}})
    }

    #[tokio::test(start_paused = true)]
    async fn identify_heartbeat_and_zombie_detection() {
        let (mut ws, mut peer) = pair();
        let token = Secret::new("tok");
        let cancel = CancellationToken::new();
        let task = tokio::spawn(async move {
            let mut state = SessionState::default();
            let mut events = Vec::new();
            let end = drive(&mut ws, &token, 513, &mut state, &cancel, &mut |e| {
                events.push(e)
            })
            .await;
            (end, state, events)
        });
        peer.send(json!({"op": 10, "d": {"heartbeat_interval": 1000}}));
        let identify = peer.next_json().await;
        assert_eq!(identify["op"], 2);
        assert_eq!(identify["d"]["token"], "tok");
        assert_eq!(identify["d"]["intents"], 513);
        peer.send(ready(1));
        peer.send(json!({"op": 0, "t": "MESSAGE_CREATE", "s": 2, "d": {"id": "m"}}));
        let beat = peer.next_json().await;
        assert_eq!(beat, json!({"op": 1, "d": 2}));
        peer.send(json!({"op": 11}));
        assert_eq!(peer.next_json().await, json!({"op": 1, "d": 2}));
        // No ACK this time: the next beat is due and the connection is dropped as a zombie.
        match peer.sent.next().await.unwrap() {
            WsMessage::Close(Some(f)) => assert_eq!(u16::from(f.code), 4000),
            other => panic!("{other:?}"),
        }
        let (end, state, events) = task.await.unwrap();
        assert_eq!(end, End::Resume("no heartbeat ACK from the gateway".into()));
        assert_eq!(state.session_id.as_deref(), Some("sess-1"));
        assert_eq!(state.seq, Some(2));
        assert!(matches!(events[0], Event::Ready(_)));
        assert_eq!(
            events[1],
            Event::Dispatch {
                t: "MESSAGE_CREATE".into(),
                d: json!({"id": "m"})
            }
        );
    }

    #[tokio::test(start_paused = true)]
    async fn resume_and_fatal_close() {
        let (mut ws, mut peer) = pair();
        let token = Secret::new("tok");
        let cancel = CancellationToken::new();
        let task = tokio::spawn(async move {
            let mut state = SessionState {
                session_id: Some("sess-1".into()),
                resume_url: None,
                seq: Some(7),
            };
            let end = drive(&mut ws, &token, 1, &mut state, &cancel, &mut |_| {}).await;
            (end, state)
        });
        peer.send(json!({"op": 10, "d": {"heartbeat_interval": 45000}}));
        assert_eq!(
            peer.next_json().await,
            json!({"op": 6, "d": {"token": "tok", "session_id": "sess-1", "seq": 7}})
        );
        peer.push
            .unbounded_send(Ok(WsMessage::Close(Some(CloseFrame {
                code: CloseCode::from(4014),
                reason: "Disallowed intent(s).".into(),
            }))))
            .unwrap();
        let (end, state) = task.await.unwrap();
        let End::Fatal(msg) = end else {
            panic!("{end:?}")
        };
        assert!(msg.contains("4014 (Disallowed intent(s).)"), "{msg}");
        assert!(msg.contains("Message Content Intent"), "{msg}");
        assert!(!msg.contains("tok"));
        assert_eq!(state, SessionState::default());
    }

    /// `wss://` builds a rustls client (the crypto provider comes from the linked features);
    /// a peer that hangs up is an error, not a panic.
    #[tokio::test]
    async fn tls_connections_fail_cleanly() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = tokio::spawn(async move { drop(listener.accept().await) });
        let r = tokio_tungstenite::connect_async(format!("wss://127.0.0.1:{port}/")).await;
        assert!(r.is_err());
        server.await.unwrap();
    }

    #[test]
    fn close_codes_and_urls() {
        assert!(matches!(classify_close(4004, ""), End::Fatal(_)));
        assert!(matches!(classify_close(4009, ""), End::Reidentify(_)));
        assert!(matches!(classify_close(4000, ""), End::Resume(_)));
        assert!(matches!(classify_close(1001, ""), End::Resume(_)));
        assert_eq!(
            connect_url("wss://gateway.discord.gg"),
            "wss://gateway.discord.gg/?v=10&encoding=json"
        );
        assert_eq!(connect_url("ws://h/x?v=10"), "ws://h/x?v=10");
    }
}
