//! A fake Discord on `127.0.0.1:0`: the REST API v10 under `/api/v10` and the gateway
//! WebSocket at `/` (and the resume URL at `/resume/`), with Discord's real JSON shapes, opcodes
//! and close codes.
//!
//! REST checks `Authorization: Bot <token>` (401 `{"message": "401: Unauthorized", "code": 0}`
//! otherwise), serves `GET /gateway/bot`, `GET /users/@me`, `GET /channels/{id}`,
//! `POST /channels/{id}/messages` (400 over 2000 characters; 429 with `retry_after` on demand),
//! `POST /channels/{id}/typing` and `POST /users/@me/channels`, and records every call.
//!
//! The gateway sends HELLO, answers IDENTIFY with READY (then a GUILD_CREATE per added guild),
//! ACKs heartbeats (unless told not to), and keeps one session's dispatch log with sequence
//! numbers: a RESUME with the session id replays what came after the client's `seq`, then
//! RESUMED; an unknown session gets INVALID_SESSION. Events pushed while no client is connected
//! wait in the log. Faults on demand: drop the socket, close with a code, refuse IDENTIFY with a
//! code, refuse the Message Content intent (4014), stop ACKing heartbeats.

mod gateway;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use serde_json::{Value, json};
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

/// The token the fake accepts.
pub const FAKE_DISCORD_TOKEN: &str = "MTAwMDAwMDAwMDAwMDAwMDAx.fake.discord-test-token";
pub const FAKE_DISCORD_BOT_ID: &str = "100000000000000001";
pub const FAKE_DISCORD_BOT_NAME: &str = "openclaw_test_bot";
/// `MESSAGE_CONTENT`, the privileged intent [`FakeDiscord::reject_privileged_intents`] refuses.
const MESSAGE_CONTENT: u64 = 1 << 15;
/// Dispatches kept for RESUME.
const LOG_MAX: usize = 1000;
/// How long the wait helpers wait before failing the test with what was seen.
const WAIT_LIMIT: Duration = Duration::from_secs(60);

/// One REST call as the server received it.
#[derive(Debug, Clone, PartialEq)]
pub struct RestCall {
    pub method: String,
    pub path: String,
    pub body: Value,
    pub status: u16,
}

/// One gateway frame a client sent.
#[derive(Debug, Clone, PartialEq)]
pub struct GatewayFrame {
    /// 1 for the first connection, 2 for the next, …
    pub connection: u64,
    /// `/` or `/resume/`.
    pub path: String,
    pub op: u8,
    pub d: Value,
}

/// What the connection task should do next.
enum Out {
    Text(String),
    Close(u16, String),
    Drop,
}

struct Conn {
    id: u64,
    tx: mpsc::UnboundedSender<Out>,
    /// IDENTIFY or RESUME went through: dispatches flow.
    live: bool,
}

struct Session {
    id: String,
    seq: u64,
    log: Vec<(u64, Value)>,
}

struct Inner {
    next_id: u64,
    calls: Vec<RestCall>,
    frames: Vec<GatewayFrame>,
    rate_limit_next: usize,
    channels: HashMap<String, Value>,
    guilds: Vec<(String, String)>,
    dm_channels: HashMap<String, String>,
    heartbeat_ms: u64,
    ack_heartbeats: bool,
    reject_intents: bool,
    fail_identify: Option<(u16, String)>,
    replay_overlap: bool,
    connections: u64,
    sessions: u64,
    session: Option<Session>,
    /// Events pushed before the first session: sent after READY.
    pending: Vec<(String, Value)>,
    conn: Option<Conn>,
}

struct DcState {
    inner: Mutex<Inner>,
    version: watch::Sender<u64>,
    addr: SocketAddr,
    stop: CancellationToken,
}

impl DcState {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn bump(&self) {
        self.version.send_modify(|v| *v += 1);
    }

