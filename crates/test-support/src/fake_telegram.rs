//! A fake Telegram Bot API server on `127.0.0.1:0`.
//!
//! It speaks the real wire format (`POST /bot<token>/<method>` with a JSON body, answers
//! `{"ok":true,"result":…}` or `{"ok":false,"error_code":…,"description":…}`), checks the token,
//! long-polls `getUpdates` (queued updates are returned at once; otherwise the call waits for a
//! push or its `timeout`; an `offset` confirms earlier updates), records every call, and can
//! reject the next HTML `sendMessage`s with Telegram's real "can't parse entities" error.
//! Files added with [`FakeTelegram::add_file`] are found by `getFile` and served from
//! `GET /file/bot<token>/<file_path>`, as the real file endpoint does; each download is recorded
//! as a call named `downloadFile` with the `file_path`.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use tokio::sync::{Notify, watch};
use tokio_util::sync::CancellationToken;

/// The token the fake accepts.
pub const FAKE_BOT_TOKEN: &str = "123456:TEST-fake-token";
pub const FAKE_BOT_ID: i64 = 4242;
pub const FAKE_BOT_USERNAME: &str = "openclaw_test_bot";

/// How long the wait helpers wait before failing the test with what was seen.
const WAIT_LIMIT: Duration = Duration::from_secs(60);

/// One Bot API call as the server received it.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedCall {
    pub method: String,
    pub body: Value,
    /// Whether the fake answered `ok: true`.
    pub ok: bool,
}

#[derive(Default)]
struct Inner {
    next_update_id: i64,
    next_message_id: i64,
    queue: VecDeque<Value>,
    calls: Vec<RecordedCall>,
    reject_html: usize,
    /// file_id → (file_path, bytes, file_size getFile reports).
    files: HashMap<String, (String, Vec<u8>, Option<u64>)>,
}

struct TgState {
    inner: Mutex<Inner>,
    pushed: Notify,
    version: watch::Sender<u64>,
    stop: CancellationToken,
}

impl TgState {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn record(&self, method: &str, body: &Value, ok: bool) {
        self.lock().calls.push(RecordedCall {
            method: method.to_string(),
            body: body.clone(),
            ok,
        });
        self.version.send_modify(|v| *v += 1);
    }
}

