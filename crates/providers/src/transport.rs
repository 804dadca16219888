//! HTTP plumbing shared by the backends: send with a deadline, turn error statuses into
//! [`ProviderError::Status`], and drive an SSE body through a wire decoder.
//!
//! Every wait here has a deadline: the response headers must arrive within the idle window, and
//! after that each read must bring bytes within it (a stall). Cancellation is checked at every
//! wait; a cancel before the first byte is an error (`Aborted`), a cancel mid-stream ends the
//! stream with `Done { Aborted }` so the caller keeps the partial answer.

use std::collections::VecDeque;
use std::time::Duration;

use bytes::Bytes;
use futures::stream::{BoxStream, StreamExt};
use tokio_util::sync::CancellationToken;

use crate::EventStream;
use crate::error::ProviderError;
use crate::sse::{SseEvent, SseParser};
use crate::types::{StopReason, StreamEvent};

/// Error bodies are read only this far: enough for a message, bounded against huge pages.
const MAX_ERROR_BODY: usize = 16 * 1024;

/// Per-client HTTP settings.
#[derive(Debug, Clone)]
pub(crate) struct Http {
    pub client: reqwest::Client,
    /// Provider id, for errors and `ModelSelected`.
    pub provider: String,
    /// Longest wait for headers and between body reads.
    pub idle_timeout: Duration,
}

/// Turns SSE events of one wire format into [`StreamEvent`]s.
pub(crate) trait Decoder: Send + 'static {
    fn on_event(
        &mut self,
        ev: SseEvent,
        out: &mut VecDeque<StreamEvent>,
    ) -> Result<(), ProviderError>;
    /// Body ended; flush what is pending or report a truncated stream.
    fn on_eof(&mut self, out: &mut VecDeque<StreamEvent>) -> Result<(), ProviderError>;
    /// `Done` was produced; stop reading.
    fn finished(&self) -> bool;
}

/// Send the request and wait for a success status.
pub(crate) async fn send(
    http: &Http,
    url: &str,
    request: reqwest::RequestBuilder,
    cancel: &CancellationToken,
) -> Result<reqwest::Response, ProviderError> {
    let resp = tokio::select! {
        _ = cancel.cancelled() => return Err(ProviderError::Aborted),
        r = tokio::time::timeout(http.idle_timeout, request.send()) => match r {
            Err(_) => return Err(ProviderError::Timeout { provider: http.provider.clone(), after: http.idle_timeout }),
            Ok(Err(e)) => return Err(classify_send_error(http, url, e)),
            Ok(Ok(resp)) => resp,
        },
    };
    if resp.status().is_success() {
        return Ok(resp);
    }
    let status = resp.status().as_u16();
    let retry_after = retry_after(resp.headers());
    let body = tokio::select! {
        _ = cancel.cancelled() => return Err(ProviderError::Aborted),
        b = tokio::time::timeout(http.idle_timeout, read_capped(resp)) => b.unwrap_or_default(),
    };
    Err(ProviderError::Status {
        provider: http.provider.clone(),
        status,
        message: error_message(&body),
        retry_after,
    })
}

fn classify_send_error(http: &Http, url: &str, e: reqwest::Error) -> ProviderError {
    if e.is_connect() {
        ProviderError::Connect {
            provider: http.provider.clone(),
            url: url.to_string(),
            source: e,
        }
    } else if e.is_timeout() {
        ProviderError::Timeout {
            provider: http.provider.clone(),
            after: http.idle_timeout,
        }
    } else {
        ProviderError::Transport {
            provider: http.provider.clone(),
            source: e,
        }
    }
}

async fn read_capped(mut resp: reqwest::Response) -> String {
    let mut buf = Vec::new();
    while let Ok(Some(chunk)) = resp.chunk().await {
        buf.extend_from_slice(&chunk);
        if buf.len() >= MAX_ERROR_BODY {
            buf.truncate(MAX_ERROR_BODY);
            break;
        }
    }
    String::from_utf8_lossy(&buf).into_owned()
}

