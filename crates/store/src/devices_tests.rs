use super::*;
use pretty_assertions::assert_eq;

fn input(device: &str, role: &str, scopes: &[&str], key: &str) -> PairingRequestInput {
    PairingRequestInput {
        device_id: device.into(),
        public_key: key.into(),
        display_name: Some("Laptop".into()),
        platform: Some("linux".into()),
        client_id: Some("openclaw-control-ui".into()),
        client_mode: Some("webchat".into()),
        role: role.into(),
        scopes: scopes.iter().map(|s| s.to_string()).collect(),
        remote_ip: Some("172.17.0.1".into()),
        ..Default::default()
    }
}

#[tokio::test]
async fn retry_returns_same_request_and_changes_supersede() {
    let dir = tempfile::tempdir().unwrap();
    let store = DeviceStore::open(dir.path()).await.unwrap();
    let first = store
        .request_pairing(input("d1", "operator", &["operator.read"], "K1"), 1)
        .await
        .unwrap();
    assert!(first.created);
    let again = store
        .request_pairing(input("d1", "operator", &["operator.read"], "K1"), 2)
        .await
        .unwrap();
    assert!(!again.created);
    assert_eq!(again.request.request_id, first.request.request_id);
    assert_eq!(again.request.ts, 2);

    for changed in [
        input("d1", "operator", &["operator.read", "operator.write"], "K1"),
        input("d1", "node", &["operator.read", "operator.write"], "K1"),
        input("d1", "node", &["operator.read", "operator.write"], "K2"),
    ] {
        let prev = store.list().pending[0].request_id.clone();
        let out = store.request_pairing(changed, 3).await.unwrap();
        assert!(out.created);
        assert_eq!(out.superseded, Some(prev.clone()));
        assert_ne!(out.request.request_id, prev);
        assert_eq!(store.list().pending.len(), 1);
        assert!(store.get_pending(&prev).is_none());
    }
}

#[tokio::test]
async fn approve_issues_token_and_persists() {
    let dir = tempfile::tempdir().unwrap();
    let store = DeviceStore::open(dir.path()).await.unwrap();
    let req = store
        .request_pairing(
            input("d1", "operator", &["operator.write", "operator.read"], "K1"),
            10,
        )
        .await
        .unwrap();
    let dev = store
        .approve(&req.request.request_id, Some("Work laptop".into()), 20)
        .await
        .unwrap();
    assert_eq!(dev.display_name.as_deref(), Some("Work laptop"));
    assert_eq!(dev.roles, vec!["operator".to_string()]);
    assert_eq!(
        dev.scopes,
        vec!["operator.read".to_string(), "operator.write".to_string()]
    );
    let tok = dev.tokens.get("operator").unwrap();
    assert_eq!(URL_SAFE_NO_PAD.decode(&tok.token).unwrap().len(), 32);
    assert!(store.list().pending.is_empty());
    assert!(matches!(
        store.approve(&req.request.request_id, None, 21).await,
        Err(StoreError::PairingRequestNotFound { .. })
    ));

    // Files on disk are private and reload to the same state.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("paired.json"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let reloaded = DeviceStore::open(dir.path()).await.unwrap();
    assert_eq!(reloaded.list(), store.list());

    let v = reloaded
        .verify_device_token(Some("d1"), &tok.token, 30)
        .unwrap();
    assert_eq!(v.role, "operator");
    assert_eq!(v.scopes, dev.scopes);
    assert_eq!(v.device.tokens["operator"].last_used_at_ms, Some(30));
    assert!(reloaded.verify_device_token(None, &tok.token, 30).is_some());
    assert!(
        reloaded
            .verify_device_token(Some("other"), &tok.token, 30)
            .is_none()
    );
    assert!(
        reloaded
            .verify_device_token(Some("d1"), "wrong", 30)
            .is_none()
    );
    let mut near = tok.token.clone();
    near.pop();
    near.push('A');
    if near != tok.token {
        assert!(
            reloaded
                .verify_device_token(Some("d1"), &near, 30)
                .is_none()
        );
    }
    assert!(reloaded.verify_device_token(Some("d1"), "", 30).is_none());
}

#[tokio::test]
async fn upgrade_merges_roles_and_keeps_other_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let store = DeviceStore::open(dir.path()).await.unwrap();
    let r = store
        .request_pairing(input("d1", "operator", &["operator.read"], "K"), 1)
        .await
        .unwrap();
    let d = store.approve(&r.request.request_id, None, 2).await.unwrap();
    let op_token = d.tokens["operator"].token.clone();
    let r = store
        .request_pairing(input("d1", "node", &[], "K"), 3)
        .await
        .unwrap();
    let d = store.approve(&r.request.request_id, None, 4).await.unwrap();
    assert_eq!(d.roles, vec!["node".to_string(), "operator".to_string()]);
    assert_eq!(d.role, "node");
    assert_eq!(d.tokens["operator"].token, op_token);
    assert_eq!(
        store
            .verify_device_token(Some("d1"), &d.tokens["node"].token, 5)
            .unwrap()
            .role,
        "node"
    );
}

