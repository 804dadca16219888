//! The OpenClaw gateway server: one port for HTTP and the WebSocket control protocol.
//!
//! A message's path through this crate: `http.rs` upgrades the socket → `ws.rs` runs the
//! handshake and the per-connection loops → `methods/` dispatches each request to a handler,
//! which calls into the agent runtime, the store or the sandbox through `services.rs` →
//! events flow back through `events.rs` to every connection that may see them.

pub mod auth;
pub mod config_service;
pub mod events;
pub mod http;
pub mod methods;
pub mod openai_http;
pub mod pairing;
pub mod server;
pub mod services;
pub mod state;
pub mod ui;
pub mod ui_assets;
pub mod ws;

pub use auth::{AuthConfig, Secret};
pub use server::{GatewayError, RunningGateway, start};
pub use services::Services;
pub use state::{GatewayState, ServerSettings, SharedState};
