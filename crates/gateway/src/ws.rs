//! WebSocket connections: the handshake (`connect.challenge` → `connect` → `hello-ok`), then
//! a reader loop that turns frames into method calls, and a writer task that owns the socket's
//! send half. Events reach a connection through the bus, are filtered by scope and caps, and
//! are numbered with a per-connection `seq` here, in one place.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message as WsMessage, Utf8Bytes, WebSocket};
use futures::{SinkExt, StreamExt};
use openclaw_protocol::{
    ChallengePayload, ConnectParams, ErrorShape, EventFrame, Features, Frame, HelloAuth, HelloOk,
    RequestFrame, ResponseFrame, Role, Scope, ServerInfo, SessionDefaults, Snapshot, TickPayload,
    close_codes, codes, detail_codes, names, negotiate_protocol, now_ms,
};
use serde_json::{Value, json};
use tokio::sync::{Semaphore, mpsc};

use crate::auth::{AuthMethod, check_connect_auth};
use crate::events::BusEvent;
use crate::methods::{self, CallCtx};
use crate::state::{PresenceEntry, SharedState};

/// Frames waiting to be written to one client. A client this far behind is closed as a slow
/// consumer instead of being buffered without bound.
const OUTBOUND_CAPACITY: usize = 2048;
/// Requests one connection may have in flight at once.
const MAX_INFLIGHT_REQUESTS: usize = 64;

pub enum Outbound {
    Text(String),
    Close(u16, String),
}

/// Facts about the peer, captured at upgrade time.
#[derive(Debug, Clone)]
pub struct PeerInfo {
    pub addr: SocketAddr,
    pub origin: Option<String>,
    /// Result of the browser origin policy, decided at upgrade time from Origin + Host.
    pub origin_allowed: bool,
    /// The request carried proxy headers (`X-Forwarded-For`, `Forwarded`, `X-Real-IP`).
    pub forwarded: bool,
}

impl PeerInfo {
    pub fn is_browser(&self) -> bool {
        self.origin.is_some()
    }

    /// A direct loopback connection: loopback peer and no proxy in between. Only these are
    /// trusted for automatic device approval.
    pub fn is_direct_loopback(&self) -> bool {
        self.addr.ip().is_loopback() && !self.forwarded
    }
}

/// The authenticated identity of a connection.
#[derive(Debug, Clone)]
pub struct ConnIdentity {
    pub conn_id: String,
    pub role: Role,
    pub scopes: Vec<Scope>,
    pub caps: Vec<String>,
    pub protocol: u32,
    pub client: openclaw_protocol::ClientInfo,
    pub auth_method: AuthMethod,
    pub device_id: Option<String>,
}

impl ConnIdentity {
    pub fn has_scope(&self, needed: Scope) -> bool {
        openclaw_protocol::scopes_satisfy(&self.scopes, needed)
    }

    pub fn has_cap(&self, cap: &str) -> bool {
        self.caps.iter().any(|c| c == cap)
    }
}

pub async fn serve_socket(state: SharedState, socket: WebSocket, peer: PeerInfo) {
    let (mut sink, mut stream) = socket.split();
    let (out_tx, mut out_rx) = mpsc::channel::<Outbound>(OUTBOUND_CAPACITY);

    let writer = tokio::spawn(async move {
        while let Some(msg) = out_rx.recv().await {
            match msg {
                Outbound::Text(t) => {
                    if sink
                        .send(WsMessage::Text(Utf8Bytes::from(t)))
                        .await
                        .is_err()
                    {
                        break;
                    }
                }
                Outbound::Close(code, reason) => {
                    let frame = CloseFrame {
                        code,
                        reason: Utf8Bytes::from(close_reason(&reason)),
                    };
                    let _ = sink.send(WsMessage::Close(Some(frame))).await;
                    break;
                }
            }
        }
        let _ = sink.close().await;
    });

    let nonce = uuid::Uuid::new_v4().to_string();
    let challenge = Frame::Event(EventFrame {
        event: names::CONNECT_CHALLENGE.into(),
        payload: Some(json!(ChallengePayload {
            nonce: nonce.clone(),
            ts: now_ms()
        })),
        seq: None,
        state_version: None,
    });
    let _ = out_tx.send(Outbound::Text(challenge.to_text())).await;

    let identity = match handshake(&state, &mut stream, &out_tx, &peer, &nonce).await {
        Ok(identity) => identity,
        Err(()) => {
            drop(out_tx);
            let _ = tokio::time::timeout(Duration::from_secs(2), writer).await;
            return;
        }
    };

    run_connection(
        &state,
        &mut stream,
        out_tx.clone(),
        &peer,
        Arc::new(identity),
    )
    .await;
    drop(out_tx);
    let _ = tokio::time::timeout(Duration::from_secs(2), writer).await;
}

