//! Fake model servers with scripted answers and fault injection.
//!
//! Both servers share the scripting ([`Script`], [`Behavior`]) and the "echo" brain; each wire
//! format lives in its own child module and turns a [`Planned`] answer into SSE bytes. Every
//! request is recorded so tests can assert on what the client actually sent.

mod anthropic;
mod openai;

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use axum::serve::ListenerExt;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

/// What the server does for one request.
#[derive(Debug, Clone, PartialEq)]
pub enum Behavior {
    /// The traces' scripted model: `pong: <last user text>` in two chunks; `TOOL <name> <json>`
    /// → one call of that tool; after a tool result → `tool said: <output>`.
    Echo,
    /// A fixed text answer, streamed in two chunks.
    Text(String),
    /// One call of `name` with `arguments`.
    ToolCall { name: String, arguments: Value },
    /// HTTP 429 with `retry-after` (seconds, rounded up) and `retry-after-ms`.
    RateLimited { retry_after: Duration },
    /// Any error status with a JSON error body (e.g. 500, 400, 401).
    Status(u16),
    /// `200` and SSE headers, then no bytes until the server shuts down.
    Stall,
    /// One text chunk, then the wire format's in-stream error.
    ErrorMidStream,
    /// `chunks` text chunks (`tick0 `, `tick1 `, …) with `delay` before each.
    Slow { chunks: usize, delay: Duration },
    /// `then`, after `delay` of silence (headers sent, no body yet): a model still thinking.
    Delayed {
        delay: Duration,
        then: Box<Behavior>,
    },
}

/// Behaviour per request index (0-based, counting every request the server saw).
#[derive(Debug, Clone)]
pub struct Script {
    default: Behavior,
    by_index: BTreeMap<usize, Behavior>,
    /// Drop every pause (benchmarks): tool-call fragments are no longer split across reads.
    zero_latency: bool,
}

impl Default for Script {
    fn default() -> Self {
        Script::echo()
    }
}

impl Script {
    /// Echo for every request.
    pub fn echo() -> Self {
        Script {
            default: Behavior::Echo,
            by_index: BTreeMap::new(),
            zero_latency: false,
        }
    }

    /// No pauses at all, for measuring the client rather than the fake.
    pub fn zero_latency(mut self) -> Self {
        self.zero_latency = true;
        self
    }

    /// The same behaviour for every request.
    pub fn always(b: Behavior) -> Self {
        Script {
            default: b,
            by_index: BTreeMap::new(),
            zero_latency: false,
        }
    }

    /// `list[i]` for request `i`, echo afterwards.
    pub fn replies(list: Vec<Behavior>) -> Self {
        Script {
            default: Behavior::Echo,
            by_index: list.into_iter().enumerate().collect(),
            zero_latency: false,
        }
    }

    /// Override request `index`.
    pub fn at(mut self, index: usize, b: Behavior) -> Self {
        self.by_index.insert(index, b);
        self
    }

    fn for_index(&self, i: usize) -> &Behavior {
        self.by_index.get(&i).unwrap_or(&self.default)
    }
}

/// One request as the server received it.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedRequest {
    pub index: usize,
    pub method: String,
    pub path: String,
    /// Lower-case header names.
    pub headers: BTreeMap<String, String>,
    /// The JSON body (`Value::String` of the raw text if it was not JSON).
    pub body: Value,
}

/// A running fake server. Dropping it stops the server too.
#[derive(Debug)]
pub struct FakeServer {
    /// What to put in `models.providers.<id>.baseUrl`: `http://127.0.0.1:<port>/v1` for the
    /// OpenAI fake, `http://127.0.0.1:<port>` for the Anthropic fake.
    pub base_url: String,
    pub addr: SocketAddr,
    state: Arc<Shared>,
    stop: CancellationToken,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl FakeServer {
    /// All requests so far, in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.state
            .requests
            .lock()
            .map(|r| r.clone())
            .unwrap_or_default()
    }

