//! Full agent turns through the gateway over WebSocket, against fake model servers speaking
//! the real OpenAI wire format: event order and final shapes as traced, tool events gated by
//! the `tool-events` cap, failover, abort, queueing, parallel sessions and session methods.

use std::sync::Arc;
use std::time::Duration;

use openclaw_agent::{AgentRuntime, RuntimeOptions};
use openclaw_config::{EnvMap, Paths};
use openclaw_gateway::{RunningGateway, ServerSettings, Services};
use openclaw_test_support::{Behavior, FakeOpenAi, FakeServer, Script};
use serde_json::{Value, json};

use super::client::{self, ALL_SCOPES, TestServer, Ws, next_json, send};

pub struct AgentServer {
    pub _gw: RunningGateway,
    pub url: String,
    pub _fakes: Vec<FakeServer>,
    pub _dir: tempfile::TempDir,
}

pub fn paths(dir: &std::path::Path) -> Paths {
    let mut env = EnvMap::new();
    env.insert("HOME".into(), dir.display().to_string());
    env.insert(
        "OPENCLAW_STATE_DIR".into(),
        dir.join("state").display().to_string(),
    );
    Paths::from_env(&env).unwrap()
}

/// A gateway with an agent runtime over `mock/mock-model` at `primary` (and an optional
/// `backup/mock-model` fallback).
pub async fn start(primary: FakeServer, fallback: Option<FakeServer>) -> AgentServer {
    start_with(primary, fallback, |_| {}).await
}

pub async fn start_with(
    primary: FakeServer,
    fallback: Option<FakeServer>,
    tweak: impl FnOnce(&mut ServerSettings),
) -> AgentServer {
    let dir = tempfile::tempdir().unwrap();
    let paths = paths(dir.path());
    let backup = fallback
        .as_ref()
        .map(|f| {
            format!(
                r#", backup: {{ baseUrl: "{}", apiKey: "k", models: [{{ id: "mock-model" }}] }}"#,
                f.base_url
            )
        })
        .unwrap_or_default();
    let fallbacks = if fallback.is_some() {
        r#"fallbacks: ["backup/mock-model"]"#
    } else {
        ""
    };
    let text = format!(
        r#"{{ models: {{ providers: {{ mock: {{ baseUrl: "{}", api: "openai-completions", apiKey: "k",
              models: [{{ id: "mock-model", contextWindow: 128000 }}] }} {backup} }} }},
            agents: {{ defaults: {{ model: {{ primary: "mock/mock-model", {fallbacks} }} }} }},
            session: {{ reset: {{ mode: "idle", idleMinutes: 100000 }} }} }}"#,
        primary.base_url
    );
    let loaded = openclaw_config::parse_str(&text, &paths.config_path, &EnvMap::new()).unwrap();
    let rt = AgentRuntime::with_options(&loaded, &paths, &EnvMap::new(), RuntimeOptions::default());
    let mut settings = ServerSettings::for_tests(paths.state_dir.clone(), TestServer::token("tok"));
    tweak(&mut settings);
    let services = Services {
        agent: Some(rt),
        ..Services::default()
    };
    let gw = openclaw_gateway::start(settings, services).await.unwrap();
    let url = format!("ws://{}/", gw.local_addr());
    let mut fakes = vec![primary];
    fakes.extend(fallback);
    AgentServer {
        _gw: gw,
        url,
        _fakes: fakes,
        _dir: dir,
    }
}

/// Connect with the given caps.
pub async fn connect_caps(url: &str, caps: &[&str]) -> Ws {
    let mut ws = client::open(url).await;
    let ch = next_json(&mut ws).await;
    assert_eq!(ch["event"], "connect.challenge");
    let mut frame = client::connect_frame(3, 3, json!({"token": "tok"}), ALL_SCOPES);
    frame["params"]["caps"] = json!(caps);
    send(&mut ws, &frame).await;
    let res = next_json(&mut ws).await;
    assert_eq!(res["ok"], true, "{res}");
    ws
}

