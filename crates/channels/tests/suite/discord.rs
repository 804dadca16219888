//! The Discord transport end to end: a fake Discord (REST + gateway WebSocket, real payloads and
//! opcodes) in front, the agent runtime against a fake OpenAI server behind, the channel manager
//! in between.

use std::sync::Arc;
use std::time::Duration;

use openclaw_agent::{AgentRuntime, RuntimeOptions};
use openclaw_channels::ChannelManager;
use openclaw_channels::discord::API_ROOT_ENV;
use openclaw_config::{EnvMap, Paths};
use openclaw_store::ChannelPairingStore;
use openclaw_test_support::fake_discord::{
    FAKE_DISCORD_BOT_ID, FAKE_DISCORD_BOT_NAME, FAKE_DISCORD_TOKEN,
};
use openclaw_test_support::{Behavior, FakeDiscord, FakeOpenAi, FakeServer, Script};
use serde_json::Value;

struct Harness {
    _dir: tempfile::TempDir,
    paths: Paths,
    env: EnvMap,
    dc: FakeDiscord,
    model: FakeServer,
    rt: Arc<AgentRuntime>,
    manager: Arc<ChannelManager>,
}

fn config_text(model_url: &str, discord: &str) -> String {
    format!(
        r#"{{ models: {{ providers: {{ mock: {{ baseUrl: "{model_url}", api: "openai-completions", apiKey: "k",
              models: [{{ id: "mock-model", contextWindow: 128000 }}] }} }} }},
            agents: {{ defaults: {{ model: {{ primary: "mock/mock-model" }} }} }},
            channels: {{ discord: {discord} }} }}"#
    )
}

/// `discord` is the `channels.discord` object as JSON5; the fake's token is added.
fn with_token(discord: &str) -> String {
    discord.replacen('{', &format!("{{ token: \"{FAKE_DISCORD_TOKEN}\", "), 1)
}

async fn start(discord: &str, script: Script) -> Harness {
    start_with(FakeDiscord::start().await, discord, script).await
}

async fn start_with(dc: FakeDiscord, discord: &str, script: Script) -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let model = FakeOpenAi::start(script).await;
    let mut env = EnvMap::new();
    env.insert("HOME".into(), dir.path().display().to_string());
    env.insert(
        "OPENCLAW_STATE_DIR".into(),
        dir.path().join("state").display().to_string(),
    );
    env.insert(API_ROOT_ENV.into(), dc.api_root.clone());
    let paths = Paths::from_env(&env).unwrap();
    let text = config_text(&model.base_url, &with_token(discord));
    let loaded = openclaw_config::parse_str(&text, &paths.config_path, &env).unwrap();
    let rt = AgentRuntime::with_options(&loaded, &paths, &env, RuntimeOptions::default());
    let manager = ChannelManager::new(rt.clone(), paths.clone(), env.clone());
    manager.apply(&loaded.config);
    Harness {
        _dir: dir,
        paths,
        env,
        dc,
        model,
        rt,
        manager,
    }
}

