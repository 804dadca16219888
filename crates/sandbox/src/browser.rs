//! The sandbox browser: one Chromium container per scope (`openclaw-sbx-browser-<slug>`, the
//! same slug as the scope's sandbox container) that the `browser` tool drives over CDP.
//!
//! It gets the sandbox container's posture and workspace mounts from the same pure
//! `build_create_body`, then three differences that a browser needs: the image's own entrypoint
//! instead of `sleep infinity`, the dedicated `openclaw-sandbox-browser` bridge network (created
//! on demand; `none` is refused because nothing could reach CDP), and the CDP port (plus noVNC
//! when not headless) published on 127.0.0.1 only, at a random host port read back from the
//! engine. Unless `cdpSourceRange` is set, CDP inside the container accepts only the network's
//! gateway (`<gw>/32`, where host-published traffic comes from), so other containers on the
//! shared browser network cannot drive this scope's browser. A container is handed out only once `http://127.0.0.1:<port>/json/version` answers;
//! one that does not answer within `autoStartTimeoutMs` is removed, with its last output in the
//! error. Config drift, the hot-container rule, the registry (`browsers.json`) and prune work as
//! for the sandbox container.
//!
//! Not here: the tool policy gate (`browser` must be allowed; the agent crate decides), and the
//! per-scope HTTP bridge in front of CDP.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bollard::models::{ContainerCreateBody, PortBinding};
use serde::Serialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::engine::{Engine, PublishedPort};
use crate::error::{SandboxError, now_ms};
use crate::hash::browser_config_hash;
use crate::lifecycle::{HOT_WINDOW_MS, ScopeDirs, load_seccomp, prepare_workspace, recreate_hint};
use crate::manage::DoodMounts;
use crate::naming::container_name;
use crate::posture::{CreateLabels, WorkspaceMounts, build_create_body};
use crate::registry::{Registry, RegistryEntry};
use crate::spec::{BrowserSpec, DockerSpec, SandboxSpec};
use crate::validate::validate;

/// Label marking browser containers (on top of `openclaw.sandbox=1`).
pub const LABEL_SANDBOX_BROWSER: &str = "openclaw.sandboxBrowser";
/// Deadline of one `/json/version` probe.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(1);
/// Pause between readiness probes.
pub const PROBE_INTERVAL: Duration = Duration::from_millis(150);
/// Largest `/json/version` answer we read.
const MAX_PROBE_BYTES: usize = 64 * 1024;
/// Loopback only: CDP gives full control of the browser, so it is never published wider.
const PUBLISH_IP: &str = "127.0.0.1";
const KEY: &str = "agents.defaults.sandbox.browser";
const CDP_SOURCE_RANGE_ENV: &str = "OPENCLAW_BROWSER_CDP_SOURCE_RANGE";

/// What `/json/version` told us.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CdpVersion {
    /// `Browser`, e.g. `Chrome/120.0.6099.224`.
    pub browser: Option<String>,
    /// `webSocketDebuggerUrl` (already pointing at the published host port).
    pub web_socket_debugger_url: Option<String>,
}

/// A ready sandbox browser for one scope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BrowserEndpoint {
    pub container: String,
    pub scope_key: String,
    /// `http://127.0.0.1:<host port>`: the CDP HTTP endpoint.
    pub cdp_url: String,
    /// The 127.0.0.1 host port publishing CDP.
    pub cdp_port: u16,
    /// noVNC observer URL (noVNC enabled and not headless).
    pub no_vnc_url: Option<String>,
    pub no_vnc_port: Option<u16>,
    pub config_hash: String,
    /// True when this call created the container.
    pub created: bool,
    /// CDP answered (always true with `autoStart`; otherwise one probe decided).
    pub ready: bool,
    pub version: Option<CdpVersion>,
    /// Set when a hot container with a stale config was kept.
    pub warning: Option<String>,
    pub validation_warnings: Vec<String>,
}

