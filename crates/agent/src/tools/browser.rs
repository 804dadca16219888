//! `browser`: drive a Chromium browser over the Chrome DevTools Protocol.
//!
//! Actions follow OpenClaw's tool (same names and parameters): `status`, `start`, `stop`,
//! `profiles`, `tabs`, `open`, `focus`, `close`, `navigate`, `snapshot`, `screenshot`, `act`
//! (`click`, `type`, `press`, `hover`, `select`, `fill`, `close`) and `console`. A snapshot is
//! a text outline of the page computed in the page ([`page`], `snapshot.js`), with refs (`e1`,
//! `e2`, …) on interactive elements that `act` uses; a screenshot is an image block.
//!
//! Where the browser comes from is decided per call ([`service::choose`]): a sandboxed session
//! drives its scope's sandbox browser container, anything else a Chromium the gateway launches
//! on loopback ([`launch`]) or a browser at `browser.cdpUrl`. Refusals name the config key.
//! Navigation is limited to `http(s)://` (and `about:blank`): `file:`, `chrome:`,
//! `javascript:`, `data:` and the like are refused before the browser sees them.
//!
//! Not here: PDF export, uploads, dialogs, cookies, `evaluate`, the Chrome extension relay and
//! node-hosted browsers (each refused with a message saying so).

pub mod cdp;
pub mod config;
pub mod input;
pub mod launch;
pub mod page;
pub mod service;
mod tabs;

use async_trait::async_trait;
use base64::Engine;
use openclaw_protocol::ContentBlock;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

pub use config::BrowserSettings;
pub use service::{BrowserAccess, BrowserService, SandboxBrowser};

use super::{Tool, ToolContext, ToolOutput, args};
use page::Browser;
use service::Source;

/// Largest screenshot returned inline (as for `read`).
pub const MAX_SCREENSHOT_BYTES: usize = super::fs::MAX_IMAGE_BYTES as usize;
/// Snapshot text returned when `maxChars` is not given.
pub const DEFAULT_SNAPSHOT_CHARS: u64 = 20_000;

const ACTIONS: &[&str] = &[
    "status",
    "start",
    "stop",
    "profiles",
    "tabs",
    "open",
    "focus",
    "close",
    "navigate",
    "snapshot",
    "screenshot",
    "act",
    "console",
];
const ACT_KINDS: &[&str] = &["click", "type", "press", "hover", "select", "fill", "close"];

/// `browser`.
#[derive(Debug, Default, Clone, Copy)]
pub struct BrowserTool;

/// The URL a navigation may go to, or why not: `http(s)://` only (plus `about:blank`); a bare
/// host such as `example.com/x` or `localhost:3000` gets `https://`.
pub fn check_url(raw: &str) -> Result<String, String> {
    let s = raw.trim();
    if s.is_empty() {
        return Err("targetUrl is empty".into());
    }
    if s.eq_ignore_ascii_case("about:blank") {
        return Ok("about:blank".into());
    }
    let refuse = |scheme: &str| {
        Err(format!(
            "refusing to open a {scheme}: URL: the browser tool only navigates to http:// and https:// pages (file:, chrome:, javascript:, data: and similar are blocked)"
        ))
    };
    let bare_host =
        |scheme: &str| !s.contains("://") && (scheme == "localhost" || scheme.contains('.'));
    match url::Url::parse(s) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => Ok(u.to_string()),
        Ok(u) if bare_host(u.scheme()) => check_url(&format!("https://{s}")),
        Ok(u) => refuse(u.scheme()),
        Err(url::ParseError::RelativeUrlWithoutBase) if !s.starts_with('/') => {
            check_url(&format!("https://{s}"))
        }
        Err(e) => Err(format!("targetUrl {s:?} is not a URL: {e}")),
    }
}

fn json_output(v: Value) -> ToolOutput {
    let text = serde_json::to_string_pretty(&v).unwrap_or_else(|_| v.to_string());
    ToolOutput::text(text).with_details(v)
}

fn url_arg(a: &Value) -> Result<String, String> {
    check_url(args::required_str(a, &["targetUrl", "url"], "browser")?)
}

async fn status(access: &BrowserAccess, source: &Source) -> Value {
    let running = access.service.get(source).await;
    let mut v = json!({
        "enabled": true,
        "running": running.is_some(),
        "target": source.target(),
    });
    if let Source::Host {
        profile, settings, ..
    } = source
    {
        v["profile"] = json!(profile);
        v["headless"] = json!(service::headless(settings));
    }
    if let Some(b) = running {
        if let Value::Object(info) = json!(b.info()) {
            for (k, val) in info {
                v[k] = val;
            }
        }
        if let Ok(product) = b.version().await {
            v["browser"] = json!(product);
        }
        if let Ok(tabs) = b.tabs().await {
            v["tabs"] = json!(tabs.len());
        }
        v["currentTab"] = json!(b.current());
    }
    v
}

