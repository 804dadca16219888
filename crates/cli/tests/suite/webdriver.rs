//! A small W3C WebDriver client for driving real headless Chromium from the UI tests.
//!
//! Each [`Browser`] owns its own `chromedriver` on a free loopback port and one session with a
//! fresh profile, so tests running in parallel never share cookies, storage or windows. The wire
//! is plain HTTP/1.1 over `std::net::TcpStream` (one request per connection, `Connection: close`)
//! with read/write deadlines: the tests are synchronous like the rest of the CLI suite, and no
//! extra HTTP dependency is needed for a handful of JSON calls to a local process.
//!
//! When Chromium or chromedriver is missing, [`Browser::start`] prints `SKIP: <reason>` and
//! returns `None`, unless `OPENCLAW_REQUIRE_BROWSER=1`, where it panics instead (CI sets it after
//! `scripts/ci-setup.sh` installed both).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{Value, json};

use super::harness::free_port;

/// The W3C key for element references in JSON.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";
/// Deadline for one WebDriver HTTP exchange (navigation and screenshots included).
const HTTP_TIMEOUT: Duration = Duration::from_secs(30);
const POLL: Duration = Duration::from_millis(100);

/// Special keys for [`Browser::send_keys`] (W3C key codes).
pub mod keys {
    pub const ENTER: &str = "\u{E007}";
    pub const CONTROL: &str = "\u{E009}";
    pub const ESCAPE: &str = "\u{E00C}";
}

/// A reference to a DOM element in the current session.
#[derive(Debug, Clone)]
pub struct Element(String);

/// A WebDriver error answer (`value.error` / `value.message`) or a transport failure.
#[derive(Debug)]
pub struct WdError(pub String);

impl std::fmt::Display for WdError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// One browser console entry from `se/log`.
#[derive(Debug, Clone)]
pub struct LogEntry {
    pub level: String,
    pub message: String,
}

/// Chromium binary and chromedriver found on this machine, or why not.
fn locate() -> Result<(PathBuf, PathBuf), String> {
    let which = |names: &[&str]| -> Option<PathBuf> {
        let path = std::env::var_os("PATH").unwrap_or_default();
        names.iter().find_map(|n| {
            std::env::split_paths(&path)
                .map(|d| d.join(n))
                .find(|p| p.is_file())
        })
    };
    let chromium = which(&["chromium", "chromium-browser", "google-chrome"])
        .ok_or("no chromium on PATH (install Debian `chromium`, see scripts/ci-setup.sh)")?;
    let driver = which(&["chromedriver"])
        .ok_or("no chromedriver on PATH (install Debian `chromium-driver`)")?;
    Ok((chromium, driver))
}

/// A headless Chromium session with its own chromedriver. Dropping it ends both.
pub struct Browser {
    driver: Child,
    port: u16,
    session: String,
    artifacts: PathBuf,
    shots: std::cell::Cell<u32>,
}