/// Process-wide browser state: the registry and one create lock per container name (so two
/// sessions of a scope never race to create the same container). The lock map holds one entry
/// per browser container this process has ensured, which the number of scopes bounds.
#[derive(Debug)]
pub struct BrowserState {
    registry: Registry,
    locks: std::sync::Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl BrowserState {
    /// State for `state_dir` (`sandbox/browsers.json`).
    pub fn new(state_dir: &Path) -> BrowserState {
        BrowserState {
            registry: Registry::browsers(state_dir),
            locks: std::sync::Mutex::new(HashMap::new()),
        }
    }

    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    fn lock_for(&self, name: &str) -> Arc<tokio::sync::Mutex<()>> {
        self.locks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(name.to_string())
            .or_default()
            .clone()
    }
}

/// The browser container's docker block: the sandbox's, with the browser image, the browser
/// network, `browser.binds` when configured, and the `OPENCLAW_BROWSER_*` contract in the env.
/// `setupCommand` is dropped: the browser image is not a shell to provision.
pub fn browser_docker(spec: &SandboxSpec) -> Result<DockerSpec, SandboxError> {
    let b = &spec.browser;
    if b.network == "none" {
        return Err(SandboxError::config(
            format!("{KEY}.network"),
            "\"none\" cannot work for the sandbox browser: its CDP port must be published to 127.0.0.1, which needs a network. Remove the key to use the dedicated \"openclaw-sandbox-browser\" bridge network",
        ));
    }
    let mut docker = spec.docker.clone();
    docker.image = b.image.clone();
    docker.network = b.network.clone();
    docker.setup_command = None;
    if let Some(binds) = &b.binds {
        docker.binds = binds.clone();
    }
    docker.env.extend(browser_env(b));
    Ok(docker)
}

/// The env contract of the browser image's entrypoint.
pub fn browser_env(b: &BrowserSpec) -> Vec<(String, String)> {
    let flag = |v: bool| if v { "1" } else { "0" }.to_string();
    let mut env = vec![
        ("OPENCLAW_BROWSER_HEADLESS".to_string(), flag(b.headless)),
        (
            "OPENCLAW_BROWSER_ENABLE_NOVNC".to_string(),
            flag(b.enable_no_vnc),
        ),
        (
            "OPENCLAW_BROWSER_CDP_PORT".to_string(),
            b.cdp_port.to_string(),
        ),
        (
            "OPENCLAW_BROWSER_VNC_PORT".to_string(),
            b.vnc_port.to_string(),
        ),
        (
            "OPENCLAW_BROWSER_NOVNC_PORT".to_string(),
            b.no_vnc_port.to_string(),
        ),
        // Chromium's own sandbox needs user namespaces or setuid, which cap-drop ALL and
        // no-new-privileges take away; the container is the sandbox.
        ("OPENCLAW_BROWSER_NO_SANDBOX".to_string(), "1".to_string()),
    ];
    if let Some(range) = &b.cdp_source_range {
        env.push((CDP_SOURCE_RANGE_ENV.to_string(), range.clone()));
    }
    env
}

/// The spec the browser container is built and validated from (docker block swapped).
pub fn browser_create_spec(spec: &SandboxSpec) -> Result<SandboxSpec, SandboxError> {
    let mut out = spec.clone();
    out.docker = browser_docker(spec)?;
    Ok(out)
}

/// The complete create body of a browser container. Pure. `spec` is the output of
/// `browser_create_spec`: the posture comes from `build_create_body`, then the entrypoint,
/// the browser label and the loopback-only port publishing are applied.
pub fn build_browser_create_body(
    spec: &SandboxSpec,
    mounts: &WorkspaceMounts,
    labels: &CreateLabels,
) -> Result<ContainerCreateBody, SandboxError> {
    let mut body = build_create_body(spec, mounts, labels)?;
    body.cmd = None;
    body.labels
        .get_or_insert_with(HashMap::new)
        .insert(LABEL_SANDBOX_BROWSER.to_string(), "1".to_string());
    let mut ports = vec![format!("{}/tcp", spec.browser.cdp_port)];
    if spec.browser.no_vnc_published() {
        ports.push(format!("{}/tcp", spec.browser.no_vnc_port));
    }
    let bindings = ports
        .iter()
        .map(|p| {
            (
                p.clone(),
                Some(vec![PortBinding {
                    host_ip: Some(PUBLISH_IP.to_string()),
                    host_port: Some(String::new()),
                }]),
            )
        })
        .collect();
    body.exposed_ports = Some(ports);
    if let Some(hc) = body.host_config.as_mut() {
        hc.port_bindings = Some(bindings);
    }
    Ok(body)
}

/// Ensure the browser container of `scope_key` exists, runs, matches `spec` and (with
/// `autoStart`) answers CDP. `spec.browser.enabled` is the caller's decision.
pub async fn ensure_browser(
    engine: &Engine,
    state: &BrowserState,
    spec: &SandboxSpec,
    scope_key: &str,
    dirs: &ScopeDirs,
    host_paths: Option<&DoodMounts>,
) -> Result<BrowserEndpoint, SandboxError> {
    let b = &spec.browser;
    let name = container_name(&b.container_prefix, spec.scope, scope_key);
    let create_spec = browser_create_spec(spec)?;
    let mounts = WorkspaceMounts::for_access(
        spec.workspace_access,
        dirs.sandbox_workspace.clone(),
        dirs.agent_workspace.clone(),
    );
    let home = crate::spec::home_dir();
    let validation_warnings = validate(
        &create_spec,
        &mounts.workspace_dir,
        &dirs.agent_workspace,
        &home,
    )?;
    let expected = browser_config_hash(
        &create_spec.docker,
        b,
        spec.workspace_access,
        &mounts.workspace_dir,
        &dirs.agent_workspace,
    );

    let lock = state.lock_for(&name);
    let _guard = lock.lock().await;
    let now = now_ms();
    let existing = engine.inspect(&name).await?;
    let prior = state.registry.get(&name).await?;
    let mut warning = None;
    let mut recorded_hash = expected.clone();
    let keep = match &existing {
        None => false,
        Some(info) => {
            let current = info
                .config_hash()
                .map(str::to_string)
                .or_else(|| prior.as_ref().and_then(|p| p.config_hash.clone()));
            if current.as_deref() == Some(expected.as_str()) {
                true
            } else if info.running
                && prior
                    .as_ref()
                    .is_none_or(|p| now - p.last_used_at_ms < HOT_WINDOW_MS)
            {
                let hint = format!("{} --browser", recreate_hint(spec.scope, scope_key));
                let msg = format!(
                    "Sandbox browser config changed for {name} (recently used). Recreate to apply: {hint}"
                );
                tracing::warn!("{msg}");
                warning = Some(msg);
                recorded_hash = current.unwrap_or_default();
                true
            } else {
                engine.remove(&name).await?;
                state.registry.remove(&name).await?;
                false
            }
        }
    };

    let mut created_at = now;
    if keep {
        if let Some(info) = &existing {
            created_at = prior
                .as_ref()
                .map(|p| p.created_at_ms)
                .or(info.created_at_ms())
                .unwrap_or(now);
            if !info.running {
                engine.start(&name).await?;
            }
        }
    } else {
        create(
            engine,
            spec,
            &create_spec,
            &name,
            scope_key,
            &expected,
            dirs,
            &mounts,
            host_paths,
        )
        .await?;
    }

    let published = engine.published_ports(&name).await?;
    let Some((cdp_port, no_vnc_port)) = pick_ports(b, &published) else {
        let detail = format!(
            "has no 127.0.0.1 host port for CDP ({}/tcp); published: {published:?}",
            b.cdp_port
        );
        return Err(discard(engine, state, &name, detail).await);
    };
    let version = if b.auto_start {
        match wait_for_cdp(cdp_port, Duration::from_millis(b.auto_start_timeout_ms)).await {
            Some(v) => Some(v),
            None => {
                let mut detail = format!(
                    "did not answer http://{PUBLISH_IP}:{cdp_port}/json/version within {} ms ({KEY}.autoStartTimeoutMs)",
                    b.auto_start_timeout_ms
                );
                if host_paths.is_some() {
                    detail.push_str(
                        "; the gateway runs in a container and cannot reach the Docker host's 127.0.0.1",
                    );
                } else if b.cdp_source_range.is_none() {
                    detail.push_str(&format!(
                        "; CDP accepts only the browser network's gateway by default: if this Docker routes published ports from another address, set {KEY}.cdpSourceRange"
                    ));
                }
                return Err(discard(engine, state, &name, detail).await);
            }
        }
    } else {
        probe_cdp(cdp_port).await
    };

    state
        .registry
        .upsert(RegistryEntry {
            container_name: name.clone(),
            session_key: scope_key.to_string(),
            created_at_ms: created_at,
            last_used_at_ms: now,
            image: b.image.clone(),
            config_hash: Some(recorded_hash),
            cdp_port: Some(cdp_port),
            no_vnc_port,
        })
        .await?;
    Ok(BrowserEndpoint {
        container: name,
        scope_key: scope_key.to_string(),
        cdp_url: format!("http://{PUBLISH_IP}:{cdp_port}"),
        cdp_port,
        no_vnc_url: no_vnc_port
            .map(|p| format!("http://{PUBLISH_IP}:{p}/vnc.html?autoconnect=1&resize=remote")),
        no_vnc_port,
        config_hash: expected,
        created: !keep,
        ready: version.is_some(),
        version,
        warning,
        validation_warnings,
    })
}

/// Create and start a new browser container; a half-made one is removed.
#[expect(clippy::too_many_arguments)]
async fn create(
    engine: &Engine,
    spec: &SandboxSpec,
    create_spec: &SandboxSpec,
    name: &str,
    scope_key: &str,
    hash: &str,
    dirs: &ScopeDirs,
    mounts: &WorkspaceMounts,
    host_paths: Option<&DoodMounts>,
) -> Result<(), SandboxError> {
    let image = &spec.browser.image;
    if !engine.image_exists(image).await? {
        return Err(SandboxError::ImageMissing {
            image: image.clone(),
            hint: format!(
                "Build it with scripts/sandbox-browser-setup.sh, or set {KEY}.image (the sandbox browser needs an image with Chromium)"
            ),
        });
    }
    prepare_workspace(spec, dirs).await?;
    let network = &create_spec.docker.network;
    engine
        .ensure_network(
            network,
            HashMap::from([(LABEL_SANDBOX_BROWSER.to_string(), "1".to_string())]),
        )
        .await?;
    let mut create_spec = create_spec.clone();
    create_spec.docker.seccomp_profile =
        load_seccomp(create_spec.docker.seccomp_profile.as_deref()).await?;
    if spec.browser.cdp_source_range.is_none()
        && let Some(gw) = engine.network_gateway(network).await?
    {
        create_spec
            .docker
            .env
            .insert(CDP_SOURCE_RANGE_ENV.to_string(), format!("{gw}/32"));
    }
    let labels = CreateLabels {
        scope_key: scope_key.to_string(),
        created_at_ms: now_ms(),
        config_hash: hash.to_string(),
    };
    let mut body = build_browser_create_body(&create_spec, mounts, &labels)?;
    if let (Some(t), Some(hc)) = (host_paths, body.host_config.as_mut()) {
        hc.binds = Some(t.translate_binds(hc.binds.as_deref().unwrap_or_default())?);
    }
    engine.create(name, body).await?;
    if let Err(e) = engine.start(name).await {
        if let Err(rm) = engine.remove(name).await {
            tracing::warn!(container = %name, error = %rm, "could not remove half-made sandbox browser container");
        }
        return Err(e);
    }
    Ok(())
}

/// The 127.0.0.1 host ports publishing CDP and (when configured) noVNC; `None` without CDP.
pub fn pick_ports(b: &BrowserSpec, published: &[PublishedPort]) -> Option<(u16, Option<u16>)> {
    let find = |port: u16| {
        let key = format!("{port}/tcp");
        published
            .iter()
            .find(|p| p.container_port == key && p.host_ip == PUBLISH_IP)
            .map(|p| p.host_port)
    };
    let cdp = find(b.cdp_port)?;
    let no_vnc = if b.no_vnc_published() {
        find(b.no_vnc_port)
    } else {
        None
    };
    Some((cdp, no_vnc))
}

/// Remove a browser container that cannot be used (with its last output for the error) and
/// its registry entry.
async fn discard(
    engine: &Engine,
    state: &BrowserState,
    name: &str,
    detail: String,
) -> SandboxError {
    let logs = engine.tail_logs(name, 20).await;
    if let Err(e) = engine.remove(name).await {
        tracing::warn!(container = %name, error = %e, "could not remove unusable sandbox browser container");
    }
    if let Err(e) = state.registry.remove(name).await {
        tracing::warn!(container = %name, error = %e, "could not drop sandbox browser registry entry");
    }
    let logs = logs.trim();
    let detail = if logs.is_empty() {
        detail
    } else {
        format!("{detail}. Last output:\n{logs}")
    };
    SandboxError::BrowserNotReady {
        container: name.to_string(),
        detail,
    }
}

/// Poll `/json/version` on `127.0.0.1:port` until it answers 200 or `timeout` passes.
pub async fn wait_for_cdp(port: u16, timeout: Duration) -> Option<CdpVersion> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = probe_cdp(port).await {
            return Some(v);
        }
        if Instant::now() + PROBE_INTERVAL >= deadline {
            return None;
        }
        tokio::time::sleep(PROBE_INTERVAL).await;
    }
}