    fn record_call(&self, method: &Method, path: &str, body: &Value, status: StatusCode) {
        self.lock().calls.push(RestCall {
            method: method.to_string(),
            path: path.to_string(),
            body: body.clone(),
            status: status.as_u16(),
        });
        self.bump();
    }
}

fn bot_user() -> Value {
    json!({"id": FAKE_DISCORD_BOT_ID, "username": FAKE_DISCORD_BOT_NAME, "global_name": null,
           "discriminator": "0", "avatar": null, "bot": true})
}

fn user(id: &str) -> Value {
    json!({"id": id, "username": format!("user{id}"), "global_name": format!("User {id}"),
           "discriminator": "0", "avatar": null})
}

/// `<@id>` / `<@!id>` tokens of `content`, as Discord resolves them into `mentions`.
fn mentions_in(content: &str) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    let mut rest = content;
    while let Some(i) = rest.find("<@") {
        rest = &rest[i + 2..];
        let inner = rest.trim_start_matches('!');
        let digits: String = inner.chars().take_while(char::is_ascii_digit).collect();
        if !digits.is_empty() && inner[digits.len()..].starts_with('>') {
            let u = if digits == FAKE_DISCORD_BOT_ID {
                bot_user()
            } else {
                user(&digits)
            };
            if !out.iter().any(|m| m["id"] == u["id"]) {
                out.push(u);
            }
        }
    }
    out
}

