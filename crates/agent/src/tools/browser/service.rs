//! Which browser a call drives, and the process-wide set of connected browsers.
//!
//! [`BrowserService`] is owned by the agent runtime and outlives turns: one entry per host
//! profile (`host:<profile>`) and per sandbox scope (`sandbox:<scope key>`). A browser whose
//! connection closed (it crashed, its container was recreated) is dropped on the next lookup
//! and started again on demand. [`BrowserService::shutdown`] (gateway shutdown) stops every
//! browser the gateway launched; dropping the service kills them too.
//!
//! [`choose`] decides where a call goes, and refuses with the config key to change: a
//! sandboxed session uses its scope's sandbox browser container
//! (`agents.defaults.sandbox.browser.enabled`), and reaches the host browser only with
//! `agents.defaults.sandbox.browser.allowHostControl`; everything else uses the host browser
//! (`browser.enabled`).

use std::collections::HashMap;
use std::sync::Arc;

use openclaw_sandbox::SandboxManager;

use super::cdp::browser_ws_url;
use super::config::{BrowserSettings, ProfileSource};
use super::launch::{HostChrome, LaunchOptions, find_executable, running_as_root};
use super::page::{Browser, BrowserInfo};
use crate::sandbox_backend::AgentSandbox;

/// What the `browser` tool may use in one turn (built by the runtime for each turn).
#[derive(Clone)]
pub struct BrowserAccess {
    pub service: Arc<BrowserService>,
    /// `browser.*`, or the config error (which names the key).
    pub host: Result<Arc<BrowserSettings>, String>,
    /// Set when the session is sandboxed.
    pub sandbox: Option<SandboxBrowser>,
}

impl std::fmt::Debug for BrowserAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BrowserAccess")
            .field("host_enabled", &self.host.as_ref().map(|s| s.enabled))
            .field("sandboxed", &self.sandbox.is_some())
            .finish_non_exhaustive()
    }
}

impl BrowserAccess {
    /// The access of one turn of `session_key`: its scope's sandbox browser when `sandbox`
    /// sandboxes the session, the host browser per `host` otherwise. Sandbox settings that
    /// did not resolve give no browser at all (fail closed, like the other tools).
    pub fn for_session(
        service: Arc<BrowserService>,
        host: Result<Arc<BrowserSettings>, String>,
        sandbox: &Result<Arc<AgentSandbox>, String>,
        manager: impl FnOnce() -> Arc<SandboxManager>,
        session_key: &str,
    ) -> BrowserAccess {
        match sandbox {
            Err(e) => BrowserAccess {
                service,
                host: Err(format!(
                    "Sandbox settings unresolved, browser not used: {e}"
                )),
                sandbox: None,
            },
            Ok(sb) => BrowserAccess {
                service,
                host,
                sandbox: sb.is_sandboxed(session_key).then(|| SandboxBrowser {
                    manager: manager(),
                    sandbox: sb.clone(),
                    session_key: session_key.to_string(),
                }),
            },
        }
    }
}

/// A sandboxed session's way to its scope's browser container.
#[derive(Clone)]
pub struct SandboxBrowser {
    pub manager: Arc<SandboxManager>,
    pub sandbox: Arc<AgentSandbox>,
    pub session_key: String,
}

/// Where one call goes.
#[derive(Clone)]
pub enum Source {
    Host {
        profile: String,
        source: ProfileSource,
        settings: Arc<BrowserSettings>,
    },
    Sandbox(SandboxBrowser),
}

impl Source {
    /// The key of this browser in the service.
    pub fn key(&self) -> String {
        match self {
            Source::Host { profile, .. } => format!("host:{profile}"),
            Source::Sandbox(sb) => format!(
                "sandbox:{}",
                openclaw_sandbox::naming::scope_key(
                    sb.sandbox.spec.scope,
                    &sb.sandbox.agent_id,
                    &sb.session_key
                )
            ),
        }
    }

    pub fn target(&self) -> &'static str {
        match self {
            Source::Host { .. } => "host",
            Source::Sandbox(_) => "sandbox",
        }
    }
}

/// Config key that turns the host browser on and off.
pub const ENABLED_KEY: &str = "browser.enabled";
/// Config key that gives sandboxed sessions their browser container.
pub const SANDBOX_ENABLED_KEY: &str = "agents.defaults.sandbox.browser.enabled";
/// Config key that lets sandboxed sessions drive the host browser.
pub const HOST_CONTROL_KEY: &str = "agents.defaults.sandbox.browser.allowHostControl";

