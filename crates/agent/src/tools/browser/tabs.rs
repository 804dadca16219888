//! What a connected browser remembers per tab, fed by CDP events: the page session attached to
//! it, the isolated world holding the refs of its last snapshot, and its recent console
//! messages (bounded, oldest dropped first). JavaScript dialogs are answered here too, since a
//! dialog left open blocks the page and every later call on it.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

use serde::Serialize;
use serde_json::{Value, json};

use super::cdp::{CdpClient, CdpEvent};

/// Console messages kept per tab.
pub const CONSOLE_PER_TAB: usize = 200;

/// One console message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConsoleEntry {
    #[serde(rename = "type")]
    pub kind: String,
    pub text: String,
    pub timestamp: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
}

#[derive(Debug, Default)]
pub(super) struct TabState {
    pub(super) session: String,
    /// Id of the main frame.
    pub(super) frame: String,
    /// The main frame is loading (between `frameStartedLoading` and `frameStoppedLoading`).
    pub(super) loading: bool,
    /// How many loads of the main frame have started (a load that is already over still
    /// counts, so a caller can tell that its click navigated).
    pub(super) starts: u64,
    /// The load (by `starts`) a caller already waited for: a page that never stops loading
    /// costs one wait, not one per call.
    pub(super) waited: u64,
    /// Execution context of the isolated world, while it lives.
    pub(super) world: Option<i64>,
    pub(super) console: VecDeque<ConsoleEntry>,
}

#[derive(Debug, Default)]
pub(super) struct Tabs {
    pub(super) current: Option<String>,
    pub(super) attached: HashMap<String, TabState>,
    /// sessionId → targetId.
    pub(super) by_session: HashMap<String, String>,
}

impl TabState {
    fn push(&mut self, entry: ConsoleEntry) {
        if self.console.len() >= CONSOLE_PER_TAB {
            self.console.pop_front();
        }
        self.console.push_back(entry);
    }
}

impl Tabs {
    /// The tab whose page session is `session`.
    fn by_session_mut(&mut self, session: Option<&str>) -> Option<&mut TabState> {
        let target = session.and_then(|s| self.by_session.get(s))?.clone();
        self.attached.get_mut(&target)
    }
}