/// Send a request; collect every frame until the final response (a `res` with this id whose
/// status is not `accepted`).
async fn agent_call(ws: &mut Ws, id: &str, params: Value) -> Vec<Value> {
    send(
        ws,
        &json!({"type":"req","id":id,"method":"agent","params":params}),
    )
    .await;
    let mut frames = Vec::new();
    loop {
        let f = next_json(ws).await;
        let done = f["type"] == "res" && f["id"] == id && f["payload"]["status"] != "accepted";
        frames.push(f);
        if done {
            return frames;
        }
    }
}

/// Events until a `chat` event for `run_id` in a terminal state; returns them all.
async fn until_chat_end(ws: &mut Ws, run_id: &str) -> Vec<Value> {
    let mut out = Vec::new();
    loop {
        let f = tokio::time::timeout(Duration::from_secs(20), next_json(ws))
            .await
            .unwrap();
        let end = f["event"] == "chat"
            && f["payload"]["runId"] == run_id
            && ["final", "aborted", "error"]
                .contains(&f["payload"]["state"].as_str().unwrap_or(""));
        out.push(f);
        if end {
            return out;
        }
    }
}

fn describe(f: &Value) -> String {
    match f["type"].as_str() {
        Some("res") => format!("res:{}", f["payload"]["status"].as_str().unwrap_or("?")),
        _ => match f["event"].as_str() {
            Some("agent") => format!(
                "agent:{}{}",
                f["payload"]["stream"].as_str().unwrap_or(""),
                f["payload"]["data"]["phase"]
                    .as_str()
                    .map(|p| format!(":{p}"))
                    .unwrap_or_default()
            ),
            Some("chat") => format!("chat:{}", f["payload"]["state"].as_str().unwrap_or("")),
            Some(o) => o.to_string(),
            None => "?".into(),
        },
    }
}

#[tokio::test]
async fn agent_method_streams_events_and_answers_as_traced() {
    let s = start(FakeOpenAi::start(Script::echo()).await, None).await;
    let mut ws = connect_caps(&s.url, &[]).await;
    let frames = agent_call(
        &mut ws,
        "r0",
        json!({"message": "hello", "agentId": "main", "idempotencyKey": "k-1"}),
    )
    .await;
    let kinds: Vec<String> = frames
        .iter()
        .map(describe)
        .filter(|k| k != "health" && k != "tick")
        .collect();
    assert_eq!(kinds[0], "res:accepted");
    assert_eq!(kinds[1], "agent:lifecycle:start");
    let end = kinds
        .iter()
        .position(|k| k == "agent:lifecycle:end")
        .unwrap();
    assert!(
        kinds[2..end]
            .iter()
            .all(|k| k == "agent:assistant" || k == "chat:delta"),
        "{kinds:?}"
    );
    assert_eq!(kinds[end + 1], "chat:final");
    assert_eq!(kinds[end + 2], "res:ok");
    let accepted = &frames[0]["payload"];
    assert_eq!(accepted["runId"], "k-1");
    assert!(accepted["acceptedAt"].as_u64().is_some());
    let last = &frames.last().unwrap()["payload"];
    assert_eq!(last["summary"], "completed");
    assert_eq!(
        last["result"]["payloads"],
        json!([{"text": "pong: hello", "mediaUrl": null}])
    );
    let meta = &last["result"]["meta"];
    assert_eq!(meta["aborted"], false);
    assert_eq!(meta["agentMeta"]["provider"], "mock");
    assert_eq!(meta["agentMeta"]["model"], "mock-model");
    assert!(meta["agentMeta"]["sessionId"].as_str().is_some());
    for k in ["input", "output", "cacheRead", "cacheWrite", "total"] {
        assert!(meta["agentMeta"]["usage"][k].is_u64(), "usage.{k}: {meta}");
    }
    let chat_final = frames.iter().find(|f| describe(f) == "chat:final").unwrap();
    assert_eq!(chat_final["payload"]["sessionKey"], "agent:main:main");
    assert_eq!(chat_final["payload"]["message"]["role"], "assistant");
    assert_eq!(
        chat_final["payload"]["message"]["content"][0]["text"],
        "pong: hello"
    );
    let delta = frames
        .iter()
        .find(|f| describe(f) == "agent:assistant")
        .unwrap();
    assert!(delta["payload"]["data"]["delta"].as_str().is_some());

    // chat.history after the turn, in the traced shape.
    let h = client::call(
        &mut ws,
        "h1",
        "chat.history",
        json!({"sessionKey": "main", "limit": 10}),
    )
    .await;
    let p = &h["payload"];
    assert_eq!(p["sessionKey"], "agent:main:main");
    assert_eq!(p["thinkingLevel"], "off");
    assert_eq!(p["sessionId"], meta["agentMeta"]["sessionId"]);
    let msgs = p["messages"].as_array().unwrap();
    assert_eq!(msgs.len(), 2);
    assert_eq!(msgs[0]["role"], "user");
    assert_eq!(msgs[1]["stopReason"], "stop");
    assert_eq!(msgs[1]["provider"], "mock");

    // sessions.list in the traced shape.
    let l = client::call(&mut ws, "l1", "sessions.list", json!({})).await;
    let p = &l["payload"];
    assert_eq!(p["count"], 1);
    assert_eq!(p["defaults"]["model"], "mock-model");
    let row = &p["sessions"][0];
    assert_eq!(row["key"], "agent:main:main");
    assert_eq!(row["kind"], "direct");
    assert_eq!(row["modelProvider"], "mock");
    assert_eq!(row["contextTokens"], 128000);
    assert_eq!(row["abortedLastRun"], false);

    // The same idempotency key again: no second run, same answer.
    let again = agent_call(
        &mut ws,
        "r1",
        json!({"message": "hello", "idempotencyKey": "k-1"}),
    )
    .await;
    assert_eq!(
        again.last().unwrap()["payload"]["result"]["payloads"][0]["text"],
        "pong: hello"
    );
}

