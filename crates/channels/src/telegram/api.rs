//! A small Telegram Bot API client: JSON `POST <root>/bot<token>/<method>` and the
//! `{"ok":…,"result":…}` envelope.
//!
//! The token is part of every URL, so it must never reach a log line or an error: transport
//! errors drop their URL (`reqwest::Error::without_url`) and [`BotApi`]'s `Debug` shows only the
//! API root. Every call has a deadline; `getUpdates` gets its long-poll time plus a margin.
//! File downloads (`GET <root>/file/bot<token>/<file_path>`) have their own deadline and stop
//! reading at the caller's size limit.

use std::time::Duration;

use openclaw_config::Secret;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::types::{Envelope, File, Message, Update, User};

/// The public Bot API.
pub const DEFAULT_API_ROOT: &str = "https://api.telegram.org";
/// Environment variable that points the client at another Bot API server (a local
/// `telegram-bot-api`, a proxy, or a test fake). The 2026.2 config has no key for this.
pub const API_ROOT_ENV: &str = "OPENCLAW_TELEGRAM_API_ROOT";
/// Deadline of ordinary calls.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(30);
/// Extra time a long poll gets on top of its `timeout` before the client gives up.
const POLL_MARGIN: Duration = Duration::from_secs(15);
/// Error bodies are read only this far.
const MAX_BODY: usize = 1024 * 1024;
/// Deadline of one file download (large voice notes and videos on a slow link).
pub const DOWNLOAD_TIMEOUT: Duration = Duration::from_secs(300);

/// Why a call failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ApiError {
    /// Telegram answered `ok: false`.
    #[error("telegram {method} failed: {description} (error {status})")]
    Rejected {
        method: &'static str,
        status: u16,
        description: String,
        retry_after: Option<u64>,
    },
    /// No HTTP answer (DNS, TLS, connection refused, proxy).
    #[error(
        "telegram {method}: cannot reach {root}: {message} (check the network, channels.telegram.proxy or {API_ROOT_ENV})"
    )]
    Transport {
        method: &'static str,
        root: String,
        message: String,
    },
    #[error("telegram {method}: no answer within {after:?}")]
    Timeout {
        method: &'static str,
        after: Duration,
    },
    /// An answer that is not the Bot API's envelope.
    #[error("telegram {method}: unexpected answer: {message}")]
    Decode {
        method: &'static str,
        message: String,
    },
    /// A file is larger than the configured limit; nothing was kept.
    #[error(
        "telegram {method}: the file is larger than {limit} bytes (raise channels.telegram.mediaMaxMb to accept it)"
    )]
    TooLarge { method: &'static str, limit: u64 },
}

impl ApiError {
    /// The token is wrong or revoked (Telegram answers 401, or 404 for a malformed token).
    pub fn is_unauthorized(&self) -> bool {
        matches!(
            self,
            ApiError::Rejected {
                status: 401 | 404,
                ..
            }
        )
    }

    /// HTML that Telegram cannot parse (`can't parse entities`): resend as plain text.
    pub fn is_parse_error(&self) -> bool {
        match self {
            ApiError::Rejected {
                status: 400,
                description,
                ..
            } => {
                let d = description.to_lowercase();
                d.contains("can't parse entities") || d.contains("can't find end of")
            }
            _ => false,
        }
    }

    /// Another consumer polls this bot, or a webhook is set (409).
    pub fn is_conflict(&self) -> bool {
        matches!(self, ApiError::Rejected { status: 409, .. })
    }

    /// Flood control: how long Telegram asked us to wait.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ApiError::Rejected {
                retry_after: Some(s),
                ..
            } => Some(Duration::from_secs(*s)),
            _ => None,
        }
    }
}

/// `sendMessage` parameters this adapter uses.
#[derive(Debug, Clone, PartialEq)]
pub struct OutgoingText {
    pub chat_id: String,
    pub text: String,
    /// `Some("HTML")` for rendered replies; `None` sends plain text.
    pub parse_mode: Option<&'static str>,
    pub message_thread_id: Option<i64>,
    pub disable_link_preview: bool,
}

/// A Bot API client for one bot.
#[derive(Clone)]
pub struct BotApi {
    http: reqwest::Client,
    root: String,
    token: Secret,
}

