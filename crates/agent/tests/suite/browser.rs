//! The `browser` tool against real headless Chromium and pages served on 127.0.0.1.
//!
//! Each test launches its own browser through the tool (as the gateway would) and stops it at
//! the end. Without Chromium the tests print `SKIP: <reason>`; with `OPENCLAW_REQUIRE_BROWSER=1`
//! (CI) they fail instead. The refusal tests need no browser; the sandboxed ones are in
//! `browser_sandbox.rs`.

use std::sync::Arc;

use axum::extract::RawQuery;
use axum::response::Html;
use axum::routing::get;
use base64::Engine;
use openclaw_agent::tools::browser::launch::find_executable;
use openclaw_agent::tools::browser::{BrowserAccess, BrowserService, BrowserSettings};
use openclaw_agent::tools::{ToolContext, ToolOutput};
use openclaw_protocol::ContentBlock;
use serde_json::{Value, json};

use super::{call, ctx, process_dead};

const HOME: &str = r#"<!doctype html><html><head><title>Test Home</title></head><body>
<h1>Hello from the test page</h1>
<p>Some paragraph text for the snapshot.</p>
<button id="press" onclick="document.getElementById('out').textContent = 'Button was clicked'; console.log('clicked-log')">Press me</button>
<p id="out">Not clicked yet</p>
<label for="name">Your name</label> <input id="name" type="text">
<button onclick="document.getElementById('hello').textContent = 'Hello, ' + document.getElementById('name').value">Greet</button>
<p id="hello"></p>
<label for="color">Color</label>
<select id="color" onchange="document.getElementById('picked').textContent = 'Picked ' + this.value">
  <option value="r">Red</option><option value="g">Green</option>
</select>
<p id="picked"></p>
<button onclick="alert('hi there'); document.getElementById('alerted').textContent = 'After alert'">Alert me</button>
<p id="alerted"></p>
<a href="/second">Second page</a>
<script>console.warn('page-warning'); console.error('page-error');</script>
</body></html>"#;

const SECOND: &str = r#"<!doctype html><html><head><title>Second</title></head><body>
<h1>The second page</h1></body></html>"#;

async fn form(RawQuery(q): RawQuery) -> Html<String> {
    let searched = q
        .as_deref()
        .and_then(|q| q.strip_prefix("q="))
        .map(|v| format!("<p>You searched: {v}</p>"))
        .unwrap_or_default();
    Html(format!(
        r#"<!doctype html><html><head><title>Search</title></head><body>
<form action="/form"><label for="q">Query</label> <input id="q" name="q"></form>{searched}</body></html>"#
    ))
}

/// True when Chromium is installed; otherwise prints `SKIP` (or fails under
/// `OPENCLAW_REQUIRE_BROWSER=1`).
fn browser_gate(test: &str) -> bool {
    match find_executable(None, std::env::var_os("PATH").as_deref()) {
        Ok(_) => true,
        Err(e) => {
            if std::env::var("OPENCLAW_REQUIRE_BROWSER").as_deref() == Ok("1") {
                panic!("{test}: OPENCLAW_REQUIRE_BROWSER=1 but {e}");
            }
            println!("SKIP: {test}: {e}");
            false
        }
    }
}

/// A page server, a tool context whose host browser is headless Chromium, and its service.
struct Rig {
    ctx: ToolContext,
    service: Arc<BrowserService>,
    base: String,
    server: tokio::task::JoinHandle<()>,
    _ws: tempfile::TempDir,
}

impl Rig {
    async fn start(test: &str) -> Option<Rig> {
        if !browser_gate(test) {
            return None;
        }
        let app = axum::Router::new()
            .route("/", get(|| async { Html(HOME) }))
            .route("/second", get(|| async { Html(SECOND) }))
            .route("/form", get(form));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        let ws = tempfile::tempdir().unwrap();
        let service = Arc::new(BrowserService::new());
        let mut ctx = ctx(ws.path(), false);
        ctx.browser = Some(host_access(
            service.clone(),
            BrowserSettings {
                headless: true,
                ..BrowserSettings::default()
            },
        ));
        Some(Rig {
            ctx,
            service,
            base,
            server,
            _ws: ws,
        })
    }

