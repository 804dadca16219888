//! A connected browser: tabs, the page sessions attached to them, the refs of each tab's last
//! snapshot and its recent console messages, all over one [`CdpClient`].
//!
//! Refs live in an isolated world ([`WORLD_NAME`]) of the tab's main frame: the page's own
//! scripts cannot see or forge them, and a navigation destroys the world, which is exactly when
//! the refs stop meaning anything. Acting on a ref from before a navigation is therefore an
//! error that says to take a new snapshot, never a click on whatever sits there now.
//!
//! Waits are event-driven: a navigation waits for the session's `Page.loadEventFired` (at most
//! [`NAV_TIMEOUT`]); an input event watches [`SETTLE_WINDOW`] for a navigation it started and
//! then waits for that load too.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use serde::Serialize;
use serde_json::{Value, json};
use tokio::sync::broadcast;
use tokio::task::JoinHandle;

use super::cdp::{CdpClient, CdpError, CdpEvent};
use super::launch::HostChrome;
pub use super::tabs::ConsoleEntry;
use super::tabs::{TabState, Tabs, dismiss_dialog, lock, record_event, severity};

/// How long a navigation may take to fire its load event.
pub const NAV_TIMEOUT: Duration = Duration::from_secs(30);
/// After an input event: how long to watch for a navigation it started.
pub const SETTLE_WINDOW: Duration = Duration::from_millis(150);
/// After a navigation was requested: how long it has to start loading.
pub const START_TIMEOUT: Duration = Duration::from_secs(5);
/// Re-check interval while waiting for a tab to stop loading.
const IDLE_POLL: Duration = Duration::from_millis(100);
/// How long a closing tab has to be reported destroyed.
pub const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);
/// Name of the isolated world that holds the snapshot helpers and refs.
pub const WORLD_NAME: &str = "openclaw";
const HELPERS_JS: &str = include_str!("snapshot.js");

/// Where a connected browser came from (what `status` reports).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BrowserInfo {
    /// `host` or `sandbox`.
    pub target: String,
    pub profile: String,
    /// The DevTools endpoint (`ws://127.0.0.1:<port>/devtools/browser/<id>` or the `cdpUrl`).
    pub cdp_url: String,
    /// True when the gateway launched this browser (and stops it).
    pub launched: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub executable_path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub headless: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
}

/// One tab as `tabs` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TabInfo {
    pub target_id: String,
    pub title: String,
    pub url: String,
    #[serde(rename = "type")]
    pub kind: String,
}

/// A browser the tool can drive.
pub struct Browser {
    cdp: Arc<CdpClient>,
    info: BrowserInfo,
    process: tokio::sync::Mutex<Option<HostChrome>>,
    tabs: Arc<Mutex<Tabs>>,
    events: JoinHandle<()>,
}

impl std::fmt::Debug for Browser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Browser")
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        self.events.abort();
    }
}

fn cdp_err(e: CdpError) -> String {
    e.to_string()
}

/// Outcome of waiting for a page load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Load {
    Loaded,
    /// No load event within the deadline; the page may still be usable.
    Pending,
}

async fn wait_for_load(
    rx: &mut broadcast::Receiver<CdpEvent>,
    session: &str,
    timeout: Duration,
) -> Load {
    let wait = async {
        loop {
            match rx.recv().await {
                Ok(ev)
                    if ev.method == "Page.loadEventFired"
                        && ev.session_id.as_deref() == Some(session) =>
                {
                    return Load::Loaded;
                }
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => return Load::Pending,
            }
        }
    };
    tokio::time::timeout(timeout, wait)
        .await
        .unwrap_or(Load::Pending)
}