/// Pick the browser for a call with `target` (`sandbox`/`host`) and `profile` parameters.
pub fn choose(
    access: &BrowserAccess,
    target: Option<&str>,
    profile: Option<&str>,
) -> Result<Source, String> {
    let target = target.map(str::trim).filter(|t| !t.is_empty());
    let sandbox = access.sandbox.as_ref();
    let want_sandbox = match target {
        None => sandbox.is_some(),
        Some("sandbox") => true,
        Some("host") => false,
        Some("node") => {
            return Err("target=\"node\" (a browser on a paired node) is not supported by this build; omit target".into());
        }
        Some(other) => {
            return Err(format!(
                "unknown target {other:?}; use \"sandbox\" or \"host\""
            ));
        }
    };
    if want_sandbox {
        let Some(sb) = sandbox else {
            return Err("target=\"sandbox\" needs a sandboxed session, and this one runs on the host; omit target to use the host browser".into());
        };
        if !sb.sandbox.spec.browser.enabled {
            return Err(format!(
                "The sandbox browser is disabled: set {SANDBOX_ENABLED_KEY} to true (build its image with scripts/sandbox-browser-setup.sh), or set {HOST_CONTROL_KEY} to true and use target=\"host\""
            ));
        }
        return Ok(Source::Sandbox(sb.clone()));
    }
    if let Some(sb) = sandbox
        && !sb.sandbox.spec.browser.allow_host_control
    {
        return Err(format!(
            "Host browser control is disabled for sandboxed sessions: set {HOST_CONTROL_KEY} to true, or omit target to use the sandbox browser"
        ));
    }
    let settings = access.host.clone()?;
    if !settings.enabled {
        return Err(format!(
            "Browser control is disabled: set {ENABLED_KEY} to true in the config (~/.openclaw/openclaw.json)"
        ));
    }
    let profile = settings.profile_name(profile).to_string();
    let source = settings.source(&profile)?;
    Ok(Source::Host {
        profile,
        source,
        settings,
    })
}

/// `browser.headless`, forced on when no X11 or Wayland display is available (a headed
/// browser could not start).
pub fn headless(settings: &BrowserSettings) -> bool {
    settings.headless
        || (std::env::var_os("DISPLAY").is_none() && std::env::var_os("WAYLAND_DISPLAY").is_none())
}

/// The browsers this process is connected to.
#[derive(Debug, Default)]
pub struct BrowserService {
    browsers: tokio::sync::Mutex<HashMap<String, Arc<Browser>>>,
}

impl BrowserService {
    pub fn new() -> BrowserService {
        BrowserService::default()
    }

    /// The live browser of `source`, if it is running.
    pub async fn get(&self, source: &Source) -> Option<Arc<Browser>> {
        let key = source.key();
        let mut map = self.browsers.lock().await;
        match map.get(&key) {
            Some(b) if b.is_alive() => Some(b.clone()),
            Some(_) => {
                if let Some(dead) = map.remove(&key) {
                    dead.shutdown().await;
                }
                None
            }
            None => None,
        }
    }

    /// The browser of `source`, started (or attached) when not running.
    pub async fn get_or_start(&self, source: &Source) -> Result<Arc<Browser>, String> {
        let key = source.key();
        let mut map = self.browsers.lock().await;
        if let Some(b) = map.get(&key) {
            if b.is_alive() {
                return Ok(b.clone());
            }
            if let Some(dead) = map.remove(&key) {
                dead.shutdown().await;
            }
        }
        let browser = start(source).await?;
        map.insert(key, browser.clone());
        Ok(browser)
    }

    /// Stop the browser of `source` (a launched one exits; an attached one is disconnected).
    /// False when it was not running.
    pub async fn stop(&self, source: &Source) -> bool {
        let removed = self.browsers.lock().await.remove(&source.key());
        match removed {
            Some(b) => {
                b.shutdown().await;
                true
            }
            None => false,
        }
    }

    /// Stop every browser (gateway shutdown).
    pub async fn shutdown(&self) {
        let all: Vec<Arc<Browser>> = self.browsers.lock().await.drain().map(|(_, b)| b).collect();
        for b in all {
            b.shutdown().await;
        }
    }
}

/// `ws://127.0.0.1:<published port><path of the reported URL>`.
fn sandbox_ws_url(port: u16, reported: &str) -> String {
    let path = reported
        .split_once("://")
        .and_then(|(_, rest)| rest.find('/').map(|i| &rest[i..]))
        .unwrap_or("/");
    format!("ws://127.0.0.1:{port}{path}")
}