#[tokio::test]
async fn tool_events_reach_only_clients_with_the_cap() {
    let s = start(FakeOpenAi::start(Script::echo()).await, None).await;
    let mut with = connect_caps(&s.url, &["tool-events"]).await;
    let mut without = connect_caps(&s.url, &[]).await;
    let frames = agent_call(
        &mut with,
        "t1",
        json!({"message": "TOOL exec {\"command\":\"echo seed-era 0\"}", "idempotencyKey": "tool-1"}),
    )
    .await;
    let last = &frames.last().unwrap()["payload"];
    assert_eq!(
        last["result"]["payloads"][0]["text"],
        "tool said: seed-era 0"
    );
    let tool: Vec<&Value> = frames
        .iter()
        .filter(|f| describe(f).starts_with("agent:tool"))
        .collect();
    assert_eq!(tool.len(), 2, "{frames:?}");
    assert_eq!(tool[0]["payload"]["data"]["phase"], "start");
    assert_eq!(tool[0]["payload"]["data"]["name"], "exec");
    assert_eq!(
        tool[0]["payload"]["data"]["args"]["command"],
        "echo seed-era 0"
    );
    assert_eq!(tool[1]["payload"]["data"]["phase"], "result");
    assert_eq!(tool[1]["payload"]["data"]["isError"], false);
    assert_eq!(
        tool[0]["payload"]["data"]["toolCallId"],
        tool[1]["payload"]["data"]["toolCallId"]
    );
    let seen = until_chat_end(&mut without, "tool-1").await;
    assert!(
        seen.iter().all(|f| !describe(f).starts_with("agent:tool")),
        "{seen:?}"
    );
    // The lifecycle seq numbers skip the hidden tool events, as in the trace.
    let seqs: Vec<u64> = seen
        .iter()
        .filter(|f| f["event"] == "agent")
        .map(|f| f["payload"]["seq"].as_u64().unwrap())
        .collect();
    assert!(seqs.windows(2).any(|w| w[1] > w[0] + 1), "{seqs:?}");
}