pub(super) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The args of a console call as one line.
fn console_text(params: &Value) -> String {
    params
        .get("args")
        .and_then(Value::as_array)
        .map(|args| {
            args.iter()
                .map(|a| match a.get("value") {
                    Some(Value::String(s)) => s.clone(),
                    Some(v) if !v.is_null() => v.to_string(),
                    _ => a
                        .get("description")
                        .or_else(|| a.get("unserializableValue"))
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string(),
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default()
}

pub(super) fn record_event(tabs: &Mutex<Tabs>, ev: &CdpEvent) {
    let mut t = lock(tabs);
    match ev.method.as_str() {
        "Target.targetDestroyed" | "Target.detachedFromTarget" => {
            let target = ev.params.get("targetId").and_then(Value::as_str);
            let session = ev.params.get("sessionId").and_then(Value::as_str);
            let target = target
                .map(str::to_string)
                .or_else(|| session.and_then(|s| t.by_session.get(s).cloned()));
            if let Some(target) = target {
                if let Some(state) = t.attached.remove(&target) {
                    t.by_session.remove(&state.session);
                }
                if ev.method == "Target.targetDestroyed" && t.current.as_deref() == Some(&target) {
                    t.current = None;
                }
            }
        }
        "Page.loadEventFired" => {
            if let Some(tab) = t.by_session_mut(ev.session_id.as_deref()) {
                tab.loading = false;
            }
        }
        "Page.frameStartedLoading" | "Page.frameStoppedLoading" => {
            let started = ev.method == "Page.frameStartedLoading";
            if let Some(tab) = t.by_session_mut(ev.session_id.as_deref())
                && ev.params["frameId"].as_str() == Some(tab.frame.as_str())
            {
                tab.loading = started;
                tab.starts += u64::from(started);
            }
        }
        "Runtime.consoleAPICalled"
        | "Runtime.exceptionThrown"
        | "Runtime.executionContextsCleared" => {
            let Some(tab) = t.by_session_mut(ev.session_id.as_deref()) else {
                return;
            };
            let entry = match ev.method.as_str() {
                "Runtime.executionContextsCleared" => {
                    tab.world = None;
                    return;
                }
                "Runtime.consoleAPICalled" => {
                    let frame = ev.params.pointer("/stackTrace/callFrames/0");
                    ConsoleEntry {
                        kind: ev.params["type"].as_str().unwrap_or("log").to_string(),
                        text: console_text(&ev.params),
                        timestamp: ev.params["timestamp"].as_f64().unwrap_or(0.0),
                        location: frame.map(|f| {
                            format!(
                                "{}:{}",
                                f["url"].as_str().unwrap_or(""),
                                f["lineNumber"].as_u64().unwrap_or(0) + 1
                            )
                        }),
                    }
                }
                _ => {
                    let d = &ev.params["exceptionDetails"];
                    ConsoleEntry {
                        kind: "error".into(),
                        text: d
                            .pointer("/exception/description")
                            .or_else(|| d.get("text"))
                            .and_then(Value::as_str)
                            .unwrap_or("uncaught exception")
                            .to_string(),
                        timestamp: ev.params["timestamp"].as_f64().unwrap_or(0.0),
                        location: d["url"]
                            .as_str()
                            .map(|u| format!("{u}:{}", d["lineNumber"].as_u64().unwrap_or(0) + 1)),
                    }
                }
            };
            tab.push(entry);
        }
        _ => {}
    }
}

/// A JavaScript dialog would block the page (and every later call) until answered. As with
/// Playwright's default, dialogs are dismissed (`beforeunload` is accepted so navigations go
/// on); the tab's console records what was asked.
pub(super) async fn dismiss_dialog(cdp: &CdpClient, tabs: &Mutex<Tabs>, ev: &CdpEvent) {
    let kind = ev.params["type"].as_str().unwrap_or("alert");
    let accept = kind == "beforeunload";
    let _ = cdp
        .call_with(
            "Page.handleJavaScriptDialog",
            json!({"accept": accept}),
            ev.session_id.as_deref(),
            Duration::from_secs(5),
        )
        .await;
    let text = format!(
        "{kind} dialog {}: {}",
        if accept { "accepted" } else { "dismissed" },
        ev.params["message"].as_str().unwrap_or("")
    );
    if let Some(tab) = lock(tabs).by_session_mut(ev.session_id.as_deref()) {
        tab.push(ConsoleEntry {
            kind: "warning".into(),
            text,
            timestamp: 0.0,
            location: None,
        });
    }
}

/// Severity rank for `console` filtering (`level` = the least severe kind shown).
pub(super) fn severity(kind: &str) -> Option<u8> {
    Some(match kind {
        "debug" | "verbose" => 0,
        "log"
        | "info"
        | "dir"
        | "dirxml"
        | "table"
        | "trace"
        | "clear"
        | "count"
        | "timeEnd"
        | "startGroup"
        | "startGroupCollapsed"
        | "endGroup"
        | "profile"
        | "profileEnd" => 1,
        "warning" | "warn" | "assert" => 2,
        "error" => 3,
        _ => return None,
    })
}
#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn event(method: &str, params: Value, session: Option<&str>) -> CdpEvent {
        CdpEvent {
            method: method.into(),
            params,
            session_id: session.map(str::to_string),
        }
    }

    #[test]
    fn console_events_land_in_their_tab_and_are_bounded() {
        let tabs = Mutex::new(Tabs::default());
        {
            let mut t = lock(&tabs);
            t.by_session.insert("S".into(), "T".into());
            t.attached.insert(
                "T".into(),
                TabState {
                    session: "S".into(),
                    frame: "F".into(),
                    world: Some(3),
                    ..TabState::default()
                },
            );
        }
        for i in 0..(CONSOLE_PER_TAB + 5) {
            record_event(
                &tabs,
                &event(
                    "Runtime.consoleAPICalled",
                    json!({"type": "log", "timestamp": 1.0, "args": [{"type": "string", "value": format!("m{i}")}, {"type": "number", "value": 2}]}),
                    Some("S"),
                ),
            );
        }
        record_event(
            &tabs,
            &event(
                "Runtime.exceptionThrown",
                json!({"timestamp": 2.0, "exceptionDetails": {"text": "Uncaught", "exception": {"description": "Error: boom"}}}),
                Some("S"),
            ),
        );
        let t = lock(&tabs);
        let console = &t.attached["T"].console;
        assert_eq!(console.len(), CONSOLE_PER_TAB);
        assert_eq!(console[0].text, "m6 2");
        assert_eq!(
            console.back().map(|e| (e.kind.as_str(), e.text.as_str())),
            Some(("error", "Error: boom"))
        );
        drop(t);
        let loading = |method: &str, frame: &str| {
            record_event(&tabs, &event(method, json!({"frameId": frame}), Some("S")));
            lock(&tabs).attached["T"].loading
        };
        assert!(!loading("Page.frameStartedLoading", "child-frame"));
        assert!(loading("Page.frameStartedLoading", "F"));
        assert!(!loading("Page.frameStoppedLoading", "F"));
        assert_eq!(lock(&tabs).attached["T"].starts, 1);
        record_event(
            &tabs,
            &event("Runtime.executionContextsCleared", json!({}), Some("S")),
        );
        assert_eq!(lock(&tabs).attached["T"].world, None);
        record_event(
            &tabs,
            &event("Target.targetDestroyed", json!({"targetId": "T"}), None),
        );
        assert!(lock(&tabs).attached.is_empty() && lock(&tabs).by_session.is_empty());
    }

    #[test]
    fn severity_orders_levels() {
        assert!(severity("error") > severity("warning"));
        assert!(severity("warning") > severity("log"));
        assert!(severity("log") > severity("debug"));
        assert_eq!(severity("loud"), None);
    }
}