async fn start(source: &Source) -> Result<Arc<Browser>, String> {
    match source {
        Source::Host {
            profile,
            source: ProfileSource::Attach { cdp_url },
            ..
        } => {
            let ws = browser_ws_url(cdp_url).await.map_err(|e| e.to_string())?;
            let info = BrowserInfo {
                target: "host".into(),
                profile: profile.clone(),
                cdp_url: super::cdp::redact(cdp_url),
                launched: false,
                pid: None,
                executable_path: None,
                headless: None,
                container: None,
            };
            Browser::connect(&ws, info, None).await
        }
        Source::Host {
            profile,
            source: ProfileSource::Launch,
            settings,
        } => {
            let configured = settings.executable_path.clone();
            let executable = tokio::task::spawn_blocking(move || {
                find_executable(configured.as_deref(), std::env::var_os("PATH").as_deref())
            })
            .await
            .map_err(|e| format!("browser lookup failed: {e}"))?
            .map_err(|e| e.to_string())?;
            let opts = LaunchOptions {
                executable,
                headless: headless(settings),
                // Chromium's sandbox cannot start as root without it (CI and containers run as
                // root); otherwise only when browser.noSandbox asks.
                no_sandbox: settings.no_sandbox || running_as_root(),
                extra_args: settings.extra_args.clone(),
            };
            let chrome = HostChrome::launch(&opts).await.map_err(|e| e.to_string())?;
            let info = BrowserInfo {
                target: "host".into(),
                profile: profile.clone(),
                cdp_url: chrome.ws_url().to_string(),
                launched: true,
                pid: chrome.pid(),
                executable_path: Some(chrome.executable().display().to_string()),
                headless: Some(opts.headless),
                container: None,
            };
            let ws = chrome.ws_url().to_string();
            tracing::info!(profile = %profile, pid = ?chrome.pid(), "host browser started");
            Browser::connect(&ws, info, Some(chrome)).await
        }
        Source::Sandbox(sb) => {
            let s = &sb.sandbox;
            let ensured = sb
                .manager
                .ensure_browser_with_main(
                    &s.spec,
                    &s.agent_id,
                    &sb.session_key,
                    &s.main_session_key,
                    &s.agent_workspace,
                )
                .await
                .map_err(|e| format!("Sandbox browser unavailable: {e}"))?;
            let endpoint = ensured.ok_or_else(|| {
                format!(
                    "Sandbox browser unavailable for this session: check {SANDBOX_ENABLED_KEY} and agents.defaults.sandbox.mode"
                )
            })?;
            let reported = match endpoint
                .version
                .as_ref()
                .and_then(|v| v.web_socket_debugger_url.clone())
            {
                Some(ws) => ws,
                None => browser_ws_url(&endpoint.cdp_url)
                    .await
                    .map_err(|e| e.to_string())?,
            };
            // Only the path is the browser's to say: the socket is the published loopback port,
            // whatever port the browser believes it listens on inside the container.
            let ws = sandbox_ws_url(endpoint.cdp_port, &reported);
            let info = BrowserInfo {
                target: "sandbox".into(),
                profile: "openclaw".into(),
                cdp_url: endpoint.cdp_url.clone(),
                launched: false,
                pid: None,
                executable_path: None,
                headless: Some(s.spec.browser.headless),
                container: Some(endpoint.container.clone()),
            };
            Browser::connect(&ws, info, None).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn sessions_get_the_browser_of_where_they_run() {
        let dir = std::env::temp_dir();
        let mut spec = openclaw_sandbox::SandboxSpec::defaults(&dir);
        spec.mode = openclaw_sandbox::spec::SandboxMode::NonMain;
        let sb = Arc::new(AgentSandbox {
            agent_id: "main".into(),
            spec,
            agent_workspace: dir.clone(),
            main_session_key: "agent:main:main".into(),
            main_key: "main".into(),
            tools: crate::policy::ToolPolicyInput::default(),
        });
        let service = Arc::new(BrowserService::new());
        let host: Result<Arc<BrowserSettings>, String> = Ok(Arc::default());
        let manager = || Arc::new(SandboxManager::new(dir.clone()));
        let access = |key: &str, sandbox: &Result<Arc<AgentSandbox>, String>| {
            BrowserAccess::for_session(service.clone(), host.clone(), sandbox, manager, key)
        };
        let main = access("agent:main:main", &Ok(sb.clone()));
        assert!(main.sandbox.is_none() && main.host.is_ok());
        let dm = access("agent:main:telegram:dm:1", &Ok(sb));
        assert!(dm.sandbox.is_some());
        let broken = access("agent:main:main", &Err("bad sandbox key".into()));
        assert!(broken.sandbox.is_none());
        assert!(broken.host.unwrap_err().contains("bad sandbox key"));
    }

    #[test]
    fn sandbox_socket_is_the_published_loopback_port() {
        assert_eq!(
            sandbox_ws_url(49153, "ws://127.0.0.1:9222/devtools/browser/abc"),
            "ws://127.0.0.1:49153/devtools/browser/abc"
        );
        assert_eq!(sandbox_ws_url(49153, "garbage"), "ws://127.0.0.1:49153/");
    }
}
