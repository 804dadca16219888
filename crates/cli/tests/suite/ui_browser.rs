//! The Control UI end to end: the real `openclaw gateway` serves the embedded UI and real
//! headless Chromium drives it over WebDriver, the way a person would use it (open the link,
//! paste the token, click the tabs, edit the config, chat).
//!
//! Each test has its own home, gateway port and chromedriver, so they run in parallel with the
//! rest of the suite. Screenshots land in `target/ui-artifacts/<test>/`.

use std::time::Duration;

use serde_json::{Value, json};

use super::harness::*;
use super::webdriver::{Browser, keys};

const TOKEN: &str = "ui-browser-test-token-0123456789";
const WAIT: Duration = Duration::from_secs(10);
/// What `config.get` shows instead of a secret.
const REDACTED: &str = "__OPENCLAW_REDACTED__";

/// An onboarded home, its running gateway and a browser.
struct Rig {
    browser: Browser,
    // Dropped after the browser (fields drop in declaration order).
    _gateway: Gateway,
    home: Home,
    port: u16,
}

impl Rig {
    /// Onboards a home, lets `configure` change it with the CLI, starts the gateway and a
    /// browser. `None` when no browser is installed (already reported as SKIP).
    fn start(test: &str, configure: impl FnOnce(&Home)) -> Option<Rig> {
        let browser = Browser::start(test)?;
        let home = Home::new();
        let port = free_port();
        home.onboard(port, TOKEN);
        configure(&home);
        let gateway = home.gateway(port);
        Some(Rig {
            browser,
            _gateway: gateway,
            home,
            port,
        })
    }

    fn url(&self, rest: &str) -> String {
        format!("http://127.0.0.1:{}/{rest}", self.port)
    }

    /// Opens the dashboard link with the token in the fragment and waits for the connection.
    fn open_connected(&self, rest: &str) {
        self.browser
            .goto(&self.url(&format!("{rest}#token={TOKEN}")));
        self.wait_connected();
    }

    fn wait_connected(&self) {
        self.browser.wait_js(
            "the health pill to say OK (connected)",
            WAIT,
            "document.querySelector('#health-pill strong')?.textContent === 'OK' \
             && document.querySelector('#gate').childElementCount === 0",
        );
    }

    /// Clicks a sidebar link and waits for the tab's title.
    fn open_tab(&self, route: &str, title: &str) {
        let link = self
            .browser
            .wait_for(&format!("#sidebar a[data-route='{route}']"), WAIT);
        self.browser.click(&link);
        self.browser.wait_js(
            &format!("the {title} tab"),
            WAIT,
            &format!(
                "document.querySelector('#page-title').textContent === {t} \
                 && document.querySelector('#view.view-{route}') !== null",
                t = json!(title)
            ),
        );
    }