fn profiles(access: &BrowserAccess) -> Result<Value, String> {
    let settings = access.host.clone()?;
    let list: Vec<Value> = settings
        .profile_names()
        .into_iter()
        .map(|name| match settings.source(&name) {
            Ok(config::ProfileSource::Launch) => json!({"name": name, "source": "launch"}),
            Ok(config::ProfileSource::Attach { cdp_url }) => {
                json!({"name": name, "source": "cdpUrl", "cdpUrl": cdp::redact(&cdp_url)})
            }
            Err(e) => json!({"name": name, "error": e}),
        })
        .collect();
    Ok(json!({"profiles": list, "defaultProfile": settings.default_profile}))
}

async fn snapshot(b: &Browser, a: &Value) -> Result<ToolOutput, String> {
    let target = b.resolve(args::str(a, &["targetId"])).await?;
    let max = args::usize(a, "maxChars", "browser")?
        .map(|m| m as u64)
        .unwrap_or(DEFAULT_SNAPSHOT_CHARS)
        .max(200);
    let opts = json!({
        "maxChars": max,
        "interactive": args::bool(a, "interactive", "browser")?.unwrap_or(false),
        "selector": args::str(a, &["selector"]),
    });
    let v = b.snapshot(&target, opts).await?;
    let refs = v["refs"].as_u64().unwrap_or(0);
    let mut text = format!(
        "Page: {}\nURL: {}\ntargetId: {target}\n\n{}",
        v["title"].as_str().unwrap_or(""),
        v["url"].as_str().unwrap_or(""),
        v["snapshot"].as_str().unwrap_or("")
    );
    if v["truncated"].as_bool() == Some(true) {
        text.push_str(&format!(
            "\n\n[Snapshot truncated at {max} characters; pass a larger maxChars, interactive=true or a selector to see the rest.]"
        ));
    }
    text.push_str(&format!(
        "\n\n[{refs} refs. Act on them with action=act, request={{kind, ref}}; refs expire when the page navigates.]"
    ));
    Ok(ToolOutput::text(text).with_details(json!({
        "targetId": target,
        "url": v["url"],
        "title": v["title"],
        "refs": refs,
        "truncated": v["truncated"],
    })))
}

async fn screenshot(b: &Browser, a: &Value) -> Result<ToolOutput, String> {
    let target = b.resolve(args::str(a, &["targetId"])).await?;
    let jpeg = match args::str(a, &["type"]) {
        None | Some("png") => false,
        Some("jpeg" | "jpg") => true,
        Some(other) => {
            return Err(format!(
                "screenshot: type must be png or jpeg, got {other:?}"
            ));
        }
    };
    let full_page = args::bool(a, "fullPage", "browser")?.unwrap_or(false);
    let bytes = b
        .screenshot(&target, full_page, args::str(a, &["ref"]), jpeg)
        .await?;
    if bytes.len() > MAX_SCREENSHOT_BYTES {
        return Err(format!(
            "the screenshot is {} bytes, over the {MAX_SCREENSHOT_BYTES}-byte limit; use type=jpeg, drop fullPage or capture one ref",
            bytes.len()
        ));
    }
    let mime = if jpeg { "image/jpeg" } else { "image/png" };
    let (url, _) = b.location(&target).await.unwrap_or_default();
    Ok(ToolOutput {
        content: vec![
            ContentBlock::text(format!(
                "Screenshot of {url} (targetId {target}) [{mime}, {} bytes]",
                bytes.len()
            )),
            ContentBlock::Image {
                data: base64::engine::general_purpose::STANDARD.encode(&bytes),
                mime_type: mime.to_string(),
            },
        ],
        details: Some(
            json!({"targetId": target, "url": url, "mimeType": mime, "bytes": bytes.len()}),
        ),
        is_error: false,
    })
}

