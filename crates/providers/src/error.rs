//! The one error type of the providers crate, classified exhaustively.
//!
//! Two decisions hang off every variant and both are written out with no `_` arm, so a new
//! variant forces a choice: [`ProviderError::is_retryable`] (try the same model again after a
//! backoff) and [`ProviderError::allows_fallback`] (give up on this model and try the next
//! candidate). Aborts never retry and never fall back.

use std::fmt;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    /// The provider answered with a non-success HTTP status.
    #[error("{provider} returned HTTP {status}: {message}{hint}", hint = status_hint(*.status))]
    Status {
        provider: String,
        status: u16,
        message: String,
        /// Server-requested wait (`Retry-After` / `retry-after-ms`), if any.
        retry_after: Option<Duration>,
    },
    /// No TCP/TLS connection could be made.
    #[error(
        "cannot reach {provider} at {url}: {source} — is the server running and is models.providers.{provider}.baseUrl right?"
    )]
    Connect {
        provider: String,
        url: String,
        #[source]
        source: reqwest::Error,
    },
    /// The response headers did not arrive in time.
    #[error("{provider} did not answer within {}s — the server may be overloaded; raise models.providers.{provider}.timeoutSeconds if it is just slow", .after.as_secs())]
    Timeout { provider: String, after: Duration },
    /// The response started but no bytes arrived for the idle window.
    #[error("{provider} stream stalled: no data for {}s — raise models.providers.{provider}.timeoutSeconds for slow local models", .idle.as_secs())]
    Stalled { provider: String, idle: Duration },
    /// The connection broke while sending or reading the body.
    #[error("connection to {provider} failed mid-request: {source}")]
    Transport {
        provider: String,
        #[source]
        source: reqwest::Error,
    },
    /// The provider reported an error inside the stream (e.g. `overloaded_error`).
    #[error("{provider} reported {kind}: {message}")]
    Remote {
        provider: String,
        kind: String,
        message: String,
    },
    /// The stream was not in the expected wire format.
    #[error(
        "unexpected data from {provider}: {detail} — is models.providers.{provider}.api right for this server?"
    )]
    Decode { provider: String, detail: String },
    /// The caller cancelled the request.
    #[error("model request aborted")]
    Aborted,
    /// Provider/model configuration cannot be used (unknown provider, bad model ref, no key).
    #[error("{0}")]
    Config(String),
    /// Every candidate (primary and fallbacks) failed.
    #[error("{}", all_failed_message(.attempts))]
    AllCandidatesFailed { attempts: Vec<AttemptError> },
}

/// One failed try of one candidate model, for [`ProviderError::AllCandidatesFailed`].
#[derive(Debug)]
pub struct AttemptError {
    /// `provider/model`.
    pub model: String,
    pub error: ProviderError,
}

impl fmt::Display for AttemptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.model, self.error)
    }
}

fn status_hint(status: u16) -> &'static str {
    match status {
        401 | 403 => {
            " — check the API key (models.providers.<id>.apiKey or the provider's env var)"
        }
        404 => " — check the model id and the provider baseUrl",
        429 => " — rate limited; wait or add a fallback model",
        _ => "",
    }
}

fn all_failed_message(attempts: &[AttemptError]) -> String {
    let mut models: Vec<&str> = Vec::new();
    for a in attempts {
        if !models.contains(&a.model.as_str()) {
            models.push(&a.model);
        }
    }
    let mut out = format!(
        "all models failed ({}); check the provider status, keys and baseUrl, or configure agents.defaults.model.fallbacks",
        models.join(", ")
    );
    for a in attempts {
        out.push_str("\n  - ");
        out.push_str(&a.to_string());
    }
    out
}

impl ProviderError {
    /// Try the same model again (after a backoff)?
    pub fn is_retryable(&self) -> bool {
        match self {
            ProviderError::Status { status, .. } => {
                matches!(*status, 408 | 429) || (500..=599).contains(status)
            }
            ProviderError::Connect { .. } => true,
            ProviderError::Timeout { .. } => true,
            ProviderError::Stalled { .. } => true,
            ProviderError::Transport { .. } => true,
            ProviderError::Remote { kind, .. } => matches!(
                kind.as_str(),
                "overloaded_error"
                    | "rate_limit_error"
                    | "api_error"
                    | "timeout_error"
                    | "server_error"
            ),
            ProviderError::Decode { .. } => false,
            ProviderError::Aborted => false,
            ProviderError::Config(_) => false,
            ProviderError::AllCandidatesFailed { .. } => false,
        }
    }

    /// Give up on this model and try the next fallback candidate?
    pub fn allows_fallback(&self) -> bool {
        match self {
            ProviderError::Status { status, .. } => {
                matches!(*status, 408 | 429) || (500..=599).contains(status)
            }
            ProviderError::Connect { .. } => true,
            ProviderError::Timeout { .. } => true,
            ProviderError::Stalled { .. } => true,
            ProviderError::Transport { .. } => true,
            ProviderError::Remote { .. } => true,
            ProviderError::Decode { .. } => true,
            ProviderError::Aborted => false,
            ProviderError::Config(_) => false,
            ProviderError::AllCandidatesFailed { .. } => false,
        }
    }

    /// The wait the server asked for, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ProviderError::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(code: u16) -> ProviderError {
        ProviderError::Status {
            provider: "p".into(),
            status: code,
            message: "m".into(),
            retry_after: None,
        }
    }

    #[test]
    fn classification() {
        assert!(status(429).is_retryable() && status(429).allows_fallback());
        assert!(status(503).is_retryable());
        assert!(status(408).allows_fallback());
        assert!(!status(400).is_retryable() && !status(400).allows_fallback());
        assert!(!status(401).allows_fallback());
        assert!(!ProviderError::Aborted.is_retryable());
        assert!(!ProviderError::Aborted.allows_fallback());
        let stalled = ProviderError::Stalled {
            provider: "p".into(),
            idle: Duration::from_secs(1),
        };
        assert!(stalled.is_retryable() && stalled.allows_fallback());
    }

    #[test]
    fn all_failed_lists_each_attempt() {
        let e = ProviderError::AllCandidatesFailed {
            attempts: vec![
                AttemptError {
                    model: "a/x".into(),
                    error: status(500),
                },
                AttemptError {
                    model: "b/y".into(),
                    error: status(429),
                },
            ],
        };
        let text = e.to_string();
        let mut lines = text.lines();
        assert!(
            lines
                .next()
                .unwrap()
                .starts_with("all models failed (a/x, b/y)")
        );
        assert_eq!(lines.next().unwrap(), "  - a/x: p returned HTTP 500: m");
        assert!(
            lines
                .next()
                .unwrap()
                .starts_with("  - b/y: p returned HTTP 429: m — rate limited")
        );
        assert_eq!(lines.next(), None);
    }
}
