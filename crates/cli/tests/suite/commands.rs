//! Every CLI command against a real gateway process.

use serde_json::Value;

use super::harness::*;

#[test]
fn version_and_completion() {
    let h = Home::new();
    assert!(h.ok(&["--version"]).starts_with("openclaw "));
    let script = h.ok(&["completion", "bash"]);
    assert!(
        script.contains("_openclaw"),
        "{}",
        &script[..200.min(script.len())]
    );
}

#[test]
fn onboard_writes_config_workspace_and_summary() {
    let h = Home::new();
    let out = h.ok(&[
        "onboard",
        "--non-interactive",
        "--accept-risk",
        "--mode",
        "local",
        "--gateway-auth",
        "token",
        "--gateway-token",
        "T",
        "--gateway-bind",
        "loopback",
        "--gateway-port",
        "18789",
        "--skip-channels",
        "--skip-skills",
        "--skip-health",
        "--skip-ui",
        "--skip-daemon",
        "--json",
    ]);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["ok"], true);
    assert_eq!(v["mode"], "local");
    assert_eq!(v["authChoice"], "skip");
    assert_eq!(v["gateway"]["port"], 18789);
    assert_eq!(v["gateway"]["bind"], "loopback");
    assert_eq!(v["gateway"]["authMode"], "token");
    assert_eq!(v["gateway"]["tailscaleMode"], "off");
    for f in [
        "AGENTS.md",
        "SOUL.md",
        "USER.md",
        "IDENTITY.md",
        "TOOLS.md",
        "BOOTSTRAP.md",
    ] {
        assert!(h.state().join("workspace").join(f).exists(), "{f} missing");
    }
    assert!(h.state().join("agents/main/sessions").is_dir());
    let cfg: Value =
        serde_json::from_str(&std::fs::read_to_string(h.config_path()).unwrap()).unwrap();
    assert_eq!(cfg["gateway"]["mode"], "local");
    assert_eq!(cfg["gateway"]["auth"]["token"], "T");
    assert_eq!(cfg["wizard"]["lastRunCommand"], "onboard");
}

#[test]
fn onboard_auth_choices_write_providers() {
    let cases: &[(&[&str], &str, &str)] = &[
        (
            &[
                "--auth-choice",
                "openai-api-key",
                "--openai-api-key",
                "sk-test",
            ],
            "openai",
            "openai/gpt-4.1-mini",
        ),
        (
            &[
                "--auth-choice",
                "anthropic-api-key",
                "--anthropic-api-key",
                "sk-ant",
            ],
            "anthropic",
            "anthropic/claude-sonnet-4-5",
        ),
        (&["--auth-choice", "ollama"], "ollama", "ollama/llama3.2"),
        (
            &[
                "--auth-choice",
                "custom-api-key",
                "--custom-base-url",
                "http://127.0.0.1:18999/v1",
                "--custom-model-id",
                "m1",
                "--custom-api-key",
                "k",
                "--custom-compatibility",
                "anthropic",
            ],
            "custom-127-0-0-1-18999",
            "custom-127-0-0-1-18999/m1",
        ),
    ];
    for (flags, provider, primary) in cases {
        let h = Home::new();
        let mut args = vec!["onboard", "--non-interactive", "--accept-risk", "--json"];
        args.extend_from_slice(flags);
        h.ok(&args);
        let cfg: Value =
            serde_json::from_str(&std::fs::read_to_string(h.config_path()).unwrap()).unwrap();
        assert!(
            cfg["models"]["providers"][provider].is_object(),
            "{provider}: {cfg}"
        );
        assert_eq!(cfg["agents"]["defaults"]["model"]["primary"], *primary);
    }
    let h = Home::new();
    let out = h.run(&["onboard", "--non-interactive", "--json"]);
    assert!(
        !out.status.success(),
        "--non-interactive without --accept-risk must fail"
    );
}

