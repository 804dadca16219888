//! `openclaw pairing`, `channels status` and `message send` with Telegram and Discord, against
//! the real binary: a gateway process talking to a fake Bot API or a fake Discord (pointed at
//! through `OPENCLAW_TELEGRAM_API_ROOT` / `OPENCLAW_DISCORD_API_ROOT` in `~/.openclaw/.env`) and a
//! fake OpenAI server.

use openclaw_store::ChannelPairingStore;
use openclaw_test_support::fake_discord::{FAKE_DISCORD_BOT_NAME, FAKE_DISCORD_TOKEN};
use openclaw_test_support::fake_telegram::{FAKE_BOT_TOKEN, FAKE_BOT_USERNAME};
use openclaw_test_support::{FakeDiscord, FakeOpenAi, FakeTelegram, Script};
use serde_json::{Map, Value, json};

use super::harness::{Home, free_port};

#[test]
fn pairing_list_and_approve_work_on_the_state_dir() {
    let h = Home::new();
    let store = ChannelPairingStore::new(h.state().join("credentials"));
    let mut meta = Map::new();
    meta.insert("username".into(), json!("ada"));
    let u = store
        .upsert("telegram", "111", "default", meta, chrono::Utc::now())
        .unwrap();

    let out = h.ok(&["pairing", "list", "telegram"]);
    assert!(out.starts_with("Pairing requests (1)\n"), "{out}");
    assert!(out.contains("telegramUserId"), "{out}");
    assert!(out.contains(&u.code), "{out}");
    let v: Value =
        serde_json::from_str(&h.ok(&["pairing", "list", "--channel", "telegram", "--json"]))
            .unwrap();
    assert_eq!(v["channel"], "telegram");
    assert_eq!(v["requests"][0]["id"], "111");
    assert_eq!(v["requests"][0]["meta"]["username"], "ada");

    let out = h.run(&["pairing", "approve", "telegram", "ABCDEFGH"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("No pending pairing request found for code: ABCDEFGH")
    );
    let out = h.ok(&["pairing", "approve", "telegram", &u.code.to_lowercase()]);
    assert_eq!(out, "Approved telegram sender 111.\n");
    let allow: Value = serde_json::from_str(
        &std::fs::read_to_string(h.state().join("credentials/telegram-allowFrom.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(allow, json!({"version": 1, "allowFrom": ["111"]}));
    assert_eq!(
        h.ok(&["pairing", "list", "telegram"]),
        "No pending telegram pairing requests.\n"
    );
    let out = h.run(&["pairing", "list"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("Channel required"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telegram_pairing_status_and_send_through_a_gateway_process() {
    let tg = FakeTelegram::start().await;
    let model = FakeOpenAi::start(Script::echo()).await;
    let h = Home::new();
    let port = free_port();
    h.onboard(port, "T");
    let provider = json!({"baseUrl": model.base_url, "api": "openai-completions", "apiKey": "k",
                          "models": [{"id": "mock-model"}]});
    h.ok(&[
        "config",
        "set",
        "models.providers.mock",
        &provider.to_string(),
        "--strict-json",
    ]);
    h.ok(&[
        "config",
        "set",
        "agents.defaults.model.primary",
        "mock/mock-model",
    ]);
    let out = h.ok(&[
        "channels",
        "add",
        "--channel",
        "telegram",
        "--token",
        FAKE_BOT_TOKEN,
    ]);
    assert!(out.contains("the gateway runs it"), "{out}");
    std::fs::write(
        h.state().join(".env"),
        format!("OPENCLAW_TELEGRAM_API_ROOT={}\n", tg.api_root),
    )
    .unwrap();

    let gw = h.gateway(port);
    tg.push_dm(111, "hello");
    let sent = tg.wait_sent(1).await;
    assert!(
        sent[0]["text"]
            .as_str()
            .unwrap()
            .starts_with("OpenClaw: access not configured.")
    );
    let list: Value =
        serde_json::from_str(&h.ok(&["pairing", "list", "telegram", "--json"])).unwrap();
    let code = list["requests"][0]["code"].as_str().unwrap().to_string();
    let out = h.ok(&["pairing", "approve", "telegram", &code, "--notify"]);
    assert_eq!(out.trim(), "Approved telegram sender 111.");
    let sent = tg.wait_sent(2).await;
    assert_eq!(
        sent[1]["text"],
        "✅ OpenClaw access approved. Send a message to start chatting."
    );
    tg.push_dm(111, "hi");
    let sent = tg.wait_sent(3).await;
    assert_eq!(sent[2]["text"], "pong: hi");

    let out = h.ok(&["channels", "status"]);
    assert!(out.starts_with("Gateway reachable.\n"), "{out}");
    assert!(
        out.contains(&format!(
            "- Telegram default: enabled, configured, running, connected, mode:polling, bot:@{FAKE_BOT_USERNAME}, token:config"
        )),
        "{out}"
    );
    assert!(!out.contains(FAKE_BOT_TOKEN));
    let v: Value = serde_json::from_str(&h.ok(&["channels", "status", "--json"])).unwrap();
    assert_eq!(v["channelAccounts"]["telegram"][0]["running"], true, "{v}");

    let out = h.ok(&[
        "message",
        "send",
        "--channel",
        "telegram",
        "-t",
        "111",
        "-m",
        "a **note**",
    ]);
    assert_eq!(out.trim(), "Sent.");
    let sent = tg.wait_sent(4).await;
    assert_eq!(sent[3]["text"], "a <b>note</b>");
    assert!(gw.stop().success());

    // No gateway: status falls back to the config.
    let out = h.run(&["channels", "status"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("showing config-only status"), "{stdout}");
    assert!(
        stdout.contains("- Telegram default: enabled, configured, token:config"),
        "{stdout}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discord_pairing_status_and_send_through_a_gateway_process() {
    let dc = FakeDiscord::start().await;
    let model = FakeOpenAi::start(Script::echo()).await;
    let h = Home::new();
    let port = free_port();
    h.onboard(port, "T");
    let provider = json!({"baseUrl": model.base_url, "api": "openai-completions", "apiKey": "k",
                          "models": [{"id": "mock-model"}]});
    h.ok(&[
        "config",
        "set",
        "models.providers.mock",
        &provider.to_string(),
        "--strict-json",
    ]);
    h.ok(&[
        "config",
        "set",
        "agents.defaults.model.primary",
        "mock/mock-model",
    ]);
    let out = h.ok(&[
        "channels",
        "add",
        "--channel",
        "discord",
        "--token",
        FAKE_DISCORD_TOKEN,
    ]);
    assert!(out.contains("the gateway runs it"), "{out}");
    std::fs::write(
        h.state().join(".env"),
        format!("OPENCLAW_DISCORD_API_ROOT={}\n", dc.api_root),
    )
    .unwrap();

    let gw = h.gateway(port);
    dc.push_dm("555", "hello");
    let sent = dc.wait_sent(1).await;
    assert!(
        sent[0]["content"]
            .as_str()
            .unwrap()
            .starts_with("OpenClaw: access not configured.\n\nYour Discord user id: 555")
    );
    let list: Value =
        serde_json::from_str(&h.ok(&["pairing", "list", "discord", "--json"])).unwrap();
    assert_eq!(list["requests"][0]["id"], "555");
    let code = list["requests"][0]["code"].as_str().unwrap().to_string();
    let out = h.ok(&["pairing", "approve", "discord", &code, "--notify"]);
    assert_eq!(out.trim(), "Approved discord sender 555.");
    let sent = dc.wait_sent(2).await;
    assert_eq!(
        sent[1]["content"],
        "✅ OpenClaw access approved. Send a message to start chatting."
    );
    assert_eq!(sent[1]["channel_id"], dc.dm_channel("555").as_str());
    dc.push_dm("555", "hi");
    let sent = dc.wait_sent(3).await;
    assert_eq!(sent[2]["content"], "pong: hi");

    let out = h.ok(&["channels", "status"]);
    assert!(
        out.contains(&format!(
            "- Discord default: enabled, configured, running, connected, bot:@{FAKE_DISCORD_BOT_NAME}, token:config"
        )),
        "{out}"
    );
    assert!(!out.contains(FAKE_DISCORD_TOKEN));

    let out = h.ok(&[
        "message",
        "send",
        "--channel",
        "discord",
        "-t",
        "channel:4242",
        "-m",
        "a **note**",
    ]);
    assert_eq!(out.trim(), "Sent.");
    let out = h.ok(&[
        "message",
        "send",
        "--channel",
        "discord",
        "-t",
        "user:555",
        "-m",
        "psst",
    ]);
    assert_eq!(out.trim(), "Sent.");
    let sent = dc.wait_sent(5).await;
    assert_eq!(sent[3]["content"], "a **note**");
    assert_eq!(sent[3]["channel_id"], "4242");
    assert_eq!(sent[4]["channel_id"], dc.dm_channel("555").as_str());
    assert!(gw.stop().success());

    let out = h.run(&["channels", "status"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("- Discord default: enabled, configured, token:config"),
        "{stdout}"
    );
}