#[tokio::test]
async fn reject_remove_rotate_revoke() {
    let dir = tempfile::tempdir().unwrap();
    let store = DeviceStore::open(dir.path()).await.unwrap();
    let r = store
        .request_pairing(input("d1", "operator", &["operator.read"], "K"), 1)
        .await
        .unwrap();
    let rejected = store.reject(&r.request.request_id).await.unwrap();
    assert_eq!(rejected.device_id, "d1");
    assert!(store.list().pending.is_empty());
    assert!(store.list().paired.is_empty());

    let d = store
        .auto_approve(input("d1", "operator", &["operator.admin"], "K"), 2)
        .await
        .unwrap();
    let old = d.tokens["operator"].token.clone();
    let rotated = store
        .rotate_token("d1", "operator", Some(vec!["operator.read".into()]), 3)
        .await
        .unwrap();
    assert_ne!(rotated.token, old);
    assert_eq!(rotated.rotated_at_ms, Some(3));
    assert!(store.verify_device_token(Some("d1"), &old, 4).is_none());
    assert_eq!(
        store
            .verify_device_token(Some("d1"), &rotated.token, 4)
            .unwrap()
            .scopes,
        vec!["operator.read".to_string()]
    );

    store.revoke_token("d1", "operator", 5).await.unwrap();
    assert!(
        store
            .verify_device_token(Some("d1"), &rotated.token, 6)
            .is_none()
    );
    assert!(matches!(
        store.revoke_token("d1", "node", 6).await,
        Err(StoreError::TokenNotFound { .. })
    ));

    let again = store.rotate_token("d1", "operator", None, 7).await.unwrap();
    assert!(
        store
            .verify_device_token(Some("d1"), &again.token, 8)
            .is_some()
    );
    store.remove("d1").await.unwrap();
    assert!(store.verify_device_token(None, &again.token, 9).is_none());
    assert!(matches!(
        store.remove("d1").await,
        Err(StoreError::DeviceNotFound { .. })
    ));
}

#[tokio::test]
async fn node_requests_expire_after_five_minutes() {
    let dir = tempfile::tempdir().unwrap();
    let store = DeviceStore::open(dir.path()).await.unwrap();
    store
        .request_pairing(input("n1", "node", &[], "K"), 0)
        .await
        .unwrap();
    store
        .request_pairing(input("op", "operator", &[], "K2"), 0)
        .await
        .unwrap();
    assert!(
        store
            .expire_pending(NODE_PENDING_TTL_MS - 1)
            .await
            .unwrap()
            .is_empty()
    );
    // A retry refreshes the clock.
    store
        .request_pairing(input("n1", "node", &[], "K"), 60_000)
        .await
        .unwrap();
    assert!(
        store
            .expire_pending(NODE_PENDING_TTL_MS + 1)
            .await
            .unwrap()
            .is_empty()
    );
    let gone = store
        .expire_pending(60_000 + NODE_PENDING_TTL_MS)
        .await
        .unwrap();
    assert_eq!(gone.len(), 1);
    assert_eq!(gone[0].device_id, "n1");
    assert_eq!(store.list().pending.len(), 1);
}

#[tokio::test]
async fn legacy_files_keep_unknown_fields() {
    let dir = tempfile::tempdir().unwrap();
    let paired = serde_json::json!({"d1": {
        "deviceId": "d1", "publicKey": "K", "role": "operator", "roles": ["operator"],
        "scopes": ["operator.admin"], "createdAtMs": 1, "approvedAtMs": 2, "label": "hand-edited",
        "tokens": {"operator": {"token": "tok", "role": "operator", "scopes": ["operator.admin"], "createdAtMs": 1}}
    }});
    std::fs::write(dir.path().join("paired.json"), paired.to_string()).unwrap();
    let store = DeviceStore::open(dir.path()).await.unwrap();
    assert!(store.verify_device_token(Some("d1"), "tok", 3).is_some());
    store.persist().await.unwrap();
    let back: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("paired.json")).unwrap()).unwrap();
    assert_eq!(back["d1"]["label"], "hand-edited");
    assert_eq!(back["d1"]["tokens"]["operator"]["lastUsedAtMs"], 3);
    assert!(!format!("{:?}", store.get_paired("d1").unwrap()).contains("tok\""));
}
