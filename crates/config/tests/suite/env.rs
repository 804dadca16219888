use openclaw_config::{ConfigError, load, load_env};

use super::support::{Home, env};

#[test]
fn substitutes_vars_from_process_and_dotenv() {
    let home = Home::new();
    home.write(".env", "export LITELLM_KEY=from-file\nBASE=http://file\n");
    home.write_config(
        "{\n  models: { providers: { p: { baseUrl: '${BASE}/v1', apiKey: '${LITELLM_KEY}', models: [] } } },\n}\n",
    );
    let e = load_env(&home.paths, &env(&[("BASE", "http://proc")])).unwrap();
    let loaded = load(&home.paths, &e).unwrap();
    assert_eq!(
        loaded.value["models"]["providers"]["p"]["baseUrl"],
        "http://proc/v1"
    );
    assert_eq!(
        loaded.value["models"]["providers"]["p"]["apiKey"],
        "from-file"
    );
    // The file's own JSON keeps the reference.
    assert_eq!(
        loaded.parsed["models"]["providers"]["p"]["apiKey"],
        "${LITELLM_KEY}"
    );
}

#[test]
fn missing_var_is_an_error_with_position_and_fix() {
    let home = Home::new();
    home.write_config("{\n  gateway: {\n    auth: { token: \"${GW_TOKEN}\" },\n  },\n}\n");
    let err = load(&home.paths, &env(&[("GW_TOKEN", "")])).unwrap_err();
    let ConfigError::MissingEnvVar { at, key_path, var } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(var, "GW_TOKEN");
    assert_eq!(key_path, "gateway.auth.token");
    assert_eq!((at.line, at.column), (3, 20));
    let msg = err.to_string();
    assert!(
        msg.contains("set GW_TOKEN in the environment or in ~/.openclaw/.env"),
        "{msg}"
    );
    assert_eq!(err.exit_code(), 78);
}

#[test]
fn escaped_var_stays_literal() {
    let home = Home::new();
    home.write_config("{ messages: { responsePrefix: '$${NOT_A_VAR} ${NAME}' } }");
    let loaded = load(&home.paths, &env(&[("NAME", "bot")])).unwrap();
    assert_eq!(
        loaded.value["messages"]["responsePrefix"],
        "${NOT_A_VAR} bot"
    );
}

#[test]
fn config_env_vars_fill_missing_only() {
    let home = Home::new();
    home.write_config(
        "{ env: { vars: { A: 'cfg', B: 'cfg' } }, messages: { responsePrefix: '${A}-${B}' } }",
    );
    let loaded = load(&home.paths, &env(&[("A", "proc")])).unwrap();
    assert_eq!(loaded.value["messages"]["responsePrefix"], "proc-cfg");
}
