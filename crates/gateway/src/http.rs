//! HTTP on the gateway port: unauthenticated probes, the Control UI, the WebSocket upgrade
//! (same port, same path as the UI root), and bearer auth for every other route.

use std::net::SocketAddr;

use axum::Router;
use axum::body::Body;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;

use crate::state::SharedState;
use crate::ws::{PeerInfo, serve_socket};

pub fn router(state: SharedState) -> Router {
    let base = state.settings.base_path.clone();
    let mut app = Router::new()
        .route("/healthz", get(live))
        .route("/health", get(live))
        .route("/readyz", get(ready))
        .route("/ready", get(ready))
        .route("/startupz", get(startup))
        .route("/startup", get(startup))
        .route(
            "/v1/chat/completions",
            axum::routing::post(crate::openai_http::chat_completions),
        )
        .route("/v1/models", get(crate::openai_http::models));
    let root = if base.is_empty() {
        "/".to_string()
    } else {
        format!("{base}/")
    };
    app = app.route(&root, get(root_or_upgrade));
    if !base.is_empty() {
        // The UI's relative asset links need the trailing slash.
        let to = root.clone();
        app = app.route(
            &base,
            get(move || async move { axum::response::Redirect::permanent(&to) }),
        );
    }
    app.fallback(fallback).with_state(state)
}

async fn live() -> impl IntoResponse {
    axum::Json(json!({"ok": true, "status": "live"}))
}

async fn ready(State(state): State<SharedState>) -> Response {
    if state.shutdown.is_cancelled() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(json!({"ok": false, "status": "draining"})),
        )
            .into_response();
    }
    axum::Json(json!({"ok": true, "status": "ready"})).into_response()
}

async fn startup(State(state): State<SharedState>) -> Response {
    if state.shutdown.is_cancelled() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(json!({"status": "draining"})),
        )
            .into_response();
    }
    axum::Json(json!({"status": "started"})).into_response()
}

async fn root_or_upgrade(
    State(state): State<SharedState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    uri: Uri,
    ws: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> Response {
    let Ok(ws) = ws else {
        return serve_ui(&state, uri.path());
    };
    let origin = headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let origin_allowed = state.origins.allows(origin.as_deref(), host);
    let forwarded = ["x-forwarded-for", "forwarded", "x-real-ip"]
        .iter()
        .any(|h| headers.contains_key(*h));
    let peer = PeerInfo {
        addr,
        origin,
        origin_allowed,
        forwarded,
    };
    let max = state.settings.policy.max_payload as usize;
    ws.max_message_size(max + 1)
        .max_frame_size(max + 1)
        .on_upgrade(move |socket| serve_socket(state, socket, peer))
}

fn serve_ui(state: &SharedState, path: &str) -> Response {
    if !state.settings.control_ui_enabled {
        return (
            StatusCode::NOT_FOUND,
            "Control UI is disabled (gateway.controlUi.enabled)",
        )
            .into_response();
    }
    let rel = path
        .strip_prefix(state.settings.base_path.as_str())
        .unwrap_or(path);
    match crate::ui::asset(rel) {
        Some((bytes, content_type)) => Response::builder()
            .header(header::CONTENT_TYPE, content_type)
            .header(header::CACHE_CONTROL, "no-cache")
            .header("x-content-type-options", "nosniff")
            .header(
                header::CONTENT_SECURITY_POLICY,
                "default-src 'self'; img-src 'self' data: blob:; connect-src 'self' ws: wss:; frame-ancestors 'none'",
            )
            .body(Body::from(bytes))
            .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response()),
        None => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}

/// Everything else: the UI's static files and SPA routes (no auth, as upstream: auth happens
/// on the WebSocket), or a bearer-protected API route.
async fn fallback(State(state): State<SharedState>, req: Request) -> Response {
    let path = req.uri().path().to_string();
    let base = state.settings.base_path.as_str();
    if req.method() == axum::http::Method::GET
        && path.starts_with(base)
        && crate::ui::is_ui_path(&path[base.len()..])
    {
        return serve_ui(&state, &path);
    }
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if !state.settings.auth.check_bearer(bearer) {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
            axum::Json(json!({"ok": false, "error": {"type": "unauthorized", "message": "missing or invalid bearer token"}})),
        )
            .into_response();
    }
    (StatusCode::NOT_FOUND, axum::Json(json!({"ok": false, "error": {"type": "not_found", "message": format!("no route for {path}")}})))
        .into_response()
}
