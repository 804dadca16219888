//! Control UI assets. The real UI lives in `ui/` and is embedded by `ui_assets`; until it is
//! present this serves a small placeholder page.

const PLACEHOLDER: &str = "<!doctype html><html><head><meta charset=\"utf-8\"><title>OpenClaw</title></head><body><h1>OpenClaw Gateway</h1><p>The Control UI will live here.</p></body></html>";

pub fn asset(path: &str) -> Option<(&'static [u8], &'static str)> {
    match path {
        "" | "/" | "/index.html" => Some((PLACEHOLDER.as_bytes(), "text/html; charset=utf-8")),
        p if is_ui_path(p) => Some((PLACEHOLDER.as_bytes(), "text/html; charset=utf-8")),
        _ => None,
    }
}

/// SPA routes and static files the UI owns (served without auth).
pub fn is_ui_path(path: &str) -> bool {
    let first = path.trim_start_matches('/').split('/').next().unwrap_or("");
    matches!(
        first,
        "" | "index.html" | "chat" | "overview" | "channels" | "sessions" | "config" | "sandbox"
            | "devices" | "logs" | "css" | "js" | "assets" | "favicon.ico" | "favicon.svg"
    )
}
