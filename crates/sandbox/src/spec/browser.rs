//! The `browser` block of the sandbox settings: the per-scope Chromium container the `browser`
//! tool drives. Split from the parent module so each block's merge rules read on their own.

use serde::{Deserialize, Serialize};

use crate::error::SandboxError;

/// Default sandbox browser image (built by `scripts/sandbox-browser-setup.sh`).
pub const DEFAULT_BROWSER_IMAGE: &str = "openclaw-sandbox-browser:bookworm-slim";
/// The dedicated bridge network browser containers join (created on demand).
pub const DEFAULT_BROWSER_NETWORK: &str = "openclaw-sandbox-browser";

/// The resolved `browser` block: the per-scope Chromium container the `browser` tool drives.
/// Serialized (camelCase) into the browser container's config hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BrowserSpec {
    pub enabled: bool,
    pub image: String,
    pub container_prefix: String,
    /// Docker network of the browser container (never `none`: CDP must be published).
    pub network: String,
    /// Container-side CDP port (published on a random 127.0.0.1 host port).
    pub cdp_port: u16,
    /// CIDR allowed to reach CDP inside the container (`OPENCLAW_BROWSER_CDP_SOURCE_RANGE`).
    pub cdp_source_range: Option<String>,
    pub vnc_port: u16,
    pub no_vnc_port: u16,
    pub headless: bool,
    /// noVNC observer (only when not headless).
    pub enable_no_vnc: bool,
    /// Sandboxed sessions may target the host browser (read by the `browser` tool).
    pub allow_host_control: bool,
    /// Wait for CDP to answer before handing out the endpoint.
    pub auto_start: bool,
    pub auto_start_timeout_ms: u64,
    /// When set (even empty) replaces `docker.binds` for the browser container.
    pub binds: Option<Vec<String>>,
}

impl Default for BrowserSpec {
    fn default() -> Self {
        BrowserSpec {
            enabled: false,
            image: DEFAULT_BROWSER_IMAGE.to_string(),
            container_prefix: "openclaw-sbx-browser-".to_string(),
            network: DEFAULT_BROWSER_NETWORK.to_string(),
            cdp_port: 9222,
            cdp_source_range: None,
            vnc_port: 5900,
            no_vnc_port: 6080,
            headless: false,
            enable_no_vnc: true,
            allow_host_control: false,
            auto_start: true,
            auto_start_timeout_ms: 12_000,
            binds: None,
        }
    }
}

