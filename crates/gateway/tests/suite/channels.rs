//! Telegram and Discord through the whole gateway: config with `channels.<id>` → transport
//! started at gateway start → a DM in, the agent's reply out; `channels.status`, `health` and
//! `send` over the wire; a `config.patch` that disables the channel stops it without a restart;
//! `channels.logout` removes the token.

use std::sync::Arc;
use std::time::Duration;

use openclaw_agent::{AgentRuntime, RuntimeOptions};
use openclaw_channels::ChannelManager;
use openclaw_gateway::RunningGateway;
use openclaw_gateway::config_service::ConfigService;
use openclaw_gateway::{AuthConfig, Secret, ServerSettings, Services};
use openclaw_test_support::fake_discord::{FAKE_DISCORD_BOT_NAME, FAKE_DISCORD_TOKEN};
use openclaw_test_support::fake_telegram::{FAKE_BOT_TOKEN, FAKE_BOT_USERNAME};
use openclaw_test_support::{FakeDiscord, FakeOpenAi, FakeServer, FakeTelegram, Script};
use serde_json::{Value, json};

use super::client::*;

async fn wait_status(ws: &mut Ws, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let mut n = 0;
    loop {
        n += 1;
        let res = call(
            ws,
            &format!("st{n}"),
            "channels.status",
            json!({"probe": false}),
        )
        .await;
        assert_eq!(res["ok"], true, "{res}");
        if pred(&res["payload"]) {
            return res["payload"].clone();
        }
        assert!(tokio::time::Instant::now() < deadline, "{what}: {res:#}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// A gateway whose config has `channels` (JSON5) and a fake model; `api_env` points the channel
/// at its fake.
struct Started {
    _dir: tempfile::TempDir,
    _model: FakeServer,
    state: std::path::PathBuf,
    gw: RunningGateway,
    ws: Ws,
}

async fn start_gateway(channels: &str, api_env: (&str, &str)) -> Started {
    let model = FakeOpenAi::start(Script::echo()).await;
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    std::fs::create_dir_all(&state).unwrap();
    let text = format!(
        r#"{{ models: {{ providers: {{ mock: {{ baseUrl: "{}", api: "openai-completions", apiKey: "k",
              models: [{{ id: "mock-model", contextWindow: 128000 }}] }} }} }},
            agents: {{ defaults: {{ model: {{ primary: "mock/mock-model" }} }} }},
            channels: {channels} }}"#,
        model.base_url
    );
    std::fs::write(state.join("openclaw.json"), &text).unwrap();
    let mut env = openclaw_config::EnvMap::new();
    env.insert("HOME".into(), dir.path().display().to_string());
    env.insert("OPENCLAW_STATE_DIR".into(), state.display().to_string());
    env.insert(api_env.0.into(), api_env.1.into());
    let paths = openclaw_config::Paths::from_env(&env).unwrap();
    let loaded = openclaw_config::load(&paths, &env).unwrap();
    let rt = AgentRuntime::with_options(&loaded, &paths, &env, RuntimeOptions::default());
    let channels = ChannelManager::new(rt.clone(), paths.clone(), env.clone());
    let services = Services {
        agent: Some(rt),
        channels: Some(channels),
        config: Some(Arc::new(ConfigService::new(paths, env, loaded))),
        ..Default::default()
    };
    let settings = ServerSettings::for_tests(state.clone(), AuthConfig::Token(Secret::new("T")));
    let gw = openclaw_gateway::start(settings, services).await.unwrap();
    let url = format!("ws://{}/", gw.local_addr());
    let ws = connected(&url, "T", ALL_SCOPES).await;
    Started {
        _dir: dir,
        _model: model,
        state,
        gw,
        ws,
    }
}