fn close_reason(reason: &str) -> String {
    // RFC 6455: the close reason must fit in 123 bytes.
    let mut end = reason.len().min(123);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    reason[..end].to_string()
}

async fn reject(
    out: &mpsc::Sender<Outbound>,
    req_id: &str,
    error: ErrorShape,
    close_code: u16,
) -> Result<ConnIdentity, ()> {
    let reason = error.message.clone();
    let _ = out
        .send(Outbound::Text(
            Frame::Res(ResponseFrame::err(req_id, error)).to_text(),
        ))
        .await;
    let _ = out.send(Outbound::Close(close_code, reason)).await;
    Err(())
}

async fn handshake(
    state: &SharedState,
    stream: &mut futures::stream::SplitStream<WebSocket>,
    out: &mpsc::Sender<Outbound>,
    peer: &PeerInfo,
    nonce: &str,
) -> Result<ConnIdentity, ()> {
    let settings = &state.settings;
    let first = tokio::time::timeout(settings.handshake_timeout, stream.next()).await;
    let text = match first {
        Err(_) => {
            let _ = out
                .send(Outbound::Close(
                    close_codes::POLICY,
                    "handshake timeout".into(),
                ))
                .await;
            return Err(());
        }
        Ok(None) | Ok(Some(Err(_))) => return Err(()),
        Ok(Some(Ok(WsMessage::Text(t)))) => t,
        Ok(Some(Ok(_))) => {
            let _ = out
                .send(Outbound::Close(
                    close_codes::PROTOCOL,
                    "first frame must be a connect request".into(),
                ))
                .await;
            return Err(());
        }
    };
    if text.len() > settings.max_preauth_payload {
        let _ = out
            .send(Outbound::Close(
                close_codes::TOO_BIG,
                "payload too large".into(),
            ))
            .await;
        return Err(());
    }
    let req: RequestFrame = match serde_json::from_str::<Frame>(text.as_str()) {
        Ok(Frame::Req(r)) if r.method == "connect" => r,
        _ => {
            let _ = out
                .send(Outbound::Close(
                    close_codes::PROTOCOL,
                    "invalid handshake: first frame must be a connect request".into(),
                ))
                .await;
            return Err(());
        }
    };
    let params: ConnectParams = match req.params.clone().map(serde_json::from_value) {
        Some(Ok(p)) => p,
        Some(Err(e)) => {
            let err = ErrorShape::new(
                codes::INVALID_REQUEST,
                format!("invalid connect params: {e}"),
            )
            .with_details(json!({"code": detail_codes::INVALID_PARAMS}));
            return reject(out, &req.id, err, close_codes::POLICY).await;
        }
        None => {
            let err = ErrorShape::new(
                codes::INVALID_REQUEST,
                "invalid connect params: params required",
            )
            .with_details(json!({"code": detail_codes::INVALID_PARAMS}));
            return reject(out, &req.id, err, close_codes::POLICY).await;
        }
    };

    let Some(protocol) = negotiate_protocol(params.min_protocol, params.max_protocol) else {
        let msg = format!(
            "protocol mismatch: client min={} max={}, gateway speaks {}..{}",
            params.min_protocol,
            params.max_protocol,
            openclaw_protocol::PROTOCOL_MIN,
            openclaw_protocol::PROTOCOL_MAX
        );
        let err = ErrorShape::new(codes::INVALID_REQUEST, msg)
            .with_details(json!({"code": detail_codes::PROTOCOL_MISMATCH}));
        return reject(out, &req.id, err, close_codes::PROTOCOL).await;
    };

    if !peer.origin_allowed {
        let err = ErrorShape::new(
            codes::INVALID_REQUEST,
            "origin not allowed (open the Control UI from the gateway host or allow it in gateway.controlUi.allowedOrigins)",
        )
        .with_details(json!({"code": detail_codes::CONTROL_UI_ORIGIN_NOT_ALLOWED, "origin": peer.origin}));
        return reject(out, &req.id, err, close_codes::POLICY).await;
    }
    let ip = peer.addr.ip();
    if let Err(wait) = state.rate_limiter.check(ip, peer.is_browser()) {
        let failure = crate::auth::AuthFailure::RateLimited {
            retry_after_ms: wait.as_millis() as u64,
        };
        return reject(out, &req.id, failure.to_error(), close_codes::POLICY).await;
    }

    let mut device_scopes: Option<Vec<String>> = None;
    let auth_method = match check_connect_auth(&settings.auth, params.auth.as_ref()) {
        Ok(m) => m,
        Err(failure) => match device_token_login(state, &params) {
            Some(scopes) => {
                device_scopes = Some(scopes);
                AuthMethod::DeviceToken
            }
            None => {
                state.rate_limiter.record_failure(ip, peer.is_browser());
                tracing::warn!(ip = %ip, reason = failure.detail_code(), client = %params.client.id, "connect rejected");
                return reject(out, &req.id, failure.to_error(), close_codes::POLICY).await;
            }
        },
    };
    state.rate_limiter.record_success(ip);

    let (device_id, device_token, approved) =
        match crate::pairing::evaluate(state, &params, nonce, peer).await {
            crate::pairing::DeviceOutcome::Anonymous => (None, None, None),
            crate::pairing::DeviceOutcome::Paired {
                device_id,
                token,
                approved_scopes,
            } => (Some(device_id), Some(token), Some(approved_scopes)),
            crate::pairing::DeviceOutcome::Refused(err) => {
                let reason = if err.detail_code() == Some(detail_codes::PAIRING_REQUIRED) {
                    "pairing required".to_string()
                } else {
                    err.message.clone()
                };
                let _ = out
                    .send(Outbound::Text(
                        Frame::Res(ResponseFrame::err(&req.id, err)).to_text(),
                    ))
                    .await;
                let _ = out.send(Outbound::Close(close_codes::POLICY, reason)).await;
                return Err(());
            }
        };

    let role = match params.role.as_deref().unwrap_or("operator") {
        "operator" => Role::Operator,
        other => {
            let err = ErrorShape::new(
                codes::INVALID_REQUEST,
                format!("role {other:?} is not supported by this gateway (operator only)"),
            )
            .with_details(json!({"code": detail_codes::INVALID_PARAMS}));
            return reject(out, &req.id, err, close_codes::POLICY).await;
        }
    };
    let mut scopes: Vec<Scope> = match &params.scopes {
        Some(list) => list.iter().filter_map(|s| Scope::parse(s)).collect(),
        None => vec![Scope::Read, Scope::Write],
    };
    // A device-token login holds at most what that device was approved for.
    if let Some(limit) = device_scopes.or(if auth_method == AuthMethod::DeviceToken {
        approved
    } else {
        None
    }) {
        let limit: Vec<Scope> = limit.iter().filter_map(|s| Scope::parse(s)).collect();
        scopes.retain(|s| openclaw_protocol::scopes_satisfy(&limit, *s));
    }

    let conn_id = uuid::Uuid::new_v4().to_string();
    let identity = ConnIdentity {
        conn_id: conn_id.clone(),
        role,
        scopes,
        caps: params.caps.clone().unwrap_or_default(),
        protocol,
        client: params.client.clone(),
        auth_method,
        device_id,
    };

    let hello = hello_ok(state, &identity, device_token);
    let res = ResponseFrame::ok(req.id, json!(hello));
    if out
        .send(Outbound::Text(Frame::Res(res).to_text()))
        .await
        .is_err()
    {
        return Err(());
    }
    tracing::info!(conn = %conn_id, client = %identity.client.id, protocol, "client connected");
    Ok(identity)
}