/// A running fake. Dropping it stops the server.
pub struct FakeDiscord {
    /// What to put in `OPENCLAW_DISCORD_API_ROOT`: `http://127.0.0.1:<port>/api/v10`.
    pub api_root: String,
    pub addr: SocketAddr,
    state: Arc<DcState>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl FakeDiscord {
    /// A fake whose HELLO asks for a heartbeat every 45 s (Discord's usual figure).
    pub async fn start() -> FakeDiscord {
        FakeDiscord::with_heartbeat(Duration::from_millis(41_250)).await
    }

    /// Binding port 0 on loopback cannot fail on a working test host; a panic names the cause.
    #[allow(clippy::expect_used)]
    pub async fn with_heartbeat(interval: Duration) -> FakeDiscord {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("fake discord: bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("fake discord: local_addr");
        let stop = CancellationToken::new();
        let state = Arc::new(DcState {
            inner: Mutex::new(Inner {
                next_id: 1_200_000_000_000_000_000,
                calls: Vec::new(),
                frames: Vec::new(),
                rate_limit_next: 0,
                channels: HashMap::new(),
                guilds: Vec::new(),
                dm_channels: HashMap::new(),
                heartbeat_ms: interval.as_millis().max(1) as u64,
                ack_heartbeats: true,
                reject_intents: false,
                fail_identify: None,
                replay_overlap: false,
                connections: 0,
                sessions: 0,
                session: None,
                pending: Vec::new(),
                conn: None,
            }),
            version: watch::channel(0).0,
            addr,
            stop: stop.clone(),
        });
        let app = Router::new()
            .route("/", get(gateway::upgrade))
            .route("/resume/", get(gateway::upgrade))
            .route("/api/v10/{*path}", any(rest))
            .with_state(state.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(stop.cancelled_owned())
                .await;
        });
        FakeDiscord {
            api_root: format!("http://{addr}/api/v10"),
            addr,
            state,
            task: Some(task),
        }
    }

    fn next_id(&self) -> String {
        let mut inner = self.state.lock();
        inner.next_id += 1;
        inner.next_id.to_string()
    }

    /// A guild with text channels `(id, name)`, announced by GUILD_CREATE after READY and
    /// served by `GET /channels/{id}`.
    pub fn add_guild(&self, id: &str, name: &str, channels: &[(&str, &str)]) {
        let mut inner = self.state.lock();
        inner.guilds.push((id.to_string(), name.to_string()));
        for (cid, cname) in channels {
            inner.channels.insert(
                cid.to_string(),
                json!({"id": cid, "type": 0, "guild_id": id, "name": cname, "parent_id": null}),
            );
        }
    }

    /// A public thread under `parent` (served by `GET /channels/{id}` only, as a thread the
    /// client has not seen announced).
    pub fn add_thread(&self, guild: &str, id: &str, parent: &str, name: &str) {
        self.state.lock().channels.insert(
            id.to_string(),
            json!({"id": id, "type": 11, "guild_id": guild, "name": name, "parent_id": parent}),
        );
    }

    /// Dispatch an event to the connected client (or keep it for the next RESUME).
    pub fn dispatch(&self, t: &str, d: Value) {
        gateway::dispatch(&self.state, t, d);
    }

    fn dm_channel_for(&self, user_id: &str) -> String {
        let existing = self.state.lock().dm_channels.get(user_id).cloned();
        existing.unwrap_or_else(|| {
            let id = self.next_id();
            self.state
                .lock()
                .dm_channels
                .insert(user_id.to_string(), id.clone());
            id
        })
    }

    /// A DM from `user_id`; returns the message id.
    pub fn push_dm(&self, user_id: &str, content: &str) -> String {
        let channel = self.dm_channel_for(user_id);
        let id = self.next_id();
        self.dispatch(
            "MESSAGE_CREATE",
            json!({"id": id, "channel_id": channel, "type": 0, "content": content,
                   "author": user(user_id), "mentions": mentions_in(content),
                   "mention_roles": [], "mention_everyone": false, "attachments": [], "embeds": [],
                   "timestamp": "2026-02-06T12:00:00.000000+00:00", "tts": false, "pinned": false,
                   "flags": 0, "referenced_message": null}),
        );
        id
    }

    /// A message from `user_id` in a guild channel (`<@id>` in `content` become mentions, as
    /// Discord resolves them); returns the message id.
    pub fn push_guild(&self, guild: &str, channel: &str, user_id: &str, content: &str) -> String {
        let id = self.next_id();
        self.dispatch(
            "MESSAGE_CREATE",
            json!({"id": id, "channel_id": channel, "guild_id": guild, "type": 0,
                   "content": content, "author": user(user_id),
                   "member": {"roles": [], "nick": null, "joined_at": "2026-01-01T00:00:00.000000+00:00"},
                   "mentions": mentions_in(content), "mention_roles": [], "mention_everyone": false,
                   "attachments": [], "embeds": [], "timestamp": "2026-02-06T12:00:00.000000+00:00",
                   "tts": false, "pinned": false, "flags": 0, "referenced_message": null}),
        );
        id
    }

    /// The DM channel id the fake uses for `user_id`.
    pub fn dm_channel(&self, user_id: &str) -> String {
        self.dm_channel_for(user_id)
    }

    /// Answer the next `n` message posts with 429 (`retry_after` 0.05 s).
    pub fn rate_limit_next(&self, n: usize) {
        self.state.lock().rate_limit_next = n;
    }

    /// Stop (or resume) ACKing heartbeats.
    pub fn set_heartbeat_acks(&self, on: bool) {
        self.state.lock().ack_heartbeats = on;
    }

    /// Close IDENTIFY requests that ask for Message Content with 4014, as Discord does when the
    /// intent is not enabled in the developer portal.
    pub fn reject_privileged_intents(&self) {
        self.state.lock().reject_intents = true;
    }

    /// Close every IDENTIFY with `code` (4004 for a revoked token).
    pub fn fail_identify(&self, code: u16, reason: &str) {
        self.state.lock().fail_identify = Some((code, reason.to_string()));
    }

    /// On RESUME, replay one event the client already had too (at-least-once delivery).
    pub fn replay_overlap(&self, on: bool) {
        self.state.lock().replay_overlap = on;
    }

    /// Forget the session, as Discord does when one expires: a RESUME gets INVALID_SESSION
    /// (`d: false`), and events wait for the next READY.
    pub fn invalidate_session(&self) {
        self.state.lock().session = None;
    }

    /// Drop the client's socket without a close frame; the session stays resumable.
    pub fn drop_connection(&self) {
        gateway::end_connection(&self.state, Out::Drop);
    }

    /// Close the client's socket with `code`.
    pub fn close_connection(&self, code: u16, reason: &str) {
        gateway::end_connection(&self.state, Out::Close(code, reason.to_string()));
    }

    /// WebSocket connections accepted so far.
    pub fn connections(&self) -> u64 {
        self.state.lock().connections
    }

    /// Every REST call so far, in arrival order.
    pub fn calls(&self) -> Vec<RestCall> {
        self.state.lock().calls.clone()
    }

    /// Every gateway frame clients sent, in arrival order.
    pub fn frames(&self) -> Vec<GatewayFrame> {
        self.state.lock().frames.clone()
    }

    /// The gateway frames with opcode `op`.
    pub fn frames_with(&self, op: u8) -> Vec<GatewayFrame> {
        self.frames().into_iter().filter(|f| f.op == op).collect()
    }

    /// The messages posted successfully: `{id, channel_id, content, message_reference?}`.
    pub fn sent(&self) -> Vec<Value> {
        self.calls()
            .into_iter()
            .filter(|c| c.method == "POST" && c.path.ends_with("/messages") && c.status == 200)
            .map(|c| {
                let channel = c.path.split('/').nth(2).unwrap_or_default().to_string();
                let mut v = c.body.clone();
                v["channel_id"] = json!(channel);
                v
            })
            .collect()
    }

    async fn wait_until(&self, what: &str, pred: impl Fn(&FakeDiscord) -> bool) {
        let mut rx = self.state.version.subscribe();
        let deadline = tokio::time::Instant::now() + WAIT_LIMIT;
        loop {
            if pred(self) {
                return;
            }
            match tokio::time::timeout_at(deadline, rx.changed()).await {
                Ok(Ok(())) => {}
                _ => panic!(
                    "fake discord: gave up waiting for {what}; REST calls: {:#?}; gateway frames: {:#?}",
                    self.calls(),
                    self.frames()
                ),
            }
        }
    }

    /// Wait until `pred` holds over the REST calls; panics (with everything seen) after a minute.
    pub async fn wait_for(&self, what: &str, pred: impl Fn(&[RestCall]) -> bool) {
        self.wait_until(what, |f| pred(&f.calls())).await;
    }

    /// Wait until `pred` holds over the gateway frames clients sent.
    pub async fn wait_frames(&self, what: &str, pred: impl Fn(&[GatewayFrame]) -> bool) {
        self.wait_until(what, |f| pred(&f.frames())).await;
    }

    /// Wait until at least `n` messages were posted successfully; returns them all.
    pub async fn wait_sent(&self, n: usize) -> Vec<Value> {
        self.wait_until(&format!("{n} sent message(s)"), |f| f.sent().len() >= n)
            .await;
        self.sent()
    }

    pub async fn shutdown(mut self) {
        self.state.stop.cancel();
        if let Some(t) = self.task.take() {
            let _ = tokio::time::timeout(Duration::from_secs(5), t).await;
        }
    }
}

impl Drop for FakeDiscord {
    fn drop(&mut self) {
        self.state.stop.cancel();
        if let Some(t) = self.task.take() {
            t.abort();
        }
    }
}

fn answer(status: StatusCode, body: Value) -> Response {
    (status, axum::Json(body)).into_response()
}

fn error(status: StatusCode, code: u64, message: &str) -> Response {
    answer(status, json!({"message": message, "code": code}))
}

/// Every REST route.
async fn rest(
    State(st): State<Arc<DcState>>,
    method: Method,
    Path(path): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = format!("/{path}");
    let body: Value = if body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&body).unwrap_or(Value::Null)
    };
    let authorized = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == format!("Bot {FAKE_DISCORD_TOKEN}"));
    let (status, resp) = if authorized {
        route(&st, &method, &path, &body)
    } else {
        let s = StatusCode::UNAUTHORIZED;
        (s, error(s, 0, "401: Unauthorized"))
    };
    st.record_call(&method, &path, &body, status);
    resp
}

