//! The agent runtime end to end against the fake OpenAI-compatible server: plain turns, tool
//! turns, queueing while busy, abort, reset and idle session tasks.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use openclaw_agent::{
    AgentRuntime, QueueModeSetting, RunRequest, RunStatus, RuntimeEvent, RuntimeOptions, Submitted,
};
use openclaw_config::{EnvMap, Paths};
use openclaw_protocol::events::{AgentStream, ChatState};
use openclaw_test_support::{Behavior, FakeOpenAi, FakeServer, Script};

pub struct Rig {
    pub rt: Arc<AgentRuntime>,
    pub events: Arc<Mutex<Vec<RuntimeEvent>>>,
    pub fake: FakeServer,
    pub dir: tempfile::TempDir,
}

pub fn paths(dir: &Path) -> Paths {
    let mut env = EnvMap::new();
    env.insert("HOME".into(), dir.display().to_string());
    env.insert(
        "OPENCLAW_STATE_DIR".into(),
        dir.join("state").display().to_string(),
    );
    Paths::from_env(&env).unwrap()
}

pub fn config_text(base_url: &str, extra: &str) -> String {
    format!(
        r#"{{
  models: {{ providers: {{ mock: {{ baseUrl: "{base_url}", api: "openai-completions", apiKey: "k",
    models: [{{ id: "mock-model", contextWindow: 128000 }}] }} }} }},
  agents: {{ defaults: {{ model: {{ primary: "mock/mock-model" }} }} }},
  session: {{ reset: {{ mode: "idle", idleMinutes: 10000 }} }},
  {extra}
}}"#
    )
}

pub async fn rig_with(script: Script, extra: &str, idle: Duration) -> Rig {
    let options = RuntimeOptions {
        idle_ttl: idle,
        ..RuntimeOptions::default()
    };
    rig_opts(script, extra, options).await
}

pub async fn rig_opts(script: Script, extra: &str, options: RuntimeOptions) -> Rig {
    let fake = FakeOpenAi::start(script).await;
    let dir = tempfile::tempdir().unwrap();
    let paths = paths(dir.path());
    let loaded = openclaw_config::parse_str(
        &config_text(&fake.base_url, extra),
        &paths.config_path,
        &EnvMap::new(),
    )
    .unwrap();
    let rt = AgentRuntime::with_options(&loaded, &paths, &EnvMap::new(), options);
    let events = Arc::new(Mutex::new(Vec::new()));
    let ev = events.clone();
    rt.set_event_sink(Arc::new(move |e: RuntimeEvent| ev.lock().unwrap().push(e)));
    Rig {
        rt,
        events,
        fake,
        dir,
    }
}

pub async fn rig(script: Script) -> Rig {
    rig_with(script, "", Duration::from_secs(60)).await
}

fn req(text: &str, id: &str) -> RunRequest {
    RunRequest {
        message: text.into(),
        run_id: Some(id.into()),
        ..RunRequest::default()
    }
}

async fn run(rig: &Rig, text: &str, id: &str) -> Arc<openclaw_agent::RunOutcome> {
    rig.rt.submit(req(text, id)).await.unwrap();
    rig.rt
        .wait(id, Duration::from_secs(20))
        .await
        .expect("run finished")
}