fn hello_ok(state: &SharedState, id: &ConnIdentity, device_token: Option<String>) -> HelloOk {
    let s = &state.settings;
    let snapshot = Snapshot {
        presence: state.presence_list(),
        health: methods::system::health_snapshot(state),
        state_version: state.state_version(),
        uptime_ms: state.uptime_ms(),
        config_path: s.config_path.display().to_string(),
        state_dir: s.state_dir.display().to_string(),
        session_defaults: SessionDefaults {
            default_agent_id: s.default_agent_id.clone(),
            main_key: s.main_key.clone(),
            main_session_key: s.main_session_key(),
            scope: "per-sender".into(),
        },
        auth_mode: Some(s.auth.mode_name().into()),
    };
    HelloOk {
        kind: "hello-ok".into(),
        protocol: id.protocol,
        server: ServerInfo {
            version: s.version.clone(),
            host: Some(s.host_name.clone()),
            conn_id: id.conn_id.clone(),
        },
        features: Features {
            methods: methods::METHODS.iter().map(|m| m.to_string()).collect(),
            events: methods::EVENTS.iter().map(|e| e.to_string()).collect(),
        },
        snapshot: json!(snapshot),
        auth: Some(HelloAuth {
            role: id.role.as_str().into(),
            scopes: id.scopes.iter().map(|s| s.as_str().to_string()).collect(),
            device_token,
            issued_at_ms: Some(now_ms()),
            method: Some(id.auth_method.as_str().into()),
        }),
        policy: s.policy,
    }
}