#[test]
fn gateway_refuses_to_start_unconfigured() {
    let h = Home::new();
    let out = h.run(&["gateway", "--port", &free_port().to_string()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("Gateway start blocked: set gateway.mode=local (current: unset) or pass --allow-unconfigured"), "{err}");
}

#[test]
fn client_commands_round_trip_against_a_running_gateway() {
    let h = Home::new();
    let port = free_port();
    h.onboard(port, "T");
    let gw = h.gateway(port);

    let health: Value = serde_json::from_str(&h.ok(&["health", "--json"])).unwrap();
    assert_eq!(health["ok"], true);
    assert!(h.ok(&["health"]).contains("Gateway health: ok"));
    let status: Value = serde_json::from_str(&h.ok(&["status", "--json"])).unwrap();
    assert!(status["sessions"].is_object());
    assert!(h.ok(&["gateway", "health"]).contains("ok"));
    assert!(
        h.ok(&["gateway", "status"])
            .contains("Connectivity probe: ok")
    );
    let call: Value =
        serde_json::from_str(&h.ok(&["gateway", "call", "agents.list", "--params", "{}"])).unwrap();
    assert_eq!(call["defaultId"], "main");
    let cfg: Value =
        serde_json::from_str(&h.ok(&["gateway", "call", "config.get", "--json"])).unwrap();
    assert_eq!(
        cfg["config"]["gateway"]["auth"]["token"],
        "__OPENCLAW_REDACTED__"
    );
    let devices = h.ok(&["devices", "list"]);
    assert!(devices.contains("Pending (0)"), "{devices}");

    // --url needs explicit credentials: config/env tokens are not reused.
    let url = format!("ws://127.0.0.1:{port}");
    let out = h.run(&["health", "--url", &url]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("token missing"));
    h.ok(&["health", "--url", &url, "--token", "T"]);

    // Wrong token: a clear error, not a hang.
    let out = h.run(&["health", "--token", "nope"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("gateway token mismatch"));

    let status = gw.stop();
    assert!(
        status.success(),
        "SIGTERM must give a clean exit, got {status:?}"
    );
}

#[test]
fn config_get_set_unset_and_doctor() {
    let h = Home::new();
    h.onboard(18789, "T");
    assert_eq!(h.ok(&["config", "get", "gateway.bind"]).trim(), "loopback");
    assert!(
        h.ok(&["config", "set", "gateway.bind", "lan"])
            .contains("Restart the gateway to apply.")
    );
    assert_eq!(h.ok(&["config", "get", "gateway.bind"]).trim(), "lan");
    assert!(
        h.ok(&[
            "config",
            "set",
            "agents.defaults.model.primary",
            "openai/gpt-4.1"
        ])
        .contains("without restarting")
    );
    h.ok(&[
        "config",
        "set",
        "--batch-json",
        r#"[{"path":"gateway.port","value":18800},{"path":"tools.deny","value":["exec"]}]"#,
    ]);
    assert_eq!(h.ok(&["config", "get", "gateway.port"]).trim(), "18800");
    h.ok(&["config", "unset", "tools.deny"]);
    let out = h.run(&["config", "get", "tools.deny"]);
    assert_eq!(out.status.code(), Some(1), "absent path exits 1");
    let out = h.run(&["config", "unset", "tools.deny"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(h.state().join("openclaw.json.bak").exists());
    let out = h.run(&["config", "set", "gateway.bind", "0.0.0.0"]);
    assert!(
        !out.status.success(),
        "invalid values are refused before writing"
    );
    assert_eq!(h.ok(&["config", "get", "gateway.bind"]).trim(), "lan");

    let doctor: Value = serde_json::from_str(&h.ok(&["doctor", "--json"])).unwrap_or_else(|_| {
        let out = h.run(&["doctor", "--json"]);
        serde_json::from_slice(&out.stdout).unwrap()
    });
    let names: Vec<&str> = doctor["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["config", "stateDir", "port", "docker"]);
    assert_eq!(doctor["checks"][0]["ok"], true);
}

#[test]
fn channels_add_writes_config_and_login_explains_what_is_missing() {
    let h = Home::new();
    h.onboard(18789, "T");
    h.ok(&[
        "channels",
        "add",
        "--channel",
        "telegram",
        "--token",
        "123:abc",
    ]);
    let cfg: Value =
        serde_json::from_str(&std::fs::read_to_string(h.config_path()).unwrap()).unwrap();
    assert_eq!(cfg["channels"]["telegram"]["botToken"], "123:abc");
    assert_eq!(cfg["channels"]["telegram"]["enabled"], true);
    let status: Value = serde_json::from_str(&h.ok(&["channels", "status", "--json"])).unwrap();
    assert_eq!(status["channels"][0]["channel"], "telegram");
    assert_eq!(status["channels"][0]["running"], false);
    let out = h.run(&["channels", "add", "--channel", "discord", "--use-env"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("DISCORD_BOT_TOKEN"));
    let out = h.run(&["channels", "login"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("WhatsApp Web"));
    h.ok(&["channels", "remove", "--channel", "telegram", "--delete"]);
    let cfg: Value =
        serde_json::from_str(&std::fs::read_to_string(h.config_path()).unwrap()).unwrap();
    assert!(cfg["channels"].get("telegram").is_none(), "{cfg}");
}