impl std::fmt::Debug for BotApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BotApi")
            .field("root", &self.root)
            .finish_non_exhaustive()
    }
}

impl BotApi {
    /// `root` without the trailing slash (`https://api.telegram.org`).
    pub fn new(http: reqwest::Client, root: &str, token: Secret) -> BotApi {
        BotApi {
            http,
            root: root.trim().trim_end_matches('/').to_string(),
            token,
        }
    }

    pub fn root(&self) -> &str {
        &self.root
    }

    /// Call `method` with a JSON body and decode `result`.
    pub async fn call<T: DeserializeOwned>(
        &self,
        method: &'static str,
        body: &Value,
        deadline: Duration,
    ) -> Result<T, ApiError> {
        let url = format!("{}/bot{}/{method}", self.root, self.token.expose());
        let send = self.http.post(url).json(body).timeout(deadline).send();
        let resp = match send.await {
            Ok(r) => r,
            Err(e) if e.is_timeout() => {
                return Err(ApiError::Timeout {
                    method,
                    after: deadline,
                });
            }
            Err(e) => {
                return Err(ApiError::Transport {
                    method,
                    root: self.root.clone(),
                    message: e.without_url().to_string(),
                });
            }
        };
        let status = resp.status().as_u16();
        let bytes = match resp.bytes().await {
            Ok(b) => b,
            Err(e) if e.is_timeout() => {
                return Err(ApiError::Timeout {
                    method,
                    after: deadline,
                });
            }
            Err(e) => {
                return Err(ApiError::Transport {
                    method,
                    root: self.root.clone(),
                    message: e.without_url().to_string(),
                });
            }
        };
        let bytes = &bytes[..bytes.len().min(MAX_BODY)];
        let env: Envelope<T> = serde_json::from_slice(bytes).map_err(|e| ApiError::Decode {
            method,
            message: format!("HTTP {status}: {e}"),
        })?;
        match (env.ok, env.result) {
            (true, Some(r)) => Ok(r),
            (true, None) => Err(ApiError::Decode {
                method,
                message: "ok without result".into(),
            }),
            (false, _) => Err(ApiError::Rejected {
                method,
                status: env.error_code.unwrap_or(status),
                description: env.description.unwrap_or_else(|| format!("HTTP {status}")),
                retry_after: env.parameters.and_then(|p| p.retry_after),
            }),
        }
    }

    pub async fn get_me(&self, deadline: Duration) -> Result<User, ApiError> {
        self.call("getMe", &json!({}), deadline).await
    }

    /// Long-poll for updates from `offset` on, waiting up to `wait` for the first one.
    pub async fn get_updates(&self, offset: i64, wait: Duration) -> Result<Vec<Update>, ApiError> {
        let body = json!({
            "offset": offset,
            "timeout": wait.as_secs(),
            "allowed_updates": ["message"],
        });
        // One malformed update must not wedge the loop: decode each on its own.
        let raw: Vec<Value> = self.call("getUpdates", &body, wait + POLL_MARGIN).await?;
        let mut out = Vec::with_capacity(raw.len());
        for v in raw {
            let id = v.get("update_id").and_then(Value::as_i64);
            match serde_json::from_value::<Update>(v) {
                Ok(u) => out.push(u),
                Err(e) => {
                    tracing::warn!(update_id = ?id, error = %e, "telegram: skipping an update that does not decode");
                    if let Some(id) = id {
                        out.push(Update {
                            update_id: id,
                            message: None,
                        });
                    }
                }
            }
        }
        Ok(out)
    }

    pub async fn send_message(&self, m: &OutgoingText) -> Result<Message, ApiError> {
        let mut body = json!({"chat_id": m.chat_id, "text": m.text});
        if let Some(p) = m.parse_mode {
            body["parse_mode"] = json!(p);
        }
        if let Some(t) = m.message_thread_id {
            body["message_thread_id"] = json!(t);
        }
        if m.disable_link_preview {
            body["link_preview_options"] = json!({"is_disabled": true});
        }
        self.call("sendMessage", &body, CALL_TIMEOUT).await
    }

