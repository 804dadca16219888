use std::path::PathBuf;

use openclaw_config::schema::{AuthMode, BindMode};
use openclaw_config::{AgentSettings, GatewayOverrides, GatewaySettings, Secret, parse_str};

use super::support::{Home, env};

fn cfg(home: &Home, text: &str) -> openclaw_config::OpenClawConfig {
    parse_str(text, &home.paths.config_path, &env(&[]))
        .unwrap()
        .config
}

#[test]
fn gateway_defaults() {
    let home = Home::new();
    let s = GatewaySettings::resolve(
        &cfg(&home, "{}"),
        &env(&[]),
        &home.paths,
        &GatewayOverrides::default(),
    )
    .unwrap();
    assert_eq!(s.port, 18789);
    assert_eq!(s.bind, BindMode::Loopback);
    assert_eq!(s.auth.mode, AuthMode::Token);
    assert_eq!(s.auth.token, None);
    assert_eq!(s.mode, None);
    assert!(s.control_ui_enabled);
    assert!(!s.chat_completions_enabled);
    assert!(s.auto_approve_local);
    assert_eq!(s.base_path, "");
}

#[test]
fn port_precedence() {
    let home = Home::new();
    let c = cfg(&home, "{ gateway: { port: 1000 } }");
    let none = GatewayOverrides::default();
    let port = |e: &[(&str, &str)], o: &GatewayOverrides| {
        GatewaySettings::resolve(&c, &env(e), &home.paths, o)
            .unwrap()
            .port
    };
    assert_eq!(port(&[], &none), 1000);
    assert_eq!(port(&[("OPENCLAW_GATEWAY_PORT", "2000")], &none), 2000);
    let cli = GatewayOverrides {
        port: Some(3000),
        ..Default::default()
    };
    assert_eq!(port(&[("OPENCLAW_GATEWAY_PORT", "2000")], &cli), 3000);
    assert!(
        GatewaySettings::resolve(
            &c,
            &env(&[("OPENCLAW_GATEWAY_PORT", "x")]),
            &home.paths,
            &none
        )
        .is_err()
    );
}

#[test]
fn bind_and_base_path() {
    let home = Home::new();
    let c = cfg(
        &home,
        "{ gateway: { bind: 'lan', controlUi: { basePath: 'openclaw/' } } }",
    );
    let s =
        GatewaySettings::resolve(&c, &env(&[]), &home.paths, &GatewayOverrides::default()).unwrap();
    assert_eq!(s.bind, BindMode::Lan);
    assert_eq!(s.base_path, "/openclaw");
    let o = GatewayOverrides {
        bind: Some(BindMode::Loopback),
        ..Default::default()
    };
    assert_eq!(
        GatewaySettings::resolve(&c, &env(&[]), &home.paths, &o)
            .unwrap()
            .bind,
        BindMode::Loopback
    );
}

