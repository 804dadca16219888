//! The fake gateway: one WebSocket connection at a time (a new one replaces the old), one
//! session with a dispatch log.

use std::sync::Arc;

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{OriginalUri, State};
use axum::response::Response;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::{
    Conn, DcState, FAKE_DISCORD_BOT_ID, FAKE_DISCORD_TOKEN, GatewayFrame, LOG_MAX, MESSAGE_CONTENT,
    Out, Session, bot_user,
};

pub(super) async fn upgrade(
    State(st): State<Arc<DcState>>,
    uri: OriginalUri,
    ws: WebSocketUpgrade,
) -> Response {
    let path = uri.path().to_string();
    ws.on_upgrade(move |socket| connection(st, socket, path))
}

async fn connection(st: Arc<DcState>, mut socket: WebSocket, path: String) {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let (id, interval) = {
        let mut inner = st.lock();
        inner.connections += 1;
        let id = inner.connections;
        let conn = Conn {
            id,
            tx,
            live: false,
        };
        if let Some(old) = inner.conn.replace(conn) {
            let _ = old.tx.send(Out::Drop);
        }
        (id, inner.heartbeat_ms)
    };
    st.bump();
    let hello = json!({"op": 10, "d": {"heartbeat_interval": interval}, "s": null, "t": null});
    if socket
        .send(Message::Text(hello.to_string().into()))
        .await
        .is_ok()
    {
        loop {
            tokio::select! {
                _ = st.stop.cancelled() => break,
                out = rx.recv() => match out {
                    Some(Out::Text(t)) => {
                        if socket.send(Message::Text(t.into())).await.is_err() {
                            break;
                        }
                    }
                    Some(Out::Close(code, reason)) => {
                        let frame = CloseFrame { code, reason: reason.into() };
                        let _ = socket.send(Message::Close(Some(frame))).await;
                        break;
                    }
                    // Dropping the socket ends the TCP connection without a close frame.
                    Some(Out::Drop) | None => break,
                },
                msg = socket.recv() => match msg {
                    Some(Ok(Message::Text(t))) => on_frame(&st, id, &path, t.as_str()),
                    Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
                    Some(Ok(_)) => {}
                },
            }
        }
    }
    {
        let mut inner = st.lock();
        if inner.conn.as_ref().is_some_and(|c| c.id == id) {
            inner.conn = None;
        }
    }
    st.bump();
}

/// Send to connection `id` if it is still the current one.
fn send_to(st: &DcState, id: u64, out: Out) {
    let inner = st.lock();
    if let Some(c) = inner.conn.as_ref().filter(|c| c.id == id) {
        let _ = c.tx.send(out);
    }
}

/// Detach the current connection and tell its task how to end.
pub(super) fn end_connection(st: &DcState, out: Out) {
    let conn = st.lock().conn.take();
    if let Some(c) = conn {
        let _ = c.tx.send(out);
    }
    st.bump();
}

fn on_frame(st: &DcState, conn: u64, path: &str, text: &str) {
    let Ok(p) = serde_json::from_str::<Value>(text) else {
        return;
    };
    let op = p["op"].as_u64().unwrap_or(u64::MAX).min(255) as u8;
    let d = p["d"].clone();
    st.lock().frames.push(GatewayFrame {
        connection: conn,
        path: path.to_string(),
        op,
        d: d.clone(),
    });
    st.bump();
    match op {
        1 if st.lock().ack_heartbeats => {
            send_to(st, conn, Out::Text(json!({"op": 11}).to_string()));
        }
        2 => identify(st, conn, &d),
        6 => resume(st, conn, &d),
        _ => {}
    }
}

fn token_ok(d: &Value) -> bool {
    d["token"].as_str() == Some(FAKE_DISCORD_TOKEN)
}