impl Browser {
    /// Connect to a browser-level WebSocket; `process` is the browser we launched, if any.
    pub async fn connect(
        ws_url: &str,
        info: BrowserInfo,
        process: Option<HostChrome>,
    ) -> Result<Arc<Browser>, String> {
        let cdp = Arc::new(CdpClient::connect(ws_url).await.map_err(cdp_err)?);
        let tabs: Arc<Mutex<Tabs>> = Arc::default();
        let mut rx = cdp.subscribe();
        let recorder = tabs.clone();
        let client = Arc::downgrade(&cdp);
        let events = tokio::spawn(async move {
            loop {
                match rx.recv().await {
                    Ok(ev) if ev.method == "Page.javascriptDialogOpening" => {
                        if let Some(cdp) = client.upgrade() {
                            dismiss_dialog(&cdp, &recorder, &ev).await;
                        }
                    }
                    Ok(ev) => record_event(&recorder, &ev),
                    Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Err(broadcast::error::RecvError::Closed) => break,
                }
            }
        });
        let browser = Browser {
            cdp,
            info,
            process: tokio::sync::Mutex::new(process),
            tabs,
            events,
        };
        browser
            .cdp
            .call("Target.setDiscoverTargets", json!({"discover": true}), None)
            .await
            .map_err(cdp_err)?;
        Ok(Arc::new(browser))
    }

    pub fn info(&self) -> &BrowserInfo {
        &self.info
    }

    pub fn is_alive(&self) -> bool {
        !self.cdp.is_closed()
    }

    pub fn current(&self) -> Option<String> {
        lock(&self.tabs).current.clone()
    }

    /// `Browser.getVersion` → `product` (e.g. `HeadlessChrome/120.0…`).
    pub async fn version(&self) -> Result<String, String> {
        let v = self
            .cdp
            .call("Browser.getVersion", json!({}), None)
            .await
            .map_err(cdp_err)?;
        Ok(v["product"].as_str().unwrap_or("").to_string())
    }

    /// The open page tabs.
    pub async fn tabs(&self) -> Result<Vec<TabInfo>, String> {
        let v = self
            .cdp
            .call("Target.getTargets", json!({}), None)
            .await
            .map_err(cdp_err)?;
        Ok(v["targetInfos"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|t| t["type"] == "page")
            .map(|t| TabInfo {
                target_id: t["targetId"].as_str().unwrap_or("").to_string(),
                title: t["title"].as_str().unwrap_or("").to_string(),
                url: t["url"].as_str().unwrap_or("").to_string(),
                kind: "page".into(),
            })
            .collect())
    }

    /// The tab a call works on: `target_id` (exact or a unique prefix), else the current tab,
    /// else the first open tab, else a new blank one. It becomes the current tab.
    pub async fn resolve(&self, target_id: Option<&str>) -> Result<String, String> {
        let tabs = self.tabs().await?;
        let id = match target_id.map(str::trim).filter(|t| !t.is_empty()) {
            Some(want) => {
                let hits: Vec<&TabInfo> = tabs
                    .iter()
                    .filter(|t| t.target_id == want || t.target_id.starts_with(want))
                    .collect();
                match hits.as_slice() {
                    [one] => one.target_id.clone(),
                    [] => {
                        return Err(format!(
                            "no tab with targetId {want:?}; run action=tabs to list them"
                        ));
                    }
                    _ => {
                        return Err(format!(
                            "targetId {want:?} matches several tabs; give more of it"
                        ));
                    }
                }
            }
            None => {
                let current = self.current();
                match current.filter(|c| tabs.iter().any(|t| &t.target_id == c)) {
                    Some(c) => c,
                    None => match tabs.first() {
                        Some(t) => t.target_id.clone(),
                        None => self.create_blank().await?,
                    },
                }
            }
        };
        lock(&self.tabs).current = Some(id.clone());
        Ok(id)
    }

    async fn create_blank(&self) -> Result<String, String> {
        let v = self
            .cdp
            .call("Target.createTarget", json!({"url": "about:blank"}), None)
            .await
            .map_err(cdp_err)?;
        v["targetId"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| "Target.createTarget gave no targetId".to_string())
    }

