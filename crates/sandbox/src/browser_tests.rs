use std::path::{Path, PathBuf};

use bollard::models::HostConfig;
use pretty_assertions::assert_eq;

use super::*;
use crate::spec::WorkspaceAccess;

fn labels() -> CreateLabels {
    CreateLabels {
        scope_key: "agent:main".into(),
        created_at_ms: 1700000000000,
        config_hash: "abc".into(),
    }
}

fn mounts(spec: &SandboxSpec) -> WorkspaceMounts {
    WorkspaceMounts::for_access(
        spec.workspace_access,
        PathBuf::from("/state/sandboxes/agent-main-0d71ad7a"),
        PathBuf::from("/state/workspace"),
    )
}

#[test]
fn default_browser_pins_complete_create_body() {
    let mut spec = SandboxSpec::defaults(Path::new("/state"));
    spec.browser.enabled = true;
    let create = browser_create_spec(&spec).unwrap();
    let body = build_browser_create_body(&create, &mounts(&spec), &labels()).unwrap();
    let binding = || {
        Some(vec![PortBinding {
            host_ip: Some("127.0.0.1".into()),
            host_port: Some(String::new()),
        }])
    };
    let expected_host = HostConfig {
        binds: Some(vec![
            "/state/sandboxes/agent-main-0d71ad7a:/workspace".into(),
        ]),
        network_mode: Some("openclaw-sandbox-browser".into()),
        readonly_rootfs: Some(true),
        tmpfs: Some(HashMap::from([
            ("/tmp".to_string(), String::new()),
            ("/var/tmp".to_string(), String::new()),
            ("/run".to_string(), String::new()),
        ])),
        cap_drop: Some(vec!["ALL".into()]),
        security_opt: Some(vec!["no-new-privileges".into()]),
        init: Some(true),
        port_bindings: Some(HashMap::from([
            ("9222/tcp".to_string(), binding()),
            ("6080/tcp".to_string(), binding()),
        ])),
        ..Default::default()
    };
    let expected = ContainerCreateBody {
        image: Some("openclaw-sandbox-browser:bookworm-slim".into()),
        cmd: None,
        working_dir: Some("/workspace".into()),
        env: Some(vec![
            "LANG=C.UTF-8".into(),
            "OPENCLAW_BROWSER_CDP_PORT=9222".into(),
            "OPENCLAW_BROWSER_ENABLE_NOVNC=1".into(),
            "OPENCLAW_BROWSER_HEADLESS=0".into(),
            "OPENCLAW_BROWSER_NOVNC_PORT=6080".into(),
            "OPENCLAW_BROWSER_NO_SANDBOX=1".into(),
            "OPENCLAW_BROWSER_VNC_PORT=5900".into(),
        ]),
        labels: Some(HashMap::from([
            ("openclaw.sandbox".to_string(), "1".to_string()),
            ("openclaw.sandboxBrowser".to_string(), "1".to_string()),
            ("openclaw.sessionKey".to_string(), "agent:main".to_string()),
            (
                "openclaw.createdAtMs".to_string(),
                "1700000000000".to_string(),
            ),
            ("openclaw.configHash".to_string(), "abc".to_string()),
        ])),
        exposed_ports: Some(vec!["9222/tcp".into(), "6080/tcp".into()]),
        host_config: Some(expected_host),
        ..Default::default()
    };
    assert_eq!(body, expected);
}

#[test]
fn headless_publishes_cdp_only_and_browser_binds_replace_docker_binds() {
    let mut spec = SandboxSpec::defaults(Path::new("/state"));
    spec.workspace_access = WorkspaceAccess::Ro;
    spec.docker.binds = vec!["/state/workspace/data:/data:ro".into()];
    spec.docker.setup_command = Some("apt-get install x".into());
    spec.docker.user = Some("1000:1000".into());
    spec.browser.headless = true;
    spec.browser.cdp_port = 9300;
    spec.browser.cdp_source_range = Some("172.21.0.1/32".into());
    spec.browser.binds = Some(Vec::new());
    let create = browser_create_spec(&spec).unwrap();
    assert_eq!(create.docker.setup_command, None);
    let body = build_browser_create_body(&create, &mounts(&spec), &labels()).unwrap();
    assert_eq!(body.exposed_ports, Some(vec!["9300/tcp".to_string()]));
    assert_eq!(body.user.as_deref(), Some("1000:1000"));
    let env = body.env.unwrap();
    assert!(env.contains(&"OPENCLAW_BROWSER_HEADLESS=1".to_string()));
    assert!(env.contains(&"OPENCLAW_BROWSER_CDP_SOURCE_RANGE=172.21.0.1/32".to_string()));
    let hc = body.host_config.unwrap();
    assert_eq!(
        hc.binds.unwrap(),
        vec![
            "/state/sandboxes/agent-main-0d71ad7a:/workspace".to_string(),
            "/state/workspace:/agent:ro".into()
        ]
    );
    assert_eq!(
        hc.port_bindings.unwrap().keys().collect::<Vec<_>>(),
        vec!["9300/tcp"]
    );
}