    /// Stop accepting, end stalled and slow streams, and wait (bounded) for the server task.
    pub async fn shutdown(mut self) {
        self.stop.cancel();
        if let Some(task) = self.task.take() {
            let abort = task.abort_handle();
            if tokio::time::timeout(Duration::from_secs(5), task)
                .await
                .is_err()
            {
                abort.abort();
            }
        }
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.stop.cancel();
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// Fake OpenAI-compatible server (`POST /v1/chat/completions`).
pub struct FakeOpenAi;

impl FakeOpenAi {
    pub async fn start(script: Script) -> FakeServer {
        start(Wire::OpenAi, script).await
    }
}

/// Fake Anthropic Messages server (`POST /v1/messages`).
pub struct FakeAnthropic;

impl FakeAnthropic {
    pub async fn start(script: Script) -> FakeServer {
        start(Wire::Anthropic, script).await
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Wire {
    OpenAi,
    Anthropic,
}

struct Shared {
    wire: Wire,
    script: Script,
    requests: Mutex<Vec<RecordedRequest>>,
    stop: CancellationToken,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("wire", &self.wire)
            .finish_non_exhaustive()
    }
}

/// Binding port 0 on loopback cannot fail on a working test host; a panic names the cause.
#[allow(clippy::expect_used)]
async fn start(wire: Wire, script: Script) -> FakeServer {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("fake model server: bind 127.0.0.1:0");
    let addr = listener
        .local_addr()
        .expect("fake model server: local_addr");
    let stop = CancellationToken::new();
    let state = Arc::new(Shared {
        wire,
        script,
        requests: Mutex::new(Vec::new()),
        stop: stop.clone(),
    });
    let app = Router::new().fallback(handle).with_state(state.clone());
    let listener = listener.tap_io(|tcp| {
        // Best effort: a failure only costs latency.
        let _ = tcp.set_nodelay(true);
    });
    let shutdown = stop.clone();
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(shutdown.cancelled_owned())
            .await;
    });
    let base_url = match wire {
        Wire::OpenAi => format!("http://{addr}/v1"),
        Wire::Anthropic => format!("http://{addr}"),
    };
    FakeServer {
        base_url,
        addr,
        state,
        stop,
        task: Some(task),
    }
}

async fn handle(
    State(st): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let body: Value = serde_json::from_slice(&body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into_owned()));
    let index = {
        let Ok(mut reqs) = st.requests.lock() else {
            return plain(StatusCode::INTERNAL_SERVER_ERROR, "poisoned");
        };
        let index = reqs.len();
        reqs.push(RecordedRequest {
            index,
            method: method.to_string(),
            path: uri.path().to_string(),
            headers: headers
                .iter()
                .map(|(k, v)| {
                    (
                        k.as_str().to_string(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect(),
            body: body.clone(),
        });
        index
    };
    let expected = match st.wire {
        Wire::OpenAi => "/v1/chat/completions",
        Wire::Anthropic => "/v1/messages",
    };
    if method != Method::POST || uri.path() != expected {
        return error_response(st.wire, 404, "not found");
    }
    let mut behavior = st.script.for_index(index).clone();
    let mut think = Duration::ZERO;
    while let Behavior::Delayed { delay, then } = behavior {
        think += delay;
        behavior = *then;
    }
    let model = body
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or("fake-model")
        .to_string();
    let planned = match behavior {
        Behavior::RateLimited { retry_after } => {
            let mut r = error_response(st.wire, 429, "rate limited (injected)");
            let secs = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
            if let Ok(v) = secs.to_string().parse() {
                r.headers_mut().insert("retry-after", v);
            }
            if let Ok(v) = retry_after.as_millis().to_string().parse() {
                r.headers_mut().insert("retry-after-ms", v);
            }
            return r;
        }
        Behavior::Status(code) => return error_response(st.wire, code, "injected failure"),
        Behavior::Stall => Planned::Stall,
        Behavior::ErrorMidStream => Planned::ErrorMidStream,
        Behavior::Slow { chunks, delay } => Planned::Text {
            chunks: (0..chunks).map(|i| format!("tick{i} ")).collect(),
            delay,
        },
        Behavior::Text(t) => Planned::text(&t),
        Behavior::ToolCall { name, arguments } => Planned::ToolCall { name, arguments },
        Behavior::Echo => echo(&last_turn(st.wire, &body)),
        Behavior::Delayed { .. } => unreachable!("unwrapped above"),
    };
    let ctx = Ctx {
        index,
        model,
        include_usage: include_usage(st.wire, &body),
    };
    let pieces = match st.wire {
        Wire::OpenAi => openai::encode(&ctx, planned),
        Wire::Anthropic => anthropic::encode(&ctx, planned),
    };
    let mut pieces = pieces;
    if !think.is_zero() {
        pieces.insert(0, Piece::Delay(think));
    }
    let pieces = if st.script.zero_latency {
        pieces
            .into_iter()
            .filter(|p| !matches!(p, Piece::Delay(_)))
            .collect()
    } else {
        pieces
    };
    sse_response(pieces, st.stop.clone())
}

/// What the fake model decided to answer.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Planned {
    Text {
        chunks: Vec<String>,
        delay: Duration,
    },
    ToolCall {
        name: String,
        arguments: Value,
    },
    Stall,
    ErrorMidStream,
}

impl Planned {
    /// Two chunks, split at the middle character, as the traces show.
    fn text(t: &str) -> Self {
        let n = t.chars().count();
        let cut = t
            .char_indices()
            .nth(n.div_ceil(2).max(1))
            .map(|(i, _)| i)
            .unwrap_or(t.len());
        let (a, b) = t.split_at(cut);
        let chunks = [a, b]
            .into_iter()
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        Planned::Text {
            chunks,
            delay: Duration::ZERO,
        }
    }
}

/// Request facts the encoders need.
#[derive(Debug)]
pub(crate) struct Ctx {
    pub index: usize,
    pub model: String,
    pub include_usage: bool,
}

/// Reported for every answer, like the traces (`input: 10, output: 5`).
pub(crate) const USAGE_INPUT: u64 = 10;
pub(crate) const USAGE_OUTPUT: u64 = 5;

/// One piece of a streamed body.
#[derive(Debug)]
pub(crate) enum Piece {
    Bytes(Vec<u8>),
    /// Wait before the next piece; also used to force a separate TCP write.
    Delay(Duration),
    /// Send nothing more until shutdown.
    Hang,
}

/// The last thing the conversation said that the model answers to.
#[derive(Debug, PartialEq)]
pub(crate) enum LastTurn {
    User(String),
    ToolResult(String),
    None,
}

fn echo(last: &LastTurn) -> Planned {
    match last {
        LastTurn::ToolResult(out) => Planned::text(&format!("tool said: {out}")),
        LastTurn::User(text) => match parse_tool_directive(text) {
            Some((name, arguments)) => Planned::ToolCall { name, arguments },
            None => Planned::text(&format!("pong: {text}")),
        },
        LastTurn::None => Planned::text("pong: "),
    }
}

/// `… TOOL <name> <json>` → (name, arguments).
fn parse_tool_directive(text: &str) -> Option<(String, Value)> {
    let rest = &text[text.find("TOOL ")? + 5..];
    let rest = rest.trim_start();
    let (name, json) = rest.split_once(char::is_whitespace).unwrap_or((rest, "{}"));
    let args: Value = serde_json::from_str(json.trim()).ok()?;
    Some((name.to_string(), args))
}

fn include_usage(wire: Wire, body: &Value) -> bool {
    match wire {
        Wire::OpenAi => body
            .pointer("/stream_options/include_usage")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        Wire::Anthropic => true,
    }
}

fn text_of(content: &Value) -> String {
    match content {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter(|p| p.get("type").and_then(Value::as_str) == Some("text"))
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect(),
        _ => String::new(),
    }
}

fn last_turn(wire: Wire, body: &Value) -> LastTurn {
    let Some(msgs) = body.get("messages").and_then(Value::as_array) else {
        return LastTurn::None;
    };
    for m in msgs.iter().rev() {
        let role = m.get("role").and_then(Value::as_str).unwrap_or("");
        let content = m.get("content").cloned().unwrap_or(Value::Null);
        match (wire, role) {
            (Wire::OpenAi, "tool") => return LastTurn::ToolResult(text_of(&content)),
            (Wire::OpenAi, "user") => return LastTurn::User(text_of(&content)),
            (Wire::Anthropic, "user") => {
                let Some(blocks) = content.as_array() else {
                    return LastTurn::User(text_of(&content));
                };
                return match blocks.last() {
                    Some(b) if b.get("type").and_then(Value::as_str) == Some("tool_result") => {
                        LastTurn::ToolResult(text_of(b.get("content").unwrap_or(&Value::Null)))
                    }
                    _ => LastTurn::User(text_of(&content)),
                };
            }
            _ => {}
        }
    }
    LastTurn::None
}

fn plain(status: StatusCode, text: &str) -> Response {
    let mut r = Response::new(Body::from(text.to_string()));
    *r.status_mut() = status;
    r
}

fn error_response(wire: Wire, status: u16, message: &str) -> Response {
    let kind = match (wire, status) {
        (Wire::Anthropic, 429) => "rate_limit_error",
        (Wire::Anthropic, 529) => "overloaded_error",
        (Wire::Anthropic, s) if s >= 500 => "api_error",
        (Wire::Anthropic, _) => "invalid_request_error",
        (Wire::OpenAi, 429) => "rate_limit_exceeded",
        (Wire::OpenAi, s) if s >= 500 => "server_error",
        (Wire::OpenAi, _) => "invalid_request_error",
    };
    let body = match wire {
        Wire::OpenAi => {
            serde_json::json!({"error": {"message": message, "type": kind, "code": null}})
        }
        Wire::Anthropic => {
            serde_json::json!({"type": "error", "error": {"type": kind, "message": message}})
        }
    };
    let mut r = Response::new(Body::from(body.to_string()));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if let Ok(v) = "application/json".parse() {
        r.headers_mut().insert("content-type", v);
    }
    r
}

fn sse_response(pieces: Vec<Piece>, stop: CancellationToken) -> Response {
    let queue: VecDeque<Piece> = pieces.into();
    let stream = futures::stream::unfold((queue, stop), |(mut q, stop)| async move {
        loop {
            match q.pop_front()? {
                Piece::Bytes(b) => {
                    return Some((Ok::<_, std::io::Error>(Bytes::from(b)), (q, stop)));
                }
                Piece::Delay(d) => {
                    tokio::select! {
                        _ = stop.cancelled() => return None,
                        _ = tokio::time::sleep(d) => {}
                    }
                }
                Piece::Hang => {
                    stop.cancelled().await;
                    return None;
                }
            }
        }
    });
    let mut r = Response::new(Body::from_stream(stream));
    if let Ok(v) = "text/event-stream".parse() {
        r.headers_mut().insert("content-type", v);
    }
    if let Ok(v) = "no-cache".parse() {
        r.headers_mut().insert("cache-control", v);
    }
    r
}

/// `data: <json>\n\n` (with `event:` when named).
pub(crate) fn sse(event: Option<&str>, data: &Value) -> Piece {
    let mut s = String::new();
    if let Some(e) = event {
        s.push_str("event: ");
        s.push_str(e);
        s.push('\n');
    }
    s.push_str("data: ");
    s.push_str(&data.to_string());
    s.push_str("\n\n");
    Piece::Bytes(s.into_bytes())
}

/// The same event as two writes with a pause between, so the client sees it across reads.
pub(crate) fn split_sse(event: Option<&str>, data: &Value, out: &mut Vec<Piece>) {
    if let Piece::Bytes(b) = sse(event, data) {
        let mid = b.len() / 2;
        out.push(Piece::Bytes(b[..mid].to_vec()));
        out.push(Piece::Delay(Duration::from_millis(5)));
        out.push(Piece::Bytes(b[mid..].to_vec()));
    }
}

/// Split a tool's JSON arguments into two fragments.
pub(crate) fn argument_fragments(arguments: &Value) -> (String, String) {
    let s = arguments.to_string();
    let n = s.chars().count();
    let cut = s
        .char_indices()
        .nth(n / 2)
        .map(|(i, _)| i)
        .unwrap_or(s.len());
    let (a, b) = s.split_at(cut);
    (a.to_string(), b.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;
    use serde_json::json;

    #[test]
    fn echo_follows_the_trace_script() {
        assert_eq!(
            echo(&LastTurn::User(
                "TOOL exec {\"command\":\"echo seed-era 0\"}".into()
            )),
            Planned::ToolCall {
                name: "exec".into(),
                arguments: json!({"command": "echo seed-era 0"})
            }
        );
        assert_eq!(
            echo(&LastTurn::ToolResult("seed-era 0".into())),
            Planned::Text {
                chunks: vec!["tool said: ".into(), "seed-era 0".into()],
                delay: Duration::ZERO
            }
        );
        let Planned::Text { chunks, .. } = echo(&LastTurn::User("hi".into())) else {
            panic!()
        };
        assert_eq!(chunks.concat(), "pong: hi");
        assert!(chunks.len() >= 2);
        // Not JSON after the tool name: plain text.
        assert!(matches!(
            echo(&LastTurn::User("TOOL exec {nope".into())),
            Planned::Text { .. }
        ));
    }

    #[test]
    fn last_turn_reads_both_wires() {
        let oa = json!({"messages": [
            {"role": "system", "content": "s"},
            {"role": "user", "content": "TOOL exec {}"},
            {"role": "assistant", "content": null, "tool_calls": []},
            {"role": "tool", "tool_call_id": "c", "content": "out"},
        ]});
        assert_eq!(
            last_turn(Wire::OpenAi, &oa),
            LastTurn::ToolResult("out".into())
        );
        let an = json!({"messages": [
            {"role": "user", "content": [{"type": "text", "text": "a"}]},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "t", "name": "exec", "input": {}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t", "content": [{"type": "text", "text": "out"}]}]},
        ]});
        assert_eq!(
            last_turn(Wire::Anthropic, &an),
            LastTurn::ToolResult("out".into())
        );
        let an2 = json!({"messages": [{"role": "user", "content": "plain"}]});
        assert_eq!(
            last_turn(Wire::Anthropic, &an2),
            LastTurn::User("plain".into())
        );
    }
}