    /// The page session of `target`, attaching (and enabling Page/Runtime) on first use.
    async fn session(&self, target: &str) -> Result<String, String> {
        if let Some(t) = lock(&self.tabs).attached.get(target) {
            return Ok(t.session.clone());
        }
        let v = self
            .cdp
            .call(
                "Target.attachToTarget",
                json!({"targetId": target, "flatten": true}),
                None,
            )
            .await
            .map_err(cdp_err)?;
        let session = v["sessionId"]
            .as_str()
            .ok_or("Target.attachToTarget gave no sessionId")?
            .to_string();
        {
            let mut t = lock(&self.tabs);
            t.by_session.insert(session.clone(), target.to_string());
            t.attached.insert(
                target.to_string(),
                TabState {
                    session: session.clone(),
                    ..TabState::default()
                },
            );
        }
        for method in ["Page.enable", "Runtime.enable"] {
            self.cdp
                .call(method, json!({}), Some(&session))
                .await
                .map_err(cdp_err)?;
        }
        let tree = self
            .cdp
            .call("Page.getFrameTree", json!({}), Some(&session))
            .await
            .map_err(cdp_err)?;
        let frame = tree
            .pointer("/frameTree/frame/id")
            .and_then(Value::as_str)
            .ok_or("Page.getFrameTree gave no main frame")?;
        if let Some(t) = lock(&self.tabs).attached.get_mut(target) {
            t.frame = frame.to_string();
        }
        Ok(session)
    }

    fn main_frame(&self, target: &str) -> String {
        lock(&self.tabs)
            .attached
            .get(target)
            .map(|t| t.frame.clone())
            .unwrap_or_default()
    }

    fn starts(&self, target: &str) -> u64 {
        lock(&self.tabs)
            .attached
            .get(target)
            .map_or(0, |t| t.starts)
    }

    fn loading(&self, target: &str) -> bool {
        lock(&self.tabs)
            .attached
            .get(target)
            .is_some_and(|t| t.loading)
    }

    /// Wait (at most [`NAV_TIMEOUT`], once per load) while `target`'s main frame is loading,
    /// so a call made during a navigation sees the new page rather than the old one or none.
    async fn wait_idle(&self, target: &str) {
        let mut rx = self.cdp.subscribe();
        let load = {
            let t = lock(&self.tabs);
            match t.attached.get(target) {
                Some(tab) if tab.loading && tab.starts != tab.waited => tab.starts,
                _ => return,
            }
        };
        let deadline = tokio::time::Instant::now() + NAV_TIMEOUT;
        while self.loading(target) && tokio::time::Instant::now() < deadline {
            // The recorder task clears the flag; the event wakes us early, the tick covers an
            // event that passed before we subscribed.
            if let Ok(Err(broadcast::error::RecvError::Closed)) =
                tokio::time::timeout(IDLE_POLL, rx.recv()).await
            {
                return;
            }
        }
        if let Some(tab) = lock(&self.tabs).attached.get_mut(target) {
            tab.waited = tab.waited.max(load);
        }
    }

    /// Open `url` (already checked by the caller) in a new tab, which becomes current.
    pub async fn open(&self, url: &str) -> Result<(String, Load), String> {
        let target = self.create_blank().await?;
        lock(&self.tabs).current = Some(target.clone());
        let load = self.navigate(&target, url).await?;
        let _ = self
            .cdp
            .call("Target.activateTarget", json!({"targetId": target}), None)
            .await;
        Ok((target, load))
    }

    /// Navigate `target` to `url` (already checked by the caller) and wait for the load event.
    pub async fn navigate(&self, target: &str, url: &str) -> Result<Load, String> {
        let session = self.session(target).await?;
        let mut rx = self.cdp.subscribe();
        let v = self
            .cdp
            .call("Page.navigate", json!({"url": url}), Some(&session))
            .await
            .map_err(cdp_err)?;
        if let Some(err) = v["errorText"].as_str().filter(|e| !e.is_empty()) {
            return Err(format!("navigation to {url} failed: {err}"));
        }
        if v.get("loaderId").and_then(Value::as_str).is_none() {
            // Same-document navigation (a #fragment): there is no load to wait for.
            return Ok(Load::Loaded);
        }
        let load = wait_for_load(&mut rx, &session, NAV_TIMEOUT).await;
        // This load has had its wait; later calls do not wait for it again.
        if let Some(tab) = lock(&self.tabs).attached.get_mut(target) {
            tab.waited = tab.starts;
        }
        Ok(load)
    }

