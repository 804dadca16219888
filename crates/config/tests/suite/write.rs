use std::os::unix::fs::PermissionsExt;

use openclaw_config::write::{backup_path, stage};
use openclaw_config::{load, write_config, write_config_text};
use serde_json::json;

use super::support::{Home, env};

#[test]
fn atomic_write_keeps_backup_of_previous() {
    let home = Home::new();
    let path = home.write_config("{ gateway: { port: 1 } }");
    let hash = write_config(&path, &json!({"gateway": {"port": 2}})).unwrap();
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "{\n  \"gateway\": {\n    \"port\": 2\n  }\n}\n"
    );
    assert_eq!(
        std::fs::read_to_string(backup_path(&path)).unwrap(),
        "{ gateway: { port: 1 } }"
    );
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert_eq!(
        std::fs::metadata(backup_path(&path))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o600
    );
    let loaded = load(&home.paths, &env(&[])).unwrap();
    assert_eq!(loaded.hash, hash);
    assert_eq!(loaded.config.gateway.unwrap().port, Some(2));
    // No temp files left behind.
    let leftovers: Vec<_> = std::fs::read_dir(home.state())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty());
}

#[test]
fn crash_between_write_and_rename_leaves_old_file_readable() {
    let home = Home::new();
    let path = home.write_config("{ gateway: { port: 1 } }");
    // Simulated crash: the temp file is written and fsynced, the rename never happens.
    let staged = stage(&path, "{ \"gateway\": { \"port\": 999 } }\n").unwrap();
    let temp = staged.temp_path().to_path_buf();
    drop(staged);
    assert!(temp.exists());
    assert_eq!(temp.parent(), path.parent());
    let loaded = load(&home.paths, &env(&[])).unwrap();
    assert_eq!(loaded.config.gateway.unwrap().port, Some(1));
    // The next write succeeds despite the stray temp file.
    write_config_text(&path, "{}\n").unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "{}\n");
}

#[test]
fn write_creates_missing_state_dir() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new-state/openclaw.json");
    write_config(&path, &json!({})).unwrap();
    assert!(path.exists());
    assert_eq!(
        std::fs::metadata(path.parent().unwrap())
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o700
    );
}
