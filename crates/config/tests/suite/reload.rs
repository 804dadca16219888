use openclaw_config::reload_plan;
use serde_json::json;

#[test]
fn gateway_changes_need_restart_channels_are_hot() {
    let old = json!({"gateway": {"port": 18789, "auth": {"token": "a"}}, "agents": {"defaults": {"maxConcurrent": 4}}});
    let new = json!({"gateway": {"port": 18789, "auth": {"token": "b"}}, "agents": {"defaults": {"maxConcurrent": 8}},
                     "channels": {"telegram": {"enabled": true}}, "discovery": {"mdns": {"mode": "off"}}});
    let plan = reload_plan(&old, &new);
    assert_eq!(plan.restart, vec!["gateway.auth.token", "discovery"]);
    assert_eq!(plan.hot, vec!["agents.defaults.maxConcurrent", "channels"]);
    assert!(plan.needs_restart());

    let hot_only = reload_plan(
        &old,
        &json!({"gateway": {"port": 18789, "auth": {"token": "a"}, "reload": {"mode": "off"}},
                                              "agents": {"defaults": {"maxConcurrent": 4}}}),
    );
    assert_eq!(hot_only.restart, Vec::<String>::new());
    assert_eq!(
        hot_only.hint(),
        "Change will apply without restarting the gateway."
    );
}
