use super::*;
use pretty_assertions::assert_eq;
use serde_json::json;

fn policy(global: Value, agent: Value, sandbox: Option<&str>) -> EffectivePolicy {
    ToolPolicyInput::from_values(Some(&global), Some(&agent))
        .unwrap()
        .resolve(sandbox)
}

fn allowed(p: &EffectivePolicy, names: &[&str]) -> Vec<String> {
    names
        .iter()
        .filter(|n| p.allowed(n).is_ok())
        .map(|n| n.to_string())
        .collect()
}

const SOME: &[&str] = &[
    "exec",
    "process",
    "read",
    "write",
    "edit",
    "apply_patch",
    "browser",
    "message",
    "session_status",
    "sessions_list",
    "sessions_spawn",
    "web_search",
    "cron",
    "image",
    "gateway",
    "discord",
    "memory_get",
];

#[test]
fn profiles() {
    let p = policy(json!({"profile": "minimal"}), json!({}), None);
    assert_eq!(allowed(&p, SOME), vec!["session_status"]);
    let p = policy(json!({"profile": "messaging"}), json!({}), None);
    assert_eq!(
        allowed(&p, SOME),
        vec!["message", "session_status", "sessions_list"]
    );
    let p = policy(json!({"profile": "coding"}), json!({}), None);
    assert_eq!(
        allowed(&p, SOME),
        vec![
            "exec",
            "process",
            "read",
            "write",
            "edit",
            "apply_patch",
            "session_status",
            "sessions_list",
            "sessions_spawn",
            "web_search",
            "cron",
            "image",
            "memory_get"
        ]
    );
    let p = policy(json!({"profile": "full"}), json!({}), None);
    assert_eq!(allowed(&p, SOME).len(), SOME.len());
    assert_eq!(
        allowed(&EffectivePolicy::allow_all(), SOME).len(),
        SOME.len()
    );
}

#[test]
fn groups_case_and_wildcards() {
    let p = policy(
        json!({"allow": ["GROUP:FS", "Sessions_*"]}),
        json!({}),
        None,
    );
    assert_eq!(
        allowed(&p, SOME),
        vec![
            "read",
            "write",
            "edit",
            "apply_patch",
            "sessions_list",
            "sessions_spawn"
        ]
    );
    let p = policy(json!({"allow": ["group:runtime"]}), json!({}), None);
    assert!(p.allowed("BASH").is_ok());
    assert!(p.allowed("Exec").is_ok());
    let p = policy(json!({"deny": ["*"]}), json!({}), None);
    assert!(allowed(&p, SOME).is_empty());
    let p = policy(json!({"allow": ["group:openclaw"]}), json!({}), None);
    assert!(p.allowed("browser").is_ok() && p.allowed("some_plugin_tool").is_err());
}

#[test]
fn deny_wins_and_write_implies_apply_patch() {
    let p = policy(
        json!({"allow": ["exec", "read"], "deny": ["exec"]}),
        json!({}),
        None,
    );
    assert_eq!(allowed(&p, SOME), vec!["read"]);
    let p = policy(json!({"allow": ["write"]}), json!({}), None);
    assert_eq!(allowed(&p, SOME), vec!["write", "apply_patch"]);
    let p = policy(json!({"deny": ["write"]}), json!({}), None);
    assert!(p.allowed("apply_patch").is_ok());
    assert!(p.allowed("write").is_err());
}

#[test]
fn also_allow_is_additive_to_profile() {
    let p = policy(
        json!({"profile": "messaging", "alsoAllow": ["exec"]}),
        json!({}),
        None,
    );
    assert_eq!(
        allowed(&p, SOME),
        vec!["exec", "message", "session_status", "sessions_list"]
    );
    let p = policy(
        json!({"profile": "minimal"}),
        json!({"alsoAllow": ["read"]}),
        None,
    );
    assert_eq!(allowed(&p, SOME), vec!["read", "session_status"]);
}

#[test]
fn agent_profile_replaces_and_lists_narrow() {
    let p = policy(
        json!({"profile": "minimal"}),
        json!({"profile": "coding"}),
        None,
    );
    assert!(p.allowed("exec").is_ok());
    // agent allow cannot widen past the global allow
    let p = policy(
        json!({"allow": ["read"]}),
        json!({"allow": ["read", "exec"]}),
        None,
    );
    assert_eq!(allowed(&p, SOME), vec!["read"]);
    let p = policy(json!({}), json!({"deny": ["exec", "process"]}), None);
    let b = p.allowed("exec").unwrap_err();
    assert_eq!(b.layer, PolicyLayer::Agent);
    assert_eq!(b.fix_key, "agents.list[].tools.deny");
    let p = ToolPolicyInput::from_values(None, Some(&json!({"allow": ["read"]})))
        .unwrap()
        .with_agent_path("agents.list[1].tools")
        .resolve(None);
    assert_eq!(
        p.allowed("exec").unwrap_err().message,
        "Tool \"exec\" blocked by tool policy: add it to agents.list[1].tools.allow (a non-empty allow list permits only the tools it names)"
    );
}

