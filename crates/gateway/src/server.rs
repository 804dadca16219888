//! Binding, serving and graceful shutdown.

use std::net::SocketAddr;

use axum::serve::ListenerExt;
use tokio::net::TcpListener;

use crate::services::Services;
use crate::state::{GatewayState, ServerSettings, SharedState};

#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error(
        "refusing to bind gateway to {addr} without auth: set gateway.auth.token (or pass --token / OPENCLAW_GATEWAY_TOKEN), or bind to loopback"
    )]
    InsecureBind { addr: SocketAddr },
    #[error(
        "cannot listen on {addr}: {source} (is another gateway running? try --force or another --port)"
    )]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("gateway server failed: {0}")]
    Serve(#[source] std::io::Error),
}

pub struct RunningGateway {
    state: SharedState,
    addr: SocketAddr,
    task: tokio::task::JoinHandle<Result<(), GatewayError>>,
}

/// Bind the listener and start serving in the background.
pub async fn start(
    settings: ServerSettings,
    services: Services,
) -> Result<RunningGateway, GatewayError> {
    let addr = settings.bind;
    if !addr.ip().is_loopback() && settings.auth.is_none() && !settings.allow_insecure_bind {
        return Err(GatewayError::InsecureBind { addr });
    }
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| GatewayError::Bind { addr, source })?;
    let local = listener
        .local_addr()
        .map_err(|source| GatewayError::Bind { addr, source })?;
    let state = GatewayState::new(settings, services);
    if let (Some(channels), Some(cfg)) = (&state.services.channels, &state.services.config) {
        channels.apply(&cfg.snapshot().config);
    }
    let app = crate::http::router(state.clone());
    // Small request/response frames: never wait for delayed ACKs.
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    let shutdown = state.shutdown.clone();
    let tick_state = state.clone();
    let channels = state.services.channels.clone();
    let agent = state.services.agent.clone();
    let task = tokio::spawn(async move {
        let health = tokio::spawn(health_loop(tick_state.clone()));
        let watcher = tokio::spawn(crate::config_service::watch(tick_state));
        let result = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move { shutdown.cancelled().await })
        .await
        .map_err(GatewayError::Serve);
        health.abort();
        watcher.abort();
        if let Some(channels) = &channels {
            channels.shutdown().await;
        }
        // Browsers the `browser` tool launched must not outlive the gateway.
        if let Some(agent) = &agent {
            agent.shutdown_browsers().await;
        }
        result
    });
    tracing::info!("listening on ws://{local}");
    Ok(RunningGateway {
        state,
        addr: local,
        task,
    })
}

/// Push a health snapshot every 60 s, as the baseline does.
async fn health_loop(state: SharedState) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(60));
    every.tick().await;
    loop {
        every.tick().await;
        state.broadcast_health(crate::methods::system::health_snapshot(&state));
    }
}

impl RunningGateway {
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn state(&self) -> &SharedState {
        &self.state
    }

    /// Tell every client (`shutdown` event, close 1001) and stop serving.
    pub async fn shutdown(self) -> Result<(), GatewayError> {
        self.state.shutdown.cancel();
        self.wait().await
    }

    /// Wait until the server stops (after `shutdown` is triggered through the state).
    pub async fn wait(self) -> Result<(), GatewayError> {
        match self.task.await {
            Ok(r) => r,
            Err(e) => Err(GatewayError::Serve(std::io::Error::other(e.to_string()))),
        }
    }
}
