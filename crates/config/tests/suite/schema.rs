use openclaw_config::schema::{AuthMode, BindMode, GatewayMode, SandboxMode, Ulimit};
use openclaw_config::{ConfigError, config_schema, load, parse_str};

use super::support::{Home, env};

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

#[test]
fn recorded_2026_2_6_config_loads() {
    let home = Home::new();
    let text = fixture("v3-2026.2.6-config.json");
    home.write_config(&text);
    let loaded = load(&home.paths, &env(&[])).unwrap();
    let gw = loaded.config.gateway.as_ref().unwrap();
    assert_eq!(gw.mode, Some(GatewayMode::Local));
    assert_eq!(gw.port, Some(18889));
    assert_eq!(gw.bind, Some(BindMode::Loopback));
    assert_eq!(gw.auth.as_ref().unwrap().mode, Some(AuthMode::Token));
    let provider = &loaded
        .config
        .models
        .as_ref()
        .unwrap()
        .providers
        .as_ref()
        .unwrap()["mock"];
    assert_eq!(provider.models.as_ref().unwrap()[0].max_tokens, Some(4096));
    assert_eq!(
        loaded.hash,
        openclaw_config::write::hash_bytes(text.as_bytes())
    );
    // The defaults-applied form the baseline returned as `config` (adds `commands`) loads too.
    parse_str(
        &fixture("v3-2026.2.6-config-resolved.json"),
        &home.paths.config_path,
        &env(&[]),
    )
    .unwrap();
}

#[test]
fn kitchen_sink_config_loads() {
    let home = Home::new();
    home.write_config(&fixture("kitchen-sink.json5"));
    let loaded = load(&home.paths, &env(&[("DISCORD_BOT_TOKEN", "d")])).unwrap();
    let c = &loaded.config;
    let sandbox = c
        .agents
        .as_ref()
        .unwrap()
        .defaults
        .as_ref()
        .unwrap()
        .sandbox
        .as_ref()
        .unwrap();
    assert_eq!(sandbox.mode, Some(SandboxMode::NonMain));
    let ulimits = sandbox.docker.as_ref().unwrap().ulimits.as_ref().unwrap();
    assert!(matches!(ulimits["nofile"], Ulimit::Range(_)));
    assert!(matches!(ulimits["nproc"], Ulimit::Number(512)));
    assert!(matches!(ulimits["core"], Ulimit::Text(_)));
    let channels = c.channels.as_ref().unwrap();
    assert!(
        channels
            .telegram
            .as_ref()
            .unwrap()
            .accounts
            .as_ref()
            .unwrap()
            .contains_key("alerts")
    );
    assert_eq!(channels.other["slack"]["anythingGoes"]["deep"], 1);
    assert_eq!(c.bindings.as_ref().unwrap().len(), 2);
}

#[test]
fn unknown_key_suggests_and_points_at_key() {
    let home = Home::new();
    home.write_config("{\n  agents: {\n    defaults: {\n      workspace: '/w',\n      sandox: { mode: 'all' },\n    },\n  },\n}\n");
    let err = load(&home.paths, &env(&[])).unwrap_err();
    assert_eq!(
        err.to_string(),
        "~/.openclaw/openclaw.json:5:7: unknown key \"sandox\" at agents.defaults (did you mean \"sandbox\"?)"
    );
    let ConfigError::Invalid { accepted, .. } = &err else {
        panic!()
    };
    assert!(accepted.iter().any(|k| k == "sandbox") && accepted.iter().any(|k| k == "workspace"));
    assert_eq!(err.exit_code(), 78);
}

#[test]
fn unknown_root_key_and_far_typo_list_accepted_keys() {
    let home = Home::new();
    home.write_config("{ gatewya: {} }");
    let err = load(&home.paths, &env(&[])).unwrap_err();
    assert!(
        err.to_string()
            .contains("unknown key \"gatewya\" at the top level (did you mean \"gateway\"?)"),
        "{err}"
    );

    home.write_config("{ gateway: { zzzzzzzz: 1 } }");
    let err = load(&home.paths, &env(&[])).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("accepted keys: mode, port, bind"), "{msg}");
}