#[tokio::test]
async fn failover_to_fallback_when_primary_fails() {
    let primary = FakeOpenAi::start(Script::always(Behavior::Status(500))).await;
    let backup = FakeOpenAi::start(Script::echo()).await;
    let s = start(primary, Some(backup)).await;
    let mut ws = connect_caps(&s.url, &[]).await;
    let frames = agent_call(
        &mut ws,
        "f1",
        json!({"message": "hi", "idempotencyKey": "fo-1"}),
    )
    .await;
    let last = &frames.last().unwrap()["payload"];
    assert_eq!(last["status"], "ok", "{last}");
    assert_eq!(last["result"]["payloads"][0]["text"], "pong: hi");
    assert_eq!(last["result"]["meta"]["agentMeta"]["provider"], "backup");
}

#[tokio::test]
async fn chat_abort_mid_stream_emits_aborted() {
    let slow = Behavior::Slow {
        chunks: 100,
        delay: Duration::from_millis(40),
    };
    let s = start(FakeOpenAi::start(Script::always(slow)).await, None).await;
    let mut ws = connect_caps(&s.url, &[]).await;
    let r = client::call(
        &mut ws,
        "s1",
        "chat.send",
        json!({"sessionKey": "main", "message": "go", "idempotencyKey": "ab-1"}),
    )
    .await;
    assert_eq!(r["payload"], json!({"runId": "ab-1", "status": "started"}));
    loop {
        let f = next_json(&mut ws).await;
        if f["event"] == "agent" && f["payload"]["stream"] == "assistant" {
            break;
        }
    }
    let a = client::call(&mut ws, "a1", "chat.abort", json!({"sessionKey": "main"})).await;
    assert_eq!(a["payload"]["aborted"], true, "{a}");
    let evs = until_chat_end(&mut ws, "ab-1").await;
    assert_eq!(evs.last().unwrap()["payload"]["state"], "aborted");
    let w = client::call(
        &mut ws,
        "w1",
        "agent.wait",
        json!({"runId": "ab-1", "timeoutMs": 5000}),
    )
    .await;
    assert_eq!(w["payload"]["status"], "ok");
    // A duplicate chat.send of a finished run answers ok without running again.
    let r = client::call(
        &mut ws,
        "s2",
        "chat.send",
        json!({"sessionKey": "main", "message": "go", "idempotencyKey": "ab-1"}),
    )
    .await;
    assert_eq!(r["payload"]["status"], "ok");
}

#[tokio::test]
async fn busy_session_queues_messages_without_losing_any() {
    let slow = Behavior::Slow {
        chunks: 3,
        delay: Duration::from_millis(60),
    };
    let s = start(FakeOpenAi::start(Script::replies(vec![slow])).await, None).await;
    let mut ws = connect_caps(&s.url, &[]).await;
    for i in 0..5 {
        let r = client::call(&mut ws, &format!("s{i}"), "chat.send",
            json!({"sessionKey": "agent:main:main", "message": format!("m{i}"), "idempotencyKey": format!("q-{i}")})).await;
        assert_eq!(r["payload"]["status"], "started");
    }
    for i in 0..5 {
        let w = client::call(
            &mut ws,
            &format!("w{i}"),
            "agent.wait",
            json!({"runId": format!("q-{i}"), "timeoutMs": 20000}),
        )
        .await;
        assert_eq!(w["payload"]["status"], "ok", "{w}");
    }
    let h = client::call(&mut ws, "h", "chat.history", json!({"sessionKey": "main"})).await;
    let users: Vec<String> = h["payload"]["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["role"] == "user")
        .map(|m| {
            m["content"]
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| m["content"].to_string())
        })
        .collect();
    let all = users.join("\n");
    let pos: Vec<usize> = (0..5)
        .map(|i| all.find(&format!("m{i}")).unwrap())
        .collect();
    assert!(pos.windows(2).all(|w| w[0] < w[1]), "{all}");
}

