//! `config.*` over the wire: base-hash guard, validation with line:col that writes nothing,
//! merge patch, `config.changed`, hot reload of a file edited on disk.

use std::sync::Arc;
use std::time::Duration;

use openclaw_gateway::config_service::ConfigService;
use openclaw_gateway::{AuthConfig, Secret, ServerSettings, Services};
use serde_json::{Value, json};

use super::client::*;

pub struct ConfigServer {
    pub srv: TestServer,
    pub config_path: std::path::PathBuf,
}

pub async fn start_with_config(initial: Option<&str>) -> ConfigServer {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    std::fs::create_dir_all(&state).unwrap();
    let config_path = state.join("openclaw.json");
    if let Some(text) = initial {
        std::fs::write(&config_path, text).unwrap();
    }
    let mut env = openclaw_config::EnvMap::new();
    env.insert("HOME".into(), dir.path().display().to_string());
    env.insert("OPENCLAW_STATE_DIR".into(), state.display().to_string());
    let paths = openclaw_config::Paths::from_env(&env).unwrap();
    let loaded = openclaw_config::load(&paths, &env).unwrap();
    #[allow(clippy::needless_update)] // more services join this struct over time
    let services = Services {
        config: Some(Arc::new(ConfigService::new(paths, env, loaded))),
        ..Default::default()
    };
    let settings = ServerSettings::for_tests(state.clone(), AuthConfig::Token(Secret::new("T")));
    let gw = openclaw_gateway::start(settings, services).await.unwrap();
    let url = format!("ws://{}/", gw.local_addr());
    ConfigServer {
        srv: TestServer {
            gw: Some(gw),
            url,
            _dir: dir,
        },
        config_path,
    }
}

const BASE: &str = "{\n  // my gateway\n  gateway: { mode: 'local', port: 18789, auth: { token: 'sekrit' } },\n}\n";

#[tokio::test]
async fn config_get_redacts_and_reports_hash() {
    let cs = start_with_config(Some(BASE)).await;
    let mut ws = connected(&cs.srv.url, "T", ALL_SCOPES).await;
    let res = call(&mut ws, "1", "config.get", json!({})).await;
    let p = &res["payload"];
    assert_eq!(p["exists"], true);
    assert_eq!(p["valid"], true);
    assert_eq!(p["hash"].as_str().unwrap().len(), 64);
    assert!(
        !p["raw"].as_str().unwrap().contains("sekrit"),
        "raw leaks the token"
    );
    assert!(
        p["raw"].as_str().unwrap().contains("// my gateway"),
        "comments are kept in raw"
    );
    assert_eq!(
        p["config"]["gateway"]["auth"]["token"],
        "__OPENCLAW_REDACTED__"
    );
}

#[tokio::test]
async fn config_set_requires_and_checks_base_hash() {
    let cs = start_with_config(Some(BASE)).await;
    let mut ws = connected(&cs.srv.url, "T", ALL_SCOPES).await;
    let raw = "{ gateway: { mode: 'local', port: 18790 } }";
    let res = call(&mut ws, "1", "config.set", json!({"raw": raw})).await;
    assert_eq!(res["error"]["details"]["code"], "CONFIG_BASE_HASH_REQUIRED");
    let res = call(
        &mut ws,
        "2",
        "config.set",
        json!({"raw": raw, "baseHash": "0".repeat(64)}),
    )
    .await;
    assert_eq!(res["error"]["details"]["code"], "CONFIG_BASE_HASH_MISMATCH");
    assert_eq!(
        std::fs::read_to_string(&cs.config_path).unwrap(),
        BASE,
        "nothing written"
    );

    let hash = call(&mut ws, "3", "config.get", json!({})).await["payload"]["hash"]
        .as_str()
        .unwrap()
        .to_string();
    let res = call(
        &mut ws,
        "4",
        "config.set",
        json!({"raw": raw, "baseHash": hash}),
    )
    .await;
    assert_eq!(res["ok"], true, "{res}");
    assert_eq!(res["payload"]["restartRequired"], true);
    assert!(
        std::fs::read_to_string(&cs.config_path)
            .unwrap()
            .contains("18790")
    );
    assert!(
        cs.config_path.with_file_name("openclaw.json.bak").exists(),
        "previous config kept as .bak"
    );
}

#[tokio::test]
async fn invalid_config_reports_line_and_column_and_writes_nothing() {
    let cs = start_with_config(Some(BASE)).await;
    let mut ws = connected(&cs.srv.url, "T", ALL_SCOPES).await;
    let hash = call(&mut ws, "1", "config.get", json!({})).await["payload"]["hash"]
        .as_str()
        .unwrap()
        .to_string();
    let raw = "{\n  gateway: {\n    mode: 'local',\n    sandox: true,\n  },\n}\n";
    let res = call(
        &mut ws,
        "2",
        "config.set",
        json!({"raw": raw, "baseHash": hash}),
    )
    .await;
    assert_eq!(res["ok"], false);
    let d = &res["error"]["details"];
    assert_eq!(d["code"], "CONFIG_INVALID");
    assert_eq!(d["line"], 4, "{res}");
    assert_eq!(d["column"], 5, "{res}");
    assert_eq!(d["path"], "gateway");
    assert!(
        res["error"]["message"].as_str().unwrap().contains("sandox"),
        "{res}"
    );
    let res = call(
        &mut ws,
        "3",
        "config.set",
        json!({"raw": "{ gateway: { mode: 'local', }", "baseHash": hash}),
    )
    .await;
    assert_eq!(res["error"]["details"]["code"], "CONFIG_INVALID");
    assert!(res["error"]["details"]["line"].as_u64().is_some());
    assert_eq!(
        std::fs::read_to_string(&cs.config_path).unwrap(),
        BASE,
        "nothing written"
    );
}