#[test]
fn network_none_is_refused_with_the_reason() {
    let mut spec = SandboxSpec::defaults(Path::new("/state"));
    spec.browser.network = "none".into();
    let err = browser_docker(&spec).unwrap_err().to_string();
    assert!(
        err.contains("agents.defaults.sandbox.browser.network") && err.contains("cannot work"),
        "{err}"
    );
    // The sandbox's own `network: none` does not leak into the browser.
    let spec = SandboxSpec::defaults(Path::new("/state"));
    assert_eq!(spec.docker.network, "none");
    assert_eq!(
        browser_docker(&spec).unwrap().network,
        "openclaw-sandbox-browser"
    );
}

#[test]
fn ports_are_read_from_loopback_bindings_only() {
    let p = |c: &str, ip: &str, port: u16| PublishedPort {
        container_port: c.into(),
        host_ip: ip.into(),
        host_port: port,
    };
    let b = BrowserSpec::default();
    let published = vec![
        p("9222/tcp", "0.0.0.0", 1),
        p("9222/tcp", "127.0.0.1", 32768),
        p("6080/tcp", "127.0.0.1", 32769),
    ];
    assert_eq!(pick_ports(&b, &published), Some((32768, Some(32769))));
    let headless = BrowserSpec {
        headless: true,
        ..b.clone()
    };
    assert_eq!(pick_ports(&headless, &published), Some((32768, None)));
    assert_eq!(pick_ports(&b, &[p("9222/tcp", "0.0.0.0", 1)]), None);
}

#[test]
fn version_responses() {
    let ok = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{\"Browser\":\"Chrome/120\",\"webSocketDebuggerUrl\":\"ws://127.0.0.1:32768/devtools/browser/x\"}";
    assert_eq!(
        parse_version_response(ok),
        Some(CdpVersion {
            browser: Some("Chrome/120".into()),
            web_socket_debugger_url: Some("ws://127.0.0.1:32768/devtools/browser/x".into()),
        })
    );
    assert_eq!(
        parse_version_response(b"HTTP/1.0 200 OK\r\n\r\nnot json"),
        Some(CdpVersion {
            browser: None,
            web_socket_debugger_url: None
        })
    );
    assert_eq!(
        parse_version_response(b"HTTP/1.0 404 Not Found\r\n\r\n"),
        None
    );
    assert_eq!(parse_version_response(b"garbage"), None);
}

#[test]
fn a_version_response_ends_at_its_content_length() {
    // Chromium keeps the connection open, so the probe must stop at the body's end.
    assert!(!response_complete(
        b"HTTP/1.1 200 OK\r\nContent-Length:2\r\n"
    ));
    assert!(!response_complete(
        b"HTTP/1.1 200 OK\r\nContent-Length:4\r\n\r\n{}"
    ));
    assert!(response_complete(
        b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}"
    ));
    // Without a length the answer ends at EOF.
    assert!(!response_complete(b"HTTP/1.0 200 OK\r\n\r\n{}"));
}

#[tokio::test]
async fn readiness_gives_up_at_the_deadline() {
    // A bound-then-dropped port refuses connections.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let start = Instant::now();
    assert_eq!(wait_for_cdp(port, Duration::from_millis(400)).await, None);
    let took = start.elapsed();
    assert!(
        took >= Duration::from_millis(250) && took < Duration::from_secs(3),
        "{took:?}"
    );
}

#[tokio::test]
async fn readiness_reads_a_local_cdp_answer() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = tokio::spawn(async move {
        let (mut sock, _) = listener.accept().await.unwrap();
        let mut buf = [0u8; 1024];
        let n = sock.read(&mut buf).await.unwrap();
        let req = String::from_utf8_lossy(&buf[..n]).to_string();
        sock.write_all(b"HTTP/1.1 200 OK\r\n\r\n{\"Browser\":\"Fake/1\"}")
            .await
            .unwrap();
        req
    });
    let v = wait_for_cdp(port, Duration::from_secs(5)).await.unwrap();
    assert_eq!(v.browser.as_deref(), Some("Fake/1"));
    let req = server.await.unwrap();
    // HTTP/1.1: Chromium does not answer HTTP/1.0 requests.
    assert!(req.starts_with("GET /json/version HTTP/1.1\r\n"), "{req}");
    assert!(
        req.contains(&format!("Host: 127.0.0.1:{port}\r\n")),
        "{req}"
    );
}