impl Harness {
    /// Wait until the account has fully handled `n` messages.
    async fn handled(&self, n: u64) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        while self.manager.handled_on("discord", "default") < n {
            assert!(
                tokio::time::Instant::now() < deadline,
                "handled {} of {n} messages; calls: {:#?}",
                self.manager.handled_on("discord", "default"),
                self.dc.calls()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn pairing(&self) -> ChannelPairingStore {
        ChannelPairingStore::new(self.paths.credentials_dir())
    }

    /// Apply a new `channels.discord` (token included as written).
    fn reapply_raw(&self, discord: &str) {
        let text = config_text(&self.model.base_url, discord);
        let loaded = openclaw_config::parse_str(&text, &self.paths.config_path, &self.env).unwrap();
        self.manager.apply(&loaded.config);
    }

    fn reapply(&self, discord: &str) {
        self.reapply_raw(&with_token(discord));
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

    async fn connected(&self) -> Value {
        self.wait_status("discord connected", |s| account(s)["connected"] == true)
            .await
    }

    async fn session_keys(&self) -> Vec<String> {
        let sessions = self.rt.list_sessions(Some("main")).await.unwrap();
        sessions.into_iter().map(|s| s.key).collect()
    }
}

fn account(status: &Value) -> &Value {
    &status["channelAccounts"]["discord"][0]
}

fn content(v: &Value) -> &str {
    v["content"].as_str().unwrap_or("")
}

fn mention() -> String {
    format!("<@{FAKE_DISCORD_BOT_ID}>")
}

#[tokio::test]
async fn unknown_dm_sender_is_paired_then_answered_after_approval() {
    let h = start("{}", Script::echo()).await;
    h.connected().await;
    let dm = h.dc.dm_channel("555");
    h.dc.push_dm("555", "hello");
    let sent = h.dc.wait_sent(1).await;
    let reply = content(&sent[0]);
    assert!(
        reply.starts_with(
            "OpenClaw: access not configured.\n\nYour Discord user id: 555\n\nPairing code: "
        ),
        "{reply}"
    );
    assert_eq!(sent[0]["channel_id"], dm.as_str());
    let pending = h
        .pairing()
        .list("discord", None, chrono::Utc::now())
        .unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].id, "555");
    assert_eq!(pending[0].meta["tag"], "user555");
    let code = pending[0].code.clone();
    assert!(reply.ends_with(&format!("openclaw pairing approve discord {code}")));
    // Asking again neither processes the message nor repeats the code.
    h.dc.push_dm("555", "hello?");
    h.handled(2).await;
    assert_eq!(h.dc.sent().len(), 1);
    assert!(h.model.requests().is_empty(), "the agent must not run");

    // The approval lands in the store file; the running transport sees it without a restart.
    let approved = h
        .pairing()
        .approve("discord", &code, None, chrono::Utc::now())
        .unwrap()
        .unwrap();
    assert_eq!(approved.id, "555");
    h.dc.push_dm("555", "hi again");
    let sent = h.dc.wait_sent(2).await;
    assert_eq!(content(&sent[1]), "pong: hi again");
    assert_eq!(sent[1]["channel_id"], dm.as_str());
    assert!(
        sent[1].get("message_reference").is_none(),
        "replyToMode is off by default"
    );
    let keys = h.session_keys().await;
    assert!(keys.contains(&"agent:main:main".to_string()), "{keys:?}");
    assert!(
        h.dc.calls()
            .iter()
            .any(|c| c.method == "POST" && c.path == format!("/channels/{dm}/typing")),
        "typing is shown while the run goes"
    );
}

#[tokio::test]
async fn guild_messages_need_a_mention_and_run_in_the_channel_session() {
    let dc = FakeDiscord::start().await;
    dc.add_guild("700", "Test Guild", &[("701", "general")]);
    dc.add_thread("700", "710", "701", "side topic");
    let h = start_with(dc, r#"{ guilds: { "700": {} } }"#, Script::echo()).await;
    h.connected().await;
    h.dc.push_guild("700", "701", "555", "just chatting");
    h.dc.push_guild("700", "701", "556", &format!("{} what's up?", mention()));
    let sent = h.dc.wait_sent(1).await;
    h.handled(2).await;
    assert_eq!(h.dc.sent().len(), 1);
    assert_eq!(sent[0]["channel_id"], "701");
    let reqs = h.model.requests();
    assert_eq!(reqs.len(), 1);
    let prompt = reqs[0].body.to_string();
    assert!(
        prompt.contains("[Chat messages since your last reply - for context]"),
        "{prompt}"
    );
    assert!(
        prompt.contains("User 555 (@user555): just chatting"),
        "{prompt}"
    );
    assert!(
        prompt.contains("User 556 (@user556): what's up?"),
        "{prompt}"
    );
    assert!(
        !prompt.contains("<@"),
        "the bot mention is stripped: {prompt}"
    );
    let keys = h.session_keys().await;
    assert!(
        keys.contains(&"agent:main:discord:channel:701".to_string()),
        "{keys:?}"
    );
    assert!(!keys.contains(&"agent:main:main".to_string()), "{keys:?}");

    // A thread is its own channel session; it inherits the parent's settings.
    h.dc.push_guild("700", "710", "555", &format!("{} in a thread", mention()));
    let sent = h.dc.wait_sent(2).await;
    assert_eq!(sent[1]["channel_id"], "710");
    assert!(
        h.session_keys()
            .await
            .contains(&"agent:main:discord:channel:710".to_string())
    );
    // A guild that is not listed, and the bot's own messages, are ignored.
    h.dc.push_guild("800", "801", "555", &format!("{} hi", mention()));
    h.dc.push_guild("700", "701", FAKE_DISCORD_BOT_ID, &mention());
    h.handled(5).await;
    assert_eq!(h.dc.sent().len(), 2);
    assert_eq!(h.model.requests().len(), 2);

    // A reload swaps the access settings in place: no reconnect, and the channel now answers
    // without a mention (matched by its name slug).
    h.reapply(r#"{ guilds: { "700": { channels: { general: { requireMention: false } } } } }"#);
    h.dc.push_guild("700", "701", "555", "no mention needed");
    let sent = h.dc.wait_sent(3).await;
    assert_eq!(sent[2]["channel_id"], "701");
    assert_eq!(h.dc.connections(), 1);
    assert_eq!(h.dc.frames_with(2).len(), 1);
}

#[tokio::test]
async fn long_replies_are_chunked_and_rate_limits_waited_out() {
    let long = "word ".repeat(1000);
    let h = start(
        r#"{ dmPolicy: "open", allowFrom: ["*"] }"#,
        Script::always(Behavior::Text(long)),
    )
    .await;
    h.connected().await;
    h.dc.rate_limit_next(1);
    h.dc.push_dm("555", "tell me a lot");
    h.handled(1).await;
    let sent = h.dc.sent();
    assert_eq!(sent.len(), 3, "5,000 characters at 2,000 per message");
    for m in &sent {
        assert!(content(m).chars().count() <= 2000);
    }
    let words: usize = sent
        .iter()
        .map(|m| content(m).split_whitespace().count())
        .sum();
    assert_eq!(words, 1000);
    let posts: Vec<u16> =
        h.dc.calls()
            .iter()
            .filter(|c| c.path.ends_with("/messages"))
            .map(|c| c.status)
            .collect();
    assert_eq!(posts, vec![429, 200, 200, 200]);
}

#[tokio::test]
async fn heartbeats_then_resume_after_a_dropped_socket_lose_and_repeat_nothing() {
    let dc = FakeDiscord::with_heartbeat(Duration::from_millis(50)).await;
    let h = start_with(
        dc,
        r#"{ dmPolicy: "open", allowFrom: ["*"] }"#,
        Script::echo(),
    )
    .await;
    h.connected().await;
    h.dc.wait_frames("two heartbeats", |f| {
        f.iter().filter(|f| f.op == 1).count() >= 2
    })
    .await;
    h.dc.push_dm("555", "one");
    h.dc.wait_sent(1).await;

    // The socket dies; a message arrives meanwhile; the fake even replays one event the
    // client already had (at-least-once delivery).
    h.dc.replay_overlap(true);
    h.dc.drop_connection();
    h.dc.push_dm("555", "two");
    let sent = h.dc.wait_sent(2).await;
    h.handled(2).await;
    let texts: Vec<&str> = sent.iter().map(content).collect();
    assert_eq!(texts, vec!["pong: one", "pong: two"]);
    assert_eq!(h.model.requests().len(), 2, "nothing ran twice");

    let identify = h.dc.frames_with(2);
    let resume = h.dc.frames_with(6);
    assert_eq!(identify.len(), 1, "one session: {:#?}", h.dc.frames());
    assert_eq!(resume.len(), 1, "{:#?}", h.dc.frames());
    assert_eq!(resume[0].path, "/resume/", "resumes at resume_gateway_url");
    assert_eq!(resume[0].d["session_id"], "fake-session-1");
    assert_eq!(resume[0].d["seq"], 2, "READY was 1, the first message 2");
    let s = h.connected().await;
    assert!(account(&s)["reconnects"].as_u64().unwrap() >= 1);
    assert!(!s.to_string().contains(FAKE_DISCORD_TOKEN));
    h.manager.shutdown().await;
}

#[tokio::test]
async fn a_missing_heartbeat_ack_reconnects_and_resumes() {
    let dc = FakeDiscord::with_heartbeat(Duration::from_millis(50)).await;
    let h = start_with(
        dc,
        r#"{ dmPolicy: "open", allowFrom: ["*"] }"#,
        Script::echo(),
    )
    .await;
    h.connected().await;
    h.dc.set_heartbeat_acks(false);
    h.dc.wait_frames("a RESUME after the zombie connection", |f| {
        f.iter().any(|f| f.op == 6)
    })
    .await;
    h.dc.set_heartbeat_acks(true);
    h.dc.push_dm("555", "still there?");
    let sent = h.dc.wait_sent(1).await;
    assert_eq!(content(&sent[0]), "pong: still there?");
    assert_eq!(
        h.dc.frames_with(2).len(),
        1,
        "resumed, not identified again"
    );
}

#[tokio::test]
async fn an_expired_session_is_replaced_by_a_new_one() {
    let h = start(r#"{ dmPolicy: "open", allowFrom: ["*"] }"#, Script::echo()).await;
    h.connected().await;
    h.dc.invalidate_session();
    h.dc.drop_connection();
    h.dc.push_dm("555", "after the break");
    let sent = h.dc.wait_sent(1).await;
    assert_eq!(content(&sent[0]), "pong: after the break");
    let ops: Vec<u8> =
        h.dc.frames()
            .iter()
            .filter(|f| f.op != 1)
            .map(|f| f.op)
            .collect();
    assert_eq!(
        ops,
        vec![2, 6, 2],
        "IDENTIFY, RESUME refused, IDENTIFY again"
    );
    assert_eq!(
        h.dc.frames_with(2)[1].path,
        "/",
        "a new session starts at the gateway URL"
    );
}

#[tokio::test]
async fn rejected_tokens_stop_the_account_without_retrying() {
    let dc = FakeDiscord::start().await;
    dc.fail_identify(4004, "Authentication failed.");
    let h = start_with(dc, "{}", Script::echo()).await;
    let s = h
        .wait_status("4004 reported", |s| {
            account(s)["running"] == false && account(s)["lastError"].is_string()
        })
        .await;
    let err = account(&s)["lastError"].as_str().unwrap();
    assert!(err.contains("4004 (Authentication failed.)"), "{err}");
    assert!(err.contains("channels.discord.token"), "{err}");
    assert_eq!(h.dc.connections(), 1, "no reconnect storm");
    assert_eq!(h.dc.frames_with(2).len(), 1);
    assert!(!s.to_string().contains(FAKE_DISCORD_TOKEN));

    // A token Discord's REST API refuses stops before any connection.
    h.reapply_raw(r#"{ token: "Bot not-the-token" }"#);
    let s = h
        .wait_status("401 reported", |s| {
            account(s)["lastError"]
                .as_str()
                .is_some_and(|e| e.contains("401"))
                && account(s)["running"] == false
        })
        .await;
    let err = account(&s)["lastError"].as_str().unwrap();
    assert!(err.contains("the bot token was rejected"), "{err}");
    assert!(!err.contains("not-the-token"), "{err}");
    assert_eq!(h.dc.connections(), 1);
}

#[tokio::test]
async fn disallowed_intents_name_the_portal_fix_and_message_content_can_be_dropped() {
    let dc = FakeDiscord::start().await;
    dc.reject_privileged_intents();
    let h = start_with(dc, "{}", Script::echo()).await;
    let s = h
        .wait_status("4014 reported", |s| {
            account(s)["running"] == false && account(s)["lastError"].is_string()
        })
        .await;
    let err = account(&s)["lastError"].as_str().unwrap();
    assert!(err.contains("4014"), "{err}");
    assert!(err.contains("Message Content Intent"), "{err}");
    assert!(err.contains("Developer Portal"), "{err}");
    assert_eq!(h.dc.connections(), 1);
    // Without the privileged intent the bot connects (mention-only).
    h.reapply(r#"{ intents: { messageContent: false } }"#);
    h.connected().await;
    let identify = h.dc.frames_with(2);
    assert_eq!(identify.len(), 2);
    assert_eq!(identify[1].d["intents"], 1 | (1 << 9) | (1 << 12));
}

#[tokio::test]
async fn send_to_a_channel_and_to_a_user_dm() {
    let h = start("{}", Script::echo()).await;
    let r = h
        .manager
        .send(
            Some("discord"),
            None,
            "channel:701",
            "hello **there**",
            "run-1",
        )
        .await
        .unwrap();
    assert_eq!(r["channel"], "discord");
    assert_eq!(r["channelId"], "701");
    assert_eq!(r["runId"], "run-1");
    let sent = h.dc.wait_sent(1).await;
    assert_eq!(content(&sent[0]), "hello **there**", "Markdown goes as is");
    assert_eq!(sent[0]["channel_id"], "701");

    // No channel named: Discord is the only one configured.
    let r = h
        .manager
        .send(None, None, "user:555", "psst", "run-2")
        .await
        .unwrap();
    let dm = h.dc.dm_channel("555");
    assert_eq!(r["channelId"], dm.as_str());
    let sent = h.dc.wait_sent(2).await;
    assert_eq!(content(&sent[1]), "psst");
    assert!(h.dc.calls().iter().any(|c| c.path == "/users/@me/channels"
        && c.body["recipient_id"] == "555"
        && c.status == 200));
    let e = h
        .manager
        .send(Some("discord"), None, "general", "x", "run-3")
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("invalid discord target"), "{e}");
    assert!(e.contains("user:<userId>"), "{e}");
}

#[tokio::test]
async fn status_probe_and_reload() {
    let h = start("{}", Script::echo()).await;
    let s = h.connected().await;
    let a = account(&s);
    assert_eq!(a["running"], true);
    assert_eq!(a["tokenSource"], "config");
    assert_eq!(a["bot"]["username"], FAKE_DISCORD_BOT_NAME);
    assert_eq!(a["bot"]["id"], FAKE_DISCORD_BOT_ID);
    assert_eq!(s["channelOrder"], serde_json::json!(["discord"]));
    assert_eq!(s["channelLabels"]["discord"], "Discord");
    assert_eq!(s["channels"]["discord"]["running"], true);
    assert!(!s.to_string().contains(FAKE_DISCORD_TOKEN));
    let probed = h.manager.status(true, Duration::from_secs(5)).await;
    assert_eq!(account(&probed)["probe"]["ok"], true, "{probed:#}");
    assert_eq!(
        account(&probed)["probe"]["bot"]["username"],
        FAKE_DISCORD_BOT_NAME
    );
    let health = h.manager.health();
    assert_eq!(health["channels"]["discord"]["running"], true);

    // A bad setting stops the account with the key to fix.
    h.reapply(r#"{ guilds: { "1": { requireMention: "yes" } } }"#);
    let s = h
        .wait_status("config error", |s| {
            account(s)["running"] == false && account(s)["lastError"].is_string()
        })
        .await;
    let err = account(&s)["lastError"].as_str().unwrap();
    assert!(
        err.contains("channels.discord.guilds.1.requireMention"),
        "{err}"
    );
    // Fixed: it starts again. Disabled: it stops and stays listed.
    h.reapply("{}");
    h.connected().await;
    h.reapply("{ enabled: false }");
    let s = h
        .wait_status("stopped", |s| {
            account(s)["running"] == false && account(s)["enabled"] == false
        })
        .await;
    assert_eq!(account(&s)["enabled"], false);
    h.manager.shutdown().await;
}
