//! The runtime side of the `sessions_*` tools: list, history, send, spawn, status, agents,
//! served from the live runtime (held weakly so a tool context never keeps it alive).

use std::sync::Weak;

use async_trait::async_trait;
use openclaw_protocol::Message;
use openclaw_store::session_key;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use crate::run::{RunState, RunStatus};
use crate::runtime::{AgentRuntime, Inner, RunRequest, Submitted};
use crate::tools::sessions::{
    AgentInfo, ListQuery, SendOutcome, SendRequest, SessionCaller, SessionRow, SessionsError,
    SpawnOutcome, SpawnRequest,
};

pub(crate) struct RuntimeSessions {
    rt: Weak<Inner>,
}

impl RuntimeSessions {
    pub(crate) fn new(rt: Weak<Inner>) -> Self {
        Self { rt }
    }

    fn runtime(&self) -> Result<AgentRuntime, SessionsError> {
        self.rt
            .upgrade()
            .map(AgentRuntime::from_inner)
            .ok_or_else(|| SessionsError::Unavailable("the agent runtime is shutting down".into()))
    }
}

fn store_err(e: crate::runtime::RuntimeError) -> SessionsError {
    match e {
        crate::runtime::RuntimeError::SessionNotFound(k) => SessionsError::NotFound(k),
        crate::runtime::RuntimeError::UnknownAgent(_)
        | crate::runtime::RuntimeError::Invalid(_) => SessionsError::Invalid(e.to_string()),
        other => SessionsError::Unavailable(other.to_string()),
    }
}

#[async_trait]
impl crate::tools::SessionsApi for RuntimeSessions {
    async fn list(
        &self,
        _caller: &SessionCaller,
        query: ListQuery,
    ) -> Result<Vec<SessionRow>, SessionsError> {
        let rt = self.runtime()?;
        let rows = rt
            .list_sessions(query.agent_id.as_deref())
            .await
            .map_err(store_err)?;
        let now = openclaw_protocol::now_ms();
        let mut out = Vec::new();
        for r in rows {
            let kind = session_key::classify(&r.key, r.entry.chat_type.as_deref())
                .as_str()
                .to_string();
            if !query.kinds.is_empty() && !query.kinds.contains(&kind) {
                continue;
            }
            if let Some(m) = query.active_minutes
                && now.saturating_sub(r.entry.updated_at) > m * 60_000
            {
                continue;
            }
            if let Some(l) = &query.label
                && r.entry.label.as_deref() != Some(l.as_str())
            {
                continue;
            }
            if let Some(s) = &query.search
                && !r.key.contains(s.as_str())
                && !r.entry.label.as_deref().unwrap_or("").contains(s.as_str())
            {
                continue;
            }
            let messages = if query.message_limit > 0 {
                rt.history(&r.key, query.message_limit.min(20))
                    .await
                    .map(|h| h.messages)
                    .unwrap_or_default()
            } else {
                Vec::new()
            };
            out.push(SessionRow {
                key: r.key,
                kind,
                label: r.entry.label,
                agent_id: Some(r.agent_id),
                updated_at: Some(r.entry.updated_at),
                model: r.entry.model,
                messages,
            });
            if query.limit.is_some_and(|l| out.len() >= l) {
                break;
            }
        }
        Ok(out)
    }

    async fn history(
        &self,
        _caller: &SessionCaller,
        session_key: &str,
        limit: usize,
    ) -> Result<Vec<Message>, SessionsError> {
        let rt = self.runtime()?;
        if rt.session(session_key).await.map_err(store_err)?.is_none() {
            return Err(SessionsError::NotFound(session_key.to_string()));
        }
        Ok(rt
            .history(session_key, limit)
            .await
            .map_err(store_err)?
            .messages)
    }