/// Mouse events for a click at the centre of `ref`'s box; an element without a box (a styled
/// hidden input) gets a DOM `click()` instead.
async fn click(b: &Browser, target: &str, r: &str, req: &Value) -> Result<bool, String> {
    let at = b.on_ref(target, "locate", r, None).await?;
    if at["width"].as_f64().unwrap_or(0.0) < 1.0 || at["height"].as_f64().unwrap_or(0.0) < 1.0 {
        b.on_ref(target, "click", r, None).await?;
        return b.input(target, Vec::new()).await;
    }
    let (x, y) = (
        at["x"].as_f64().unwrap_or(0.0),
        at["y"].as_f64().unwrap_or(0.0),
    );
    let button = match req["button"].as_str().unwrap_or("left") {
        b @ ("left" | "right" | "middle") => b,
        other => {
            return Err(format!(
                "act: button must be left, right or middle, got {other:?}"
            ));
        }
    };
    let mut modifiers = 0;
    for m in req["modifiers"].as_array().into_iter().flatten() {
        modifiers |= match m.as_str().unwrap_or("") {
            "Alt" => 1,
            "Control" => 2,
            "Meta" => 4,
            "Shift" => 8,
            other => return Err(format!("act: unknown modifier {other:?}")),
        };
    }
    let mouse = |kind: &str, count: u32| json!({"type": kind, "x": x, "y": y, "button": button, "clickCount": count, "modifiers": modifiers});
    let mut events = vec![(
        "Input.dispatchMouseEvent",
        json!({"type": "mouseMoved", "x": x, "y": y, "modifiers": modifiers}),
    )];
    let clicks = if req["doubleClick"].as_bool() == Some(true) {
        2
    } else {
        1
    };
    for count in 1..=clicks {
        events.push(("Input.dispatchMouseEvent", mouse("mousePressed", count)));
        events.push(("Input.dispatchMouseEvent", mouse("mouseReleased", count)));
    }
    b.input(target, events).await
}

/// Focus a text field, replace its content with `text`, optionally press Enter.
async fn type_into(
    b: &Browser,
    target: &str,
    r: &str,
    text: &str,
    submit: bool,
) -> Result<bool, String> {
    b.on_ref(target, "focusForTyping", r, None).await?;
    let mut events = Vec::new();
    if text.is_empty() {
        let [down, up] = input::key_events("Delete")?;
        events.push(("Input.dispatchKeyEvent", down));
        events.push(("Input.dispatchKeyEvent", up));
    } else {
        events.push(("Input.insertText", json!({"text": text})));
    }
    if submit {
        let [down, up] = input::key_events("Enter")?;
        events.push(("Input.dispatchKeyEvent", down));
        events.push(("Input.dispatchKeyEvent", up));
    }
    b.input(target, events).await
}

async fn act(b: &Browser, a: &Value) -> Result<ToolOutput, String> {
    // OpenClaw nests the action in `request`; a flat call with `kind` at the top also works.
    let req = match a.get("request") {
        Some(r @ Value::Object(_)) => r.clone(),
        Some(Value::String(s)) => serde_json::from_str(s)
            .map_err(|e| format!("act: request is not a JSON object: {e}"))?,
        _ if a.get("kind").is_some() => a.clone(),
        _ => return Err("act: missing \"request\" ({kind, ref, ...})".into()),
    };
    let kind = req["kind"].as_str().unwrap_or("");
    let target_id = req["targetId"]
        .as_str()
        .or_else(|| args::str(a, &["targetId"]));
    let target = b.resolve(target_id).await?;
    let need_ref = || {
        req["ref"]
            .as_str()
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .ok_or_else(|| format!("act {kind}: missing \"ref\" (from the last snapshot)"))
    };
    let navigated = match kind {
        "click" => click(b, &target, need_ref()?, &req).await?,
        "hover" => {
            let at = b.on_ref(&target, "locate", need_ref()?, None).await?;
            let ev = json!({"type": "mouseMoved", "x": at["x"], "y": at["y"]});
            b.input(&target, vec![("Input.dispatchMouseEvent", ev)])
                .await?
        }
        "type" => {
            let text = req["text"].as_str().ok_or("act type: missing \"text\"")?;
            let submit = req["submit"].as_bool().unwrap_or(false);
            type_into(b, &target, need_ref()?, text, submit).await?
        }
        "fill" => {
            let fields = req["fields"]
                .as_array()
                .filter(|f| !f.is_empty())
                .ok_or("act fill: missing \"fields\" ([{ref, value}])")?;
            let mut navigated = false;
            for f in fields {
                let r = f["ref"]
                    .as_str()
                    .ok_or("act fill: every field needs a \"ref\"")?;
                let value = match f.get("value").or_else(|| f.get("text")) {
                    Some(Value::String(s)) => s.clone(),
                    Some(Value::Bool(v)) => v.to_string(),
                    Some(Value::Number(n)) => n.to_string(),
                    _ => return Err(format!("act fill: field {r} needs a \"value\"")),
                };
                navigated |= type_into(b, &target, r, &value, false).await?;
            }
            navigated
        }
        "press" => {
            let key = req["key"].as_str().ok_or("act press: missing \"key\"")?;
            let [down, up] = input::key_events(key)?;
            if let Some(r) = req["ref"].as_str() {
                b.on_ref(&target, "focus", r, None).await?;
            }
            b.input(
                &target,
                vec![
                    ("Input.dispatchKeyEvent", down),
                    ("Input.dispatchKeyEvent", up),
                ],
            )
            .await?
        }
        "select" => {
            let values: Vec<String> = match (&req["values"], &req["value"]) {
                (Value::Array(v), _) => v
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect(),
                (_, Value::String(s)) => vec![s.clone()],
                _ => return Err("act select: missing \"values\"".into()),
            };
            b.on_ref(&target, "select", need_ref()?, Some(json!(values)))
                .await?;
            b.input(&target, Vec::new()).await?
        }
        "close" => {
            b.close_tab(&target).await?;
            return Ok(json_output(
                json!({"ok": true, "kind": kind, "targetId": target}),
            ));
        }
        "" => {
            return Err(format!(
                "act: missing \"kind\" (one of {})",
                ACT_KINDS.join(", ")
            ));
        }
        other => {
            return Err(format!(
                "act kind {other:?} is not supported by this build; use one of {}",
                ACT_KINDS.join(", ")
            ));
        }
    };
    let (url, title) = b.location(&target).await.unwrap_or_default();
    Ok(json_output(json!({
        "ok": true, "kind": kind, "targetId": target, "url": url, "title": title, "navigated": navigated,
    })))
}