    /// `typing` and friends; they show for about five seconds.
    pub async fn send_chat_action(
        &self,
        chat_id: i64,
        thread_id: Option<i64>,
        action: &str,
    ) -> Result<bool, ApiError> {
        let mut body = json!({"chat_id": chat_id, "action": action});
        if let Some(t) = thread_id {
            body["message_thread_id"] = json!(t);
        }
        self.call("sendChatAction", &body, CALL_TIMEOUT).await
    }

    /// Where to download a file from.
    pub async fn get_file(&self, file_id: &str) -> Result<File, ApiError> {
        self.call("getFile", &json!({"file_id": file_id}), CALL_TIMEOUT)
            .await
    }

    /// Download `file_path` (from [`get_file`](Self::get_file)); fails with
    /// [`ApiError::TooLarge`] as soon as the file turns out bigger than `max_bytes`.
    pub async fn download_file(
        &self,
        file_path: &str,
        max_bytes: u64,
    ) -> Result<Vec<u8>, ApiError> {
        const METHOD: &str = "file download";
        // The path goes into a URL holding the token: only plain relative paths.
        let p = file_path.trim();
        if p.is_empty()
            || p.starts_with('/')
            || p.contains(['?', '#', '\\'])
            || p.split('/').any(|seg| seg == ".." || seg == ".")
        {
            return Err(ApiError::Decode {
                method: METHOD,
                message: format!("getFile returned an unusable file_path {p:?}"),
            });
        }
        let transport = |e: reqwest::Error| {
            if e.is_timeout() {
                ApiError::Timeout {
                    method: METHOD,
                    after: DOWNLOAD_TIMEOUT,
                }
            } else {
                ApiError::Transport {
                    method: METHOD,
                    root: self.root.clone(),
                    message: e.without_url().to_string(),
                }
            }
        };
        let url = format!("{}/file/bot{}/{p}", self.root, self.token.expose());
        let mut resp = self
            .http
            .get(url)
            .timeout(DOWNLOAD_TIMEOUT)
            .send()
            .await
            .map_err(transport)?;
        let status = resp.status().as_u16();
        if !resp.status().is_success() {
            let body = resp.bytes().await.unwrap_or_default();
            let env: Option<Envelope<Value>> =
                serde_json::from_slice(&body[..body.len().min(MAX_BODY)]).ok();
            return Err(ApiError::Rejected {
                method: METHOD,
                status: env.as_ref().and_then(|e| e.error_code).unwrap_or(status),
                description: env
                    .and_then(|e| e.description)
                    .unwrap_or_else(|| format!("HTTP {status}")),
                retry_after: None,
            });
        }
        let too_large = ApiError::TooLarge {
            method: METHOD,
            limit: max_bytes,
        };
        if resp.content_length().is_some_and(|n| n > max_bytes) {
            return Err(too_large);
        }
        let mut out = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(transport)? {
            if (out.len() + chunk.len()) as u64 > max_bytes {
                return Err(too_large);
            }
            out.extend_from_slice(&chunk);
        }
        Ok(out)
    }

    /// Drop a webhook so `getUpdates` may run (pending updates are kept).
    pub async fn delete_webhook(&self) -> Result<bool, ApiError> {
        self.call(
            "deleteWebhook",
            &json!({"drop_pending_updates": false}),
            CALL_TIMEOUT,
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_token() {
        let api = BotApi::new(
            reqwest::Client::new(),
            "https://api.telegram.org/",
            Secret::new("123:SECRET"),
        );
        let shown = format!("{api:?}");
        assert!(!shown.contains("SECRET"), "{shown}");
        assert_eq!(api.root(), "https://api.telegram.org");
    }

    #[test]
    fn error_classes() {
        let rejected = |status, d: &str| ApiError::Rejected {
            method: "sendMessage",
            status,
            description: d.into(),
            retry_after: None,
        };
        assert!(
            rejected(
                400,
                "Bad Request: can't parse entities: Unsupported start tag \"x\" at byte offset 3"
            )
            .is_parse_error()
        );
        assert!(!rejected(400, "Bad Request: chat not found").is_parse_error());
        assert!(rejected(401, "Unauthorized").is_unauthorized());
        assert!(rejected(409, "Conflict: terminated by other getUpdates request").is_conflict());
    }
}