async fn run_connection(
    state: &SharedState,
    stream: &mut futures::stream::SplitStream<WebSocket>,
    out: mpsc::Sender<Outbound>,
    peer: &PeerInfo,
    identity: Arc<ConnIdentity>,
) {
    state.add_presence(PresenceEntry {
        conn_id: identity.conn_id.clone(),
        client_id: identity.client.id.clone(),
        mode: identity.client.mode.clone(),
        platform: identity.client.platform.clone(),
        version: identity.client.version.clone(),
        ip: peer.addr.ip().to_string(),
        instance_id: identity.client.instance_id.clone(),
        roles: vec![identity.role.as_str().into()],
        scopes: identity.scopes.iter().map(|s| s.as_str().into()).collect(),
        ts: now_ms(),
    });

    let mut events = state.bus.subscribe();
    let tick_every = Duration::from_millis(state.settings.policy.tick_interval_ms.max(10));
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + tick_every, tick_every);
    let inflight = Arc::new(Semaphore::new(MAX_INFLIGHT_REQUESTS));
    let mut seq: u64 = 0;
    let max_payload = state.settings.policy.max_payload as usize;
    let shutdown = state.shutdown.clone();
    let mut tasks = tokio::task::JoinSet::new();

    loop {
        tokio::select! {
            incoming = stream.next() => {
                let text = match incoming {
                    None | Some(Err(_)) => break,
                    Some(Ok(WsMessage::Text(t))) => t,
                    Some(Ok(WsMessage::Close(_))) => break,
                    Some(Ok(WsMessage::Binary(_))) => {
                        let _ = out.send(Outbound::Close(close_codes::PROTOCOL, "binary frames are not supported".into())).await;
                        break;
                    }
                    Some(Ok(_)) => continue,
                };
                if text.len() > max_payload {
                    let _ = out.send(Outbound::Close(close_codes::TOO_BIG, "payload too large".into())).await;
                    break;
                }
                let req = match serde_json::from_str::<Frame>(text.as_str()) {
                    Ok(Frame::Req(r)) => r,
                    Ok(_) => continue,
                    Err(e) => {
                        tracing::debug!(error = %e, "unparseable frame");
                        continue;
                    }
                };
                let Ok(permit) = inflight.clone().acquire_owned().await else { break };
                let ctx = CallCtx {
                    state: state.clone(),
                    identity: identity.clone(),
                    request_id: req.id.clone(),
                    out: out.clone(),
                    peer_ip: peer.addr.ip(),
                };
                tasks.spawn(async move {
                    let frame = methods::dispatch(&ctx, &req.method, req.params.unwrap_or(Value::Null)).await;
                    let _ = ctx.out.send(Outbound::Text(Frame::Res(frame).to_text())).await;
                    drop(permit);
                });
            }
            ev = events.recv() => {
                let ev = match ev {
                    Ok(ev) => ev,
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                        let _ = out.send(Outbound::Close(close_codes::POLICY, "slow consumer: event backlog exceeded".into())).await;
                        break;
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                };
                if !should_deliver(&identity, &ev) {
                    continue;
                }
                seq += 1;
                if !push_event(&out, &ev.event, ev.payload.clone(), seq, ev.state_version) {
                    let _ = out.try_send(Outbound::Close(close_codes::POLICY, "slow consumer: outbound queue full".into()));
                    break;
                }
            }
            _ = tick.tick() => {
                seq += 1;
                if !push_event(&out, names::TICK, json!(TickPayload { ts: now_ms() }), seq, None) {
                    break;
                }
            }
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
            _ = shutdown.cancelled() => {
                seq += 1;
                let payload = json!({"reason": "gateway stopping", "restartExpectedMs": null});
                push_event(&out, names::SHUTDOWN, payload, seq, None);
                let _ = out.send(Outbound::Close(close_codes::GOING_AWAY, "gateway stopping".into())).await;
                break;
            }
        }
    }
    tasks.abort_all();
    state.remove_presence(&identity.conn_id);
    tracing::info!(conn = %identity.conn_id, "client disconnected");
}

/// A paired device may log in with its device token instead of the shared secret.
fn device_token_login(state: &SharedState, params: &ConnectParams) -> Option<Vec<String>> {
    let store = state.services.devices.as_ref()?;
    let device = params.device.as_ref()?;
    let auth = params.auth.as_ref()?;
    let token = auth.device_token.as_deref().or(auth.token.as_deref())?;
    let verified = store.verify_device_token(Some(&device.id), token, now_ms())?;
    Some(verified.scopes)
}

fn should_deliver(identity: &ConnIdentity, ev: &BusEvent) -> bool {
    if ev.tool_stream && !identity.has_cap("tool-events") {
        return false;
    }
    match ev.required_scope() {
        None => true,
        Some(scope) => identity.has_scope(scope),
    }
}

fn push_event(
    out: &mpsc::Sender<Outbound>,
    event: &str,
    payload: Value,
    seq: u64,
    state_version: Option<openclaw_protocol::StateVersion>,
) -> bool {
    let frame = Frame::Event(EventFrame {
        event: event.to_string(),
        payload: Some(payload),
        seq: Some(seq),
        state_version,
    });
    out.try_send(Outbound::Text(frame.to_text())).is_ok()
}