/// One `GET /json/version` on `127.0.0.1:port` (`PROBE_TIMEOUT`); `None` unless 200.
pub async fn probe_cdp(port: u16) -> Option<CdpVersion> {
    let fetch = async {
        let mut stream = tokio::net::TcpStream::connect((PUBLISH_IP, port))
            .await
            .ok()?;
        // Chromium builds webSocketDebuggerUrl from the Host header, so this makes it point at
        // the published port. It ignores HTTP/1.0 requests and keeps HTTP/1.1 connections open
        // whatever the Connection header says, so the answer ends where its Content-Length
        // says (or at EOF, for simpler servers).
        let req = format!(
            "GET /json/version HTTP/1.1\r\nHost: {PUBLISH_IP}:{port}\r\nAccept: application/json\r\nConnection: close\r\n\r\n"
        );
        stream.write_all(req.as_bytes()).await.ok()?;
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        while buf.len() < MAX_PROBE_BYTES && !response_complete(&buf) {
            let n = stream.read(&mut chunk).await.ok()?;
            if n == 0 {
                break;
            }
            buf.extend_from_slice(&chunk[..n]);
        }
        Some(buf)
    };
    let raw = tokio::time::timeout(PROBE_TIMEOUT, fetch).await.ok()??;
    parse_version_response(&raw)
}

/// Whether `raw` holds a response head and its whole `Content-Length` body.
fn response_complete(raw: &[u8]) -> bool {
    let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") else {
        return false;
    };
    let head = String::from_utf8_lossy(&raw[..end]);
    let length = head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim()
            .eq_ignore_ascii_case("content-length")
            .then(|| v.trim().parse::<usize>().ok())
            .flatten()
    });
    length.is_some_and(|len| raw.len() >= end + 4 + len)
}

/// A 200 answer to `/json/version` → its fields (a non-JSON body still counts as ready).
fn parse_version_response(raw: &[u8]) -> Option<CdpVersion> {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.lines().next()?;
    let mut parts = status.split_whitespace();
    if !parts.next()?.starts_with("HTTP/") || parts.next()? != "200" {
        return None;
    }
    let json: serde_json::Value = serde_json::from_str(body.trim()).unwrap_or_default();
    let field = |k: &str| json.get(k).and_then(|v| v.as_str()).map(str::to_string);
    Some(CdpVersion {
        browser: field("Browser"),
        web_socket_debugger_url: field("webSocketDebuggerUrl"),
    })
}

#[cfg(test)]
#[path = "browser_tests.rs"]
mod tests;
