//! A small Discord REST client (API v10): JSON requests with `Authorization: Bot <token>`.
//!
//! The token lives only in that header: errors carry the route and Discord's message, transport
//! errors drop their URL, and [`RestApi`]'s `Debug` shows only the API root. Every call has a
//! deadline. A 429 carries Discord's `retry_after`; [`RestApi::send_message`] waits it out (at
//! most [`MAX_RATE_LIMIT_WAIT`], a few times) before giving up.

use std::time::Duration;

use openclaw_config::Secret;
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::types::{Channel, ErrorBody, GatewayBot, Sent, User};

/// The public REST API.
pub const DEFAULT_API_ROOT: &str = "https://discord.com/api/v10";
/// Environment variable that points the client at another API root (a relay or a test fake);
/// the 2026.2 config has no key for it.
pub const API_ROOT_ENV: &str = "OPENCLAW_DISCORD_API_ROOT";
/// Deadline of one call.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest rate-limit wait a send accepts; a longer one fails the send.
pub const MAX_RATE_LIMIT_WAIT: Duration = Duration::from_secs(60);
/// Attempts of one message send when Discord answers 429.
const SEND_ATTEMPTS: usize = 4;
/// Error bodies are read only this far.
const MAX_BODY: usize = 1024 * 1024;

/// Why a call failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ApiError {
    /// Discord answered with an error status.
    #[error("discord {route} failed: {message} (HTTP {status}{})", code.map(|c| format!(", code {c}")).unwrap_or_default())]
    Rejected {
        route: &'static str,
        status: u16,
        code: Option<u64>,
        message: String,
        retry_after: Option<Duration>,
    },
    /// No HTTP answer (DNS, TLS, connection refused, proxy).
    #[error(
        "discord {route}: cannot reach {root}: {message} (check the network, channels.discord.proxy or {API_ROOT_ENV})"
    )]
    Transport {
        route: &'static str,
        root: String,
        message: String,
    },
    #[error("discord {route}: no answer within {after:?}")]
    Timeout {
        route: &'static str,
        after: Duration,
    },
    /// An answer that is not what the route returns.
    #[error("discord {route}: unexpected answer: {message}")]
    Decode {
        route: &'static str,
        message: String,
    },
}

impl ApiError {
    /// The token is wrong or revoked.
    pub fn is_unauthorized(&self) -> bool {
        matches!(self, ApiError::Rejected { status: 401, .. })
    }

    /// Rate limited: how long Discord asked us to wait.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ApiError::Rejected {
                status: 429,
                retry_after,
                ..
            } => Some(retry_after.unwrap_or(Duration::from_secs(1))),
            _ => None,
        }
    }
}

/// A REST client for one bot.
#[derive(Clone)]
pub struct RestApi {
    http: reqwest::Client,
    root: String,
    token: Secret,
}

impl std::fmt::Debug for RestApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RestApi")
            .field("root", &self.root)
            .finish_non_exhaustive()
    }
}

impl RestApi {
    /// `root` without the trailing slash (`https://discord.com/api/v10`).
    pub fn new(http: reqwest::Client, root: &str, token: Secret) -> RestApi {
        RestApi {
            http,
            root: root.trim().trim_end_matches('/').to_string(),
            token,
        }
    }

    pub fn root(&self) -> &str {
        &self.root
    }

    /// The bot token, for the gateway's IDENTIFY/RESUME.
    pub(crate) fn token(&self) -> &Secret {
        &self.token
    }