async fn run(ctx: &ToolContext, a: &Value) -> Result<ToolOutput, String> {
    let action = args::required_str(a, &["action"], "browser")?
        .trim()
        .to_ascii_lowercase();
    if !ACTIONS.contains(&action.as_str()) {
        return Err(format!(
            "browser: action {action:?} is not supported by this build; use one of {}",
            ACTIONS.join(", ")
        ));
    }
    let access = ctx
        .browser
        .as_ref()
        .ok_or("browser: no browser is available in this context")?;
    let source = service::choose(
        access,
        args::str(a, &["target"]),
        args::str(a, &["profile"]),
    )?;
    match action.as_str() {
        "status" => return Ok(json_output(status(access, &source).await)),
        "profiles" => return profiles(access).map(json_output),
        "stop" => {
            access.service.stop(&source).await;
            return Ok(json_output(status(access, &source).await));
        }
        _ => {}
    }
    // Check the URL before anything starts: a refused navigation launches nothing.
    let url = match action.as_str() {
        "open" | "navigate" => Some(url_arg(a)?),
        _ => None,
    };
    let b = access.service.get_or_start(&source).await?;
    let target_id = args::str(a, &["targetId"]);
    match action.as_str() {
        "start" => Ok(json_output(status(access, &source).await)),
        "tabs" => Ok(json_output(
            json!({"tabs": b.tabs().await?, "currentTab": b.current()}),
        )),
        "open" => {
            let (target, load) = b.open(url.as_deref().unwrap_or("about:blank")).await?;
            let (url, title) = b.location(&target).await?;
            Ok(json_output(json!({
                "targetId": target, "url": url, "title": title, "loaded": load == page::Load::Loaded,
            })))
        }
        "navigate" => {
            let target = b.resolve(target_id).await?;
            let load = b
                .navigate(&target, url.as_deref().unwrap_or("about:blank"))
                .await?;
            let (url, title) = b.location(&target).await?;
            Ok(json_output(json!({
                "ok": true, "targetId": target, "url": url, "title": title, "loaded": load == page::Load::Loaded,
            })))
        }
        "focus" => {
            let id = args::required_str(a, &["targetId"], "browser focus")?;
            let target = b.resolve(Some(id)).await?;
            b.focus(&target).await?;
            Ok(json_output(json!({"ok": true, "targetId": target})))
        }
        "close" => {
            let target = match target_id {
                Some(id) => b.resolve(Some(id)).await?,
                None => b
                    .current()
                    .ok_or("close: no current tab; pass targetId (see action=tabs)")?,
            };
            b.close_tab(&target).await?;
            Ok(json_output(json!({"ok": true, "targetId": target})))
        }
        "snapshot" => snapshot(&b, a).await,
        "screenshot" => screenshot(&b, a).await,
        "act" => act(&b, a).await,
        "console" => {
            let target = b.resolve(target_id).await?;
            let messages = b.console(&target, args::str(a, &["level"])).await?;
            Ok(json_output(
                json!({"targetId": target, "messages": messages}),
            ))
        }
        other => Err(format!("browser: action {other:?} is not supported")),
    }
}

