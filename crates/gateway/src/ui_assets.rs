//! The browser Control UI, embedded in the binary.
//!
//! Every file under `crates/gateway/ui/` is compiled in with `include_bytes!`, so the gateway
//! serves the dashboard with no files on disk and no build step (plain HTML/CSS/ES modules).
//! [`asset`] maps a request path (relative to `gateway.controlUi.basePath`) to the bytes and
//! content type. Paths that look like client-side routes (`/chat`, `/sessions`, …: no file
//! extension) get `index.html`, because the UI routes with `history.pushState`; a missing file
//! that has an extension (`/js/nope.js`) is `None`, so the caller answers 404 instead of
//! handing HTML to a script tag.
//!
//! The UI loads its files with relative URLs and computes its base path from its own module
//! URL, so the same bytes work at `/` and under any base path, provided the base path itself
//! is served with a trailing slash (`/openclaw/`).

/// One embedded file: path relative to `ui/`, its bytes, its content type.
struct Asset {
    path: &'static str,
    bytes: &'static [u8],
    content_type: &'static str,
}

const HTML: &str = "text/html; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";
const SVG: &str = "image/svg+xml";

macro_rules! asset {
    ($path:literal, $ct:expr) => {
        Asset {
            path: $path,
            bytes: include_bytes!(concat!("../ui/", $path)),
            content_type: $ct,
        }
    };
}

/// Every file of the UI. A test walks `ui/` and fails when a file is missing here.
static ASSETS: &[Asset] = &[
    asset!("index.html", HTML),
    asset!("favicon.svg", SVG),
    asset!("css/app.css", CSS),
    asset!("css/views.css", CSS),
    asset!("js/app.js", JS),
    asset!("js/auth-help.js", JS),
    asset!("js/device.js", JS),
    asset!("js/dialog.js", JS),
    asset!("js/dom.js", JS),
    asset!("js/format.js", JS),
    asset!("js/gateway.js", JS),
    asset!("js/store.js", JS),
    asset!("js/tabs/channels.js", JS),
    asset!("js/tabs/chat-view.js", JS),
    asset!("js/tabs/chat.js", JS),
    asset!("js/tabs/config.js", JS),
    asset!("js/tabs/devices.js", JS),
    asset!("js/tabs/logs.js", JS),
    asset!("js/tabs/overview.js", JS),
    asset!("js/tabs/sandbox.js", JS),
    asset!("js/tabs/sessions.js", JS),
];

const INDEX: &str = "index.html";

/// The file to serve for `path` (relative to the UI base path; a leading `/` and a query
/// string are ignored): `(bytes, content type)`.
///
/// `""`, `"/"` and extension-less routes such as `/chat` or `/sessions` give `index.html`;
/// an unknown path with a file extension gives `None`.
pub fn asset(path: &str) -> Option<(&'static [u8], &'static str)> {
    let path = path.split(['?', '#']).next().unwrap_or_default();
    let rel = path.trim_start_matches('/');
    if let Some(found) = find(rel) {
        return Some(found);
    }
    let last = rel.rsplit('/').next().unwrap_or_default();
    if rel.split('/').any(|seg| seg == "..") || last.contains('.') {
        return None;
    }
    find(INDEX)
}

fn find(rel: &str) -> Option<(&'static [u8], &'static str)> {
    ASSETS
        .iter()
        .find(|a| a.path == rel)
        .map(|a| (a.bytes, a.content_type))
}

/// Paths of every embedded file (relative to `ui/`), for listings and tests.
pub fn paths() -> impl Iterator<Item = &'static str> {
    ASSETS.iter().map(|a| a.path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;
    use std::path::{Path, PathBuf};

    fn ui_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("ui")
    }

    fn walk(dir: &Path, root: &Path, out: &mut BTreeSet<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, root, out);
            } else {
                let rel = path.strip_prefix(root).unwrap();
                let rel = rel.to_str().unwrap().replace('\\', "/");
                out.insert(rel);
            }
        }
    }

    fn files_on_disk() -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        walk(&ui_dir(), &ui_dir(), &mut out);
        out
    }

    #[test]
    fn every_ui_file_is_embedded_and_nothing_else() {
        let on_disk = files_on_disk();
        assert!(on_disk.len() >= 10, "ui/ looks empty: {on_disk:?}");
        let embedded: BTreeSet<String> = paths().map(String::from).collect();
        let missing: Vec<_> = on_disk.difference(&embedded).collect();
        assert!(
            missing.is_empty(),
            "add these files to ASSETS in ui_assets.rs: {missing:?}"
        );
        let stale: Vec<_> = embedded.difference(&on_disk).collect();
        assert!(stale.is_empty(), "ASSETS lists files not in ui/: {stale:?}");
    }

    #[test]
    fn embedded_bytes_match_the_files() {
        for path in paths() {
            let disk = std::fs::read(ui_dir().join(path)).unwrap();
            let (bytes, _) = asset(path).unwrap();
            assert_eq!(bytes, disk.as_slice(), "{path}");
        }
    }

    #[test]
    fn root_and_spa_routes_serve_index() {
        let index = std::fs::read(ui_dir().join("index.html")).unwrap();
        for path in [
            "",
            "/",
            "/chat",
            "/sessions",
            "/chat?session=agent:main:main",
            "overview",
            "/config#x",
        ] {
            let (bytes, ct) = asset(path).unwrap();
            assert_eq!(bytes, index.as_slice(), "{path}");
            assert_eq!(ct, HTML, "{path}");
        }
    }

    #[test]
    fn files_get_their_content_type() {
        assert_eq!(asset("/js/app.js").unwrap().1, JS);
        assert_eq!(asset("js/tabs/chat.js").unwrap().1, JS);
        assert_eq!(asset("/css/app.css").unwrap().1, CSS);
        assert_eq!(asset("/favicon.svg").unwrap().1, SVG);
        assert_eq!(asset("/index.html").unwrap().1, HTML);
    }

    #[test]
    fn unknown_files_and_traversal_are_not_found() {
        assert!(asset("/js/missing.js").is_none());
        assert!(asset("/robots.txt").is_none());
        assert!(asset("/../Cargo.toml").is_none());
        assert!(asset("/js/../../src").is_none());
    }

    /// The UI must never parse strings as HTML: everything from the gateway is untrusted.
    #[test]
    fn scripts_do_not_use_html_sinks() {
        for path in paths().filter(|p| p.ends_with(".js")) {
            let text = std::str::from_utf8(asset(path).unwrap().0).unwrap();
            for sink in [
                "innerHTML",
                "outerHTML",
                "insertAdjacentHTML",
                "document.write",
                "eval(",
                "new Function",
            ] {
                assert!(!text.contains(sink), "{path} uses {sink}");
            }
        }
    }

    /// No build step, no CDN, no web fonts: the dashboard works offline and under a base path.
    #[test]
    fn assets_are_relative_and_local() {
        for path in paths().filter(|p| !p.ends_with(".svg")) {
            let text = std::str::from_utf8(asset(path).unwrap().0).unwrap();
            for bad in [
                "src=\"/",
                "href=\"/",
                "from \"/",
                "src=\"http",
                "href=\"http",
                "from \"http",
                "url(http",
                "@import",
            ] {
                assert!(!text.contains(bad), "{path} contains {bad:?}");
            }
        }
    }

    #[test]
    fn ui_files_stay_small() {
        for path in paths() {
            let text = std::str::from_utf8(asset(path).unwrap().0).unwrap();
            let lines = text.lines().count();
            assert!(lines < 800, "{path} has {lines} lines; split it");
        }
    }
}
