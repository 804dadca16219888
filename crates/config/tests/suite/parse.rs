use openclaw_config::{ConfigError, load, parse_str};

use super::support::{Home, env};

#[test]
fn missing_file_gives_defaults_and_empty_hash() {
    let home = Home::new();
    let loaded = load(&home.paths, &env(&[])).unwrap();
    assert!(loaded.raw_text.is_none());
    assert_eq!(loaded.value, serde_json::json!({}));
    assert_eq!(
        loaded.hash,
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
}

#[test]
fn bad_json5_names_file_line_and_column() {
    let home = Home::new();
    home.write_config("{\n  gateway: {\n    port: 18789\n    bind: 'lan',\n  },\n}\n");
    let err = load(&home.paths, &env(&[])).unwrap_err();
    let ConfigError::Syntax { at, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!((at.line, at.column), (4, 5));
    assert_eq!(at.file, "~/.openclaw/openclaw.json");
    assert!(
        err.to_string()
            .starts_with("~/.openclaw/openclaw.json:4:5: "),
        "{err}"
    );
    assert_eq!(err.exit_code(), 78);
}

#[test]
fn json5_config_with_comments_loads() {
    let home = Home::new();
    home.write_config(
        "// my config\n{\n  gateway: { mode: 'local', port: 0x4965, /* hex */ bind: \"lan\", },\n  $schema: './schema.json',\n}\n",
    );
    let loaded = load(&home.paths, &env(&[])).unwrap();
    let gw = loaded.config.gateway.unwrap();
    assert_eq!(gw.port, Some(18789));
    assert_eq!(loaded.config.schema.as_deref(), Some("./schema.json"));
}

#[test]
fn parse_str_validates_without_writing() {
    let home = Home::new();
    let origin = home.paths.config_path.clone();
    let ok = parse_str("{ gateway: { mode: 'local' } }", &origin, &env(&[])).unwrap();
    assert_eq!(ok.hash.len(), 64);
    assert!(!origin.exists());
    assert!(parse_str("{ gateway: { mode: 'nope' } }", &origin, &env(&[])).is_err());
}

#[test]
fn non_object_root_is_invalid() {
    let home = Home::new();
    let err = parse_str("[1, 2]", &home.paths.config_path, &env(&[])).unwrap_err();
    assert!(err.to_string().contains("must be an object"), "{err}");
}