#[tokio::test]
async fn twenty_sessions_in_parallel() {
    let s = start(FakeOpenAi::start(Script::echo()).await, None).await;
    let url = Arc::new(s.url.clone());
    let mut tasks = Vec::new();
    for i in 0..20 {
        let url = url.clone();
        tasks.push(tokio::spawn(async move {
            let mut ws = connect_caps(&url, &[]).await;
            let frames = agent_call(
                &mut ws,
                "p",
                json!({"message": format!("n{i}"),
                "sessionKey": format!("agent:main:par-{i}"), "idempotencyKey": format!("par-{i}")}),
            )
            .await;
            frames.last().unwrap()["payload"]["result"]["payloads"][0]["text"].clone()
        }));
    }
    for (i, t) in tasks.into_iter().enumerate() {
        assert_eq!(t.await.unwrap(), json!(format!("pong: n{i}")));
    }
    let mut ws = connect_caps(&s.url, &[]).await;
    let l = client::call(&mut ws, "l", "sessions.list", json!({})).await;
    assert_eq!(l["payload"]["count"], 20);
}

#[tokio::test]
async fn sessions_reset_delete_preview_patch() {
    let s = start(FakeOpenAi::start(Script::echo()).await, None).await;
    let mut ws = connect_caps(&s.url, &[]).await;
    agent_call(
        &mut ws,
        "a",
        json!({"message": "one", "idempotencyKey": "sr-1"}),
    )
    .await;
    let p = client::call(
        &mut ws,
        "p",
        "sessions.preview",
        json!({"keys": ["agent:main:main", "agent:main:nope"]}),
    )
    .await;
    let pv = &p["payload"]["previews"];
    assert_eq!(
        pv[0]["items"],
        json!([{"role": "user", "text": "one"}, {"role": "assistant", "text": "pong: one"}])
    );
    assert_eq!(pv[1]["status"], "missing");
    let pa = client::call(
        &mut ws,
        "pa",
        "sessions.patch",
        json!({"key": "main", "label": "work"}),
    )
    .await;
    assert_eq!(pa["payload"]["entry"]["label"], "work");
    let before = client::call(&mut ws, "h0", "chat.history", json!({"sessionKey": "main"})).await;
    let r = client::call(
        &mut ws,
        "r",
        "sessions.reset",
        json!({"key": "main", "reason": "reset"}),
    )
    .await;
    assert_eq!(r["payload"]["ok"], true, "{r}");
    assert_ne!(
        r["payload"]["entry"]["sessionId"],
        before["payload"]["sessionId"]
    );
    assert_eq!(r["payload"]["entry"]["label"], "work");
    let h = client::call(&mut ws, "h1", "chat.history", json!({"sessionKey": "main"})).await;
    assert_eq!(h["payload"]["messages"], json!([]));
    // The session continues after the reset.
    agent_call(
        &mut ws,
        "b",
        json!({"message": "two", "idempotencyKey": "sr-2"}),
    )
    .await;
    let inj = client::call(
        &mut ws,
        "i",
        "chat.inject",
        json!({"sessionKey": "main", "message": "note"}),
    )
    .await;
    assert_eq!(inj["payload"]["ok"], true, "{inj}");
    let c = client::call(
        &mut ws,
        "c",
        "sessions.compact",
        json!({"key": "main", "maxLines": 1}),
    )
    .await;
    assert_eq!(c["payload"]["compacted"], true, "{c}");
    let d = client::call(
        &mut ws,
        "d",
        "sessions.delete",
        json!({"key": "main", "deleteTranscript": true}),
    )
    .await;
    assert_eq!(d["payload"]["deleted"], true);
    let l = client::call(&mut ws, "l", "sessions.list", json!({})).await;
    assert_eq!(l["payload"]["count"], 0);
    let snd = client::call(
        &mut ws,
        "s",
        "send",
        json!({"to": "+1", "message": "x", "idempotencyKey": "s"}),
    )
    .await;
    assert_eq!(snd["ok"], false);
    assert!(
        snd["error"]["message"]
            .as_str()
            .unwrap()
            .contains("channels.")
    );
    let id = client::call(&mut ws, "id", "agent.identity.get", json!({})).await;
    assert_eq!(id["payload"]["agentId"], "main");
}
