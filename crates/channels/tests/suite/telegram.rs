//! The Telegram transport end to end: a fake Bot API server (real wire format) in front, the
//! agent runtime against a fake OpenAI server behind, the channel manager in between.

use std::sync::Arc;
use std::time::Duration;

use openclaw_agent::{AgentRuntime, RuntimeOptions};
use openclaw_channels::ChannelManager;
use openclaw_channels::telegram::API_ROOT_ENV;
use openclaw_config::{EnvMap, Paths};
use openclaw_store::ChannelPairingStore;
use openclaw_test_support::fake_telegram::{FAKE_BOT_TOKEN, FAKE_BOT_USERNAME};
use openclaw_test_support::{Behavior, FakeOpenAi, FakeServer, FakeTelegram, Script};
use serde_json::Value;

struct Harness {
    _dir: tempfile::TempDir,
    paths: Paths,
    env: EnvMap,
    tg: FakeTelegram,
    model: FakeServer,
    rt: Arc<AgentRuntime>,
    manager: Arc<ChannelManager>,
}

fn config_text(model_url: &str, telegram: &str, extra: &str) -> String {
    format!(
        r#"{{ models: {{ providers: {{ mock: {{ baseUrl: "{model_url}", api: "openai-completions", apiKey: "k",
              models: [{{ id: "mock-model", contextWindow: 128000 }}] }} }} }},
            agents: {{ defaults: {{ model: {{ primary: "mock/mock-model" }} }} }},
            {extra}
            channels: {{ telegram: {telegram} }} }}"#
    )
}

/// `telegram` is the `channels.telegram` object as JSON5; the token is added.
async fn start(telegram: &str, script: Script) -> Harness {
    start_with(telegram, "", script).await
}

/// Like [`start`], with `extra` top-level config keys (JSON5, trailing comma included).
async fn start_with(telegram: &str, extra: &str, script: Script) -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let tg = FakeTelegram::start().await;
    let model = FakeOpenAi::start(script).await;
    let mut env = EnvMap::new();
    env.insert("HOME".into(), dir.path().display().to_string());
    env.insert(
        "OPENCLAW_STATE_DIR".into(),
        dir.path().join("state").display().to_string(),
    );
    env.insert(API_ROOT_ENV.into(), tg.api_root.clone());
    let paths = Paths::from_env(&env).unwrap();
    let telegram = telegram.replacen('{', &format!("{{ botToken: \"{FAKE_BOT_TOKEN}\", "), 1);
    let text = config_text(&model.base_url, &telegram, extra);
    let loaded = openclaw_config::parse_str(&text, &paths.config_path, &env).unwrap();
    let rt = AgentRuntime::with_options(&loaded, &paths, &env, RuntimeOptions::default());
    let manager = ChannelManager::new(rt.clone(), paths.clone(), env.clone());
    manager.apply(&loaded.config);
    Harness {
        _dir: dir,
        paths,
        env,
        tg,
        model,
        rt,
        manager,
    }
}