#[tokio::test]
async fn config_patch_merges_restores_redacted_and_announces() {
    let cs = start_with_config(Some(BASE)).await;
    let mut ws = connected(&cs.srv.url, "T", ALL_SCOPES).await;
    let hash = call(&mut ws, "1", "config.get", json!({})).await["payload"]["hash"]
        .as_str()
        .unwrap()
        .to_string();
    let patch = json!({"agents": {"defaults": {"model": {"primary": "openai/gpt-4.1-mini"}}},
                       "gateway": {"auth": {"token": "__OPENCLAW_REDACTED__"}}});
    let res = call(
        &mut ws,
        "2",
        "config.patch",
        json!({"raw": patch.to_string(), "baseHash": hash}),
    )
    .await;
    assert_eq!(res["ok"], true, "{res}");
    assert_eq!(res["payload"]["restartRequired"], false);
    let ev = wait_event(&mut ws, "config.changed").await;
    assert_eq!(ev["payload"]["hash"], res["payload"]["hash"]);
    let on_disk: Value =
        serde_json::from_str(&std::fs::read_to_string(&cs.config_path).unwrap()).unwrap();
    assert_eq!(
        on_disk["gateway"]["auth"]["token"], "sekrit",
        "redacted placeholder restored"
    );
    assert_eq!(
        on_disk["agents"]["defaults"]["model"]["primary"],
        "openai/gpt-4.1-mini"
    );
}

#[tokio::test]
async fn edits_on_disk_hot_reload_and_invalid_edits_are_skipped() {
    let cs = start_with_config(Some(BASE)).await;
    let mut ws = connected(&cs.srv.url, "T", ALL_SCOPES).await;
    std::fs::write(
        &cs.config_path,
        "{ gateway: { mode: 'local' }, agents: { list: [{ id: 'main' }, { id: 'work' }] } }",
    )
    .unwrap();
    let ev = tokio::time::timeout(
        Duration::from_secs(5),
        wait_event(&mut ws, "config.changed"),
    )
    .await
    .unwrap();
    assert!(ev["payload"]["hash"].is_string());
    let agents = call(&mut ws, "1", "agents.list", json!({})).await;
    let ids: Vec<&str> = agents["payload"]["agents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["main", "work"]);
    std::fs::write(&cs.config_path, "{ gateway: { mode: 'local' }, bogus: 1 }").unwrap();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let agents = call(&mut ws, "2", "agents.list", json!({})).await;
    assert_eq!(
        agents["payload"]["agents"].as_array().unwrap().len(),
        2,
        "last good config kept"
    );
}

#[tokio::test]
async fn models_list_reads_configured_providers() {
    let text = r#"{ gateway: { mode: 'local' }, models: { providers: { mock: { baseUrl: 'http://127.0.0.1:1/v1', api: 'openai-completions', models: [{ id: 'mock-model', name: 'mock', contextWindow: 128000 }] } } } }"#;
    let cs = start_with_config(Some(text)).await;
    let mut ws = connected(&cs.srv.url, "T", ALL_SCOPES).await;
    let res = call(&mut ws, "1", "models.list", json!({})).await;
    assert_eq!(res["payload"]["models"][0]["id"], "mock-model");
    assert_eq!(res["payload"]["models"][0]["provider"], "mock");
}

#[tokio::test]
async fn config_set_round_trips_the_redacted_text_from_config_get() {
    let cs = start_with_config(Some(BASE)).await;
    let mut ws = connected(&cs.srv.url, "T", ALL_SCOPES).await;
    let got = call(&mut ws, "1", "config.get", json!({})).await["payload"].clone();
    let raw = got["raw"].as_str().unwrap().replace("18789", "18790");
    assert!(raw.contains("__OPENCLAW_REDACTED__"));
    let res = call(
        &mut ws,
        "2",
        "config.set",
        json!({"raw": raw, "baseHash": got["hash"]}),
    )
    .await;
    assert_eq!(res["ok"], true, "{res}");
    let on_disk = std::fs::read_to_string(&cs.config_path).unwrap();
    assert!(
        on_disk.contains("sekrit") && !on_disk.contains("__OPENCLAW_REDACTED__"),
        "{on_disk}"
    );
    assert!(on_disk.contains("18790"));

    // A placeholder for a key that has no value cannot be restored: refused, nothing written.
    let hash = call(&mut ws, "3", "config.get", json!({})).await["payload"]["hash"].clone();
    let patch = json!({"gateway": {"auth": {"password": "__OPENCLAW_REDACTED__"}}});
    let res = call(
        &mut ws,
        "4",
        "config.patch",
        json!({"raw": patch.to_string(), "baseHash": hash}),
    )
    .await;
    assert_eq!(res["ok"], false, "{res}");
    assert!(
        !std::fs::read_to_string(&cs.config_path)
            .unwrap()
            .contains("__OPENCLAW_REDACTED__")
    );
}
