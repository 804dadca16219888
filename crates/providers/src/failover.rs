//! Retry and model fallback along primary → fallbacks.
//!
//! The one rule: a model is retried, or abandoned for the next candidate, only while nothing has
//! reached the caller. Once an answer event was yielded, later errors go to the caller as-is —
//! replaying half an answer from another model would duplicate text in the chat. `ModelSelected`
//! and `Usage` are buffered until the first answer event, so they do not count as "yielded".
//!
//! Per candidate: retryable errors (429, 408, 5xx, connect, timeout, stall) are retried with
//! doubling backoff, honouring `Retry-After` up to a cap; then the next candidate is tried if the
//! error allows fallback. Aborts and client errors (other 4xx) stop immediately.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use tokio_util::sync::CancellationToken;

use crate::error::{AttemptError, ProviderError};
use crate::types::{ChatRequest, StreamEvent};
use crate::{EventStream, ModelClient};

/// One model to try.
#[derive(Clone)]
pub struct Candidate {
    pub provider: String,
    /// Model id as the provider knows it.
    pub model: String,
    pub client: Arc<dyn ModelClient>,
}

impl std::fmt::Debug for Candidate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Candidate({}/{})", self.provider, self.model)
    }
}

/// Retry settings.
#[derive(Debug, Clone)]
pub struct FailoverPolicy {
    /// Retries of the same candidate after its first try (so `3` = up to 4 tries).
    pub retries_per_candidate: u32,
    /// First backoff; doubled per retry (250 ms, 500 ms, 1 s, …).
    pub base_backoff: Duration,
    /// Upper bound of the doubling backoff.
    pub max_backoff: Duration,
    /// Upper bound of a server-requested `Retry-After` wait.
    pub max_retry_after: Duration,
}

impl Default for FailoverPolicy {
    fn default() -> Self {
        FailoverPolicy {
            retries_per_candidate: 3,
            base_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(30),
        }
    }
}

impl FailoverPolicy {
    fn delay(&self, retry: u32, err: &ProviderError) -> Duration {
        if let Some(ra) = err.retry_after() {
            return ra.min(self.max_retry_after);
        }
        let factor = 1u32.checked_shl(retry).unwrap_or(u32::MAX);
        self.base_backoff
            .saturating_mul(factor)
            .min(self.max_backoff)
    }
}

/// A [`ModelClient`] that tries candidates in order. `req.model` is ignored: each candidate
/// carries its own model id. The stream starts with `ModelSelected` naming the model that
/// answered.
#[derive(Debug, Clone)]
pub struct FailoverClient {
    candidates: Vec<Candidate>,
    policy: FailoverPolicy,
}

impl FailoverClient {
    pub fn new(candidates: Vec<Candidate>, policy: FailoverPolicy) -> Self {
        FailoverClient { candidates, policy }
    }

    pub fn candidates(&self) -> &[Candidate] {
        &self.candidates
    }

    /// Open one candidate and wait for its first answer event.
    async fn open(
        &self,
        cand: &Candidate,
        req: &ChatRequest,
        cancel: &CancellationToken,
    ) -> Result<EventStream, ProviderError> {
        let mut req = req.clone();
        req.model = cand.model.clone();
        let mut stream = cand.client.stream(req, cancel.clone()).await?;
        let mut held: Vec<StreamEvent> = Vec::new();
        loop {
            match stream.next().await {
                Some(Ok(ev @ (StreamEvent::ModelSelected { .. } | StreamEvent::Usage(_)))) => {
                    held.push(ev)
                }
                Some(Ok(ev)) => {
                    if !held
                        .iter()
                        .any(|e| matches!(e, StreamEvent::ModelSelected { .. }))
                    {
                        held.insert(
                            0,
                            StreamEvent::ModelSelected {
                                provider: cand.provider.clone(),
                                model: cand.model.clone(),
                                api: String::new(),
                            },
                        );
                    }
                    held.push(ev);
                    return Ok(futures::stream::iter(held.into_iter().map(Ok))
                        .chain(stream)
                        .boxed());
                }
                Some(Err(e)) => return Err(e),
                None => {
                    return Err(ProviderError::Decode {
                        provider: cand.provider.clone(),
                        detail: "stream ended before any answer".to_string(),
                    });
                }
            }
        }
    }
}

#[async_trait::async_trait]
impl ModelClient for FailoverClient {
    async fn stream(
        &self,
        req: ChatRequest,
        cancel: CancellationToken,
    ) -> Result<EventStream, ProviderError> {
        let mut attempts: Vec<AttemptError> = Vec::new();
        for cand in &self.candidates {
            let label = format!("{}/{}", cand.provider, cand.model);
            let mut retry = 0u32;
            loop {
                let err = match self.open(cand, &req, &cancel).await {
                    Ok(s) => {
                        if !attempts.is_empty() {
                            tracing::info!(model = %label, failed_attempts = attempts.len(), "model answered after failover");
                        }
                        return Ok(s);
                    }
                    Err(e) => e,
                };
                if matches!(err, ProviderError::Aborted) {
                    return Err(err);
                }
                tracing::warn!(model = %label, error = %err, "model attempt failed");
                let retryable = err.is_retryable();
                let fallback = err.allows_fallback();
                let wait = self.policy.delay(retry, &err);
                if !retryable && !fallback {
                    if attempts.is_empty() {
                        return Err(err);
                    }
                    attempts.push(AttemptError {
                        model: label,
                        error: err,
                    });
                    return Err(ProviderError::AllCandidatesFailed { attempts });
                }
                attempts.push(AttemptError {
                    model: label.clone(),
                    error: err,
                });
                if !retryable || retry >= self.policy.retries_per_candidate {
                    break;
                }
                retry += 1;
                tokio::select! {
                    _ = cancel.cancelled() => return Err(ProviderError::Aborted),
                    _ = tokio::time::sleep(wait) => {}
                }
            }
        }
        if attempts.is_empty() {
            return Err(ProviderError::Config(
                "no model configured; set agents.defaults.model (e.g. \"ollama/llama3.1\")"
                    .to_string(),
            ));
        }
        Err(ProviderError::AllCandidatesFailed { attempts })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_honours_retry_after_cap() {
        let p = FailoverPolicy::default();
        let e = ProviderError::Status {
            provider: "p".into(),
            status: 500,
            message: String::new(),
            retry_after: None,
        };
        assert_eq!(p.delay(0, &e), Duration::from_millis(250));
        assert_eq!(p.delay(1, &e), Duration::from_millis(500));
        assert_eq!(p.delay(2, &e), Duration::from_secs(1));
        assert_eq!(p.delay(40, &e), Duration::from_secs(8));
        let e = ProviderError::Status {
            provider: "p".into(),
            status: 429,
            message: String::new(),
            retry_after: Some(Duration::from_secs(999)),
        };
        assert_eq!(p.delay(0, &e), Duration::from_secs(30));
    }
}