fn route(st: &DcState, method: &Method, path: &str, body: &Value) -> (StatusCode, Response) {
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    let ok = |v: Value| (StatusCode::OK, answer(StatusCode::OK, v));
    match (method.as_str(), parts.as_slice()) {
        ("GET", ["gateway", "bot"]) => ok(json!({
            "url": format!("ws://{}", st.addr), "shards": 1,
            "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 14_400_000, "max_concurrency": 1},
        })),
        ("GET", ["users", "@me"]) => ok(bot_user()),
        ("GET", ["channels", id]) => match st.lock().channels.get(*id).cloned() {
            Some(c) => ok(c),
            None => {
                let s = StatusCode::NOT_FOUND;
                (s, error(s, 10003, "Unknown Channel"))
            }
        },
        ("POST", ["users", "@me", "channels"]) => {
            let Some(user_id) = body["recipient_id"].as_str().map(str::to_string) else {
                let s = StatusCode::BAD_REQUEST;
                return (s, error(s, 50035, "Invalid Form Body"));
            };
            let mut inner = st.lock();
            let id = match inner.dm_channels.get(&user_id) {
                Some(c) => c.clone(),
                None => {
                    inner.next_id += 1;
                    let id = inner.next_id.to_string();
                    inner.dm_channels.insert(user_id.clone(), id.clone());
                    id
                }
            };
            ok(
                json!({"id": id, "type": 1, "last_message_id": null, "recipients": [user(&user_id)]}),
            )
        }
        ("POST", ["channels", _, "typing"]) => (
            StatusCode::NO_CONTENT,
            StatusCode::NO_CONTENT.into_response(),
        ),
        ("POST", ["channels", id, "messages"]) => post_message(st, id, body),
        _ => {
            let s = StatusCode::NOT_FOUND;
            (s, error(s, 0, "404: Not Found"))
        }
    }
}