impl Harness {
    /// Wait until the account has fully handled `n` messages.
    async fn handled(&self, n: u64) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        while self.manager.handled("default") < n {
            assert!(
                tokio::time::Instant::now() < deadline,
                "handled {} of {n} messages; calls: {:#?}",
                self.manager.handled("default"),
                self.tg.calls()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn pairing(&self) -> ChannelPairingStore {
        ChannelPairingStore::new(self.paths.credentials_dir())
    }

    fn reapply(&self, telegram: &str) {
        let text = config_text(&self.model.base_url, telegram, "");
        let loaded = openclaw_config::parse_str(&text, &self.paths.config_path, &self.env).unwrap();
        self.manager.apply(&loaded.config);
    }

    async fn status(&self) -> Value {
        self.manager.status(false, Duration::from_secs(5)).await
    }

    async fn wait_status(&self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            let s = self.status().await;
            if pred(&s) {
                return s;
            }
            assert!(tokio::time::Instant::now() < deadline, "{what}: {s:#}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

fn text(v: &Value) -> &str {
    v["text"].as_str().unwrap_or("")
}

#[tokio::test]
async fn unknown_sender_is_paired_then_answered_after_approval() {
    let h = start("{}", Script::echo()).await;
    h.tg.push_dm(111, "hello");
    let sent = h.tg.wait_sent(1).await;
    let reply = text(&sent[0]);
    assert!(
        reply.starts_with(
            "OpenClaw: access not configured.\n\nYour Telegram user id: 111\n\nPairing code: "
        ),
        "{reply}"
    );
    assert!(sent[0].get("parse_mode").is_none());
    let pending = h
        .pairing()
        .list("telegram", None, chrono::Utc::now())
        .unwrap();
    assert_eq!(pending.len(), 1);
    let code = pending[0].code.clone();
    assert_eq!(pending[0].id, "111");
    assert_eq!(pending[0].meta["username"], "user111");
    assert!(reply.ends_with(&format!("openclaw pairing approve telegram {code}")));
    // Asking again neither processes the message nor repeats the code.
    h.tg.push_dm(111, "hello?");
    h.handled(2).await;
    assert_eq!(h.tg.sent().len(), 1);
    assert!(h.model.requests().is_empty(), "the agent must not run");

    // Approval lands in the store file; the running transport picks it up without a restart.
    let approved = h
        .pairing()
        .approve("telegram", &code, None, chrono::Utc::now())
        .unwrap()
        .unwrap();
    assert_eq!(approved.id, "111");
    h.tg.push_dm(111, "hi again");
    let sent = h.tg.wait_sent(2).await;
    assert_eq!(text(&sent[1]), "pong: hi again");
    assert_eq!(sent[1]["parse_mode"], "HTML");
    assert_eq!(sent[1]["chat_id"], "111");
    assert_eq!(h.model.requests().len(), 1);
    let sessions = h.rt.list_sessions(Some("main")).await.unwrap();
    assert!(
        sessions.iter().any(|s| s.key == "agent:main:main"),
        "{:?}",
        sessions.iter().map(|s| &s.key).collect::<Vec<_>>()
    );
    // Typing was shown while the run was going.
    assert!(
        h.tg.calls()
            .iter()
            .any(|c| c.method == "sendChatAction" && c.body["action"] == "typing")
    );
}

#[tokio::test]
async fn allowlist_answers_listed_senders_and_drops_others() {
    let h = start(
        r#"{ dmPolicy: "allowlist", allowFrom: ["tg:222"] }"#,
        Script::echo(),
    )
    .await;
    h.tg.push_dm(333, "let me in");
    h.tg.push_dm(222, "ping");
    h.handled(2).await;
    let sent = h.tg.sent();
    assert_eq!(sent.len(), 1, "{sent:#?}");
    assert_eq!(sent[0]["chat_id"], "222");
    assert_eq!(text(&sent[0]), "pong: ping");
    assert!(
        h.pairing()
            .list("telegram", None, chrono::Utc::now())
            .unwrap()
            .is_empty(),
        "allowlist issues no pairing codes"
    );
}

#[tokio::test]
async fn group_needs_a_mention_and_runs_in_the_group_session() {
    let h = start(
        r#"{ groups: { "-100500": { requireMention: true } } }"#,
        Script::echo(),
    )
    .await;
    h.tg.push_group(-100500, 7, "just chatting");
    h.tg.push_group(-100500, 8, &format!("@{FAKE_BOT_USERNAME} what's up?"));
    let sent = h.tg.wait_sent(1).await;
    h.handled(2).await;
    assert_eq!(h.tg.sent().len(), 1);
    assert_eq!(sent[0]["chat_id"], "-100500");
    let reqs = h.model.requests();
    assert_eq!(reqs.len(), 1);
    let prompt = reqs[0].body.to_string();
    assert!(
        prompt.contains("[Chat messages since your last reply - for context]"),
        "{prompt}"
    );
    assert!(prompt.contains("User7 (@user7): just chatting"), "{prompt}");
    assert!(
        prompt.contains("[Current message - respond to this]"),
        "{prompt}"
    );
    let sessions = h.rt.list_sessions(Some("main")).await.unwrap();
    let keys: Vec<&str> = sessions.iter().map(|s| s.key.as_str()).collect();
    assert!(
        keys.contains(&"agent:main:telegram:group:-100500"),
        "{keys:?}"
    );
    assert!(!keys.contains(&"agent:main:main"), "{keys:?}");
    // Another group is not in the allowlist: dropped silently.
    h.tg.push_group(-100999, 8, &format!("@{FAKE_BOT_USERNAME} hello"));
    h.handled(3).await;
    assert_eq!(h.tg.sent().len(), 1);
}

#[tokio::test]
async fn mention_patterns_wake_the_agent_in_groups() {
    let h = start_with(
        r#"{ groups: { "-100500": { requireMention: true } } }"#,
        r#"messages: { groupChat: { mentionPatterns: ["^clawd\\b"] } },"#,
        Script::echo(),
    )
    .await;
    h.tg.push_group(-100500, 7, "the clawd thing is neat");
    h.tg.push_group(-100500, 8, "Clawd, what's up?");
    let sent = h.tg.wait_sent(1).await;
    h.handled(2).await;
    assert_eq!(
        h.tg.sent().len(),
        1,
        "only the message addressed by name runs"
    );
    assert_eq!(sent[0]["chat_id"], "-100500");
    let prompt = h.model.requests()[0].body.to_string();
    assert!(prompt.contains("Clawd, what's up?"), "{prompt}");
}

#[tokio::test]
async fn messages_sent_while_the_agent_is_busy_are_collected_into_one_reply() {
    let slow = Behavior::Slow {
        chunks: 4,
        delay: Duration::from_millis(100),
    };
    let h = start_with(
        r#"{ dmPolicy: "open", allowFrom: ["*"] }"#,
        "messages: { queue: { debounceMs: 0 } },",
        Script::replies(vec![slow]),
    )
    .await;
    h.tg.push_dm(5, "first");
    // The first turn is running when the next two arrive.
    for _ in 0..500 {
        if !h.model.requests().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    h.tg.push_dm(5, "second");
    h.tg.push_dm(5, "third");
    h.handled(3).await;
    let sent = h.tg.sent();
    assert_eq!(sent.len(), 2, "one reply per turn: {sent:#?}");
    assert_eq!(text(&sent[0]), "tick0 tick1 tick2 tick3");
    let reqs = h.model.requests();
    assert_eq!(reqs.len(), 2, "the queued messages ran as one turn");
    let collected = last_user_text(&reqs[1].body);
    assert!(
        collected.contains("[Queued messages while agent was busy]"),
        "{collected}"
    );
    assert!(
        collected.find("second").unwrap() < collected.find("third").unwrap(),
        "{collected}"
    );
    assert!(text(&sent[1]).starts_with("pong: "), "{}", text(&sent[1]));
}

#[tokio::test]
async fn a_burst_of_dms_is_debounced_into_one_turn() {
    let h = start_with(
        r#"{ dmPolicy: "open", allowFrom: ["*"] }"#,
        "messages: { inbound: { debounceMs: 5000, byChannel: { telegram: 300 } } },",
        Script::echo(),
    )
    .await;
    h.tg.push_dm(5, "hello");
    h.tg.push_dm(5, "are you there?");
    h.tg.push_dm(5, "I need help");
    h.handled(3).await;
    let reqs = h.model.requests();
    assert_eq!(reqs.len(), 1, "one turn for the burst");
    assert_eq!(
        last_user_text(&reqs[0].body),
        "hello\nare you there?\nI need help"
    );
    let sent = h.tg.sent();
    assert_eq!(sent.len(), 1, "{sent:#?}");
    assert_eq!(text(&sent[0]), "pong: hello\nare you there?\nI need help");
}

#[tokio::test]
async fn long_replies_are_chunked_under_the_limit() {
    let long = "word ".repeat(2500);
    let h = start(
        r#"{ dmPolicy: "open", allowFrom: ["*"] }"#,
        Script::always(Behavior::Text(long.clone())),
    )
    .await;
    h.tg.push_dm(5, "tell me a lot");
    h.handled(1).await;
    let sent = h.tg.sent();
    assert_eq!(sent.len(), 4, "12,500 characters at 4,000 per message");
    for m in &sent {
        assert!(text(m).chars().count() <= 4000);
    }
    let words: usize = sent
        .iter()
        .map(|m| text(m).split_whitespace().count())
        .sum();
    assert_eq!(words, 2500);
}

#[tokio::test]
async fn html_rejected_by_telegram_is_resent_as_plain_text() {
    let h = start(
        r#"{ dmPolicy: "open", allowFrom: ["*"] }"#,
        Script::always(Behavior::Text("**bold** <tag> reply".into())),
    )
    .await;
    h.tg.reject_html(1);
    h.tg.push_dm(5, "hi");
    h.handled(1).await;
    let sends: Vec<_> =
        h.tg.calls()
            .into_iter()
            .filter(|c| c.method == "sendMessage")
            .collect();
    assert_eq!(sends.len(), 2, "{sends:#?}");
    assert!(!sends[0].ok);
    assert_eq!(sends[0].body["parse_mode"], "HTML");
    assert_eq!(text(&sends[0].body), "<b>bold</b> &lt;tag&gt; reply");
    assert!(sends[1].ok);
    assert!(sends[1].body.get("parse_mode").is_none());
    assert_eq!(text(&sends[1].body), "**bold** <tag> reply");
}

#[tokio::test]
async fn send_status_and_reload() {
    let h = start("{}", Script::echo()).await;
    let s = h
        .wait_status("telegram connected", |s| {
            s["channelAccounts"]["telegram"][0]["connected"] == true
        })
        .await;
    let acct = &s["channelAccounts"]["telegram"][0];
    assert_eq!(acct["running"], true);
    assert_eq!(acct["tokenSource"], "config");
    assert_eq!(acct["bot"]["username"], FAKE_BOT_USERNAME);
    assert_eq!(s["channelOrder"], serde_json::json!(["telegram"]));
    assert_eq!(s["channels"]["telegram"]["running"], true);
    assert!(
        !s.to_string().contains(FAKE_BOT_TOKEN),
        "status must not show the token"
    );

    let r = h
        .manager
        .send(
            Some("telegram"),
            None,
            "telegram:555",
            "hello **there**",
            "run-1",
        )
        .await
        .unwrap();
    assert_eq!(r["channel"], "telegram");
    assert_eq!(r["chatId"], "555");
    let sent = h.tg.wait_sent(1).await;
    assert_eq!(text(&sent[0]), "hello <b>there</b>");
    assert!(
        h.manager
            .send(Some("whatsapp"), None, "1", "x", "run-2")
            .await
            .unwrap_err()
            .to_string()
            .contains("no transport")
    );

    // A new token restarts the poller; Telegram rejects it and the account stops with a reason.
    h.reapply(r#"{ botToken: "999:wrong" }"#);
    let s = h
        .wait_status("bad token reported", |s| {
            s["channelAccounts"]["telegram"][0]["lastError"]
                .as_str()
                .is_some_and(|e| e.contains("token was rejected"))
        })
        .await;
    assert_eq!(s["channelAccounts"]["telegram"][0]["running"], false);
    assert!(!s.to_string().contains("999:wrong"));
    // Disabling stops it; the account is still listed.
    h.reapply(r#"{ enabled: false }"#);
    let s = h.status().await;
    assert_eq!(s["channelAccounts"]["telegram"][0]["enabled"], false);
    assert_eq!(s["channelAccounts"]["telegram"][0]["running"], false);
    h.manager.shutdown().await;
}

/// The saved inbound files of a harness.
fn inbound_files(h: &Harness) -> Vec<std::path::PathBuf> {
    match std::fs::read_dir(h.paths.state_dir.join("media").join("inbound")) {
        Ok(rd) => rd.map(|e| e.unwrap().path()).collect(),
        Err(_) => Vec::new(),
    }
}

fn last_user_text(body: &Value) -> String {
    let m = body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|m| m["role"] == "user")
        .unwrap();
    m["content"].as_str().unwrap_or_default().to_string()
}

#[tokio::test]
async fn photo_is_downloaded_and_the_agent_sees_the_note() {
    let h = start(r#"{ dmPolicy: "open", allowFrom: ["*"] }"#, Script::echo()).await;
    let jpeg = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00fake-jpeg-body".to_vec();
    h.tg.add_file("thumb", "photos/file_6.jpg", b"tiny".to_vec());
    h.tg.add_file("full", "photos/file_7.jpg", jpeg.clone());
    h.tg.push_dm_with(
        5,
        serde_json::json!({"caption": "what is this?", "photo": [
            {"file_id": "thumb", "file_unique_id": "t", "width": 90, "height": 67, "file_size": 4},
            {"file_id": "full", "file_unique_id": "f", "width": 800, "height": 600, "file_size": jpeg.len()},
        ]}),
    );
    h.tg.wait_sent(1).await;
    let calls = h.tg.calls();
    let get_files: Vec<_> = calls.iter().filter(|c| c.method == "getFile").collect();
    assert_eq!(get_files.len(), 1, "{calls:#?}");
    assert_eq!(get_files[0].body["file_id"], "full", "the largest size");
    assert!(
        calls.iter().any(|c| c.method == "downloadFile"
            && c.ok
            && c.body["file_path"] == "photos/file_7.jpg")
    );

    let files = inbound_files(&h);
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(files[0].extension().unwrap(), "jpg");
    assert_eq!(std::fs::read(&files[0]).unwrap(), jpeg);

    let reqs = h.model.requests();
    assert_eq!(reqs.len(), 1);
    let p = files[0].display();
    assert_eq!(
        last_user_text(&reqs[0].body),
        format!("[media attached: {p} (image/jpeg) | {p}]\n<media:image>\nwhat is this?")
    );
}

#[tokio::test]
async fn oversized_or_missing_files_never_reach_the_agent() {
    let h = start(
        r#"{ dmPolicy: "open", allowFrom: ["*"], mediaMaxMb: 1 }"#,
        Script::echo(),
    )
    .await;
    // Over mediaMaxMb by the update's own size: refused before getFile, the sender is told.
    h.tg.push_dm_with(
        5,
        serde_json::json!({"document": {"file_id": "huge", "file_name": "big.zip", "file_size": 3 * 1024 * 1024}}),
    );
    let sent = h.tg.wait_sent(1).await;
    assert_eq!(text(&sent[0]), "⚠️ File too large. Maximum size is 1MB.");
    assert!(h.model.requests().is_empty());
    // Over the limit only while downloading (no size in the update nor from getFile).
    h.tg.add_file_reporting(
        "sneaky",
        "documents/file_1.bin",
        vec![0u8; 1024 * 1024 + 1],
        None,
    );
    h.tg.push_dm_with(
        5,
        serde_json::json!({"document": {"file_id": "sneaky", "file_name": "x.bin"}}),
    );
    let sent = h.tg.wait_sent(2).await;
    assert_eq!(text(&sent[1]), "⚠️ File too large. Maximum size is 1MB.");
    assert!(
        h.tg.calls()
            .iter()
            .any(|c| c.method == "downloadFile" && c.body["file_path"] == "documents/file_1.bin"),
        "refused while downloading"
    );
    // A file Telegram does not know: logged, the message runs with its placeholder.
    h.tg.push_dm_with(
        5,
        serde_json::json!({"voice": {"file_id": "gone", "mime_type": "audio/ogg", "duration": 1}}),
    );
    let sent = h.tg.wait_sent(3).await;
    assert_eq!(text(&sent[2]), "pong: &lt;media:audio&gt;");
    assert!(inbound_files(&h).is_empty(), "{:?}", inbound_files(&h));
    for s in &sent {
        assert!(!text(s).contains(FAKE_BOT_TOKEN));
    }
}