    async fn browser(&self, args: Value) -> ToolOutput {
        call(&self.ctx, "browser", args).await
    }

    /// The call must succeed; its `details`.
    async fn ok(&self, args: Value) -> Value {
        let out = self.browser(args.clone()).await;
        assert!(!out.is_error, "{args} failed: {}", out.text_content());
        out.details.unwrap_or(Value::Null)
    }

    async fn snapshot(&self, target: &str) -> String {
        let out = self
            .browser(json!({"action": "snapshot", "targetId": target}))
            .await;
        assert!(!out.is_error, "snapshot failed: {}", out.text_content());
        out.text_content()
    }

    async fn finish(self) {
        self.service.shutdown().await;
        self.server.abort();
    }
}

pub fn host_access(service: Arc<BrowserService>, settings: BrowserSettings) -> BrowserAccess {
    BrowserAccess {
        service,
        host: Ok(Arc::new(settings)),
        sandbox: None,
    }
}

/// The `ref=eN` on the snapshot line that contains `needle`.
fn ref_of(snapshot: &str, needle: &str) -> String {
    let line = snapshot
        .lines()
        .find(|l| l.contains(needle) && l.contains("ref=e"))
        .unwrap_or_else(|| panic!("no ref for {needle:?} in:\n{snapshot}"));
    let at = line.find("ref=").unwrap() + 4;
    line[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric())
        .collect()
}