#[test]
fn unknown_key_inside_array_entry() {
    let home = Home::new();
    home.write_config(
        "{\n  agents: { list: [\n    { id: 'main' },\n    { id: 'x', worksapce: '/w' },\n  ] },\n}",
    );
    let err = load(&home.paths, &env(&[])).unwrap_err();
    assert_eq!(
        err.to_string(),
        "~/.openclaw/openclaw.json:4:16: unknown key \"worksapce\" at agents.list[1] (did you mean \"workspace\"?)"
    );
}

#[test]
fn bad_enum_value_lists_accepted_values() {
    let home = Home::new();
    home.write_config("{\n  gateway: {\n    bind: '0.0.0.0',\n  },\n}");
    let err = load(&home.paths, &env(&[])).unwrap_err();
    assert_eq!(
        err.to_string(),
        "~/.openclaw/openclaw.json:3:11: invalid value \"0.0.0.0\" at gateway.bind (accepted values: \"loopback\", \"lan\", \"tailnet\", \"auto\", \"custom\")"
    );
    home.write_config("{ agents: { defaults: { sandbox: { mode: 'non_main' } } } }");
    let msg = load(&home.paths, &env(&[])).unwrap_err().to_string();
    assert!(msg.contains("did you mean \"non-main\"?"), "{msg}");
}

#[test]
fn wrong_type_names_path() {
    let home = Home::new();
    home.write_config("{ gateway: { port: 'abc' } }");
    let msg = load(&home.paths, &env(&[])).unwrap_err().to_string();
    assert!(
        msg.starts_with("~/.openclaw/openclaw.json:1:20: invalid type: string \"abc\""),
        "{msg}"
    );
    assert!(msg.contains("at gateway.port"), "{msg}");

    home.write_config("{ agents: { defaults: { model: 5 } } }");
    let msg = load(&home.paths, &env(&[])).unwrap_err().to_string();
    assert!(
        msg.contains("invalid model setting at agents.defaults.model"),
        "{msg}"
    );
}

#[test]
fn cross_field_rules() {
    let home = Home::new();
    let cases = [
        ("{ gateway: { bind: 'custom' } }", "customBindHost"),
        (
            "{ gateway: { auth: { token: 'a', password: 'b' } } }",
            "set gateway.auth.mode",
        ),
        (
            "{ agents: { list: [{ id: 'a' }, { id: 'a' }] } }",
            "duplicate agent id",
        ),
        (
            "{ agents: { list: [{ id: 'Bad Id' }] } }",
            "invalid agent id",
        ),
        (
            "{ channels: { telegram: { dmPolicy: 'open' } } }",
            "allowFrom to include \"*\"",
        ),
        (
            "{ bindings: [{ agentId: 'main', match: {} }] }",
            "match.channel",
        ),
    ];
    for (text, needle) in cases {
        home.write_config(text);
        let msg = load(&home.paths, &env(&[])).unwrap_err().to_string();
        assert!(msg.contains(needle), "{text}: {msg}");
    }
}

#[test]
fn json_schema_describes_sections() {
    let schema = config_schema();
    let text = schema.to_string();
    for key in [
        "gateway",
        "agents",
        "sandbox",
        "dangerouslyAllowContainerNamespaceJoin",
        "allowedOrigins",
        "non-main",
    ] {
        assert!(text.contains(key), "schema lacks {key}");
    }
    assert_eq!(schema["additionalProperties"], serde_json::json!(false));
}

/// The committed `openclaw.schema.json` must match the types. Regenerate with
/// `OPENCLAW_UPDATE_SCHEMA=1 cargo test -p openclaw-config committed_schema`.
#[test]
fn committed_schema_is_fresh() {
    let path = format!("{}/openclaw.schema.json", env!("CARGO_MANIFEST_DIR"));
    let fresh = serde_json::to_string_pretty(&config_schema()).unwrap() + "\n";
    if std::env::var_os("OPENCLAW_UPDATE_SCHEMA").is_some() {
        std::fs::write(&path, &fresh).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == fresh,
        "{path} is stale; run OPENCLAW_UPDATE_SCHEMA=1 cargo test -p openclaw-config committed_schema"
    );
}