#[tokio::test]
async fn telegram_message_in_reply_out_through_the_gateway() {
    let tg = FakeTelegram::start().await;
    let Started {
        _dir,
        _model,
        state,
        gw,
        mut ws,
    } = start_gateway(
        &format!(
            r#"{{ telegram: {{ botToken: "{FAKE_BOT_TOKEN}", dmPolicy: "open", allowFrom: ["*"] }} }}"#
        ),
        (openclaw_channels::telegram::API_ROOT_ENV, &tg.api_root),
    )
    .await;

    let status = wait_status(&mut ws, "telegram running", |p| {
        p["channelAccounts"]["telegram"][0]["connected"] == true
    })
    .await;
    assert_eq!(status["channelOrder"], json!(["telegram"]));
    assert_eq!(status["channelLabels"]["telegram"], "Telegram");
    assert_eq!(status["channelDefaultAccountId"]["telegram"], "default");
    let acct = &status["channelAccounts"]["telegram"][0];
    assert_eq!(acct["running"], true);
    assert_eq!(acct["enabled"], true);
    assert_eq!(acct["configured"], true);
    assert_eq!(acct["bot"]["username"], FAKE_BOT_USERNAME);
    assert_eq!(status["channels"]["telegram"]["running"], true);
    assert!(!status.to_string().contains(FAKE_BOT_TOKEN));

    tg.push_dm(321, "hi from telegram");
    let sent = tg.wait_sent(1).await;
    assert_eq!(sent[0]["chat_id"], "321");
    assert_eq!(sent[0]["text"], "pong: hi from telegram");

    let health = call(&mut ws, "h", "health", json!({})).await;
    assert_eq!(health["payload"]["channelOrder"], json!(["telegram"]));
    assert_eq!(health["payload"]["channels"]["telegram"]["running"], true);

    let res = call(
        &mut ws,
        "send",
        "send",
        json!({"to": "321", "message": "a note", "channel": "telegram", "idempotencyKey": "k1"}),
    )
    .await;
    assert_eq!(res["ok"], true, "{res}");
    assert_eq!(res["payload"]["channel"], "telegram");
    assert_eq!(res["payload"]["runId"], "k1");
    let sent = tg.wait_sent(2).await;
    assert_eq!(sent[1]["text"], "a note");
    let res = call(
        &mut ws,
        "send2",
        "send",
        json!({"to": "x y", "message": "m", "channel": "telegram", "idempotencyKey": "k2"}),
    )
    .await;
    assert_eq!(res["ok"], false);
    assert!(
        res["error"]["message"]
            .as_str()
            .unwrap()
            .contains("invalid telegram target")
    );

    // Hot reload: disabling the channel stops the bot, no restart needed.
    let got = call(&mut ws, "g", "config.get", json!({})).await;
    let hash = got["payload"]["hash"].as_str().unwrap().to_string();
    let res = call(
        &mut ws,
        "p",
        "config.patch",
        json!({"raw": "{ channels: { telegram: { enabled: false } } }", "baseHash": hash}),
    )
    .await;
    assert_eq!(res["ok"], true, "{res}");
    let status = wait_status(&mut ws, "telegram stopped", |p| {
        p["channelAccounts"]["telegram"][0]["running"] == false
    })
    .await;
    assert_eq!(status["channelAccounts"]["telegram"][0]["enabled"], false);

    // Logout removes the token from the config.
    let res = call(
        &mut ws,
        "lo",
        "channels.logout",
        json!({"channel": "telegram"}),
    )
    .await;
    assert_eq!(res["ok"], true, "{res}");
    assert_eq!(res["payload"]["cleared"], true);
    assert_eq!(res["payload"]["envToken"], false);
    let on_disk = std::fs::read_to_string(state.join("openclaw.json")).unwrap();
    assert!(!on_disk.contains(FAKE_BOT_TOKEN), "{on_disk}");
    let status = wait_status(&mut ws, "telegram not configured", |p| {
        p["channelAccounts"]["telegram"][0]["configured"] == false
    })
    .await;
    assert_eq!(status["channels"]["telegram"]["tokenSource"], "none");
    gw.shutdown().await.unwrap();
}

#[tokio::test]
async fn discord_message_in_reply_out_send_and_logout_through_the_gateway() {
    let dc = FakeDiscord::start().await;
    let Started {
        _dir,
        _model,
        state,
        gw,
        mut ws,
    } = start_gateway(
        &format!(
            r#"{{ discord: {{ token: "{FAKE_DISCORD_TOKEN}", dm: {{ policy: "open", allowFrom: ["*"] }} }} }}"#
        ),
        (openclaw_channels::discord::API_ROOT_ENV, &dc.api_root),
    )
    .await;
    let status = wait_status(&mut ws, "discord connected", |p| {
        p["channelAccounts"]["discord"][0]["connected"] == true
    })
    .await;
    assert_eq!(status["channelOrder"], json!(["discord"]));
    assert_eq!(status["channelLabels"]["discord"], "Discord");
    let acct = &status["channelAccounts"]["discord"][0];
    assert_eq!(acct["running"], true);
    assert_eq!(acct["bot"]["username"], FAKE_DISCORD_BOT_NAME);
    assert!(!status.to_string().contains(FAKE_DISCORD_TOKEN));

    dc.push_dm("321", "hi from discord");
    let sent = dc.wait_sent(1).await;
    assert_eq!(sent[0]["content"], "pong: hi from discord");
    assert_eq!(sent[0]["channel_id"], dc.dm_channel("321").as_str());

    let res = call(
        &mut ws,
        "send",
        "send",
        json!({"to": "channel:4242", "message": "a note", "channel": "discord", "idempotencyKey": "k1"}),
    )
    .await;
    assert_eq!(res["ok"], true, "{res}");
    assert_eq!(res["payload"]["channel"], "discord");
    assert_eq!(res["payload"]["channelId"], "4242");
    assert_eq!(res["payload"]["runId"], "k1");
    let res = call(
        &mut ws,
        "send2",
        "send",
        json!({"to": "user:321", "message": "psst", "channel": "discord", "idempotencyKey": "k2"}),
    )
    .await;
    assert_eq!(res["ok"], true, "{res}");
    let sent = dc.wait_sent(3).await;
    assert_eq!(sent[1]["channel_id"], "4242");
    assert_eq!(sent[2]["content"], "psst");
    let res = call(
        &mut ws,
        "send3",
        "send",
        json!({"to": "general", "message": "m", "channel": "discord", "idempotencyKey": "k3"}),
    )
    .await;
    assert_eq!(res["ok"], false);
    assert!(
        res["error"]["message"]
            .as_str()
            .unwrap()
            .contains("invalid discord target")
    );

    // Logout removes the token from the config, which stops the bot.
    let res = call(
        &mut ws,
        "lo",
        "channels.logout",
        json!({"channel": "discord"}),
    )
    .await;
    assert_eq!(res["ok"], true, "{res}");
    assert_eq!(res["payload"]["cleared"], true);
    assert_eq!(res["payload"]["envToken"], false);
    let on_disk = std::fs::read_to_string(state.join("openclaw.json")).unwrap();
    assert!(!on_disk.contains(FAKE_DISCORD_TOKEN), "{on_disk}");
    let status = wait_status(&mut ws, "discord stopped", |p| {
        p["channelAccounts"]["discord"][0]["configured"] == false
            && p["channelAccounts"]["discord"][0]["running"] == false
    })
    .await;
    assert_eq!(status["channels"]["discord"]["tokenSource"], "none");
    gw.shutdown().await.unwrap();
}