impl Browser {
    /// Starts chromedriver and a 1400×900 headless session; screenshots go to
    /// `<repo>/target/ui-artifacts/<test>/`. `None` (after printing `SKIP: …`) when no browser
    /// is installed and `OPENCLAW_REQUIRE_BROWSER` is not `1`.
    pub fn start(test: &str) -> Option<Browser> {
        let (chromium, chromedriver) = match locate() {
            Ok(found) => found,
            Err(why) => {
                if std::env::var("OPENCLAW_REQUIRE_BROWSER").as_deref() == Ok("1") {
                    panic!("OPENCLAW_REQUIRE_BROWSER=1 but {why}");
                }
                println!("SKIP: {why}");
                return None;
            }
        };
        let artifacts = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../target/ui-artifacts")
            .join(test);
        let _ = std::fs::remove_dir_all(&artifacts);
        std::fs::create_dir_all(&artifacts).unwrap();

        let port = free_port();
        let driver = Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", chromedriver.display()));
        let mut browser = Browser {
            driver,
            port,
            session: String::new(),
            artifacts,
            shots: std::cell::Cell::new(0),
        };
        browser.wait_driver_ready();
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "timeouts": {"pageLoad": 20000, "script": 10000, "implicit": 0},
            "goog:chromeOptions": {
                "binary": chromium,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1400,900",
                         "--no-first-run", "--no-default-browser-check"],
            },
            "goog:loggingPrefs": {"browser": "ALL"},
        }}});
        let v = browser
            .http("POST", "/session", Some(&caps))
            .unwrap_or_else(|e| panic!("chromedriver refused a new session: {e}"));
        browser.session = v["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no sessionId in {v}"))
            .to_string();
        Some(browser)
    }

    fn wait_driver_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if let Ok(v) = self.http("GET", "/status", None)
                && v["ready"] == json!(true)
            {
                return;
            }
            if let Ok(Some(st)) = self.driver.try_wait() {
                panic!("chromedriver exited early ({st}) on port {}", self.port);
            }
            std::thread::sleep(POLL);
        }
        panic!("chromedriver did not become ready on port {}", self.port);
    }

    /// One HTTP exchange with chromedriver; returns the answer's `value`.
    fn http(&self, method: &str, path: &str, body: Option<&Value>) -> Result<Value, WdError> {
        let io = |e: std::io::Error| WdError(format!("{method} {path}: {e}"));
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).map_err(io)?;
        stream.set_read_timeout(Some(HTTP_TIMEOUT)).map_err(io)?;
        stream.set_write_timeout(Some(HTTP_TIMEOUT)).map_err(io)?;
        let body = body.map(Value::to_string).unwrap_or_default();
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            self.port,
            body.len()
        );
        stream.write_all(head.as_bytes()).map_err(io)?;
        stream.write_all(body.as_bytes()).map_err(io)?;
        let payload =
            read_response(&mut stream).map_err(|e| WdError(format!("{method} {path}: {e}")))?;
        let v: Value = serde_json::from_slice(&payload).map_err(|e| {
            WdError(format!(
                "{method} {path}: not JSON ({e}): {}",
                String::from_utf8_lossy(&payload)
            ))
        })?;
        let value = v.get("value").cloned().unwrap_or(Value::Null);
        if let Some(err) = value.get("error").and_then(Value::as_str) {
            let msg = value["message"].as_str().unwrap_or("");
            let first = msg.lines().next().unwrap_or("");
            return Err(WdError(format!("{method} {path}: {err}: {first}")));
        }
        Ok(value)
    }

    fn cmd(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, WdError> {
        let full = format!("/session/{}{path}", self.session);
        self.http(method, &full, body.as_ref())
    }

    fn must(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        self.cmd(method, path, body)
            .unwrap_or_else(|e| panic!("webdriver: {e}"))
    }

    /// Opens `url` and waits for the page load.
    pub fn goto(&self, url: &str) {
        self.must("POST", "/url", Some(json!({"url": url})));
    }

    pub fn current_url(&self) -> String {
        self.must("GET", "/url", None)
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    pub fn refresh(&self) {
        self.must("POST", "/refresh", Some(json!({})));
    }

    pub fn set_window_size(&self, width: u32, height: u32) {
        self.must(
            "POST",
            "/window/rect",
            Some(json!({"width": width, "height": height})),
        );
    }

    /// The first element matching `css`, or an error (no such element, bad selector).
    pub fn find(&self, css: &str) -> Result<Element, WdError> {
        let v = self.cmd(
            "POST",
            "/element",
            Some(json!({"using": "css selector", "value": css})),
        )?;
        v[ELEMENT_KEY]
            .as_str()
            .map(|id| Element(id.to_string()))
            .ok_or_else(|| WdError(format!("no element reference in {v}")))
    }

    /// The first element matching an XPath expression (for "the button labelled Save").
    pub fn find_xpath(&self, xpath: &str) -> Result<Element, WdError> {
        let v = self.cmd(
            "POST",
            "/element",
            Some(json!({"using": "xpath", "value": xpath})),
        )?;
        v[ELEMENT_KEY]
            .as_str()
            .map(|id| Element(id.to_string()))
            .ok_or_else(|| WdError(format!("no element reference in {v}")))
    }

    /// Waits until a `<button>` whose trimmed text is `label` exists, and clicks it.
    pub fn click_button(&self, label: &str, timeout: Duration) {
        let xpath = format!("//button[normalize-space()='{label}']");
        let el = self.wait_until(&format!("button {label:?}"), timeout, || {
            self.find_xpath(&xpath).ok()
        });
        self.click(&el);
    }

    /// Waits until an element matching `css` exists.
    pub fn wait_for(&self, css: &str, timeout: Duration) -> Element {
        self.wait_until(&format!("element {css}"), timeout, || self.find(css).ok())
    }

    pub fn click(&self, el: &Element) {
        self.must("POST", &format!("/element/{}/click", el.0), Some(json!({})));
    }

    /// Types `text` into the element (W3C key codes from [`keys`] allowed; modifiers stay
    /// pressed until the end of this call).
    pub fn send_keys(&self, el: &Element, text: &str) {
        self.must(
            "POST",
            &format!("/element/{}/value", el.0),
            Some(json!({"text": text})),
        );
    }

    /// Runs `script` (a function body; `arguments[i]` are `args`) and returns its result.
    pub fn exec(&self, script: &str, args: Vec<Value>) -> Value {
        self.must(
            "POST",
            "/execute/sync",
            Some(json!({"script": script, "args": args})),
        )
    }

    /// Runs a `return <expr>` script that yields a string ("" for null).
    pub fn js_string(&self, expr: &str) -> String {
        match self.exec(&format!("return {expr};"), vec![]) {
            Value::String(s) => s,
            Value::Null => String::new(),
            other => other.to_string(),
        }
    }

    /// Polls `f` until it answers `Some`, or panics after `timeout` with `what`, the page text
    /// and a screenshot named after `what`.
    pub fn wait_until<T>(
        &self,
        what: &str,
        timeout: Duration,
        mut f: impl FnMut() -> Option<T>,
    ) -> T {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(v) = f() {
                return v;
            }
            if Instant::now() >= deadline {
                let shot = self.screenshot("timeout");
                let page = self
                    .cmd(
                        "POST",
                        "/execute/sync",
                        Some(json!({"script": "return document.body.innerText;", "args": []})),
                    )
                    .map(|v| v.as_str().unwrap_or_default().to_string())
                    .unwrap_or_else(|e| e.to_string());
                panic!(
                    "timed out after {timeout:?} waiting for {what}\nscreenshot: {}\npage text:\n{page}",
                    shot.display()
                );
            }
            std::thread::sleep(POLL);
        }
    }

    /// Waits until the JS expression `expr` is truthy.
    pub fn wait_js(&self, what: &str, timeout: Duration, expr: &str) {
        let script = format!("return Boolean({expr});");
        self.wait_until(what, timeout, || {
            (self.exec(&script, vec![]) == json!(true)).then_some(())
        });
    }

    /// Saves a PNG of the viewport as `<nn>-<name>.png` under the test's artifact dir.
    pub fn screenshot(&self, name: &str) -> PathBuf {
        let n = self.shots.get() + 1;
        self.shots.set(n);
        let path = self.artifacts.join(format!("{n:02}-{name}.png"));
        match self.cmd("GET", "/screenshot", None) {
            Ok(Value::String(b64)) => {
                let png = base64::engine::general_purpose::STANDARD
                    .decode(b64)
                    .unwrap_or_default();
                std::fs::write(&path, png).unwrap();
            }
            other => eprintln!("screenshot {name} failed: {other:?}"),
        }
        path
    }

    /// Console entries since the last call (chromedriver drains the buffer on each read).
    pub fn console(&self) -> Vec<LogEntry> {
        let v = self.must("POST", "/se/log", Some(json!({"type": "browser"})));
        v.as_array()
            .map(|list| {
                list.iter()
                    .map(|e| LogEntry {
                        level: e["level"].as_str().unwrap_or_default().to_string(),
                        message: e["message"].as_str().unwrap_or_default().to_string(),
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Console entries of level SEVERE since the last read.
    pub fn severe(&self) -> Vec<LogEntry> {
        self.console()
            .into_iter()
            .filter(|e| e.level == "SEVERE")
            .collect()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Ending the session closes Chromium; killing only chromedriver would orphan it.
        if !self.session.is_empty() {
            let _ = self.http("DELETE", &format!("/session/{}", self.session), None);
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// Reads one HTTP/1.1 answer and returns its body. chromedriver may keep the connection open
/// despite `Connection: close`, so the body is delimited by `Content-Length` (or chunking).
fn read_response(stream: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let mut raw = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    let bad = |m: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, m.to_string());
    loop {
        let n = stream.read(&mut buf)?;
        raw.extend_from_slice(&buf[..n]);
        let Some(split) = raw.windows(4).position(|w| w == b"\r\n\r\n") else {
            if n == 0 {
                return Err(bad("connection closed before the headers ended"));
            }
            continue;
        };
        let headers = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
        let body_start = split + 4;
        let length = headers
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse::<usize>().ok());
        let chunked = headers.contains("transfer-encoding: chunked");
        let complete = |raw: &[u8]| match length {
            Some(len) => raw.len() >= body_start + len,
            None if chunked => raw[body_start..].ends_with(b"0\r\n\r\n"),
            None => false,
        };
        while !complete(&raw) {
            let n = stream.read(&mut buf)?;
            if n == 0 {
                break;
            }
            raw.extend_from_slice(&buf[..n]);
        }
        let body = &raw[body_start..];
        return Ok(match length {
            Some(len) => body[..len.min(body.len())].to_vec(),
            None if chunked => dechunk(body),
            None => body.to_vec(),
        });
    }
}

/// Decodes an HTTP/1.1 chunked body.
fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = data.windows(2).position(|w| w == b"\r\n") {
        let size_text = String::from_utf8_lossy(&data[..eol]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .unwrap_or(0);
        if size == 0 {
            break;
        }
        let start = eol + 2;
        let end = (start + size).min(data.len());
        out.extend_from_slice(&data[start..end]);
        data = &data[(end + 2).min(data.len())..];
    }
    out
}