/// `{"error":{"message":..}}` (both APIs) → the message; otherwise the trimmed body.
fn error_message(body: &str) -> String {
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(body) {
        if let Some(m) = v.pointer("/error/message").and_then(|m| m.as_str()) {
            return m.to_string();
        }
        if let Some(m) = v.get("error").and_then(|m| m.as_str()) {
            return m.to_string();
        }
    }
    let t = body.trim();
    if t.is_empty() {
        "(empty body)".to_string()
    } else {
        t.chars().take(500).collect()
    }
}

fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    if let Some(ms) = headers.get("retry-after-ms").and_then(|v| v.to_str().ok())
        && let Ok(ms) = ms.trim().parse::<f64>()
    {
        return Some(Duration::from_secs_f64(ms.max(0.0) / 1000.0));
    }
    let v = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    // Only the delta-seconds form; an HTTP date falls back to our own backoff.
    v.trim()
        .parse::<f64>()
        .ok()
        .map(|s| Duration::from_secs_f64(s.max(0.0)))
}

struct Driver<D> {
    body: BoxStream<'static, reqwest::Result<Bytes>>,
    parser: SseParser,
    decoder: D,
    pending: VecDeque<StreamEvent>,
    cancel: CancellationToken,
    http: Http,
    ended: bool,
}

/// Drive an SSE response body through `decoder`, yielding `head` first.
pub(crate) fn sse_stream<D: Decoder>(
    http: Http,
    resp: reqwest::Response,
    decoder: D,
    head: StreamEvent,
    cancel: CancellationToken,
) -> EventStream {
    let driver = Driver {
        body: resp.bytes_stream().boxed(),
        parser: SseParser::new(),
        decoder,
        pending: VecDeque::from([head]),
        cancel,
        http,
        ended: false,
    };
    futures::stream::unfold(driver, |mut d| async move {
        let item = d.next_event().await?;
        Some((item, d))
    })
    .boxed()
}

impl<D: Decoder> Driver<D> {
    async fn next_event(&mut self) -> Option<Result<StreamEvent, ProviderError>> {
        loop {
            if let Some(ev) = self.pending.pop_front() {
                return Some(Ok(ev));
            }
            if self.ended || self.decoder.finished() {
                return None;
            }
            let read = tokio::select! {
                _ = self.cancel.cancelled() => {
                    self.ended = true;
                    return Some(Ok(StreamEvent::Done { stop_reason: StopReason::Aborted }));
                }
                r = tokio::time::timeout(self.http.idle_timeout, self.body.next()) => r,
            };
            let step = match read {
                Err(_) => Err(ProviderError::Stalled {
                    provider: self.http.provider.clone(),
                    idle: self.http.idle_timeout,
                }),
                Ok(Some(Err(e))) => Err(ProviderError::Transport {
                    provider: self.http.provider.clone(),
                    source: e,
                }),
                Ok(Some(Ok(bytes))) => self.feed(&bytes),
                Ok(None) => {
                    self.ended = true;
                    self.eof()
                }
            };
            if let Err(e) = step {
                self.ended = true;
                self.pending.clear();
                return Some(Err(e));
            }
        }
    }

    fn feed(&mut self, bytes: &[u8]) -> Result<(), ProviderError> {
        for ev in self.parser.feed(bytes) {
            if self.decoder.finished() {
                break;
            }
            self.decoder.on_event(ev, &mut self.pending)?;
        }
        Ok(())
    }

    fn eof(&mut self) -> Result<(), ProviderError> {
        if let Some(ev) = self.parser.finish()
            && !self.decoder.finished()
        {
            self.decoder.on_event(ev, &mut self.pending)?;
        }
        if !self.decoder.finished() {
            self.decoder.on_eof(&mut self.pending)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_message_prefers_json_message() {
        assert_eq!(
            error_message(r#"{"error":{"message":"bad key","type":"x"}}"#),
            "bad key"
        );
        assert_eq!(error_message(r#"{"error":"nope"}"#), "nope");
        assert_eq!(error_message("  plain  "), "plain");
        assert_eq!(error_message(""), "(empty body)");
    }

    #[test]
    fn retry_after_forms() {
        let mut h = reqwest::header::HeaderMap::new();
        h.insert("retry-after", "2".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(2)));
        h.insert("retry-after-ms", "150".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_millis(150)));
        let mut h = reqwest::header::HeaderMap::new();
        h.insert(
            "retry-after",
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&h), None);
    }
}