#[test]
fn token_and_mode_precedence() {
    let home = Home::new();
    let none = GatewayOverrides::default();
    let e = env(&[("OPENCLAW_GATEWAY_TOKEN", "from-env")]);

    let c = cfg(
        &home,
        "{ gateway: { auth: { token: 'from-config' }, remote: { token: 'from-remote' } } }",
    );
    let s = GatewaySettings::resolve(&c, &e, &home.paths, &none).unwrap();
    assert_eq!(s.auth.token, Some(Secret::new("from-config")));

    let c = cfg(&home, "{ gateway: { remote: { token: 'from-remote' } } }");
    let s = GatewaySettings::resolve(&c, &e, &home.paths, &none).unwrap();
    assert_eq!(s.auth.token, Some(Secret::new("from-env")));
    let s = GatewaySettings::resolve(&c, &env(&[]), &home.paths, &none).unwrap();
    assert_eq!(s.auth.token, Some(Secret::new("from-remote")));

    let cli = GatewayOverrides {
        token: Some("from-cli".into()),
        ..Default::default()
    };
    let s = GatewaySettings::resolve(&c, &e, &home.paths, &cli).unwrap();
    assert_eq!(s.auth.token, Some(Secret::new("from-cli")));
    assert_eq!(s.auth.mode, AuthMode::Token);

    // Only a password → password mode.
    let c = cfg(&home, "{ gateway: { auth: { password: 'pw' } } }");
    let s = GatewaySettings::resolve(&c, &env(&[]), &home.paths, &none).unwrap();
    assert_eq!(s.auth.mode, AuthMode::Password);
    assert_eq!(s.auth.password, Some(Secret::new("pw")));
    let s = GatewaySettings::resolve(
        &c,
        &env(&[("OPENCLAW_GATEWAY_TOKEN", "t")]),
        &home.paths,
        &none,
    )
    .unwrap();
    assert_eq!(s.auth.mode, AuthMode::Token);
    // Explicit mode wins; CLI mode wins over config.
    let c = cfg(&home, "{ gateway: { auth: { mode: 'none' } } }");
    assert_eq!(
        GatewaySettings::resolve(&c, &e, &home.paths, &none)
            .unwrap()
            .auth
            .mode,
        AuthMode::None
    );
    let cli = GatewayOverrides {
        auth_mode: Some(AuthMode::Password),
        ..Default::default()
    };
    assert_eq!(
        GatewaySettings::resolve(&c, &e, &home.paths, &cli)
            .unwrap()
            .auth
            .mode,
        AuthMode::Password
    );
    // Debug never shows the secret.
    assert!(!format!("{s:?}").contains("\"t\""));
}

#[test]
fn env_secret_ref_resolves_or_fails_closed() {
    let home = Home::new();
    let c = cfg(
        &home,
        "{ gateway: { auth: { mode: 'token', token: { source: 'env', provider: 'default', id: 'MY_TOK' } } } }",
    );
    let none = GatewayOverrides::default();
    let s = GatewaySettings::resolve(&c, &env(&[("MY_TOK", "abc")]), &home.paths, &none).unwrap();
    assert_eq!(s.auth.token, Some(Secret::new("abc")));
    let err = GatewaySettings::resolve(
        &c,
        &env(&[("OPENCLAW_GATEWAY_TOKEN", "x")]),
        &home.paths,
        &none,
    )
    .unwrap_err();
    assert!(err.to_string().contains("MY_TOK"), "{err}");
}

#[test]
fn agent_settings() {
    let home = Home::new();
    let st = home.state().to_path_buf();
    let a = AgentSettings::resolve(&cfg(&home, "{}"), &home.paths);
    assert_eq!(a.default_agent_id, "main");
    assert_eq!(a.agents.len(), 1);
    assert_eq!(a.agents[0].workspace, st.join("workspace"));
    assert_eq!(a.main_session_key("main"), "agent:main:main");

    let c = cfg(
        &home,
        "{ session: { mainKey: 'home' }, agents: { defaults: { workspace: '/ws', model: { primary: 'a/b', fallbacks: ['c/d'] } },
           list: [ { id: 'work', model: 'x/y' }, { id: 'home', default: true, workspace: '~/hw' } ] } }",
    );
    let a = AgentSettings::resolve(&c, &home.paths);
    assert_eq!(a.default_agent_id, "home");
    assert_eq!(a.main_key, "home");
    let work = a.get("work").unwrap();
    assert_eq!(work.workspace, st.join("workspace-work"));
    assert_eq!(work.model.primary.as_deref(), Some("x/y"));
    assert_eq!(work.model.fallbacks, vec!["c/d".to_string()]);
    assert_eq!(work.agent_dir, st.join("agents/work/agent"));
    let h = a.default_agent().unwrap();
    assert_eq!(h.workspace, home.paths.home.join("hw"));
    assert_eq!(h.model.primary.as_deref(), Some("a/b"));
    let _ = PathBuf::new();
}