    /// `{url, title}` of `target`.
    pub async fn location(&self, target: &str) -> Result<(String, String), String> {
        let session = self.session(target).await?;
        self.wait_idle(target).await;
        let v = self
            .evaluate(
                &session,
                "({url: location.href, title: document.title})",
                None,
            )
            .await?;
        Ok((
            v["url"].as_str().unwrap_or("").to_string(),
            v["title"].as_str().unwrap_or("").to_string(),
        ))
    }

    async fn evaluate(
        &self,
        session: &str,
        expression: &str,
        context: Option<i64>,
    ) -> Result<Value, String> {
        let mut params =
            json!({"expression": expression, "returnByValue": true, "awaitPromise": true});
        if let Some(c) = context {
            params["contextId"] = json!(c);
        }
        let v = self
            .cdp
            .call("Runtime.evaluate", params, Some(session))
            .await
            .map_err(cdp_err)?;
        if let Some(d) = v.get("exceptionDetails") {
            let why = d
                .pointer("/exception/description")
                .or_else(|| d.get("text"))
                .and_then(Value::as_str)
                .unwrap_or("exception");
            return Err(format!("page script failed: {why}"));
        }
        Ok(v.pointer("/result/value").cloned().unwrap_or(Value::Null))
    }

    /// The isolated world of `target`'s main frame, created when missing.
    async fn world(&self, target: &str, session: &str) -> Result<i64, String> {
        if let Some(w) = lock(&self.tabs).attached.get(target).and_then(|t| t.world) {
            return Ok(w);
        }
        let frame = self.main_frame(target);
        let v = self
            .cdp
            .call(
                "Page.createIsolatedWorld",
                json!({"frameId": frame, "worldName": WORLD_NAME}),
                Some(session),
            )
            .await
            .map_err(cdp_err)?;
        let ctx = v["executionContextId"]
            .as_i64()
            .ok_or("Page.createIsolatedWorld gave no context")?;
        if let Some(t) = lock(&self.tabs).attached.get_mut(target) {
            t.world = Some(ctx);
        }
        Ok(ctx)
    }

    /// Call `method(args…)` of the in-page helpers. `fresh` (snapshots) makes a world when
    /// there is none; otherwise a missing world means the refs are gone.
    async fn helper(
        &self,
        target: &str,
        method: &str,
        args: Value,
        fresh: bool,
    ) -> Result<Value, String> {
        let session = self.session(target).await?;
        self.wait_idle(target).await;
        let has_world = lock(&self.tabs)
            .attached
            .get(target)
            .is_some_and(|t| t.world.is_some());
        if !fresh && !has_world {
            return Err(stale_refs());
        }
        let expr = format!(
            "(() => {{ const h = globalThis.__openclaw || (globalThis.__openclaw = {HELPERS_JS}); return h.{method}(...{args}); }})()"
        );
        for attempt in 0..2 {
            let ctx = self.world(target, &session).await?;
            match self.evaluate(&session, &expr, Some(ctx)).await {
                Err(e) if e.contains("Cannot find context") => {
                    if let Some(t) = lock(&self.tabs).attached.get_mut(target) {
                        t.world = None;
                    }
                    if !fresh || attempt == 1 {
                        return Err(stale_refs());
                    }
                }
                other => return other,
            }
        }
        Err(stale_refs())
    }

    /// The page outline with refs (see `snapshot.js`).
    pub async fn snapshot(&self, target: &str, opts: Value) -> Result<Value, String> {
        let v = self.helper(target, "snapshot", json!([opts]), true).await?;
        if let Some(e) = v["error"].as_str() {
            return Err(format!("snapshot: {e}"));
        }
        Ok(v)
    }