    fn assert_no_severe(&self, when: &str) {
        let severe = self.browser.severe();
        assert!(
            severe.is_empty(),
            "console errors {when}:\n{}",
            severe
                .iter()
                .map(|e| format!("  {}", e.message))
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}

#[test]
fn token_link_and_overview_card_both_connect() {
    let Some(rig) = Rig::start("token_link_and_overview_card_both_connect", |_| {}) else {
        return;
    };
    let b = &rig.browser;

    // 1. Without a token: the gate explains what is missing and points at Gateway access.
    b.goto(&rig.url("overview"));
    b.wait_js(
        "the token-missing notice",
        WAIT,
        "document.querySelector('#gate .callout-error')?.innerText.includes('The gateway needs a token')",
    );
    b.screenshot("no-token");

    // 2. The Overview card: paste the token, press Connect.
    let token_field = b.wait_for(".access-form input[placeholder='gateway token']", WAIT);
    b.send_keys(&token_field, TOKEN);
    b.click(&b.wait_for(".access-form button[type='submit']", WAIT));
    rig.wait_connected();
    b.wait_js(
        "the Gateway card to say Connected",
        WAIT,
        "[...document.querySelectorAll('.stat-value')].some((e) => e.textContent === 'Connected')",
    );
    assert_eq!(
        b.js_string("document.querySelector('#conn-pill').hidden"),
        "true"
    );
    assert_eq!(
        b.js_string("JSON.parse(localStorage.getItem('openclaw.control.settings.v1')).token"),
        TOKEN
    );
    b.screenshot("overview-connected");

    // 3. A fresh browser state and the dashboard link: the token is saved and leaves the URL.
    b.exec("localStorage.clear(); sessionStorage.clear();", vec![]);
    b.goto("about:blank");
    rig.open_connected("");
    let url = b.current_url();
    assert!(
        !url.contains("token"),
        "token left in the address bar: {url}"
    );
    assert!(url.starts_with(&rig.url("chat")), "{url}");
    assert_eq!(
        b.js_string("JSON.parse(localStorage.getItem('openclaw.control.settings.v1')).token"),
        TOKEN
    );
    b.wait_js(
        "the chat thread to load",
        WAIT,
        "document.querySelector('.thread') && !document.querySelector('.thread').innerText.includes('Waiting for the gateway')",
    );
    b.screenshot("link-connected-chat");
    rig.assert_no_severe("while connecting");
}

#[test]
fn every_tab_renders_without_console_errors() {
    let Some(rig) = Rig::start("every_tab_renders_without_console_errors", |_| {}) else {
        return;
    };
    let b = &rig.browser;
    rig.open_connected("");
    let tabs = [
        ("chat", "Chat"),
        ("overview", "Overview"),
        ("sessions", "Sessions"),
        ("channels", "Channels"),
        ("devices", "Devices"),
        ("sandbox", "Sandbox"),
        ("config", "Config"),
        ("logs", "Logs"),
    ];
    let mut errors = Vec::new();
    for (route, title) in tabs {
        rig.open_tab(route, title);
        // Rendered: the view has content, nothing waits for the connection, nothing is loading.
        b.wait_js(
            &format!("the {title} tab to finish loading"),
            WAIT,
            "(() => { const v = document.querySelector('#view'); const t = v.innerText; \
               return v.childElementCount > 0 && !t.includes('Not connected.') \
                 && !t.includes('Loading…') && !t.includes('Waiting for the gateway') \
                 && document.querySelector('#gate').childElementCount === 0; })()",
        );
        // Let the tab's first requests answer before reading the console.
        b.exec("return new Promise((r) => setTimeout(r, 300));", vec![]);
        b.screenshot(route);
        for e in b.severe() {
            errors.push(format!("[{route}] {}", e.message));
        }
    }
    assert!(errors.is_empty(), "console errors:\n{}", errors.join("\n"));
}

#[test]
fn config_edit_with_error_shows_line_col_and_writes_nothing() {
    let Some(rig) = Rig::start(
        "config_edit_with_error_shows_line_col_and_writes_nothing",
        |_| {},
    ) else {
        return;
    };
    let b = &rig.browser;
    rig.open_connected("config");
    b.wait_js(
        "the config to load",
        WAIT,
        "document.querySelector('.config-editor')?.value.length > 0 \
         && document.querySelector('.card-actions .badge')?.textContent === 'valid'",
    );
    let before = std::fs::read(rig.home.config_path()).unwrap();

    let editor = b.wait_for(".config-editor", WAIT);
    b.click(&editor);
    b.send_keys(&editor, &format!("{}a", keys::CONTROL));
    b.send_keys(
        &editor,
        "{\n  gateway: {\n    mode: 'local',\n    port: 18789 18790,\n  },\n}\n",
    );
    assert!(
        b.js_string("document.querySelector('.config-editor').value")
            .contains("port: 18789 18790"),
        "typing did not reach the editor"
    );
    b.click_button("Save", WAIT);
    b.wait_js(
        "the save error",
        WAIT,
        "document.querySelector('.callout-error')?.innerText.includes('Nothing was written')",
    );
    let error = b.js_string("document.querySelector('.callout-error').innerText");
    b.screenshot("save-error");
    let (line, col) = line_col(&error).unwrap_or_else(|| panic!("no line:col in {error:?}"));
    assert_eq!(line, 4, "{error}");
    assert!(error.contains(&format!("Go to 4:{col}")), "{error}");
    assert_eq!(
        std::fs::read(rig.home.config_path()).unwrap(),
        before,
        "a refused save changed the file"
    );

    // "Go to" puts the caret on the reported spot.
    b.click_button(&format!("Go to 4:{col}"), WAIT);
    let caret = b.exec(
        "const e = document.querySelector('.config-editor'); \
         const before = e.value.slice(0, e.selectionStart); \
         return [before.split('\\n').length, before.length - before.lastIndexOf('\\n')];",
        vec![],
    );
    assert_eq!(caret, json!([4, col]), "caret after Go to");

    // Control: a valid edit through the same editor does reach the disk, and the token that
    // config.get showed as a placeholder is written back as the real value.
    b.click_button("Reload", WAIT);
    b.wait_js(
        "the original text back",
        WAIT,
        "!document.querySelector('.config-editor').value.includes('18790')",
    );
    let shown = b.js_string("document.querySelector('.config-editor').value");
    assert!(
        !shown.contains(TOKEN),
        "config.get showed the token to the browser"
    );
    assert!(shown.contains(REDACTED), "{shown}");
    let editor = b.wait_for(".config-editor", WAIT);
    b.click(&editor);
    b.send_keys(&editor, &format!("{}a", keys::CONTROL));
    b.send_keys(
        &editor,
        &format!(
            "// edited in the browser\n{{\n  gateway: {{\n    mode: 'local',\n    port: {},\n    bind: 'loopback',\n    auth: {{ mode: 'token', token: '{REDACTED}' }},\n  }},\n  session: {{ reset: {{ mode: 'idle', idleMinutes: 4321 }} }},\n}}\n",
            rig.port
        ),
    );
    b.click_button("Save", WAIT);
    let after = b.wait_until("the edit on disk", WAIT, || {
        let text = std::fs::read_to_string(rig.home.config_path()).ok()?;
        text.contains("4321").then_some(text)
    });
    assert!(
        after.contains(TOKEN),
        "the saved file lost the token:\n{after}"
    );
    assert!(
        !after.contains(REDACTED),
        "the placeholder reached the disk:\n{after}"
    );
    b.wait_js(
        "the editor to show the saved file",
        WAIT,
        "document.querySelector('.config-editor').value.includes('4321') \
         && document.querySelector('.card-actions .badge')?.textContent === 'valid'",
    );
    b.screenshot("saved");
    rig.assert_no_severe("while editing the config");
}

/// `line L, column C` from the error box.
fn line_col(text: &str) -> Option<(u64, u64)> {
    let rest = &text[text.find("line ")? + 5..];
    let (line, rest) = rest.split_once(", column ")?;
    let col: String = rest.chars().take_while(char::is_ascii_digit).collect();
    Some((line.trim().parse().ok()?, col.parse().ok()?))
}

#[test]
fn unpaired_browser_sees_pairing_required_then_works_after_cli_approve() {
    let Some(rig) = Rig::start(
        "unpaired_browser_sees_pairing_required_then_works_after_cli_approve",
        |home| {
            home.ok(&[
                "config",
                "set",
                "gateway.nodes.pairing.autoApproveLocal",
                "false",
            ]);
        },
    ) else {
        return;
    };
    let b = &rig.browser;
    b.goto(&rig.url(&format!("#token={TOKEN}")));
    b.wait_js(
        "the pairing notice with a request id",
        WAIT,
        "[...document.querySelectorAll('#gate .callout-pairing .cmd code')].some((c) => \
           c.textContent.startsWith('openclaw devices approve ') && !c.textContent.includes('<'))",
    );
    let title = b.js_string("document.querySelector('#gate .callout-pairing h2').textContent");
    assert_eq!(title, "This browser is waiting for approval");
    let cmd = b.js_string(
        "[...document.querySelectorAll('#gate .callout-pairing .cmd code')].map((c) => c.textContent) \
           .find((t) => t.startsWith('openclaw devices approve '))",
    );
    b.screenshot("pairing-required");
    let request_id = cmd.trim_start_matches("openclaw devices approve ").trim();

    // The CLI sees the same request.
    let pending: Value =
        serde_json::from_str(&rig.home.ok(&["devices", "list", "--json"])).unwrap();
    assert!(
        pending.to_string().contains(request_id),
        "request {request_id} not in devices list: {pending}"
    );
    let out = rig.home.ok(&["devices", "approve", request_id]);
    assert!(out.contains("Approved"), "{out}");

    // The page retries by itself and connects.
    b.wait_js(
        "the browser to connect after approval",
        Duration::from_secs(20),
        "document.querySelector('#health-pill strong')?.textContent === 'OK' \
         && document.querySelector('#gate').childElementCount === 0",
    );
    rig.open_tab("devices", "Devices");
    b.wait_js(
        "this browser among the paired devices",
        WAIT,
        "[...document.querySelectorAll('.badge')].some((e) => e.textContent === 'this browser')",
    );
    b.screenshot("paired");
}

#[test]
fn chat_streams_reply_and_shows_live_tool_card() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let fake = rt.block_on(openclaw_test_support::FakeOpenAi::start(
        openclaw_test_support::Script::echo(),
    ));
    let provider = format!(
        r#"{{ baseUrl: "{}", api: "openai-completions", apiKey: "test-key", models: [{{ id: "echo", contextWindow: 128000 }}] }}"#,
        fake.base_url
    );
    let Some(rig) = Rig::start("chat_streams_reply_and_shows_live_tool_card", |home| {
        home.ok(&["config", "set", "models.providers.fake", &provider]);
        home.ok(&[
            "config",
            "set",
            "agents.defaults.model.primary",
            "fake/echo",
        ]);
    }) else {
        return;
    };
    let b = &rig.browser;
    rig.open_connected("");
    b.wait_js(
        "the chat thread to load",
        WAIT,
        "document.querySelector('.thread') && !document.querySelector('.thread').innerText.includes('Waiting for the gateway')",
    );
    // Record what appears while the run is live (history reloads replace it afterwards).
    b.exec(
        "window.__seen = { stream: [], tools: {} };
         const live = new WeakSet();
         const thread = document.querySelector('.thread');
         new MutationObserver(() => {
           for (const row of thread.querySelectorAll('article.msg-assistant.streaming .stream-text')) {
             const t = row.innerText, s = window.__seen.stream;
             if (t && s[s.length - 1] !== t) s.push(t);
           }
           for (const c of thread.querySelectorAll('details.tool-card')) {
             if (!live.has(c)) {
               if (!c.classList.contains('running')) continue;
               live.add(c);
             }
             const key = c.querySelector('.tool-name').textContent + ' ' + c.querySelector('.tool-args').textContent;
             const states = (window.__seen.tools[key] ||= []);
             const badge = c.querySelector('summary .badge').textContent;
             if (states[states.length - 1] !== badge) states.push(badge);
             const out = c.querySelector('.tool-output');
             if (out && out.textContent) window.__seen.toolOutput = out.textContent;
           }
         }).observe(thread, { subtree: true, childList: true, characterData: true, attributes: true });",
        vec![],
    );

    let input = b.wait_for(".composer-input", WAIT);
    b.send_keys(&input, "hello from the browser");
    b.send_keys(&input, keys::ENTER);
    b.wait_js(
        "the reply in the thread",
        Duration::from_secs(15),
        "[...document.querySelectorAll('article.msg-assistant:not(.streaming) .bubble')] \
           .some((e) => e.innerText.includes('pong: hello from the browser'))",
    );
    let streamed = b.exec("return window.__seen.stream;", vec![]);
    assert!(
        streamed.as_array().is_some_and(|s| s
            .iter()
            .any(|t| t.as_str().is_some_and(|t| t.starts_with("pong")))),
        "no streamed text was seen: {streamed}"
    );
    b.screenshot("reply");

    b.send_keys(&input, r#"TOOL exec {"command":"echo hi"}"#);
    b.send_keys(&input, keys::ENTER);
    b.wait_js(
        "the answer after the tool",
        Duration::from_secs(15),
        "[...document.querySelectorAll('article.msg-assistant .bubble')] \
           .some((e) => e.innerText.includes('tool said: hi'))",
    );
    let seen = b.exec("return window.__seen;", vec![]);
    let states = &seen["tools"]["exec echo hi"];
    assert_eq!(
        states.get(0),
        Some(&json!("running")),
        "no live exec card: {seen}"
    );
    assert!(
        states
            .as_array()
            .is_some_and(|s| s.contains(&json!("done"))),
        "live card never finished: {seen}"
    );
    assert_eq!(
        seen["toolOutput"].as_str().map(str::trim),
        Some("hi"),
        "{seen}"
    );
    b.screenshot("tool");
    rig.assert_no_severe("while chatting");
    drop(rig);
    drop(fake);
}

#[test]
fn dark_theme_and_narrow_sidebar() {
    let Some(rig) = Rig::start("dark_theme_and_narrow_sidebar", |_| {}) else {
        return;
    };
    let b = &rig.browser;
    rig.open_connected("overview");
    let background = "getComputedStyle(document.body).backgroundColor";
    b.click(&b.wait_for("[data-theme-choice='light']", WAIT));
    assert_eq!(
        b.js_string("document.documentElement.dataset.theme"),
        "light"
    );
    let light_bg = b.js_string(background);
    b.screenshot("light");
    b.click(&b.wait_for("[data-theme-choice='dark']", WAIT));
    assert_eq!(
        b.js_string("document.documentElement.dataset.theme"),
        "dark"
    );
    assert_eq!(
        b.js_string(
            "document.querySelector(\"[data-theme-choice='dark']\").getAttribute('aria-checked')"
        ),
        "true"
    );
    let dark_bg = b.js_string(background);
    assert_ne!(
        dark_bg, light_bg,
        "the dark theme did not change the page colours"
    );
    b.screenshot("dark");
    // The choice survives a reload.
    b.refresh();
    rig.wait_connected();
    assert_eq!(
        b.js_string("document.documentElement.dataset.theme"),
        "dark"
    );

    let sidebar_display = "getComputedStyle(document.querySelector('#sidebar')).display";
    assert_eq!(b.js_string(sidebar_display), "flex");
    b.set_window_size(700, 900);
    b.wait_js(
        "the sidebar to collapse at 700 px",
        WAIT,
        &format!("{sidebar_display} === 'none'"),
    );
    b.screenshot("narrow-collapsed");
    b.click(&b.wait_for("#nav-toggle", WAIT));
    assert_eq!(
        b.js_string(sidebar_display),
        "flex",
        "toggle did not open the menu"
    );
    b.screenshot("narrow-open");
    b.send_keys(&b.wait_for("body", WAIT), keys::ESCAPE);
    assert_eq!(
        b.js_string(sidebar_display),
        "none",
        "Escape did not close the menu"
    );
    b.click(&b.wait_for("#nav-toggle", WAIT));
    assert_eq!(b.js_string(sidebar_display), "flex");
    // Following a link closes the menu again.
    b.click(&b.wait_for("#sidebar a[data-route='sessions']", WAIT));
    b.wait_js(
        "the menu to close after navigating",
        WAIT,
        &format!("{sidebar_display} === 'none' && document.querySelector('#page-title').textContent === 'Sessions'"),
    );
    rig.assert_no_severe("while switching theme and layout");
}
