use chrono::TimeZone;
use pretty_assertions::assert_eq;
use serde_json::json;

use super::*;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 2, 6, 10, 0, 0).unwrap()
}

fn meta(username: &str) -> Map<String, Value> {
    let Value::Object(m) = json!({"username": username, "firstName": "Ada", "lastName": ""}) else {
        unreachable!()
    };
    m
}

fn store() -> (tempfile::TempDir, ChannelPairingStore) {
    let dir = tempfile::tempdir().unwrap();
    let s = ChannelPairingStore::new(dir.path().join("credentials"));
    (dir, s)
}

#[test]
fn codes_use_the_unambiguous_alphabet() {
    let (_d, s) = store();
    for i in 0..3 {
        let u = s
            .upsert("telegram", &format!("{i}"), "default", Map::new(), t0())
            .unwrap();
        assert!(u.created);
        assert_eq!(u.code.len(), PAIRING_CODE_LENGTH);
        assert!(
            u.code.bytes().all(|b| PAIRING_CODE_ALPHABET.contains(&b)),
            "{}",
            u.code
        );
        assert!(!u.code.contains(['0', 'O', '1', 'I']));
    }
}

#[test]
fn file_matches_the_baseline_format() {
    let (_d, s) = store();
    let u = s
        .upsert("telegram", "123", "default", meta("ada"), t0())
        .unwrap();
    let text = std::fs::read_to_string(s.pairing_path("telegram").unwrap()).unwrap();
    assert!(text.ends_with("}\n"), "{text}");
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        v,
        json!({"version": 1, "requests": [{
            "id": "123", "code": u.code,
            "createdAt": "2026-02-06T10:00:00.000Z", "lastSeenAt": "2026-02-06T10:00:00.000Z",
            "meta": {"username": "ada", "firstName": "Ada"},
        }]})
    );
    assert!(
        s.pairing_path("telegram")
            .unwrap()
            .ends_with("credentials/telegram-pairing.json")
    );
}

#[test]
fn a_repeat_sender_keeps_its_code_and_is_not_told_again() {
    let (_d, s) = store();
    let first = s
        .upsert("telegram", "123", "default", Map::new(), t0())
        .unwrap();
    let later = t0() + chrono::Duration::minutes(5);
    let again = s
        .upsert("telegram", "123", "default", Map::new(), later)
        .unwrap();
    assert_eq!(again.code, first.code);
    assert!(!again.created);
    let list = s.list("telegram", None, later).unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].last_seen_at, "2026-02-06T10:05:00.000Z");
}

#[test]
fn at_most_three_pending_requests() {
    let (_d, s) = store();
    for id in ["1", "2", "3"] {
        assert!(
            s.upsert("telegram", id, "default", Map::new(), t0())
                .unwrap()
                .created
        );
    }
    let fourth = s
        .upsert("telegram", "4", "default", Map::new(), t0())
        .unwrap();
    assert_eq!(
        fourth,
        Upserted {
            code: String::new(),
            created: false
        }
    );
    assert_eq!(s.list("telegram", None, t0()).unwrap().len(), 3);
}

#[test]
fn requests_expire_after_an_hour() {
    let (_d, s) = store();
    let u = s
        .upsert("telegram", "1", "default", Map::new(), t0())
        .unwrap();
    let late = t0() + chrono::Duration::minutes(61);
    assert!(s.list("telegram", None, late).unwrap().is_empty());
    assert_eq!(s.approve("telegram", &u.code, None, late).unwrap(), None);
    // An expired request frees its slot; the sender gets a new code.
    let again = s
        .upsert("telegram", "1", "default", Map::new(), late)
        .unwrap();
    assert!(again.created);
}

#[test]
fn approve_moves_the_sender_into_the_allowlist() {
    let (_d, s) = store();
    let u = s
        .upsert("telegram", "123", "default", meta("ada"), t0())
        .unwrap();
    let approved = s
        .approve("telegram", &u.code.to_lowercase(), None, t0())
        .unwrap()
        .unwrap();
    assert_eq!(approved.id, "123");
    assert!(s.list("telegram", None, t0()).unwrap().is_empty());
    assert_eq!(
        s.read_allow_from("telegram", "default").unwrap(),
        vec!["123"]
    );
    let path = s.allow_from_path("telegram", None).unwrap();
    assert!(path.ends_with("credentials/telegram-allowFrom.json"));
    let v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(v, json!({"version": 1, "allowFrom": ["123"]}));
    // The code is spent.
    assert_eq!(s.approve("telegram", &u.code, None, t0()).unwrap(), None);
}

#[test]
fn accounts_keep_separate_allowlists() {
    let (_d, s) = store();
    let u = s.upsert("telegram", "7", "work", Map::new(), t0()).unwrap();
    assert_eq!(s.list("telegram", Some("default"), t0()).unwrap().len(), 0);
    assert_eq!(s.list("telegram", Some("work"), t0()).unwrap().len(), 1);
    s.approve("telegram", &u.code, None, t0()).unwrap().unwrap();
    assert_eq!(s.read_allow_from("telegram", "work").unwrap(), vec!["7"]);
    assert!(s.read_allow_from("telegram", "default").unwrap().is_empty());
    assert!(
        s.allow_from_path("telegram", Some("work"))
            .unwrap()
            .ends_with("telegram-work-allowFrom.json")
    );
}

#[test]
fn default_account_also_reads_the_newer_scoped_file() {
    let (d, s) = store();
    let creds = d.path().join("credentials");
    std::fs::create_dir_all(&creds).unwrap();
    std::fs::write(
        creds.join("telegram-allowFrom.json"),
        r#"{"version":1,"allowFrom":["1", 2]}"#,
    )
    .unwrap();
    std::fs::write(
        creds.join("telegram-default-allowFrom.json"),
        r#"{"version":1,"allowFrom":["2","3","*"]}"#,
    )
    .unwrap();
    assert_eq!(
        s.read_allow_from("telegram", "default").unwrap(),
        vec!["1", "2", "3"]
    );
}

#[test]
fn unreadable_allowlist_is_an_error_and_is_not_overwritten() {
    let (d, s) = store();
    let creds = d.path().join("credentials");
    std::fs::create_dir_all(&creds).unwrap();
    std::fs::write(creds.join("telegram-allowFrom.json"), "{not json").unwrap();
    assert!(matches!(
        s.read_allow_from("telegram", "default"),
        Err(StoreError::Parse { .. })
    ));
    assert!(s.add_allow_from("telegram", "default", "5").is_err());
    assert_eq!(
        std::fs::read_to_string(creds.join("telegram-allowFrom.json")).unwrap(),
        "{not json"
    );
}

#[test]
fn stale_lock_is_taken_over_and_lock_is_released() {
    let (d, s) = store();
    let creds = d.path().join("credentials");
    std::fs::create_dir_all(&creds).unwrap();
    let lock = creds.join("telegram-pairing.json.lock");
    let f = std::fs::File::create(&lock).unwrap();
    f.set_modified(SystemTime::now() - Duration::from_secs(120))
        .unwrap();
    drop(f);
    s.upsert("telegram", "1", "default", Map::new(), t0())
        .unwrap();
    assert!(!lock.exists());
}

#[test]
fn channel_names_cannot_escape_the_directory() {
    let (_d, s) = store();
    assert!(
        s.pairing_path("../x")
            .unwrap()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("_")
    );
    assert!(matches!(
        s.pairing_path("/"),
        Err(StoreError::InvalidName { .. })
    ));
}
