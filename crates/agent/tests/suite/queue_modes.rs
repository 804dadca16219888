//! What happens to messages that arrive while a session is busy — `steer`, `steer-backlog`,
//! the `debounceMs` quiet window — and how a session behaves when the runtime keeps less of
//! it in memory (live-session cap, history budget): the transcript on disk stays the truth.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use openclaw_agent::{QueueModeSetting, RunRequest, RunStatus, RuntimeOptions};
use openclaw_test_support::{Behavior, Script};
use serde_json::{Value, json};

use super::runtime::{Rig, rig, rig_opts};

fn req(text: &str, id: &str, mode: Option<QueueModeSetting>) -> RunRequest {
    RunRequest {
        message: text.into(),
        run_id: Some(id.into()),
        queue_mode: mode,
        ..RunRequest::default()
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

async fn wait_for_requests(r: &Rig, n: usize) {
    for _ in 0..500 {
        if r.fake.requests().len() >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the fake model never saw {n} requests");
}

/// The user/toolResult texts of one recorded request, in order.
fn conversation(body: &Value) -> Vec<(String, String)> {
    body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["role"] != "system")
        .map(|m| {
            let text = match &m["content"] {
                Value::String(s) => s.clone(),
                Value::Array(parts) => parts
                    .iter()
                    .filter_map(|p| p["text"].as_str())
                    .collect::<Vec<_>>()
                    .join(""),
                _ => String::new(),
            };
            (m["role"].as_str().unwrap().to_string(), text)
        })
        .collect()
}

#[tokio::test]
async fn steer_skips_the_tool_calls_of_the_answer_in_flight_and_the_model_sees_the_message() {
    let marker = tempfile::tempdir().unwrap();
    let marker = marker.path().join("ran");
    let tool = Behavior::ToolCall {
        name: "exec".into(),
        arguments: json!({ "command": format!("touch {}", marker.display()) }),
    };
    let script = Script::replies(vec![Behavior::Delayed {
        delay: Duration::from_millis(400),
        then: Box::new(tool),
    }]);
    let r = rig(script).await;
    r.rt.submit(req("do the thing", "s1", None)).await.unwrap();
    // The model is thinking about its tool call now.
    wait_for_requests(&r, 1).await;
    r.rt.submit(req("stop, do not", "s2", Some(QueueModeSetting::Steer)))
        .await
        .unwrap();
    let o1 = r.rt.wait("s1", Duration::from_secs(20)).await.unwrap();
    let o2 = r.rt.wait("s2", Duration::from_secs(20)).await.unwrap();
    assert_eq!(o1.status, RunStatus::Ok, "{o1:?}");
    // One turn answered both: the steered run ends with the run it joined.
    assert_eq!(o1.text(), "pong: stop, do not");
    assert_eq!(o2.text(), o1.text());
    assert!(!marker.exists(), "the skipped exec ran anyway");
    let reqs = r.fake.requests();
    assert_eq!(reqs.len(), 2, "one follow-up model call, no extra turn");
    let conv = conversation(&reqs[1].body);
    let tail: Vec<&str> = conv.iter().rev().take(2).map(|(r, _)| r.as_str()).collect();
    assert_eq!(tail, vec!["user", "tool"], "{conv:?}");
    assert_eq!(conv.last().unwrap().1, "stop, do not");
    assert!(
        conv[conv.len() - 2]
            .1
            .contains("Skipped due to queued user message."),
        "{conv:?}"
    );
}

#[tokio::test]
async fn steer_during_the_final_answer_makes_the_turn_answer_it_too() {
    let slow = Behavior::Slow {
        chunks: 6,
        delay: Duration::from_millis(60),
    };
    let r = rig(Script::replies(vec![slow])).await;
    r.rt.submit(req("tell me a story", "f1", None))
        .await
        .unwrap();
    wait_for_requests(&r, 1).await;
    r.rt.submit(req("make it short", "f2", Some(QueueModeSetting::Steer)))
        .await
        .unwrap();
    let o = r.rt.wait("f2", Duration::from_secs(20)).await.unwrap();
    assert_eq!(o.text(), "pong: make it short");
    let h = r.rt.history("main", 100).await.unwrap();
    let users: Vec<String> = h
        .messages
        .iter()
        .filter(|m| matches!(m, openclaw_protocol::Message::User(_)))
        .map(|m| m.text())
        .collect();
    // Injected as its own message, not collected into a follow-up turn.
    assert_eq!(users, vec!["tell me a story", "make it short"]);
}

#[tokio::test]
async fn steer_backlog_steers_and_still_gets_a_turn_of_its_own() {
    let slow = Behavior::Slow {
        chunks: 6,
        delay: Duration::from_millis(60),
    };
    let r = rig_opts(
        Script::replies(vec![slow]),
        "messages: { queue: { debounceMs: 0 } },",
        RuntimeOptions::default(),
    )
    .await;
    r.rt.submit(req("first", "b1", None)).await.unwrap();
    wait_for_requests(&r, 1).await;
    r.rt.submit(req("second", "b2", Some(QueueModeSetting::SteerBacklog)))
        .await
        .unwrap();
    let o1 = r.rt.wait("b1", Duration::from_secs(20)).await.unwrap();
    let o2 = r.rt.wait("b2", Duration::from_secs(20)).await.unwrap();
    // The running turn saw it (and answered it)...
    assert_eq!(o1.text(), "pong: second");
    // ...and it ran again as its own follow-up turn.
    assert_eq!(o2.text(), "pong: second");
    assert_ne!(o1.started_at, o2.started_at);
    assert_eq!(r.fake.requests().len(), 3);
}

#[tokio::test]
async fn messages_queued_behind_a_run_wait_for_the_quiet_window_then_run_as_one() {
    let slow = Behavior::Slow {
        chunks: 2,
        delay: Duration::from_millis(50),
    };
    let r = rig_opts(
        Script::replies(vec![slow]),
        "messages: { queue: { debounceMs: 400 } },",
        RuntimeOptions::default(),
    )
    .await;
    r.rt.submit(req("first", "d0", None)).await.unwrap();
    r.rt.submit(req("one", "d1", None)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(250)).await;
    let last_sent = now_ms();
    r.rt.submit(req("two", "d2", None)).await.unwrap();
    let o1 = r.rt.wait("d1", Duration::from_secs(20)).await.unwrap();
    let o2 = r.rt.wait("d2", Duration::from_secs(20)).await.unwrap();
    assert_eq!(o1.status, RunStatus::Ok, "{o1:?}");
    // The window restarted with "two", so the follow-up started at least 400 ms after it.
    assert!(
        o2.started_at >= last_sent + 400,
        "follow-up started {} ms after the last queued message",
        o2.started_at as i64 - last_sent as i64
    );
    // One collected turn for both.
    assert_eq!(o1.started_at, o2.started_at);
    assert_eq!(r.fake.requests().len(), 2);
}

#[tokio::test]
async fn debounce_per_channel_overrides_the_global_window() {
    let slow = Behavior::Slow {
        chunks: 2,
        delay: Duration::from_millis(50),
    };
    let r = rig_opts(
        Script::replies(vec![slow]),
        "messages: { queue: { debounceMs: 0, debounceMsByChannel: { telegram: 500 } } },",
        RuntimeOptions::default(),
    )
    .await;
    r.rt.submit(req("first", "c0", None)).await.unwrap();
    let sent = now_ms();
    let mut q = req("from telegram", "c1", None);
    q.channel = Some("telegram".into());
    r.rt.submit(q).await.unwrap();
    let o = r.rt.wait("c1", Duration::from_secs(20)).await.unwrap();
    assert_eq!(o.status, RunStatus::Ok, "{o:?}");
    assert!(o.started_at >= sent + 500, "{}", o.started_at - sent);
}

#[tokio::test]
async fn sessions_past_the_live_cap_exit_and_resume_from_their_transcript() {
    let r = rig_opts(
        Script::echo(),
        "",
        RuntimeOptions {
            max_live_sessions: 2,
            ..RuntimeOptions::default()
        },
    )
    .await;
    for (i, s) in ["a", "b", "c", "d"].iter().enumerate() {
        let mut q = req(&format!("hello {s}"), &format!("l{i}"), None);
        q.session_key = Some(format!("agent:main:{s}"));
        r.rt.submit(q).await.unwrap();
        let o = r.rt.wait(&format!("l{i}"), Duration::from_secs(20)).await;
        assert_eq!(o.unwrap().status, RunStatus::Ok);
    }
    for _ in 0..200 {
        if r.rt.live_sessions() <= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(r.rt.live_sessions() <= 2, "{}", r.rt.live_sessions());
    // "a" was evicted; its next turn still has its first turn in context.
    let mut q = req("again", "l9", None);
    q.session_key = Some("agent:main:a".into());
    r.rt.submit(q).await.unwrap();
    r.rt.wait("l9", Duration::from_secs(20)).await.unwrap();
    let conv = conversation(&r.fake.requests().last().unwrap().body);
    let texts: Vec<&str> = conv.iter().map(|(_, t)| t.as_str()).collect();
    assert_eq!(texts, vec!["hello a", "pong: hello a", "again"]);
}

#[tokio::test]
async fn a_context_over_the_memory_budget_is_reloaded_from_disk_each_turn() {
    let r = rig_opts(
        Script::echo(),
        "",
        RuntimeOptions {
            history_budget_bytes: 1,
            ..RuntimeOptions::default()
        },
    )
    .await;
    for i in 0..3 {
        let q = req(&format!("turn {i}"), &format!("h{i}"), None);
        r.rt.submit(q).await.unwrap();
        let o = r.rt.wait(&format!("h{i}"), Duration::from_secs(20)).await;
        assert_eq!(o.unwrap().text(), format!("pong: turn {i}"));
    }
    let conv = conversation(&r.fake.requests().last().unwrap().body);
    let texts: Vec<&str> = conv.iter().map(|(_, t)| t.as_str()).collect();
    assert_eq!(
        texts,
        vec!["turn 0", "pong: turn 0", "turn 1", "pong: turn 1", "turn 2"]
    );
}
