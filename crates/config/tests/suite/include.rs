use openclaw_config::{ConfigError, load};
use serde_json::json;

use super::support::{Home, env};

#[test]
fn include_replaces_object_and_siblings_override() {
    let home = Home::new();
    home.write(
        "parts/gateway.json5",
        "{ mode: 'local', port: 1000, auth: { mode: 'token' } }",
    );
    home.write_config("{ gateway: { $include: './parts/gateway.json5', port: 2000 } }");
    let loaded = load(&home.paths, &env(&[])).unwrap();
    assert_eq!(
        loaded.value["gateway"],
        json!({"mode": "local", "port": 2000, "auth": {"mode": "token"}})
    );
}

#[test]
fn include_array_deep_merges_in_order() {
    let home = Home::new();
    home.write(
        "a.json5",
        "{ gateway: { port: 1, controlUi: { allowedOrigins: ['a'] } }, tools: { deny: ['x'] } }",
    );
    home.write(
        "sub/b.json5",
        "{ gateway: { port: 2, bind: 'lan', controlUi: { allowedOrigins: ['b'] } } }",
    );
    home.write_config("{ $include: ['./a.json5', './sub/b.json5'] }");
    let loaded = load(&home.paths, &env(&[])).unwrap();
    assert_eq!(
        loaded.value,
        json!({"gateway": {"port": 2, "controlUi": {"allowedOrigins": ["a", "b"]}, "bind": "lan"}, "tools": {"deny": ["x"]}})
    );
}

#[test]
fn nested_include_is_relative_to_including_file() {
    let home = Home::new();
    home.write(
        "sub/outer.json5",
        "{ $include: './inner.json5', bind: 'lan' }",
    );
    home.write("sub/inner.json5", "{ port: 7 }");
    home.write_config("{ gateway: { $include: 'sub/outer.json5' } }");
    let loaded = load(&home.paths, &env(&[])).unwrap();
    assert_eq!(loaded.value["gateway"], json!({"port": 7, "bind": "lan"}));
}

#[test]
fn include_cycle_is_refused_with_chain() {
    let home = Home::new();
    home.write("a.json5", "{ $include: './b.json5' }");
    home.write("b.json5", "{ $include: './a.json5' }");
    home.write_config("{ gateway: { $include: './a.json5' } }");
    let err = load(&home.paths, &env(&[])).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, ConfigError::Include { .. }), "{err:?}");
    assert!(
        msg.contains("circular include: ~/.openclaw/openclaw.json -> ~/.openclaw/a.json5 -> ~/.openclaw/b.json5 -> ~/.openclaw/a.json5"),
        "{msg}"
    );
    assert!(msg.starts_with("~/.openclaw/b.json5:1:3:"), "{msg}");
}

#[test]
fn include_depth_is_limited() {
    let home = Home::new();
    for i in 0..12 {
        home.write(
            &format!("d{i}.json5"),
            &format!("{{ $include: './d{}.json5' }}", i + 1),
        );
    }
    home.write("d12.json5", "{}");
    home.write_config("{ $include: './d0.json5' }");
    let err = load(&home.paths, &env(&[])).unwrap_err();
    assert!(err.to_string().contains("nested more than 10"), "{err}");
}

#[test]
fn missing_include_names_the_file() {
    let home = Home::new();
    home.write_config("{\n  agents: { $include: './nope.json5' },\n}");
    let err = load(&home.paths, &env(&[])).unwrap_err();
    let msg = err.to_string();
    assert!(msg.starts_with("~/.openclaw/openclaw.json:2:13:"), "{msg}");
    assert!(msg.contains("./nope.json5"), "{msg}");
}

#[test]
fn errors_inside_included_file_point_into_it() {
    let home = Home::new();
    home.write("gw.json5", "{\n  mode: 'local',\n  prot: 1,\n}");
    home.write_config("{ gateway: { $include: './gw.json5' } }");
    let err = load(&home.paths, &env(&[])).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.starts_with("~/.openclaw/gw.json5:3:3: unknown key \"prot\" at gateway"),
        "{msg}"
    );

    home.write("gw.json5", "{\n  mode: 'local'\n  port: 1,\n}");
    let err = load(&home.paths, &env(&[])).unwrap_err();
    assert!(
        err.to_string().starts_with("~/.openclaw/gw.json5:3:3:"),
        "{err}"
    );

    home.write("gw.json5", "{\n  auth: { token: '${NOPE}' },\n}");
    let err = load(&home.paths, &env(&[])).unwrap_err();
    assert!(
        err.to_string().starts_with("~/.openclaw/gw.json5:2:18:"),
        "{err}"
    );
}