impl BrowserSpec {
    /// Whether the noVNC port is published (noVNC on and not headless).
    pub fn no_vnc_published(&self) -> bool {
        self.enable_no_vnc && !self.headless
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct RawBrowser {
    enabled: Option<bool>,
    image: Option<String>,
    container_prefix: Option<String>,
    network: Option<String>,
    cdp_port: Option<u16>,
    cdp_source_range: Option<String>,
    vnc_port: Option<u16>,
    no_vnc_port: Option<u16>,
    headless: Option<bool>,
    enable_no_vnc: Option<bool>,
    /// Later spelling of `enableNoVnc`.
    no_vnc_enabled: Option<bool>,
    allow_host_control: Option<bool>,
    auto_start: Option<bool>,
    auto_start_timeout_ms: Option<u64>,
    binds: Option<Vec<String>>,
}

/// Agent over global key by key; `binds` concatenate, and configuring them at all (even `[]`)
/// replaces `docker.binds` for the browser container.
pub(super) fn merge_browser(g: RawBrowser, a: RawBrowser) -> Result<BrowserSpec, SandboxError> {
    let d = BrowserSpec::default();
    let key = "agents.defaults.sandbox.browser";
    let binds = match (g.binds, a.binds) {
        (None, None) => None,
        (g, a) => Some(g.into_iter().chain(a).flatten().collect()),
    };
    let enable_no_vnc = a
        .no_vnc_enabled
        .or(a.enable_no_vnc)
        .or(g.no_vnc_enabled)
        .or(g.enable_no_vnc)
        .unwrap_or(d.enable_no_vnc);
    let spec = BrowserSpec {
        enabled: a.enabled.or(g.enabled).unwrap_or(d.enabled),
        image: a.image.or(g.image).unwrap_or(d.image),
        container_prefix: a
            .container_prefix
            .or(g.container_prefix)
            .unwrap_or(d.container_prefix),
        network: a
            .network
            .or(g.network)
            .map(|n| n.trim().to_string())
            .filter(|n| !n.is_empty())
            .unwrap_or(d.network),
        cdp_port: a.cdp_port.or(g.cdp_port).unwrap_or(d.cdp_port),
        cdp_source_range: a
            .cdp_source_range
            .or(g.cdp_source_range)
            .map(|r| r.trim().to_string())
            .filter(|r| !r.is_empty()),
        vnc_port: a.vnc_port.or(g.vnc_port).unwrap_or(d.vnc_port),
        no_vnc_port: a.no_vnc_port.or(g.no_vnc_port).unwrap_or(d.no_vnc_port),
        headless: a.headless.or(g.headless).unwrap_or(d.headless),
        enable_no_vnc,
        allow_host_control: a
            .allow_host_control
            .or(g.allow_host_control)
            .unwrap_or(d.allow_host_control),
        auto_start: a.auto_start.or(g.auto_start).unwrap_or(d.auto_start),
        auto_start_timeout_ms: a
            .auto_start_timeout_ms
            .or(g.auto_start_timeout_ms)
            .unwrap_or(d.auto_start_timeout_ms),
        binds,
    };
    for (field, port) in [
        ("cdpPort", spec.cdp_port),
        ("vncPort", spec.vnc_port),
        ("noVncPort", spec.no_vnc_port),
    ] {
        if port == 0 {
            return Err(SandboxError::config(
                format!("{key}.{field}"),
                "must be a container port between 1 and 65535",
            ));
        }
    }
    if let Some(range) = &spec.cdp_source_range
        && !is_cidr(range)
    {
        return Err(SandboxError::config(
            format!("{key}.cdpSourceRange"),
            format!(
                "\"{range}\" is not a CIDR; use an address with a prefix such as \"172.21.0.1/32\""
            ),
        ));
    }
    if spec.image.trim().is_empty() {
        return Err(SandboxError::config(
            format!("{key}.image"),
            format!("must name an image; remove the key to use \"{DEFAULT_BROWSER_IMAGE}\""),
        ));
    }
    Ok(spec)
}

/// `a.b.c.d/n` or `ipv6/n` with a prefix that fits the address family.
fn is_cidr(s: &str) -> bool {
    let Some((addr, prefix)) = s.split_once('/') else {
        return false;
    };
    let Ok(prefix) = prefix.parse::<u8>() else {
        return false;
    };
    match addr.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(_)) => prefix <= 32,
        Ok(std::net::IpAddr::V6(_)) => prefix <= 128,
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use pretty_assertions::assert_eq;
    use serde_json::{Value, json};

    use super::*;
    use crate::spec::{SandboxSpec, resolve_in};

    fn r(g: Value, a: Value) -> SandboxSpec {
        resolve_in(
            Some(&g),
            Some(&a),
            Path::new("/state"),
            Path::new("/home/u"),
        )
        .unwrap()
    }

    #[test]
    fn browser_defaults_and_merge() {
        let s = resolve_in(None, None, Path::new("/s"), Path::new("/h")).unwrap();
        assert_eq!(s.browser, BrowserSpec::default());
        assert_eq!(s.browser.image, "openclaw-sandbox-browser:bookworm-slim");
        assert_eq!(s.browser.container_prefix, "openclaw-sbx-browser-");
        assert_eq!(s.browser.network, "openclaw-sandbox-browser");
        assert_eq!(
            (
                s.browser.cdp_port,
                s.browser.vnc_port,
                s.browser.no_vnc_port
            ),
            (9222, 5900, 6080)
        );
        assert_eq!(s.browser.auto_start_timeout_ms, 12_000);
        assert!(s.browser.auto_start && s.browser.enable_no_vnc && !s.browser.headless);

        let s = r(
            json!({"browser":{"enabled":true,"cdpPort":9300,"binds":["/a:/a"],"headless":true}}),
            json!({"browser":{"image":"b","binds":[],"noVncEnabled":false,
                   "cdpSourceRange":"172.21.0.1/32","autoStartTimeoutMs":500}}),
        );
        assert_eq!(
            s.browser,
            BrowserSpec {
                enabled: true,
                image: "b".into(),
                cdp_port: 9300,
                headless: true,
                enable_no_vnc: false,
                cdp_source_range: Some("172.21.0.1/32".into()),
                auto_start_timeout_ms: 500,
                binds: Some(vec!["/a:/a".into()]),
                ..BrowserSpec::default()
            }
        );
        assert!(!s.browser.no_vnc_published());
        let shared = r(
            json!({"scope":"shared","browser":{"enabled":true}}),
            json!({"browser":{"enabled":false,"image":"a"}}),
        );
        assert!(shared.browser.enabled);
        assert_eq!(shared.browser.image, DEFAULT_BROWSER_IMAGE);
    }

    #[test]
    fn browser_rejects_typos_and_bad_values() {
        let err = |g: Value| {
            resolve_in(Some(&g), None, Path::new("/s"), Path::new("/h"))
                .unwrap_err()
                .to_string()
        };
        let e = err(json!({"browser":{"cdpProrts":1}}));
        assert!(e.contains("agents.defaults.sandbox.browser"), "{e}");
        let e = err(json!({"browser":{"cdpSourceRange":"everyone"}}));
        assert!(e.contains("browser.cdpSourceRange"), "{e}");
        let e = err(json!({"browser":{"cdpPort":0}}));
        assert!(e.contains("browser.cdpPort"), "{e}");
        assert!(is_cidr("10.0.0.0/8") && is_cidr("::1/128"));
        assert!(!is_cidr("10.0.0.0/33") && !is_cidr("10.0.0.1"));
    }
}
