//! Which HTTP paths belong to the Control UI. Static files and the SPA's routes are served
//! without auth (auth happens on the WebSocket, as upstream); anything else is an API path
//! and needs the bearer credential.

/// The UI's file for `path` (relative to the base path), if the path belongs to the UI.
pub fn asset(path: &str) -> Option<(&'static [u8], &'static str)> {
    if is_ui_path(path) {
        crate::ui_assets::asset(path)
    } else {
        None
    }
}

/// SPA routes (client-side routing) and static files.
pub fn is_ui_path(path: &str) -> bool {
    let trimmed = path.trim_start_matches('/');
    let first = trimmed.split('/').next().unwrap_or("");
    let has_extension = trimmed
        .rsplit('/')
        .next()
        .is_some_and(|last| last.contains('.'));
    matches!(
        first,
        "" | "chat"
            | "overview"
            | "channels"
            | "sessions"
            | "config"
            | "sandbox"
            | "devices"
            | "logs"
            | "css"
            | "js"
    ) || (has_extension && !trimmed.contains('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ui_paths() {
        assert!(is_ui_path("/"));
        assert!(is_ui_path("/chat"));
        assert!(is_ui_path("/js/app.js"));
        assert!(is_ui_path("/favicon.svg"));
        assert!(!is_ui_path("/api/nothing"));
        assert!(!is_ui_path("/v1/chat/completions"));
        assert!(asset("/").is_some());
        assert!(asset("/sessions").is_some());
        assert!(asset("/js/app.js").is_some());
        assert!(asset("/api/x").is_none());
    }
}