    async fn send(
        &self,
        caller: &SessionCaller,
        req: SendRequest,
        cancel: CancellationToken,
    ) -> Result<SendOutcome, SessionsError> {
        let rt = self.runtime()?;
        let key = match (&req.session_key, &req.label) {
            (Some(k), _) => k.clone(),
            (None, Some(label)) => rt
                .list_sessions(req.agent_id.as_deref())
                .await
                .map_err(store_err)?
                .into_iter()
                .find(|r| r.entry.label.as_deref() == Some(label.as_str()))
                .map(|r| r.key)
                .ok_or_else(|| SessionsError::NotFound(format!("label {label:?}")))?,
            (None, None) => {
                return Err(SessionsError::Invalid(
                    "sessions_send needs sessionKey or label".into(),
                ));
            }
        };
        if caller.session_key.as_deref() == Some(key.as_str()) {
            return Err(SessionsError::Forbidden(
                "a session cannot send to itself; answer directly instead".into(),
            ));
        }
        let submitted = rt
            .submit(RunRequest {
                message: req.message,
                agent_id: req.agent_id,
                session_key: Some(key),
                ..RunRequest::default()
            })
            .await
            .map_err(store_err)?;
        let (run_id, session_key) = match submitted {
            Submitted::Accepted {
                run_id,
                session_key,
                ..
            }
            | Submitted::InFlight {
                run_id,
                session_key,
            } => (run_id, session_key),
            Submitted::Done(o) => (o.run_id.clone(), o.session_key.clone()),
        };
        let Some(wait) = req.wait else {
            return Ok(SendOutcome::Accepted {
                run_id,
                session_key,
            });
        };
        let outcome = tokio::select! {
            o = rt.wait(&run_id, wait) => o,
            _ = cancel.cancelled() => None,
        };
        Ok(match outcome {
            Some(o) if o.status == RunStatus::Ok => SendOutcome::Ok {
                run_id,
                session_key,
                reply: o.text(),
            },
            Some(o) => {
                return Err(SessionsError::Unavailable(format!(
                    "the target run ended with {}: {}",
                    o.status.as_str(),
                    o.error.clone().unwrap_or_default()
                )));
            }
            None => SendOutcome::Timeout {
                run_id,
                session_key,
            },
        })
    }

    async fn spawn(
        &self,
        caller: &SessionCaller,
        req: SpawnRequest,
    ) -> Result<SpawnOutcome, SessionsError> {
        let rt = self.runtime()?;
        let agent = req
            .agent_id
            .clone()
            .unwrap_or_else(|| caller.agent_id.clone());
        let key = session_key::subagent_session_key(&agent, &uuid::Uuid::new_v4().to_string());
        let submitted = rt
            .submit(RunRequest {
                message: req.task,
                agent_id: Some(agent),
                session_key: Some(key.clone()),
                ..RunRequest::default()
            })
            .await
            .map_err(store_err)?;
        let run_id = match submitted {
            Submitted::Accepted { run_id, .. } | Submitted::InFlight { run_id, .. } => run_id,
            Submitted::Done(o) => o.run_id.clone(),
        };
        if let Some(label) = req.label {
            let _ = rt.patch(&key, &json!({"label": label})).await;
        }
        Ok(SpawnOutcome {
            status: "accepted".into(),
            run_id,
            child_session_key: key,
        })
    }

    async fn status(
        &self,
        caller: &SessionCaller,
        session_key: Option<&str>,
        model: Option<&str>,
    ) -> Result<Value, SessionsError> {
        let rt = self.runtime()?;
        let key = session_key
            .map(str::to_string)
            .or_else(|| caller.session_key.clone())
            .ok_or_else(|| SessionsError::Invalid("no session to report on".into()))?;
        if let Some(m) = model {
            let v = if m == "default" {
                Value::Null
            } else {
                json!(m)
            };
            rt.patch(&key, &json!({"model": v}))
                .await
                .map_err(store_err)?;
        }
        let entry = rt
            .session(&key)
            .await
            .map_err(store_err)?
            .ok_or_else(|| SessionsError::NotFound(key.clone()))?;
        let running = rt
            .list_sessions(None)
            .await
            .map_err(store_err)?
            .into_iter()
            .find(|r| r.key == key)
            .map(|r| r.active_run_ids)
            .unwrap_or_default();
        let running = running
            .into_iter()
            .filter(|r| matches!(rt.run_state(r), RunState::InFlight { .. }))
            .collect::<Vec<_>>();
        Ok(json!({
            "sessionKey": key,
            "sessionId": entry.session_id,
            "updatedAt": entry.updated_at,
            "model": entry.model_override.or(entry.model),
            "provider": entry.provider_override.or(entry.model_provider),
            "inputTokens": entry.input_tokens,
            "outputTokens": entry.output_tokens,
            "totalTokens": entry.total_tokens,
            "activeRunIds": running,
        }))
    }

    async fn agents(&self, _caller: &SessionCaller) -> Result<Vec<AgentInfo>, SessionsError> {
        let rt = self.runtime()?;
        let default = rt.default_agent_id();
        Ok(rt
            .agent_ids()
            .into_iter()
            .map(|id| AgentInfo {
                default: id == default,
                id,
                name: None,
            })
            .collect())
    }
}