    /// One call; `route` names it in errors (`POST /channels/{id}/messages`).
    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        route: &'static str,
        path: &str,
        body: Option<&Value>,
    ) -> Result<T, ApiError> {
        let bytes = self.call_raw(method, route, path, body).await?;
        serde_json::from_slice(&bytes).map_err(|e| ApiError::Decode {
            route,
            message: e.to_string(),
        })
    }

    async fn call_raw(
        &self,
        method: Method,
        route: &'static str,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Vec<u8>, ApiError> {
        let url = format!("{}{path}", self.root);
        let mut req = self
            .http
            .request(method, url)
            .header(
                reqwest::header::AUTHORIZATION,
                format!("Bot {}", self.token.expose()),
            )
            .header(
                reqwest::header::USER_AGENT,
                concat!(
                    "DiscordBot (https://github.com/openclaw/openclaw, ",
                    env!("CARGO_PKG_VERSION"),
                    ")"
                ),
            )
            .timeout(CALL_TIMEOUT);
        if let Some(b) = body {
            req = req.json(b);
        }
        let transport = |e: reqwest::Error| {
            if e.is_timeout() {
                ApiError::Timeout {
                    route,
                    after: CALL_TIMEOUT,
                }
            } else {
                ApiError::Transport {
                    route,
                    root: self.root.clone(),
                    message: e.without_url().to_string(),
                }
            }
        };
        let resp = req.send().await.map_err(transport)?;
        let status = resp.status();
        let header_wait = resp
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<f64>().ok());
        let bytes = resp.bytes().await.map_err(transport)?;
        if status.is_success() {
            return Ok(bytes.to_vec());
        }
        let err: ErrorBody =
            serde_json::from_slice(&bytes[..bytes.len().min(MAX_BODY)]).unwrap_or_default();
        let wait = err
            .retry_after
            .or(header_wait)
            .filter(|s| s.is_finite() && *s >= 0.0)
            .map(Duration::from_secs_f64);
        Err(ApiError::Rejected {
            route,
            status: status.as_u16(),
            code: err.code,
            message: err
                .message
                .filter(|m| !m.trim().is_empty())
                .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_string()),
            retry_after: wait,
        })
    }

    /// Where the gateway is.
    pub async fn gateway_bot(&self) -> Result<GatewayBot, ApiError> {
        self.call(Method::GET, "GET /gateway/bot", "/gateway/bot", None)
            .await
    }

    /// The bot's own user (the probe).
    pub async fn get_me(&self) -> Result<User, ApiError> {
        self.call(Method::GET, "GET /users/@me", "/users/@me", None)
            .await
    }

    pub async fn get_channel(&self, channel_id: &str) -> Result<Channel, ApiError> {
        let path = format!("/channels/{}", path_id(channel_id));
        self.call(Method::GET, "GET /channels/{id}", &path, None)
            .await
    }

    /// The DM channel with a user (created on first use, the same one afterwards).
    pub async fn open_dm(&self, user_id: &str) -> Result<Channel, ApiError> {
        let body = json!({"recipient_id": user_id});
        self.call(
            Method::POST,
            "POST /users/@me/channels",
            "/users/@me/channels",
            Some(&body),
        )
        .await
    }

    /// "Bot is typing…" for about ten seconds.
    pub async fn trigger_typing(&self, channel_id: &str) -> Result<(), ApiError> {
        let path = format!("/channels/{}/typing", path_id(channel_id));
        self.call_raw(Method::POST, "POST /channels/{id}/typing", &path, None)
            .await
            .map(|_| ())
    }

    /// Post one message (at most 2000 characters), optionally as a reply to `reply_to`,
    /// waiting out rate limits.
    pub async fn send_message(
        &self,
        channel_id: &str,
        content: &str,
        reply_to: Option<&str>,
    ) -> Result<Sent, ApiError> {
        let mut body = json!({"content": content});
        if let Some(m) = reply_to {
            body["message_reference"] = json!({"message_id": m, "fail_if_not_exists": false});
        }
        let path = format!("/channels/{}/messages", path_id(channel_id));
        let mut attempt = 1;
        loop {
            let r = self
                .call(
                    Method::POST,
                    "POST /channels/{id}/messages",
                    &path,
                    Some(&body),
                )
                .await;
            match r {
                Err(e)
                    if attempt < SEND_ATTEMPTS
                        && e.retry_after().is_some_and(|d| d <= MAX_RATE_LIMIT_WAIT) =>
                {
                    let wait = e.retry_after().unwrap_or_default();
                    tracing::debug!(?wait, "discord: rate limited; waiting");
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
                r => return r,
            }
        }
    }
}

/// Ids go into a URL path: only the digits of a snowflake (anything else becomes a 404 there).
fn path_id(id: &str) -> String {
    id.trim().chars().filter(char::is_ascii_digit).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_token() {
        let api = RestApi::new(
            reqwest::Client::new(),
            "https://discord.com/api/v10/",
            Secret::new("MTIz.SECRET.token"),
        );
        let shown = format!("{api:?}");
        assert!(!shown.contains("SECRET"), "{shown}");
        assert_eq!(api.root(), "https://discord.com/api/v10");
    }

    #[test]
    fn error_classes() {
        let rejected = |status, retry_after| ApiError::Rejected {
            route: "POST /channels/{id}/messages",
            status,
            code: None,
            message: "x".into(),
            retry_after,
        };
        assert!(rejected(401, None).is_unauthorized());
        assert_eq!(
            rejected(429, Some(Duration::from_millis(250))).retry_after(),
            Some(Duration::from_millis(250))
        );
        assert_eq!(rejected(403, None).retry_after(), None);
        assert_eq!(path_id("123/../x"), "123");
    }
}
