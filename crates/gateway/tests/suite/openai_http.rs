//! `/v1/chat/completions` and `/v1/models` over plain HTTP/1.1 against a gateway whose agent
//! talks to the fake OpenAI server: non-streaming, streaming SSE, auth, disabled endpoint.

use std::time::Duration;

use openclaw_test_support::{FakeOpenAi, Script};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::agent_turns::{AgentServer, start_with};

/// One request with `Connection: close`; returns (status, headers+body text split).
async fn http(
    addr: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> (u16, String) {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), s.read_to_end(&mut out))
        .await
        .unwrap()
        .unwrap();
    let text = String::from_utf8_lossy(&out).to_string();
    let status = text.split_whitespace().nth(1).unwrap().parse().unwrap();
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

/// Undo chunked transfer encoding if present (axum streams SSE chunked).
fn dechunk(body: &str) -> String {
    if !body.contains("\r\n") {
        return body.to_string();
    }
    let mut out = String::new();
    let mut rest = body;
    while let Some((size, after)) = rest.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else {
            return body.to_string();
        };
        if n == 0 {
            break;
        }
        out.push_str(&after[..n]);
        rest = &after[n + 2..];
    }
    out
}

async fn server(enabled: bool) -> (AgentServer, String) {
    let s = start_with(FakeOpenAi::start(Script::echo()).await, None, |st| {
        st.chat_completions_enabled = enabled;
    })
    .await;
    let addr = s
        .url
        .trim_start_matches("ws://")
        .trim_end_matches('/')
        .to_string();
    (s, addr)
}

#[tokio::test]
async fn non_streaming_completion_answers_in_openai_shape() {
    let (_s, addr) = server(true).await;
    let body = json!({"model": "openclaw", "messages": [{"role": "user", "content": "hi there"}]});
    let (status, text) = http(
        &addr,
        "POST",
        "/v1/chat/completions",
        Some("tok"),
        Some(&body),
    )
    .await;
    assert_eq!(status, 200, "{text}");
    let v: Value = serde_json::from_str(&dechunk(&text)).unwrap();
    assert_eq!(v["object"], "chat.completion");
    assert_eq!(v["model"], "openclaw");
    assert_eq!(
        v["choices"][0]["message"],
        json!({"role": "assistant", "content": "pong: hi there"})
    );
    assert_eq!(v["choices"][0]["finish_reason"], "stop");
    assert!(v["usage"]["total_tokens"].is_u64());

    let (status, text) = http(&addr, "GET", "/v1/models", Some("tok"), None).await;
    assert_eq!(status, 200);
    let v: Value = serde_json::from_str(&dechunk(&text)).unwrap();
    let ids: Vec<&str> = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec!["openclaw", "openclaw/main"]);

    let bad = json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "x"}]});
    let (status, _) = http(
        &addr,
        "POST",
        "/v1/chat/completions",
        Some("tok"),
        Some(&bad),
    )
    .await;
    assert_eq!(status, 400);
    let (status, _) = http(
        &addr,
        "POST",
        "/v1/chat/completions",
        Some("wrong"),
        Some(&body),
    )
    .await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn streaming_completion_sends_chunks_then_done() {
    let (_s, addr) = server(true).await;
    let body = json!({"model": "openclaw/main", "stream": true, "user": "alice",
                      "messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": "stream me"}]});
    let (status, text) = http(
        &addr,
        "POST",
        "/v1/chat/completions",
        Some("tok"),
        Some(&body),
    )
    .await;
    assert_eq!(status, 200, "{text}");
    let text = dechunk(&text);
    let datas: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .collect();
    assert_eq!(*datas.last().unwrap(), "[DONE]");
    let chunks: Vec<Value> = datas[..datas.len() - 1]
        .iter()
        .map(|d| serde_json::from_str(d).unwrap())
        .collect();
    assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
    assert!(
        chunks
            .iter()
            .all(|c| c["object"] == "chat.completion.chunk")
    );
    let content: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(content, "pong: stream me");
    assert_eq!(
        chunks.last().unwrap()["choices"][0]["finish_reason"],
        "stop"
    );
}

#[tokio::test]
async fn disabled_endpoint_is_not_served() {
    let (_s, addr) = server(false).await;
    let body = json!({"model": "openclaw", "messages": [{"role": "user", "content": "x"}]});
    let (status, text) = http(
        &addr,
        "POST",
        "/v1/chat/completions",
        Some("tok"),
        Some(&body),
    )
    .await;
    assert_eq!(status, 404);
    assert!(text.contains("chatCompletions.enabled"), "{text}");
}
