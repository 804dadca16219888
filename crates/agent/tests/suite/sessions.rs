//! Session tools against an in-memory fake of the runtime.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use openclaw_agent::tools::sessions::{
    AgentInfo, ListQuery, SendOutcome, SendRequest, SessionCaller, SessionRow, SessionsApi,
    SessionsError, SpawnOutcome, SpawnRequest,
};
use openclaw_protocol::{AssistantMessage, ContentBlock, Message};
use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use super::{call, ctx};

#[derive(Default)]
struct Fake {
    sent: Mutex<Vec<SendRequest>>,
    spawned: Mutex<Vec<SpawnRequest>>,
    queries: Mutex<Vec<ListQuery>>,
}

#[async_trait]
impl SessionsApi for Fake {
    async fn list(
        &self,
        _c: &SessionCaller,
        q: ListQuery,
    ) -> Result<Vec<SessionRow>, SessionsError> {
        self.queries.lock().unwrap().push(q);
        Ok(vec![SessionRow {
            key: "agent:main:main".into(),
            kind: "main".into(),
            label: None,
            agent_id: Some("main".into()),
            updated_at: Some(1),
            model: None,
            messages: vec![],
        }])
    }
    async fn history(
        &self,
        _c: &SessionCaller,
        key: &str,
        limit: usize,
    ) -> Result<Vec<Message>, SessionsError> {
        if key != "agent:main:main" {
            return Err(SessionsError::NotFound(key.into()));
        }
        let mut msgs = vec![
            Message::user_text("hello", 1),
            Message::Assistant(AssistantMessage {
                content: vec![
                    ContentBlock::Thinking {
                        thinking: "hidden".into(),
                    },
                    ContentBlock::text("hi there"),
                ],
                api: None,
                provider: None,
                model: None,
                usage: None,
                stop_reason: None,
                error_message: None,
                timestamp: 2,
            }),
        ];
        msgs.truncate(limit);
        Ok(msgs)
    }
    async fn send(
        &self,
        c: &SessionCaller,
        req: SendRequest,
        _cancel: CancellationToken,
    ) -> Result<SendOutcome, SessionsError> {
        assert_eq!(c.agent_id, "main");
        let key = req.session_key.clone().unwrap_or_default();
        let waited = req.wait.is_some();
        self.sent.lock().unwrap().push(req);
        Ok(if waited {
            SendOutcome::Ok {
                run_id: "r1".into(),
                session_key: key,
                reply: "pong".into(),
            }
        } else {
            SendOutcome::Accepted {
                run_id: "r1".into(),
                session_key: key,
            }
        })
    }
    async fn spawn(
        &self,
        _c: &SessionCaller,
        req: SpawnRequest,
    ) -> Result<SpawnOutcome, SessionsError> {
        self.spawned.lock().unwrap().push(req);
        Ok(SpawnOutcome {
            status: "accepted".into(),
            run_id: "r2".into(),
            child_session_key: "agent:main:subagent:1".into(),
        })
    }
    async fn status(
        &self,
        c: &SessionCaller,
        key: Option<&str>,
        model: Option<&str>,
    ) -> Result<Value, SessionsError> {
        Ok(json!({"sessionKey": key.or(c.session_key.as_deref()), "model": model}))
    }
    async fn agents(&self, _c: &SessionCaller) -> Result<Vec<AgentInfo>, SessionsError> {
        Ok(vec![AgentInfo {
            id: "main".into(),
            name: None,
            default: true,
        }])
    }
}

fn setup() -> (tempfile::TempDir, openclaw_agent::ToolContext, Arc<Fake>) {
    let ws = tempfile::tempdir().unwrap();
    let mut c = ctx(ws.path(), false);
    let fake = Arc::new(Fake::default());
    c.sessions = Some(fake.clone());
    c.session_key = Some("agent:main:main".into());
    (ws, c, fake)
}

#[tokio::test]
async fn list_and_history() {
    let (_ws, c, fake) = setup();
    let out = call(
        &c,
        "sessions_list",
        json!({"kinds": ["Main"], "messageLimit": 50}),
    )
    .await;
    assert!(!out.is_error, "{}", out.text_content());
    assert_eq!(out.details.as_ref().unwrap()["count"], 1);
    let q = fake.queries.lock().unwrap()[0].clone();
    assert_eq!((q.kinds, q.message_limit), (vec!["main".to_string()], 20));
    let out = call(&c, "sessions_list", json!({"kinds": ["bogus"]})).await;
    assert!(out.is_error);

    let out = call(
        &c,
        "sessions_history",
        json!({"sessionKey": "agent:main:main"}),
    )
    .await;
    assert!(!out.is_error);
    assert!(!out.text_content().contains("hidden"));
    assert!(out.text_content().contains("hi there"));
    let out = call(&c, "sessions_history", json!({"sessionKey": "agent:x:y"})).await;
    assert!(out.is_error && out.text_content().contains("sessions_list"));
    let out = call(&c, "sessions_history", json!({})).await;
    assert!(out.is_error && out.text_content().contains("sessionKey"));
}

#[tokio::test]
async fn send_spawn_status_agents() {
    let (_ws, c, fake) = setup();
    let out = call(
        &c,
        "sessions_send",
        json!({"sessionKey": "agent:main:other", "message": "ping"}),
    )
    .await;
    assert_eq!(
        out.details.unwrap(),
        json!({"status": "ok", "runId": "r1", "sessionKey": "agent:main:other", "reply": "pong"})
    );
    let out = call(
        &c,
        "sessions_send",
        json!({"sessionKey": "k", "message": "ping", "timeoutSeconds": 0}),
    )
    .await;
    assert_eq!(out.details.unwrap()["status"], "accepted");
    assert_eq!(
        fake.sent.lock().unwrap()[0].wait,
        Some(std::time::Duration::from_secs(30))
    );
    let out = call(&c, "sessions_send", json!({"message": "ping"})).await;
    assert!(out.is_error && out.text_content().contains("sessionKey"));

    let out = call(
        &c,
        "sessions_spawn",
        json!({"task": "do it", "cleanup": "delete"}),
    )
    .await;
    assert_eq!(
        out.details.unwrap()["childSessionKey"],
        "agent:main:subagent:1"
    );
    assert_eq!(fake.spawned.lock().unwrap()[0].mode, "run");
    let out = call(
        &c,
        "sessions_spawn",
        json!({"task": "x", "cleanup": "burn"}),
    )
    .await;
    assert!(out.is_error);
    let out = call(&c, "sessions_spawn", json!({"task": " "})).await;
    assert!(out.is_error);

    let out = call(&c, "session_status", json!({"sessionKey": "current"})).await;
    assert_eq!(out.details.unwrap()["sessionKey"], "agent:main:main");
    let out = call(&c, "agents_list", json!({})).await;
    assert_eq!(
        out.details.unwrap(),
        json!({"agents": [{"id": "main", "default": true}]})
    );
}

#[tokio::test]
async fn unavailable_without_runtime() {
    let ws = tempfile::tempdir().unwrap();
    let c = ctx(ws.path(), false);
    let out = call(&c, "agents_list", json!({})).await;
    assert!(out.is_error && out.text_content().contains("unavailable"));
}