#[tokio::test]
async fn plain_turn_emits_traced_event_order_and_writes_transcript() {
    let r = rig(Script::echo()).await;
    let o = run(&r, "hello", "r1").await;
    assert_eq!(o.status, RunStatus::Ok, "{o:?}");
    assert_eq!(o.text(), "pong: hello");
    assert_eq!(o.provider.as_deref(), Some("mock"));
    let evs = r.events.lock().unwrap().clone();
    let mut kinds = Vec::new();
    for e in &evs {
        match e {
            RuntimeEvent::Agent(a) => kinds.push(format!(
                "agent:{}:{}",
                serde_json::to_value(a.stream).unwrap().as_str().unwrap(),
                a.data.get("phase").and_then(|p| p.as_str()).unwrap_or("")
            )),
            RuntimeEvent::Chat(c) => kinds.push(format!("chat:{:?}", c.state)),
        }
    }
    assert_eq!(kinds.first().unwrap(), "agent:lifecycle:start");
    assert_eq!(kinds[kinds.len() - 2], "agent:lifecycle:end");
    assert_eq!(kinds.last().unwrap(), "chat:Final");
    assert!(kinds.contains(&"agent:assistant:".to_string()));
    // seq numbers of agent events increase by one.
    let seqs: Vec<u64> = evs
        .iter()
        .filter_map(|e| match e {
            RuntimeEvent::Agent(a) => Some(a.seq),
            _ => None,
        })
        .collect();
    assert_eq!(seqs, (1..=seqs.len() as u64).collect::<Vec<_>>());
    let h = r.rt.history("main", 10).await.unwrap();
    assert_eq!(h.session_key, "agent:main:main");
    assert_eq!(h.messages.len(), 2);
    assert_eq!(h.messages[1].text(), "pong: hello");
    // Second turn sees the first in its context.
    run(&r, "again", "r2").await;
    let last = r.fake.requests().last().unwrap().body.clone();
    // system + user + assistant + user
    assert_eq!(last["messages"].as_array().unwrap().len(), 4);
}