fn identify(st: &DcState, conn: u64, d: &Value) {
    if !token_ok(d) {
        return send_to(st, conn, Out::Close(4004, "Authentication failed.".into()));
    }
    let (fail, reject) = {
        let inner = st.lock();
        (inner.fail_identify.clone(), inner.reject_intents)
    };
    if let Some((code, reason)) = fail {
        return send_to(st, conn, Out::Close(code, reason));
    }
    let intents = d["intents"].as_u64().unwrap_or(0);
    if reject && intents & MESSAGE_CONTENT != 0 {
        return send_to(st, conn, Out::Close(4014, "Disallowed intent(s).".into()));
    }
    let (session_id, guilds, channels, pending) = {
        let mut inner = st.lock();
        inner.sessions += 1;
        let session_id = format!("fake-session-{}", inner.sessions);
        inner.session = Some(Session {
            id: session_id.clone(),
            seq: 0,
            log: Vec::new(),
        });
        if let Some(c) = inner.conn.as_mut().filter(|c| c.id == conn) {
            c.live = true;
        }
        (
            session_id,
            inner.guilds.clone(),
            inner.channels.clone(),
            std::mem::take(&mut inner.pending),
        )
    };
    let addr = st.addr;
    dispatch(
        st,
        "READY",
        json!({"v": 10, "user": bot_user(), "session_id": session_id,
               "resume_gateway_url": format!("ws://{addr}/resume"),
               "guilds": guilds.iter().map(|(id, _)| json!({"id": id, "unavailable": true})).collect::<Vec<_>>(),
               "application": {"id": FAKE_DISCORD_BOT_ID, "flags": 0}, "_trace": ["fake-discord"]}),
    );
    for (id, name) in guilds {
        let own: Vec<Value> = channels
            .values()
            .filter(|c| c["guild_id"] == id.as_str() && c["type"] == 0)
            .map(|c| {
                let mut c = c.clone();
                if let Some(o) = c.as_object_mut() {
                    o.remove("guild_id");
                }
                c
            })
            .collect();
        dispatch(
            st,
            "GUILD_CREATE",
            json!({"id": id, "name": name, "unavailable": false, "member_count": 2,
                   "channels": own, "threads": [], "members": [], "roles": []}),
        );
    }
    for (t, d) in pending {
        dispatch(st, &t, d);
    }
}

fn resume(st: &DcState, conn: u64, d: &Value) {
    if !token_ok(d) {
        return send_to(st, conn, Out::Close(4004, "Authentication failed.".into()));
    }
    let from = d["seq"].as_u64().unwrap_or(0);
    let replay: Option<Vec<Value>> = {
        let mut inner = st.lock();
        let overlap = inner.replay_overlap;
        let known = inner
            .session
            .as_ref()
            .is_some_and(|s| Some(s.id.as_str()) == d["session_id"].as_str());
        if known && let Some(c) = inner.conn.as_mut().filter(|c| c.id == conn) {
            c.live = true;
        }
        inner.session.as_ref().filter(|_| known).map(|s| {
            let first_new = s.log.iter().position(|(seq, _)| *seq > from);
            let mut start = first_new.unwrap_or(s.log.len());
            if overlap
                && let Some(i) = s.log[..start]
                    .iter()
                    .rposition(|(_, p)| p["t"] == "MESSAGE_CREATE")
            {
                start = i;
            }
            s.log[start..].iter().map(|(_, p)| p.clone()).collect()
        })
    };
    match replay {
        Some(events) => {
            for p in events {
                send_to(st, conn, Out::Text(p.to_string()));
            }
            dispatch(st, "RESUMED", json!({"_trace": ["fake-discord"]}));
        }
        None => send_to(
            st,
            conn,
            Out::Text(json!({"op": 9, "d": false}).to_string()),
        ),
    }
}

/// Log a dispatch with the next sequence number and send it to a live connection. Before the
/// first session exists, events wait and follow READY.
pub(super) fn dispatch(st: &DcState, t: &str, d: Value) {
    {
        let mut inner = st.lock();
        let inner = &mut *inner;
        let Some(session) = inner.session.as_mut() else {
            inner.pending.push((t.to_string(), d));
            return;
        };
        session.seq += 1;
        let payload = json!({"op": 0, "t": t, "s": session.seq, "d": d});
        session.log.push((session.seq, payload.clone()));
        if session.log.len() > LOG_MAX {
            session.log.remove(0);
        }
        if let Some(c) = inner.conn.as_ref().filter(|c| c.live) {
            let _ = c.tx.send(Out::Text(payload.to_string()));
        }
    }
    st.bump();
}