fn post_message(st: &DcState, channel: &str, body: &Value) -> (StatusCode, Response) {
    {
        let mut inner = st.lock();
        if inner.rate_limit_next > 0 {
            inner.rate_limit_next -= 1;
            let s = StatusCode::TOO_MANY_REQUESTS;
            let resp = (
                s,
                [("retry-after", "1"), ("x-ratelimit-scope", "user")],
                axum::Json(
                    json!({"message": "You are being rate limited.", "retry_after": 0.05, "global": false}),
                ),
            )
                .into_response();
            return (s, resp);
        }
    }
    let content = body["content"].as_str().unwrap_or("");
    if content.trim().is_empty() {
        let s = StatusCode::BAD_REQUEST;
        return (s, error(s, 50006, "Cannot send an empty message"));
    }
    if content.chars().count() > 2000 {
        let s = StatusCode::BAD_REQUEST;
        return (
            s,
            answer(
                s,
                json!({"message": "Invalid Form Body", "code": 50035, "errors": {"content": {"_errors": [
                    {"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 2000 or fewer in length."}]}}}),
            ),
        );
    }
    let id = {
        let mut inner = st.lock();
        inner.next_id += 1;
        inner.next_id.to_string()
    };
    let mut msg = json!({"id": id, "channel_id": channel, "type": 0, "content": content,
        "author": bot_user(), "mentions": [], "mention_roles": [], "attachments": [], "embeds": [],
        "timestamp": "2026-02-06T12:00:01.000000+00:00", "tts": false, "pinned": false, "flags": 0});
    if let Some(r) = body.get("message_reference") {
        msg["message_reference"] = r.clone();
        msg["type"] = json!(19);
    }
    (StatusCode::OK, answer(StatusCode::OK, msg))
}
