//! Bad config on disk: exit 78 with file:line:column and the fix.

use super::harness::*;

#[test]
fn bad_json5_exits_78_with_line_and_column() {
    let h = Home::new();
    std::fs::create_dir_all(h.state()).unwrap();
    std::fs::write(
        h.config_path(),
        "{\n  gateway: {\n    mode: 'local',\n    port: 18789 18790,\n  },\n}\n",
    )
    .unwrap();
    let out = h.run(&["gateway", "--port", &free_port().to_string()]);
    assert_eq!(out.status.code(), Some(78));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("openclaw.json:4:"), "{err}");
}

#[test]
fn unknown_key_exits_78_naming_key_and_fix() {
    let h = Home::new();
    std::fs::create_dir_all(h.state()).unwrap();
    std::fs::write(
        h.config_path(),
        "{\n  gateway: { mode: 'local' },\n  agents: { defaults: { sandox: {} } },\n}\n",
    )
    .unwrap();
    let out = h.run(&["gateway", "--port", &free_port().to_string()]);
    assert_eq!(out.status.code(), Some(78));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(":3:") && err.contains("sandox") && err.contains("sandbox"),
        "{err}"
    );
}

#[test]
fn missing_env_var_exits_78() {
    let h = Home::new();
    std::fs::create_dir_all(h.state()).unwrap();
    std::fs::write(
        h.config_path(),
        "{ gateway: { mode: 'local', auth: { token: '${MY_MISSING_TOKEN}' } } }",
    )
    .unwrap();
    let out = h.run(&["gateway", "--port", &free_port().to_string()]);
    assert_eq!(out.status.code(), Some(78));
    assert!(String::from_utf8_lossy(&out.stderr).contains("MY_MISSING_TOKEN"));
}