fn target_of(details: &Value) -> String {
    details["targetId"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn open_then_snapshot_shows_text_and_refs() {
    let Some(rig) = Rig::start("open_then_snapshot_shows_text_and_refs").await else {
        return;
    };
    let opened = rig
        .ok(json!({"action": "open", "targetUrl": format!("{}/", rig.base)}))
        .await;
    assert_eq!(opened["title"], "Test Home");
    assert_eq!(opened["loaded"], true);
    let snap = rig.snapshot(&target_of(&opened)).await;
    assert!(snap.contains("Page: Test Home"), "{snap}");
    assert!(
        snap.contains("heading \"Hello from the test page\" [level=1]"),
        "{snap}"
    );
    assert!(
        snap.contains("text: Some paragraph text for the snapshot."),
        "{snap}"
    );
    assert!(snap.contains("button \"Press me\" [ref=e1]"), "{snap}");
    assert!(snap.contains("textbox \"Your name\" [ref="), "{snap}");
    assert!(snap.contains("combobox \"Color\" [ref="), "{snap}");
    assert!(
        snap.contains("link \"Second page\" [ref=") && snap.contains("-> /second"),
        "{snap}"
    );
    // Scripts and their text are not part of the outline.
    assert!(!snap.contains("console.warn"), "{snap}");
    rig.finish().await;
}

#[tokio::test]
async fn click_by_ref_changes_the_page_and_console_records_it() {
    let Some(rig) = Rig::start("click_by_ref_changes_the_page_and_console_records_it").await else {
        return;
    };
    let opened = rig
        .ok(json!({"action": "open", "targetUrl": format!("{}/", rig.base)}))
        .await;
    let target = target_of(&opened);
    let snap = rig.snapshot(&target).await;
    assert!(snap.contains("Not clicked yet"), "{snap}");
    let press = ref_of(&snap, "\"Press me\"");
    let done = rig
        .ok(json!({"action": "act", "targetId": target, "request": {"kind": "click", "ref": press}}))
        .await;
    assert_eq!(done["ok"], true);
    assert_eq!(done["navigated"], false);
    let snap = rig.snapshot(&target).await;
    assert!(snap.contains("Button was clicked"), "{snap}");
    assert!(!snap.contains("Not clicked yet"), "{snap}");

    // A dialog would block the page; it is dismissed and noted in the console.
    let alert = ref_of(&snap, "\"Alert me\"");
    rig.ok(json!({"action": "act", "request": {"kind": "click", "ref": alert}}))
        .await;
    let snap = rig.snapshot(&target).await;
    assert!(snap.contains("After alert"), "{snap}");

    let all = rig
        .ok(json!({"action": "console", "targetId": target}))
        .await;
    let texts: Vec<&str> = all["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["text"].as_str())
        .collect();
    for want in [
        "page-warning",
        "page-error",
        "clicked-log",
        "alert dialog dismissed: hi there",
    ] {
        assert!(texts.contains(&want), "{want} missing from {texts:?}");
    }
    let errors = rig
        .ok(json!({"action": "console", "targetId": target, "level": "error"}))
        .await;
    assert_eq!(
        errors["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["text"].as_str().unwrap())
            .collect::<Vec<_>>(),
        vec!["page-error"]
    );

    // A ref from before a navigation is refused rather than clicking whatever is there now.
    let link = ref_of(&snap, "\"Second page\"");
    let nav = rig
        .ok(json!({"action": "act", "request": {"kind": "click", "ref": link}}))
        .await;
    assert_eq!(nav["navigated"], true);
    assert_eq!(nav["title"], "Second");
    let stale = rig
        .browser(json!({"action": "act", "request": {"kind": "click", "ref": press}}))
        .await;
    assert!(stale.is_error);
    assert!(
        stale.text_content().contains("take a new snapshot"),
        "{}",
        stale.text_content()
    );
    rig.finish().await;
}

#[tokio::test]
async fn type_select_and_submit_by_ref() {
    let Some(rig) = Rig::start("type_select_and_submit_by_ref").await else {
        return;
    };
    let opened = rig
        .ok(json!({"action": "open", "targetUrl": format!("{}/", rig.base)}))
        .await;
    let target = target_of(&opened);
    let snap = rig.snapshot(&target).await;
    let name = ref_of(&snap, "textbox \"Your name\"");
    rig.ok(json!({"action": "act", "request": {"kind": "type", "ref": name, "text": "Ada"}}))
        .await;
    // Typing again replaces the text.
    rig.ok(
        json!({"action": "act", "request": {"kind": "type", "ref": name, "text": "Ada Lovelace"}}),
    )
    .await;
    let greet = ref_of(&snap, "button \"Greet\"");
    rig.ok(json!({"action": "act", "request": {"kind": "click", "ref": greet}}))
        .await;
    let color = ref_of(&snap, "combobox \"Color\"");
    rig.ok(
        json!({"action": "act", "request": {"kind": "select", "ref": color, "values": ["Green"]}}),
    )
    .await;
    let snap = rig.snapshot(&target).await;
    assert!(snap.contains("text: Hello, Ada Lovelace"), "{snap}");
    assert!(
        snap.contains("textbox \"Your name\"") && snap.contains(": \"Ada Lovelace\""),
        "{snap}"
    );
    assert!(snap.contains("Picked g"), "{snap}");
    let wrong = rig
        .browser(json!({"action": "act", "request": {"kind": "type", "ref": greet, "text": "x"}}))
        .await;
    assert!(wrong.is_error && wrong.text_content().contains("does not take text"));

    // Enter in a form field submits it: the act waits for the new page.
    rig.ok(json!({"action": "navigate", "targetUrl": format!("{}/form", rig.base)}))
        .await;
    let snap = rig.snapshot(&target).await;
    let q = ref_of(&snap, "textbox \"Query\"");
    let done = rig
        .ok(json!({"action": "act", "request": {"kind": "type", "ref": q, "text": "rust", "submit": true}}))
        .await;
    assert_eq!(done["navigated"], true);
    let snap = rig.snapshot(&target).await;
    assert!(snap.contains("You searched: rust"), "{snap}");
    rig.finish().await;
}

fn image_of(out: &ToolOutput) -> (String, Vec<u8>) {
    let (data, mime) = out
        .content
        .iter()
        .find_map(|b| match b {
            ContentBlock::Image { data, mime_type } => Some((data.clone(), mime_type.clone())),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no image block: {}", out.text_content()));
    (
        mime,
        base64::engine::general_purpose::STANDARD
            .decode(data)
            .unwrap(),
    )
}

#[tokio::test]
async fn screenshot_returns_a_png_image_block() {
    let Some(rig) = Rig::start("screenshot_returns_a_png_image_block").await else {
        return;
    };
    let opened = rig
        .ok(json!({"action": "open", "targetUrl": format!("{}/", rig.base)}))
        .await;
    let target = target_of(&opened);
    for args in [
        json!({"action": "screenshot", "targetId": target}),
        json!({"action": "screenshot", "fullPage": true}),
    ] {
        let out = rig.browser(args).await;
        assert!(!out.is_error, "{}", out.text_content());
        let (mime, png) = image_of(&out);
        assert_eq!(mime, "image/png");
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
        assert_eq!(out.details.as_ref().unwrap()["bytes"], png.len());
    }
    let snap = rig.snapshot(&target).await;
    let press = ref_of(&snap, "\"Press me\"");
    let out = rig
        .browser(json!({"action": "screenshot", "ref": press, "type": "jpeg"}))
        .await;
    let (mime, jpeg) = image_of(&out);
    assert_eq!(mime, "image/jpeg");
    assert!(jpeg.starts_with(&[0xFF, 0xD8, 0xFF]));
    rig.finish().await;
}

#[tokio::test]
async fn tabs_focus_close_and_refused_navigation() {
    let Some(rig) = Rig::start("tabs_focus_close_and_refused_navigation").await else {
        return;
    };
    let first = target_of(
        &rig.ok(json!({"action": "open", "targetUrl": format!("{}/", rig.base)}))
            .await,
    );
    let second = target_of(
        &rig.ok(json!({"action": "open", "targetUrl": format!("{}/second", rig.base)}))
            .await,
    );
    let tabs = rig.ok(json!({"action": "tabs"})).await;
    assert_eq!(tabs["currentTab"], second.as_str());
    let ids: Vec<&str> = tabs["tabs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["targetId"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&first.as_str()) && ids.contains(&second.as_str()),
        "{tabs}"
    );

    // Only web URLs: a file: navigation is refused and the tab stays where it was.
    let refused = rig
        .browser(
            json!({"action": "navigate", "targetId": second, "targetUrl": "file:///etc/passwd"}),
        )
        .await;
    assert!(refused.is_error);
    assert!(
        refused
            .text_content()
            .contains("only navigates to http:// and https://")
    );
    let snap = rig.snapshot(&second).await;
    assert!(
        snap.contains("The second page") && !snap.contains("root:"),
        "{snap}"
    );

    // A unique prefix of a targetId is enough.
    let focused = rig
        .ok(json!({"action": "focus", "targetId": &first[..8]}))
        .await;
    assert_eq!(focused["targetId"], first.as_str());
    rig.ok(json!({"action": "close", "targetId": first})).await;
    let tabs = rig.ok(json!({"action": "tabs"})).await;
    let ids: Vec<&str> = tabs["tabs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["targetId"].as_str().unwrap())
        .collect();
    assert!(
        !ids.contains(&first.as_str()) && ids.contains(&second.as_str()),
        "{tabs}"
    );
    let gone = rig
        .browser(json!({"action": "focus", "targetId": first}))
        .await;
    assert!(gone.is_error && gone.text_content().contains("action=tabs"));
    rig.finish().await;
}

/// LISTEN sockets on `port` in `/proc/net/tcp{,6}`: their hex local addresses.
fn listeners(port: u16) -> Vec<String> {
    let mut found = Vec::new();
    for file in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(file) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let cols: Vec<&str> = line.split_whitespace().collect();
            let (Some(local), Some(state)) = (cols.get(1), cols.get(3)) else {
                continue;
            };
            let Some((addr, p)) = local.split_once(':') else {
                continue;
            };
            if *state == "0A" && u16::from_str_radix(p, 16).ok() == Some(port) {
                found.push(addr.to_string());
            }
        }
    }
    found
}

#[tokio::test]
async fn host_browser_listens_on_loopback_only_and_stop_kills_it() {
    let Some(rig) = Rig::start("host_browser_listens_on_loopback_only_and_stop_kills_it").await
    else {
        return;
    };
    let before = rig.ok(json!({"action": "status"})).await;
    assert_eq!(before["running"], false);
    let started = rig.ok(json!({"action": "start"})).await;
    assert_eq!(started["running"], true);
    assert_eq!(started["launched"], true);
    assert_eq!(started["headless"], true);
    let pid = started["pid"].as_u64().unwrap() as u32;
    let cdp = started["cdpUrl"].as_str().unwrap().to_string();
    let port: u16 = cdp
        .strip_prefix("ws://127.0.0.1:")
        .and_then(|r| r.split('/').next())
        .unwrap()
        .parse()
        .unwrap();
    // The sandbox browser's readiness probe must understand a real Chromium's answer.
    let probed = openclaw_agent::sandbox_backend::sandbox::browser::probe_cdp(port)
        .await
        .expect("the readiness probe reads Chromium's /json/version");
    assert!(
        probed
            .web_socket_debugger_url
            .is_some_and(|u| u.starts_with(&format!("ws://127.0.0.1:{port}/devtools/browser/"))),
    );
    let addrs = listeners(port);
    assert!(!addrs.is_empty(), "nothing listens on {port}");
    for a in &addrs {
        assert!(
            a == "0100007F" || a == "00000000000000000000000001000000",
            "DevTools listens on {a} (hex), not loopback"
        );
    }
    let stopped = rig.ok(json!({"action": "stop"})).await;
    assert_eq!(stopped["running"], false);
    assert!(process_dead(pid), "browser {pid} still running after stop");
    assert!(listeners(port).is_empty());
    rig.finish().await;
}

#[tokio::test]
async fn disabled_browser_is_refused_naming_the_key() {
    let ws = tempfile::tempdir().unwrap();
    let mut c = ctx(ws.path(), false);
    c.browser = Some(host_access(
        Arc::new(BrowserService::new()),
        BrowserSettings {
            enabled: false,
            ..BrowserSettings::default()
        },
    ));
    for args in [
        json!({"action": "open", "targetUrl": "https://example.com"}),
        json!({"action": "status"}),
    ] {
        let out = call(&c, "browser", args).await;
        assert!(out.is_error);
        assert_eq!(
            out.text_content(),
            "Browser control is disabled: set browser.enabled to true in the config (~/.openclaw/openclaw.json)"
        );
    }
    // A refused URL is refused before anything would start.
    c.browser = Some(host_access(
        Arc::new(BrowserService::new()),
        BrowserSettings::default(),
    ));
    let out = call(
        &c,
        "browser",
        json!({"action": "open", "targetUrl": "file:///etc/passwd"}),
    )
    .await;
    assert!(out.is_error && out.text_content().contains("refusing to open a file: URL"));
    let out = call(&c, "browser", json!({"action": "pdf"})).await;
    assert!(out.is_error && out.text_content().contains("not supported by this build"));
    c.browser = None;
    let out = call(&c, "browser", json!({"action": "status"})).await;
    assert!(out.is_error && out.text_content().contains("no browser is available"));
}

async fn turn(rig: &super::runtime::Rig, text: &str, id: &str) -> String {
    rig.rt
        .submit(openclaw_agent::RunRequest {
            message: text.into(),
            run_id: Some(id.into()),
            ..openclaw_agent::RunRequest::default()
        })
        .await
        .unwrap();
    let o = rig
        .rt
        .wait(id, std::time::Duration::from_secs(60))
        .await
        .expect("run finished");
    assert_eq!(o.status, openclaw_agent::RunStatus::Ok, "{o:?}");
    o.text()
}

#[tokio::test]
async fn runtime_turns_reach_the_browser_config() {
    use openclaw_test_support::Script;
    let rig = super::runtime::rig_with(
        Script::echo(),
        "browser: { enabled: false },",
        std::time::Duration::from_secs(60),
    )
    .await;
    let text = turn(&rig, r#"TOOL browser {"action":"status"}"#, "b1").await;
    assert!(text.contains("set browser.enabled to true"), "{text}");
}

#[tokio::test]
async fn runtime_turn_opens_a_page_and_shutdown_stops_the_browser() {
    use openclaw_test_support::Script;
    let Some(pages) = Rig::start("runtime_turn_opens_a_page_and_shutdown_stops_the_browser").await
    else {
        return;
    };
    let rig = super::runtime::rig_with(
        Script::echo(),
        "browser: { headless: true },",
        std::time::Duration::from_secs(60),
    )
    .await;
    let open = format!(
        r#"TOOL browser {{"action":"open","targetUrl":"{}/second"}}"#,
        pages.base
    );
    let text = turn(&rig, &open, "b1").await;
    assert!(text.contains("\"title\": \"Second\""), "{text}");
    let text = turn(&rig, r#"TOOL browser {"action":"status"}"#, "b2").await;
    let status: Value = serde_json::from_str(text.trim_start_matches("tool said: ")).unwrap();
    let pid = status["pid"].as_u64().unwrap() as u32;
    rig.rt.shutdown_browsers().await;
    assert!(process_dead(pid), "browser {pid} outlived shutdown");
    pages.finish().await;
}

#[tokio::test]
async fn cdp_url_attaches_to_a_running_browser_and_stop_only_disconnects() {
    let Some(rig) =
        Rig::start("cdp_url_attaches_to_a_running_browser_and_stop_only_disconnects").await
    else {
        return;
    };
    let started = rig.ok(json!({"action": "start"})).await;
    let pid = started["pid"].as_u64().unwrap() as u32;
    let ws = started["cdpUrl"].as_str().unwrap();
    let http = format!(
        "http://{}",
        ws.strip_prefix("ws://").unwrap().split('/').next().unwrap()
    );
    let ws_dir = tempfile::tempdir().unwrap();
    let mut attached = ctx(ws_dir.path(), false);
    let settings =
        BrowserSettings::from_config(Some(&json!({"cdpUrl": http, "headless": true}))).unwrap();
    attached.browser = Some(host_access(Arc::new(BrowserService::new()), settings));
    let opened = call(
        &attached,
        "browser",
        json!({"action": "open", "targetUrl": format!("{}/second", rig.base)}),
    )
    .await;
    assert!(!opened.is_error, "{}", opened.text_content());
    let status = call(&attached, "browser", json!({"action": "status"})).await;
    let status = status.details.unwrap();
    assert_eq!(status["launched"], false);
    assert_eq!(status["cdpUrl"], format!("{http}/"));
    // The tab is in the launched browser too: it is the same browser.
    let tabs = rig.ok(json!({"action": "tabs"})).await;
    assert!(tabs.to_string().contains("/second"), "{tabs}");
    let stopped = call(&attached, "browser", json!({"action": "stop"})).await;
    assert_eq!(stopped.details.unwrap()["running"], false);
    assert!(
        !process_dead(pid),
        "stopping an attached browser must not kill it"
    );
    rig.finish().await;
    assert!(process_dead(pid));
}