/// A running fake. Dropping it stops the server.
pub struct FakeTelegram {
    /// What to put in `OPENCLAW_TELEGRAM_API_ROOT`: `http://127.0.0.1:<port>`.
    pub api_root: String,
    pub addr: SocketAddr,
    state: Arc<TgState>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl FakeTelegram {
    /// Binding port 0 on loopback cannot fail on a working test host; a panic names the cause.
    #[allow(clippy::expect_used)]
    pub async fn start() -> FakeTelegram {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("fake telegram: bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("fake telegram: local_addr");
        let stop = CancellationToken::new();
        let state = Arc::new(TgState {
            inner: Mutex::new(Inner {
                next_update_id: 1000,
                next_message_id: 1,
                ..Inner::default()
            }),
            pushed: Notify::new(),
            version: watch::channel(0).0,
            stop: stop.clone(),
        });
        let app = Router::new()
            .route("/{bot}/{method}", post(handle).get(handle))
            .route("/file/{bot}/{*path}", get(download))
            .with_state(state.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(stop.cancelled_owned())
                .await;
        });
        FakeTelegram {
            api_root: format!("http://{addr}"),
            addr,
            state,
            task: Some(task),
        }
    }

    /// Queue an update (its `update_id` is assigned); returns the id.
    pub fn push_update(&self, mut update: Value) -> i64 {
        let id = {
            let mut inner = self.state.lock();
            inner.next_update_id += 1;
            let id = inner.next_update_id;
            update["update_id"] = json!(id);
            inner.queue.push_back(update);
            id
        };
        self.state.pushed.notify_waiters();
        id
    }

    fn next_message_id(&self) -> i64 {
        let mut inner = self.state.lock();
        inner.next_message_id += 1;
        inner.next_message_id
    }

    /// A private message from user `from` (chat id = user id).
    pub fn push_dm(&self, from: i64, text: &str) -> i64 {
        let mid = self.next_message_id();
        self.push_update(json!({"message": {
            "message_id": mid, "date": 1_770_000_000,
            "chat": {"id": from, "type": "private", "first_name": format!("User{from}")},
            "from": {"id": from, "is_bot": false, "first_name": format!("User{from}"), "username": format!("user{from}")},
            "text": text,
        }}))
    }

    /// A message from user `from` in supergroup `chat`.
    pub fn push_group(&self, chat: i64, from: i64, text: &str) -> i64 {
        let mid = self.next_message_id();
        self.push_update(json!({"message": {
            "message_id": mid, "date": 1_770_000_000,
            "chat": {"id": chat, "type": "supergroup", "title": "Test group"},
            "from": {"id": from, "is_bot": false, "first_name": format!("User{from}"), "username": format!("user{from}")},
            "text": text,
        }}))
    }

    /// A private message from user `from` whose fields are `fields` (`photo`, `document`,
    /// `caption`, …) instead of a text.
    pub fn push_dm_with(&self, from: i64, fields: Value) -> i64 {
        let mid = self.next_message_id();
        let mut message = json!({
            "message_id": mid, "date": 1_770_000_000,
            "chat": {"id": from, "type": "private", "first_name": format!("User{from}")},
            "from": {"id": from, "is_bot": false, "first_name": format!("User{from}"), "username": format!("user{from}")},
        });
        if let (Some(m), Some(f)) = (message.as_object_mut(), fields.as_object()) {
            m.extend(f.clone());
        }
        self.push_update(json!({ "message": message }))
    }

    /// Serve `bytes` as the file `file_id`: `getFile` answers with `file_path` and its size,
    /// and the download route returns the bytes.
    pub fn add_file(&self, file_id: &str, file_path: &str, bytes: Vec<u8>) {
        let size = Some(bytes.len() as u64);
        self.add_file_reporting(file_id, file_path, bytes, size);
    }

    /// As [`add_file`](Self::add_file), with the `file_size` `getFile` reports (`None`: none).
    pub fn add_file_reporting(
        &self,
        file_id: &str,
        file_path: &str,
        bytes: Vec<u8>,
        reported_size: Option<u64>,
    ) {
        self.state.lock().files.insert(
            file_id.to_string(),
            (file_path.to_string(), bytes, reported_size),
        );
    }

    /// Answer the next `n` HTML `sendMessage` calls with the 400 Telegram gives for bad HTML.
    pub fn reject_html(&self, n: usize) {
        self.state.lock().reject_html = n;
    }

    /// Every call so far, in arrival order.
    pub fn calls(&self) -> Vec<RecordedCall> {
        self.state.lock().calls.clone()
    }

    /// Bodies of the `sendMessage` calls that succeeded.
    pub fn sent(&self) -> Vec<Value> {
        self.calls()
            .into_iter()
            .filter(|c| c.method == "sendMessage" && c.ok)
            .map(|c| c.body)
            .collect()
    }

    /// Wait until `pred` holds over the recorded calls; panics (with the calls) after a minute.
    pub async fn wait_for(&self, what: &str, pred: impl Fn(&[RecordedCall]) -> bool) {
        let mut rx = self.state.version.subscribe();
        let deadline = tokio::time::Instant::now() + WAIT_LIMIT;
        loop {
            if pred(&self.calls()) {
                return;
            }
            match tokio::time::timeout_at(deadline, rx.changed()).await {
                Ok(Ok(())) => {}
                _ => panic!(
                    "fake telegram: gave up waiting for {what}; calls so far: {:#?}",
                    self.calls()
                ),
            }
        }
    }

    /// Wait until at least `n` messages were sent successfully; returns them all.
    pub async fn wait_sent(&self, n: usize) -> Vec<Value> {
        self.wait_for(&format!("{n} sent message(s)"), |calls| {
            calls
                .iter()
                .filter(|c| c.method == "sendMessage" && c.ok)
                .count()
                >= n
        })
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

impl Drop for FakeTelegram {
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

fn ok(result: Value) -> Response {
    answer(StatusCode::OK, json!({"ok": true, "result": result}))
}

fn fail(code: u16, description: &str) -> Response {
    answer(
        StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST),
        json!({"ok": false, "error_code": code, "description": description}),
    )
}

fn bot_user() -> Value {
    json!({"id": FAKE_BOT_ID, "is_bot": true, "first_name": "OpenClaw Test", "username": FAKE_BOT_USERNAME,
           "can_join_groups": true, "can_read_all_group_messages": false, "supports_inline_queries": false})
}

async fn handle(
    State(st): State<Arc<TgState>>,
    Path((bot, method)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let body: Value = if body.is_empty() {
        json!({})
    } else {
        serde_json::from_slice(&body).unwrap_or(Value::Null)
    };
    if bot != format!("bot{FAKE_BOT_TOKEN}") {
        st.record(&method, &body, false);
        return fail(401, "Unauthorized");
    }
    match method.as_str() {
        "getMe" => {
            st.record(&method, &body, true);
            ok(bot_user())
        }
        "getUpdates" => {
            st.record(&method, &body, true);
            get_updates(&st, &body).await
        }
        "sendMessage" => send_message(&st, &body),
        "getFile" => get_file(&st, &body),
        "sendChatAction" | "deleteWebhook" | "setMyCommands" => {
            st.record(&method, &body, true);
            ok(json!(true))
        }
        _ => {
            st.record(&method, &body, false);
            fail(404, "Not Found")
        }
    }
}

fn get_file(st: &TgState, body: &Value) -> Response {
    let id = body.get("file_id").and_then(Value::as_str).unwrap_or("");
    let found = st.lock().files.get(id).map(|(p, _, n)| (p.clone(), *n));
    st.record("getFile", body, found.is_some());
    match found {
        Some((path, size)) => {
            let mut file =
                json!({"file_id": id, "file_unique_id": format!("u-{id}"), "file_path": path});
            if let Some(n) = size {
                file["file_size"] = json!(n);
            }
            ok(file)
        }
        None => fail(400, "Bad Request: invalid file_id"),
    }
}

/// `GET /file/bot<token>/<file_path>`: the bytes, or the 404 the real endpoint gives.
async fn download(
    State(st): State<Arc<TgState>>,
    Path((bot, path)): Path<(String, String)>,
) -> Response {
    let bytes = if bot == format!("bot{FAKE_BOT_TOKEN}") {
        st.lock()
            .files
            .values()
            .find(|(p, _, _)| *p == path)
            .map(|(_, b, _)| b.clone())
    } else {
        None
    };
    st.record("downloadFile", &json!({"file_path": path}), bytes.is_some());
    match bytes {
        Some(b) => (
            StatusCode::OK,
            [("content-type", "application/octet-stream")],
            b,
        )
            .into_response(),
        None => fail(404, "Not Found"),
    }
}

async fn get_updates(st: &TgState, body: &Value) -> Response {
    let offset = body.get("offset").and_then(Value::as_i64).unwrap_or(0);
    let wait = Duration::from_secs(body.get("timeout").and_then(Value::as_u64).unwrap_or(0));
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let notified = st.pushed.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        {
            let mut inner = st.lock();
            // An offset confirms every earlier update.
            while inner
                .queue
                .front()
                .and_then(|u| u["update_id"].as_i64())
                .is_some_and(|id| id < offset)
            {
                inner.queue.pop_front();
            }
            if !inner.queue.is_empty() {
                let batch: Vec<Value> = inner.queue.iter().take(100).cloned().collect();
                return ok(Value::Array(batch));
            }
        }
        tokio::select! {
            _ = &mut notified => {}
            _ = tokio::time::sleep_until(deadline) => return ok(json!([])),
            _ = st.stop.cancelled() => return ok(json!([])),
        }
    }
}

fn send_message(st: &TgState, body: &Value) -> Response {
    let html = body.get("parse_mode").and_then(Value::as_str) == Some("HTML");
    let reject = {
        let mut inner = st.lock();
        if html && inner.reject_html > 0 {
            inner.reject_html -= 1;
            true
        } else {
            false
        }
    };
    if reject {
        st.record("sendMessage", body, false);
        return fail(
            400,
            "Bad Request: can't parse entities: Unsupported start tag \"think\" at byte offset 0",
        );
    }
    let text = body.get("text").and_then(Value::as_str).unwrap_or("");
    if text.is_empty() {
        st.record("sendMessage", body, false);
        return fail(400, "Bad Request: message text is empty");
    }
    if text.chars().count() > 4096 {
        st.record("sendMessage", body, false);
        return fail(400, "Bad Request: message is too long");
    }
    let chat_id = match body.get("chat_id") {
        Some(Value::Number(n)) => n.as_i64().unwrap_or(0),
        Some(Value::String(s)) => s.parse().unwrap_or(0),
        _ => {
            st.record("sendMessage", body, false);
            return fail(400, "Bad Request: chat_id is empty");
        }
    };
    let message_id = {
        let mut inner = st.lock();
        inner.next_message_id += 1;
        inner.next_message_id
    };
    st.record("sendMessage", body, true);
    let kind = if chat_id < 0 { "supergroup" } else { "private" };
    ok(json!({
        "message_id": message_id, "date": 1_770_000_000,
        "chat": {"id": chat_id, "type": kind},
        "from": bot_user(),
        "text": text,
    }))
}