#[tokio::test]
async fn tool_turn_runs_exec_and_records_tool_result() {
    let r = rig(Script::echo()).await;
    let o = run(&r, r#"TOOL exec {"command":"echo hi-there"}"#, "t1").await;
    assert_eq!(o.status, RunStatus::Ok, "{o:?}");
    assert_eq!(o.text(), "tool said: hi-there");
    let tools: Vec<_> = r
        .events
        .lock()
        .unwrap()
        .iter()
        .filter_map(|e| match e {
            RuntimeEvent::Agent(a) if a.stream == AgentStream::Tool => {
                Some(a.data["phase"].as_str().unwrap().to_string())
            }
            _ => None,
        })
        .collect();
    assert_eq!(tools, vec!["start", "result"]);
    let h = r.rt.history("main", 10).await.unwrap();
    let roles: Vec<_> = h
        .messages
        .iter()
        .map(|m| {
            serde_json::to_value(m).unwrap()["role"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(roles, vec!["user", "assistant", "toolResult", "assistant"]);
}

#[tokio::test]
async fn busy_session_collects_queued_messages_in_order() {
    let slow = Behavior::Slow {
        chunks: 3,
        delay: Duration::from_millis(100),
    };
    let r = rig(Script::replies(vec![slow])).await;
    r.rt.submit(req("first", "q0")).await.unwrap();
    for i in 1..=4 {
        r.rt.submit(req(&format!("queued-{i}"), &format!("q{i}")))
            .await
            .unwrap();
    }
    for i in 0..=4 {
        let o =
            r.rt.wait(&format!("q{i}"), Duration::from_secs(20))
                .await
                .unwrap();
        assert_eq!(o.status, RunStatus::Ok, "{o:?}");
    }
    let h = r.rt.history("main", 100).await.unwrap();
    let users: Vec<String> = h
        .messages
        .iter()
        .filter(|m| matches!(m, openclaw_protocol::Message::User(_)))
        .map(|m| m.text())
        .collect();
    assert_eq!(users.len(), 2, "{users:?}");
    assert_eq!(users[0], "first");
    let all = &users[1];
    assert!(all.starts_with("[Queued messages while agent was busy]"));
    let pos: Vec<usize> = (1..=4)
        .map(|i| all.find(&format!("queued-{i}")).unwrap())
        .collect();
    assert!(pos.windows(2).all(|w| w[0] < w[1]), "{all}");
}

#[tokio::test]
async fn followup_mode_runs_each_message_as_its_own_turn() {
    let slow = Behavior::Slow {
        chunks: 2,
        delay: Duration::from_millis(80),
    };
    let r = rig(Script::replies(vec![slow])).await;
    r.rt.submit(req("a", "f0")).await.unwrap();
    for (i, t) in ["b", "c"].iter().enumerate() {
        let mut q = req(t, &format!("f{}", i + 1));
        q.queue_mode = Some(QueueModeSetting::Followup);
        r.rt.submit(q).await.unwrap();
    }
    let o = r.rt.wait("f2", Duration::from_secs(20)).await.unwrap();
    assert_eq!(o.text(), "pong: c");
    let o = r.rt.wait("f1", Duration::from_secs(20)).await.unwrap();
    assert_eq!(o.text(), "pong: b");
}

#[tokio::test]
async fn abort_mid_stream_ends_with_aborted() {
    let slow = Behavior::Slow {
        chunks: 50,
        delay: Duration::from_millis(50),
    };
    let r = rig(Script::always(slow)).await;
    r.rt.submit(req("long", "a1")).await.unwrap();
    // Wait for the first delta, then abort.
    for _ in 0..200 {
        let seen = r
            .events
            .lock()
            .unwrap()
            .iter()
            .any(|e| matches!(e, RuntimeEvent::Agent(a) if a.stream == AgentStream::Assistant));
        if seen {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let aborted = r.rt.abort("main", None).await.unwrap();
    assert_eq!(aborted, vec!["a1".to_string()]);
    let o = r.rt.wait("a1", Duration::from_secs(10)).await.unwrap();
    assert_eq!(o.status, RunStatus::Aborted);
    assert!(r.events.lock().unwrap().iter().any(
        |e| matches!(e, RuntimeEvent::Chat(c) if c.state == ChatState::Aborted && c.run_id == "a1")
    ));
    // The session keeps working after an abort.
    let r2 = r.rt.submit(req("x", "a2")).await.unwrap();
    assert!(matches!(r2, Submitted::Accepted { .. }));
}

#[tokio::test]
async fn duplicate_run_id_is_idempotent() {
    let r = rig(Script::echo()).await;
    let o = run(&r, "once", "dup").await;
    match r.rt.submit(req("once", "dup")).await.unwrap() {
        Submitted::Done(d) => assert_eq!(d.text(), o.text()),
        other => panic!("expected Done, got {other:?}"),
    }
    assert_eq!(r.fake.requests().len(), 1);
}

#[tokio::test]
async fn new_trigger_resets_and_idle_tasks_exit() {
    let r = rig_with(Script::echo(), "", Duration::from_millis(100)).await;
    run(&r, "remember", "n1").await;
    let before = r.rt.session("main").await.unwrap().unwrap().session_id;
    let o = run(&r, "/new", "n2").await;
    assert_eq!(o.text(), "New session started.");
    let after = r.rt.session("main").await.unwrap().unwrap().session_id;
    assert_ne!(before, after);
    assert!(r.rt.history("main", 10).await.unwrap().messages.is_empty());
    for _ in 0..100 {
        if r.rt.live_sessions() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(r.rt.live_sessions(), 0);
    // Respawned on demand, with the transcript reloaded.
    let o = run(&r, "/reset hi again", "n3").await;
    assert_eq!(o.text(), "pong: hi again");
    let _ = &r.dir;
}

#[tokio::test]
async fn missing_model_reports_an_error_naming_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let paths = paths(dir.path());
    let loaded = openclaw_config::parse_str("{}", &paths.config_path, &EnvMap::new()).unwrap();
    let rt = AgentRuntime::new(&loaded, &paths, &EnvMap::new());
    rt.submit(req("hi", "e1")).await.unwrap();
    let o = rt.wait("e1", Duration::from_secs(10)).await.unwrap();
    assert_eq!(o.status, RunStatus::Error);
    assert!(
        o.error
            .as_deref()
            .unwrap()
            .contains("agents.defaults.model.primary"),
        "{o:?}"
    );
}

#[tokio::test]
async fn back_to_back_runs_each_get_their_own_answer() {
    let r = rig(Script::echo()).await;
    for i in 0..20 {
        let text = format!("message {i}");
        let o = run(&r, &text, &format!("b{i}")).await;
        assert_eq!(o.status, RunStatus::Ok, "{o:?}");
        assert_eq!(
            o.text(),
            format!("pong: {text}"),
            "run b{i} got another run's answer"
        );
    }
}