#[async_trait]
impl Tool for BrowserTool {
    fn name(&self) -> &str {
        "browser"
    }

    fn description(&self) -> &str {
        "Control a web browser (Chromium over CDP): status/start/stop/profiles/tabs/open/focus/close/navigate/snapshot/screenshot/act/console. Use snapshot to read the page (a text outline with refs like e12), then act on those refs (request: {kind: click|type|press|hover|select|fill|close, ref, text, submit, key, values, fields}); snapshot again after the page changes, and keep passing the targetId from open/snapshot to stay on the same tab. Only http(s) URLs. target selects the browser (sandbox|host); default: the sandbox browser for sandboxed sessions, else the host browser."
    }

    fn parameters(&self) -> Value {
        json!({
            "type": "object",
            "properties": {
                "action": {"type": "string", "enum": ACTIONS},
                "target": {"type": "string", "enum": ["sandbox", "host"], "description": "Which browser (default: sandbox when sandboxed, else host)"},
                "profile": {"type": "string", "description": "Host browser profile (default browser.defaultProfile, \"openclaw\")"},
                "targetUrl": {"type": "string", "description": "open/navigate: http(s) URL"},
                "targetId": {"type": "string", "description": "Tab id from open/tabs/snapshot (default: the current tab)"},
                "maxChars": {"type": "number", "description": "snapshot: character budget (default 20000)"},
                "interactive": {"type": "boolean", "description": "snapshot: only interactive elements"},
                "selector": {"type": "string", "description": "snapshot: CSS selector of the part to outline"},
                "fullPage": {"type": "boolean", "description": "screenshot: the whole page, not just the viewport"},
                "ref": {"type": "string", "description": "screenshot: capture only this element"},
                "type": {"type": "string", "enum": ["png", "jpeg"], "description": "screenshot format"},
                "level": {"type": "string", "description": "console: least severe level shown (debug, info, warning, error)"},
                "request": {
                    "type": "object",
                    "description": "act: what to do",
                    "properties": {
                        "kind": {"type": "string", "enum": ACT_KINDS},
                        "ref": {"type": "string"},
                        "targetId": {"type": "string"},
                        "text": {"type": "string"},
                        "submit": {"type": "boolean"},
                        "key": {"type": "string"},
                        "values": {"type": "array", "items": {"type": "string"}},
                        "doubleClick": {"type": "boolean"},
                        "button": {"type": "string"},
                        "modifiers": {"type": "array", "items": {"type": "string"}},
                        "fields": {"type": "array", "items": {"type": "object"}}
                    },
                    "required": ["kind"]
                }
            },
            "required": ["action"]
        })
    }

    async fn call(&self, ctx: &ToolContext, a: Value, cancel: CancellationToken) -> ToolOutput {
        tokio::select! {
            out = run(ctx, &a) => out.unwrap_or_else(ToolOutput::error),
            () = cancel.cancelled() => ToolOutput::error("browser: cancelled"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn only_web_urls_pass() {
        assert_eq!(
            check_url("https://example.com/a?b=1").unwrap(),
            "https://example.com/a?b=1"
        );
        assert_eq!(
            check_url("http://127.0.0.1:8080").unwrap(),
            "http://127.0.0.1:8080/"
        );
        assert_eq!(check_url("example.com/x").unwrap(), "https://example.com/x");
        assert_eq!(
            check_url("localhost:3000").unwrap(),
            "https://localhost:3000/"
        );
        assert_eq!(check_url("about:blank").unwrap(), "about:blank");
        for bad in [
            "file:///etc/passwd",
            "FILE:///etc/passwd",
            "chrome://settings",
            "javascript:alert(1)",
            "data:text/html,hi",
            "view-source:https://example.com",
            "chrome-extension://abc/x.html",
        ] {
            let err = check_url(bad).unwrap_err();
            assert!(
                err.contains("only navigates to http:// and https://"),
                "{bad}: {err}"
            );
        }
        assert!(check_url("  ").is_err());
        assert!(check_url("/etc/passwd").is_err());
    }

    #[test]
    fn schema_is_flat() {
        let p = BrowserTool.parameters();
        assert_eq!(p["type"], "object");
        assert!(p.get("anyOf").is_none() && p.get("oneOf").is_none());
        assert_eq!(p["properties"]["action"]["enum"], json!(ACTIONS));
    }
}