    /// Run a helper on a ref and turn its error codes into messages.
    pub async fn on_ref(
        &self,
        target: &str,
        method: &str,
        r: &str,
        extra: Option<Value>,
    ) -> Result<Value, String> {
        let mut args = vec![json!(r)];
        args.extend(extra);
        let v = self
            .helper(target, method, Value::Array(args), false)
            .await?;
        match v["error"].as_str() {
            None => Ok(v),
            Some("unknown" | "detached") => Err(format!(
                "ref {r} is not on the page any more (or not in the last snapshot of this tab); take a new snapshot and use its refs"
            )),
            Some("not-editable") => Err(format!(
                "ref {r} is a {} and does not take text; type into a textbox ref",
                v["role"]
                    .as_str()
                    .filter(|r| !r.is_empty())
                    .unwrap_or("non-editable element")
            )),
            Some("not-select") => Err(format!(
                "ref {r} is a {}, not a <select>; use click for custom dropdowns",
                v["role"]
                    .as_str()
                    .filter(|r| !r.is_empty())
                    .unwrap_or("element")
            )),
            Some("no-option") => Err(format!(
                "no option of ref {r} matches; its options are {}",
                v["options"]
            )),
            Some(other) => Err(format!("ref {r}: {other}")),
        }
    }

    /// Dispatch CDP input events on `target`, then give a navigation they start time to load.
    /// Returns whether the page navigated.
    pub async fn input(
        &self,
        target: &str,
        events: Vec<(&'static str, Value)>,
    ) -> Result<bool, String> {
        let session = self.session(target).await?;
        let mut rx = self.cdp.subscribe();
        let starts_before = self.starts(target);
        for (method, params) in events {
            self.cdp
                .call(method, params, Some(&session))
                .await
                .map_err(cdp_err)?;
        }
        let frame = self.main_frame(target);
        // A navigation of this tab's main frame (not a popup, not a download, not an iframe).
        let started = async {
            loop {
                match rx.recv().await {
                    Ok(ev)
                        if ev.session_id.as_deref() == Some(&session)
                            && ev.params["frameId"].as_str() == Some(frame.as_str())
                            && (ev.method == "Page.frameStartedLoading"
                                || (ev.method == "Page.frameRequestedNavigation"
                                    && ev.params["disposition"] == "currentTab")) =>
                    {
                        return true;
                    }
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Err(broadcast::error::RecvError::Closed) => return false,
                }
            }
        };
        let requested = tokio::time::timeout(SETTLE_WINDOW, started)
            .await
            .unwrap_or(false);
        if requested && self.starts(target) == starts_before {
            // Requested but not started yet: give it a moment to start (a 204 never does).
            let start = async {
                while self.starts(target) == starts_before {
                    if let Ok(Err(broadcast::error::RecvError::Closed)) =
                        tokio::time::timeout(IDLE_POLL, rx.recv()).await
                    {
                        return;
                    }
                }
            };
            let _ = tokio::time::timeout(START_TIMEOUT, start).await;
        }
        let navigated = requested || self.starts(target) != starts_before;
        self.wait_idle(target).await;
        Ok(navigated)
    }

    /// `Page.captureScreenshot` of the viewport, the whole page or one element's box.
    pub async fn screenshot(
        &self,
        target: &str,
        full_page: bool,
        r: Option<&str>,
        jpeg: bool,
    ) -> Result<Vec<u8>, String> {
        let session = self.session(target).await?;
        self.wait_idle(target).await;
        let mut params = json!({"format": if jpeg { "jpeg" } else { "png" }, "fromSurface": true});
        if jpeg {
            params["quality"] = json!(80);
        }
        if let Some(r) = r {
            let b = self.on_ref(target, "locate", r, None).await?;
            let (w, h) = (
                b["width"].as_f64().unwrap_or(0.0),
                b["height"].as_f64().unwrap_or(0.0),
            );
            if w < 1.0 || h < 1.0 {
                return Err(format!("ref {r} has no visible box to capture"));
            }
            let x = b["left"].as_f64().unwrap_or(0.0) + b["scrollX"].as_f64().unwrap_or(0.0);
            let y = b["top"].as_f64().unwrap_or(0.0) + b["scrollY"].as_f64().unwrap_or(0.0);
            params["clip"] = json!({"x": x, "y": y, "width": w, "height": h, "scale": 1});
            params["captureBeyondViewport"] = json!(true);
        } else if full_page {
            let m = self
                .cdp
                .call("Page.getLayoutMetrics", json!({}), Some(&session))
                .await
                .map_err(cdp_err)?;
            let size = m.get("cssContentSize").unwrap_or(&m["contentSize"]);
            let w = size["width"].as_f64().unwrap_or(1280.0).max(1.0);
            // Chromium cannot capture past 16384 px in one texture.
            let h = size["height"]
                .as_f64()
                .unwrap_or(900.0)
                .clamp(1.0, 16_384.0);
            params["clip"] = json!({"x": 0, "y": 0, "width": w, "height": h, "scale": 1});
            params["captureBeyondViewport"] = json!(true);
        }
        let v = self
            .cdp
            .call("Page.captureScreenshot", params, Some(&session))
            .await
            .map_err(cdp_err)?;
        base64::engine::general_purpose::STANDARD
            .decode(v["data"].as_str().unwrap_or(""))
            .map_err(|e| format!("Page.captureScreenshot returned bad data: {e}"))
    }

    /// Recent console messages of `target`, at least as severe as `level`.
    pub async fn console(
        &self,
        target: &str,
        level: Option<&str>,
    ) -> Result<Vec<ConsoleEntry>, String> {
        let min = match level.map(str::trim).filter(|l| !l.is_empty()) {
            None => 0,
            Some(l) => severity(l).ok_or_else(|| {
                format!("console: unknown level {l:?}; use debug, info, warning or error")
            })?,
        };
        self.session(target).await?;
        Ok(lock(&self.tabs)
            .attached
            .get(target)
            .map(|t| {
                t.console
                    .iter()
                    .filter(|e| severity(&e.kind).unwrap_or(1) >= min)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default())
    }

    pub async fn focus(&self, target: &str) -> Result<(), String> {
        self.cdp
            .call("Target.activateTarget", json!({"targetId": target}), None)
            .await
            .map_err(cdp_err)?;
        lock(&self.tabs).current = Some(target.to_string());
        Ok(())
    }

    /// Close `target` and wait (at most [`CLOSE_TIMEOUT`]) until the browser reports it gone,
    /// so a `tabs` right after no longer lists it.
    pub async fn close_tab(&self, target: &str) -> Result<(), String> {
        let mut rx = self.cdp.subscribe();
        self.cdp
            .call("Target.closeTarget", json!({"targetId": target}), None)
            .await
            .map_err(cdp_err)?;
        let gone = async {
            loop {
                match rx.recv().await {
                    Ok(ev)
                        if ev.method == "Target.targetDestroyed"
                            && ev.params["targetId"].as_str() == Some(target) =>
                    {
                        return;
                    }
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Err(broadcast::error::RecvError::Closed) => return,
                }
            }
        };
        let _ = tokio::time::timeout(CLOSE_TIMEOUT, gone).await;
        let mut t = lock(&self.tabs);
        if let Some(state) = t.attached.remove(target) {
            t.by_session.remove(&state.session);
        }
        if t.current.as_deref() == Some(target) {
            t.current = None;
        }
        Ok(())
    }

    /// Close a browser we launched (`Browser.close`, then the process group); for an attached
    /// browser only the connection goes.
    pub async fn shutdown(&self) {
        let process = self.process.lock().await.take();
        if let Some(p) = process {
            let _ = self
                .cdp
                .call_with("Browser.close", json!({}), None, Duration::from_secs(3))
                .await;
            p.stop().await;
        }
    }
}

fn stale_refs() -> String {
    "the refs of this tab are gone (no snapshot yet, or the page navigated since): take a new snapshot and use its refs".to_string()
}
