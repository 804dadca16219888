use openclaw_config::redact::{REDACTED, redact, redact_raw, restore_redacted};
use pretty_assertions::assert_eq;
use serde_json::json;

#[test]
fn redacts_secrets_but_not_token_counts() {
    let v = json!({
        "gateway": {"auth": {"mode": "token", "token": "t", "password": "p"}, "remote": {"token": "r"}},
        "models": {"providers": {"m": {"apiKey": "k", "headers": {"Authorization": "Bearer x", "X-Org": "o"},
            "models": [{"id": "a", "maxTokens": 4096, "contextTokens": 1000, "contextWindow": 5}]}}},
        "channels": {"telegram": {"botToken": "b", "webhookSecret": "w", "accounts": {"x": {"botToken": "b2"}}},
                      "slack": {"appToken": "xapp", "signingSecret": "s"}},
        "env": {"vars": {"A": "1"}, "B": "2", "shellEnv": {"enabled": true}},
        "hooks": {"token": "h"},
        "gmail": {"privateKey": "pk"},
        "gatewayRef": {"token": {"source": "env", "id": "OPENCLAW_GATEWAY_TOKEN"}}
    });
    let r = redact(&v);
    assert_eq!(
        r,
        json!({
            "gateway": {"auth": {"mode": "token", "token": REDACTED, "password": REDACTED}, "remote": {"token": REDACTED}},
            "models": {"providers": {"m": {"apiKey": REDACTED, "headers": {"Authorization": REDACTED, "X-Org": "o"},
                "models": [{"id": "a", "maxTokens": 4096, "contextTokens": 1000, "contextWindow": 5}]}}},
            "channels": {"telegram": {"botToken": REDACTED, "webhookSecret": REDACTED, "accounts": {"x": {"botToken": REDACTED}}},
                          "slack": {"appToken": REDACTED, "signingSecret": REDACTED}},
            "env": {"vars": {"A": REDACTED}, "B": REDACTED, "shellEnv": {"enabled": true}},
            "hooks": {"token": REDACTED},
            "gmail": {"privateKey": REDACTED},
            "gatewayRef": {"token": {"source": "env", "id": "OPENCLAW_GATEWAY_TOKEN"}}
        })
    );
}

#[test]
fn raw_text_redaction_keeps_layout() {
    let raw = "{\n  // c\n  gateway: { auth: { token: 'sekrit' } },\n  models: { providers: { m: { apiKey: \"k-1\", models: [{ maxTokens: 4096 }] } } },\n}\n";
    let (parsed, _) = openclaw_config::json5::parse(raw).unwrap();
    assert_eq!(
        redact_raw(raw, &parsed),
        format!(
            "{{\n  // c\n  gateway: {{ auth: {{ token: \"{REDACTED}\" }} }},\n  models: {{ providers: {{ m: {{ apiKey: \"{REDACTED}\", models: [{{ maxTokens: 4096 }}] }} }} }},\n}}\n"
        )
    );
}

#[test]
fn restores_redacted_values_from_current() {
    let current = json!({"gateway": {"auth": {"token": "real"}}});
    let mut proposed =
        json!({"gateway": {"auth": {"token": REDACTED}, "port": 1}, "hooks": {"token": REDACTED}});
    let missing = restore_redacted(&mut proposed, &current);
    assert_eq!(proposed["gateway"]["auth"]["token"], "real");
    assert_eq!(missing, vec!["hooks.token".to_string()]);
}
