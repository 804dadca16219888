//! Router + policy together: what the model is offered and what a blocked call says.

use openclaw_agent::policy::ToolPolicyInput;
use openclaw_agent::tools::{ToolRouter, builtin_tools};
use pretty_assertions::assert_eq;
use serde_json::json;
use tokio_util::sync::CancellationToken;

use super::ctx;

#[tokio::test]
async fn sandboxed_router_offers_sandbox_tools_and_explains_blocks() {
    let policy = ToolPolicyInput::from_values(Some(&json!({"deny": ["process"]})), None)
        .unwrap()
        .resolve(Some("non-main"));
    let router = ToolRouter::new(builtin_tools(), &policy);
    assert_eq!(
        router.names(),
        vec![
            "read",
            "write",
            "edit",
            "apply_patch",
            "exec",
            "sessions_list",
            "sessions_history",
            "sessions_send",
            "sessions_spawn",
            "session_status"
        ]
    );
    for spec in router.specs() {
        assert_eq!(spec.parameters["type"], "object", "{}", spec.name);
        assert!(spec.parameters.get("anyOf").is_none() && spec.parameters.get("oneOf").is_none());
    }
    let ws = tempfile::tempdir().unwrap();
    let c = ctx(ws.path(), false);
    let out = router
        .dispatch(
            &c,
            "process",
            json!({"action": "list"}),
            CancellationToken::new(),
        )
        .await;
    assert!(out.is_error);
    assert_eq!(
        out.text_content(),
        "Tool \"process\" blocked by tool policy: remove it from tools.deny"
    );
    let out = router
        .dispatch(&c, "agents_list", json!({}), CancellationToken::new())
        .await;
    assert!(
        out.text_content()
            .contains("blocked by sandbox tool policy (mode=non-main)"),
        "{}",
        out.text_content()
    );
    let out = router
        .dispatch(
            &c,
            "Exec",
            json!("{\"command\": \"echo via-string\"}"),
            CancellationToken::new(),
        )
        .await;
    assert_eq!(out.text_content(), "via-string");
}
