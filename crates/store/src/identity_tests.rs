use super::*;
use pretty_assertions::assert_eq;

fn payload(device_id: &str) -> DeviceAuthPayload {
    DeviceAuthPayload {
        device_id: device_id.into(),
        client_id: "cli".into(),
        client_mode: "cli".into(),
        role: "operator".into(),
        scopes: vec!["operator.admin".into(), "operator.read".into()],
        signed_at_ms: 1_795_499_140_000,
        token: Some("tok".into()),
        nonce: "n-1".into(),
        platform: Some("  Linux ".into()),
        device_family: Some("Desktop".into()),
        instance_id: None,
    }
}

#[test]
fn payload_strings_are_exact() {
    let p = payload("dev");
    assert_eq!(
        p.v2(),
        "v2|dev|cli|cli|operator|operator.admin,operator.read|1795499140000|tok|n-1"
    );
    assert_eq!(
        p.v3(),
        "v3|dev|cli|cli|operator|operator.admin,operator.read|1795499140000|tok|n-1|linux|desktop"
    );
    let mut q = p.clone();
    q.token = None;
    q.platform = None;
    q.instance_id = Some("inst".into());
    assert_eq!(
        q.v4(),
        "v4|dev|cli|cli|operator|operator.admin,operator.read|1795499140000||n-1||desktop|inst"
    );
}

#[test]
fn sign_and_verify_v2_v3() {
    let id = DeviceIdentity::generate();
    let other = DeviceIdentity::generate();
    let p = payload(id.device_id());
    let pk = id.public_key_b64url();
    assert_eq!(pk.len(), 43);
    check_device_id(id.device_id(), &pk).unwrap();
    assert_eq!(
        check_device_id(other.device_id(), &pk),
        Err(DeviceAuthError::DeviceIdMismatch)
    );

    let sig3 = id.sign_connect_payload(&p);
    verify(&pk, &p.v3(), &sig3).unwrap();
    assert_eq!(p.verify_any(&pk, &sig3), Ok(PayloadVersion::V3));
    let sig2 = id.sign(&p.v2());
    verify(&pk, &p.v2(), &sig2).unwrap();
    assert_eq!(p.verify_any(&pk, &sig2), Ok(PayloadVersion::V2));
    // PEM public keys are accepted too.
    verify(&id.public_key_pem(), &p.v3(), &sig3).unwrap();

    // Wrong key.
    assert_eq!(
        verify(&other.public_key_b64url(), &p.v3(), &sig3),
        Err(DeviceAuthError::SignatureInvalid)
    );
    // Tampered payload (different nonce) and wrong version.
    let mut t = p.clone();
    t.nonce = "n-2".into();
    assert_eq!(
        verify(&pk, &t.v3(), &sig3),
        Err(DeviceAuthError::SignatureInvalid)
    );
    assert_eq!(
        t.verify_any(&pk, &sig3),
        Err(DeviceAuthError::SignatureInvalid)
    );
    assert_eq!(
        verify(&pk, &p.v2(), &sig3),
        Err(DeviceAuthError::SignatureInvalid)
    );
    // Tampered signature and garbage.
    let mut bad = URL_SAFE_NO_PAD.decode(&sig3).unwrap();
    bad[0] ^= 1;
    assert_eq!(
        verify(&pk, &p.v3(), &URL_SAFE_NO_PAD.encode(bad)),
        Err(DeviceAuthError::SignatureInvalid)
    );
    assert_eq!(
        verify(&pk, &p.v3(), "!!"),
        Err(DeviceAuthError::SignatureInvalid)
    );
    assert_eq!(
        verify("short", &p.v3(), &sig3),
        Err(DeviceAuthError::PublicKeyInvalid)
    );
    assert_eq!(
        DeviceAuthError::SignatureInvalid.code(),
        "DEVICE_AUTH_SIGNATURE_INVALID"
    );
    // Padded / standard-alphabet signatures decode as well.
    let std_sig = STANDARD.encode(URL_SAFE_NO_PAD.decode(&sig3).unwrap());
    verify(&pk, &p.v3(), &std_sig).unwrap();
}

#[test]
fn device_id_is_sha256_hex_of_raw_key() {
    // RFC 8032 test vector 1 public key.
    let raw: [u8; 32] =
        hex::decode("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
            .unwrap()
            .try_into()
            .unwrap();
    let id = device_id_from_public_key(&raw);
    assert_eq!(id, hex::encode(Sha256::digest(raw)));
    assert_eq!(id.len(), 64);
    assert_eq!(
        decode_public_key(&URL_SAFE_NO_PAD.encode(raw)).unwrap(),
        raw
    );
}

#[tokio::test]
async fn identity_file_round_trip_in_node_format() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("identity/device.json");
    let a = DeviceIdentity::load_or_create(&path).await.unwrap();
    let b = DeviceIdentity::load_or_create(&path).await.unwrap();
    assert_eq!(a.device_id(), b.device_id());
    assert_eq!(a.public_key_b64url(), b.public_key_b64url());
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(v["version"], 1);
    assert_eq!(v["deviceId"], a.device_id());
    let private = v["privateKeyPem"].as_str().unwrap();
    assert!(private.starts_with("-----BEGIN PRIVATE KEY-----\n"));
    // Node writes the 48-byte PKCS#8 v1 form (no embedded public key).
    let body: String = private
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    assert_eq!(STANDARD.decode(body).unwrap().len(), 48);
    assert!(
        v["publicKeyPem"]
            .as_str()
            .unwrap()
            .starts_with("-----BEGIN PUBLIC KEY-----\n")
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    // The public PEM decodes to the same raw key.
    assert_eq!(
        decode_public_key(v["publicKeyPem"].as_str().unwrap()).unwrap(),
        decode_public_key(&a.public_key_b64url()).unwrap()
    );
}

#[tokio::test]
async fn device_auth_cache_by_role_and_device() {
    let dir = tempfile::tempdir().unwrap();
    let store = DeviceAuthStore::new(dir.path().join("identity/device-auth.json"));
    assert_eq!(store.get("d1", "operator").await.unwrap(), None);
    store
        .set("d1", "operator", "t1", &["operator.read".into()], 5)
        .await
        .unwrap();
    store.set("d1", "node", "t2", &[], 6).await.unwrap();
    assert_eq!(
        store.get("d1", "operator").await.unwrap().unwrap().token,
        "t1"
    );
    assert_eq!(store.get("d2", "operator").await.unwrap(), None);
    store.clear("d1", "operator").await.unwrap();
    assert_eq!(store.get("d1", "operator").await.unwrap(), None);
    assert_eq!(store.get("d1", "node").await.unwrap().unwrap().token, "t2");
    // A new identity replaces the cache for the old one.
    store.set("d2", "operator", "t3", &[], 7).await.unwrap();
    assert_eq!(store.get("d1", "node").await.unwrap(), None);
    let v: serde_json::Value = serde_json::from_slice(
        &std::fs::read(dir.path().join("identity/device-auth.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(v["version"], 1);
    assert_eq!(v["tokens"]["operator"]["updatedAtMs"], 7);
}
