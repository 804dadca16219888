use openclaw_config::edit::{check, merge_patch, set, unset};
use openclaw_config::{ConfigError, load, write_config};
use serde_json::json;

use super::support::{Home, env};

#[test]
fn set_validate_write_roundtrip() {
    let home = Home::new();
    home.write_config(
        "{ gateway: { mode: 'local' }, models: { providers: { p: { apiKey: '${KEY}' } } } }",
    );
    let e = env(&[("KEY", "k")]);
    let loaded = load(&home.paths, &e).unwrap();
    let mut doc = loaded.parsed.clone();
    set(&mut doc, "gateway.port", "19000").unwrap();
    set(&mut doc, "gateway.controlUi.allowedOrigins", "['http://a']").unwrap();
    let checked = check(&doc, &home.paths.config_path, &e).unwrap();
    assert_eq!(checked.config.gateway.unwrap().port, Some(19000));
    write_config(&home.paths.config_path, &doc).unwrap();
    let again = load(&home.paths, &e).unwrap();
    // `${KEY}` survives the edit.
    assert_eq!(again.parsed["models"]["providers"]["p"]["apiKey"], "${KEY}");
    assert_eq!(again.value["models"]["providers"]["p"]["apiKey"], "k");
}

#[test]
fn invalid_edit_is_rejected_before_writing() {
    let home = Home::new();
    let mut doc = json!({"gateway": {"mode": "local"}});
    set(&mut doc, "gateway.bind", "everywhere").unwrap();
    let err = check(&doc, &home.paths.config_path, &env(&[])).unwrap_err();
    assert!(
        err.to_string()
            .contains("invalid value \"everywhere\" at gateway.bind"),
        "{err}"
    );
    set(&mut doc, "gateway.prot", "1").unwrap();
    assert!(matches!(
        unset(&mut doc, "gateway.nothing"),
        Err(ConfigError::PathNotFound { .. })
    ));
    unset(&mut doc, "gateway.prot").unwrap();
    unset(&mut doc, "gateway.bind").unwrap();
    check(&doc, &home.paths.config_path, &env(&[])).unwrap();
}

#[test]
fn merge_patch_then_validate() {
    let home = Home::new();
    let mut doc = json!({"gateway": {"mode": "local", "auth": {"mode": "token", "token": "t"}}, "tools": {"deny": ["exec"]}});
    merge_patch(
        &mut doc,
        &json!({"gateway": {"auth": {"token": null}, "port": 1234}, "tools": null}),
    );
    assert_eq!(
        doc,
        json!({"gateway": {"mode": "local", "auth": {"mode": "token"}, "port": 1234}})
    );
    check(&doc, &home.paths.config_path, &env(&[])).unwrap();
}