#[test]
fn sandbox_defaults() {
    let p = policy(json!({}), json!({}), Some("non-main"));
    assert_eq!(
        allowed(&p, SOME),
        vec![
            "exec",
            "process",
            "read",
            "write",
            "edit",
            "apply_patch",
            "session_status",
            "sessions_list",
            "sessions_spawn",
            "image"
        ]
    );
    // Not sandboxed: the sandbox layer does not apply.
    let p = policy(json!({}), json!({}), None);
    assert!(p.allowed("browser").is_ok());
    let b = policy(json!({}), json!({}), Some("non-main"))
        .allowed("browser")
        .unwrap_err();
    assert_eq!(
        b,
        Blocked {
            tool: "browser".into(),
            layer: PolicyLayer::Sandbox,
            fix_key: "tools.sandbox.tools.deny".into(),
            message: "Tool \"browser\" blocked by sandbox tool policy (mode=non-main): remove it from tools.sandbox.tools.deny or add it to tools.sandbox.tools.allow, or set agents.defaults.sandbox.mode=\"off\"; see openclaw sandbox explain".into(),
        }
    );
    let b = policy(json!({}), json!({}), Some("all"))
        .allowed("web_search")
        .unwrap_err();
    assert_eq!(b.fix_key, "tools.sandbox.tools.allow");
    for ch in tables::CHANNEL_IDS {
        assert!(
            policy(json!({}), json!({}), Some("all"))
                .allowed(ch)
                .is_err(),
            "{ch}"
        );
    }
}

#[test]
fn sandbox_agent_replaces_global_and_explicit_allow_reenables_default_deny() {
    let global = json!({"sandbox": {"tools": {"allow": ["read", "exec"], "deny": ["exec"]}}});
    let p = policy(global.clone(), json!({}), Some("all"));
    assert_eq!(allowed(&p, SOME), vec!["read", "image"]);
    let p = policy(
        global,
        json!({"sandbox": {"tools": {"allow": ["read", "message"]}}}),
        Some("all"),
    );
    // agent allow replaces the global allow; deny still from global
    assert_eq!(allowed(&p, SOME), vec!["read", "message", "image"]);
    let b = p.allowed("write").unwrap_err();
    assert_eq!(b.fix_key, "agents.list[].tools.sandbox.tools.allow");
    // explicit allow of a default-denied tool
    let p = policy(
        json!({"sandbox": {"tools": {"alsoAllow": ["browser"]}}}),
        json!({}),
        Some("all"),
    );
    assert!(p.allowed("browser").is_ok());
    assert!(p.allowed("canvas").is_err());
    // image is force-allowed unless denied
    let p = policy(
        json!({"sandbox": {"tools": {"allow": ["read"], "deny": ["image"]}}}),
        json!({}),
        Some("all"),
    );
    assert!(p.allowed("image").is_err());
}

#[test]
fn layers_stack_deny_wins_across_layers() {
    let p = policy(
        json!({"profile": "coding"}),
        json!({"deny": ["exec"]}),
        Some("all"),
    );
    assert_eq!(p.allowed("exec").unwrap_err().layer, PolicyLayer::Agent);
    assert_eq!(
        p.allowed("browser").unwrap_err().layer,
        PolicyLayer::Profile
    );
    let b = p.allowed("message").unwrap_err();
    assert_eq!(b.layer, PolicyLayer::Profile);
    assert_eq!(
        b.message,
        "Tool \"message\" is not in tool profile \"coding\" (tools.profile): add it to tools.alsoAllow or set the profile to \"full\""
    );
}

#[test]
fn explain_lists_layers_and_verdicts() {
    let p = policy(
        json!({"profile": "coding", "allow": ["group:nope", "read"]}),
        json!({}),
        Some("all"),
    );
    let e = p.explain();
    assert!(e.sandboxed);
    assert_eq!(e.profile.as_deref(), Some("coding"));
    assert_eq!(
        e.layers.iter().map(|l| l.layer).collect::<Vec<_>>(),
        vec![
            PolicyLayer::Profile,
            PolicyLayer::Global,
            PolicyLayer::Sandbox
        ]
    );
    assert_eq!(e.layers[2].deny_source, Some(ListSource::Default));
    assert!(e.warnings.iter().any(|w| w.contains("group:nope")));
    let read = e.tools.iter().find(|t| t.tool == "read").unwrap();
    assert!(read.allowed);
    let exec = e.tools.iter().find(|t| t.tool == "exec").unwrap();
    assert_eq!(exec.blocked_by, Some(PolicyLayer::Global));
    let v = serde_json::to_value(&e).unwrap();
    assert_eq!(v["layers"][0]["layer"], "profile");
}

#[test]
fn bad_config_is_reported_with_key() {
    let err = ToolPolicyInput::from_values(Some(&json!({"allow": "exec"})), None).unwrap_err();
    assert_eq!(
        err,
        PolicyError::InvalidConfig {
            key: "tools.allow".into(),
            message: "expected an array of tool names (strings)".into()
        }
    );
    let err = ToolPolicyInput::from_values(None, Some(&json!({"profile": "dev"}))).unwrap_err();
    assert!(err.to_string().contains("agents.list[].tools.profile"));
    let err =
        ToolPolicyInput::from_values(Some(&json!({"sandbox": {"tools": {"deny": [1]}}})), None)
            .unwrap_err();
    assert!(err.to_string().contains("tools.sandbox.tools.deny"));
}
