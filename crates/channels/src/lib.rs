//! openclaw-channels: chat-channel transports of the gateway.
//!
//! A message's path: the transport receives it ([`telegram`]: long polling; [`discord`]: the
//! gateway WebSocket) → access control and DM pairing (state in
//! `openclaw_store::channel_pairing`) → [`routing`] picks the agent and session key →
//! `openclaw_agent::AgentRuntime::submit`/`wait` runs the turn → the reply goes back to the chat
//! it came from. [`ChannelManager`] owns the running transports: the
//! gateway starts it with the config, re-applies it on every config change and shuts it down
//! with the server; `channels.status` and the `send` method read and use it.
//!
//! Telegram and Discord are implemented. WhatsApp is not: its config is accepted, reported as
//! not running, and `send` to it fails with that reason.

pub mod discord;
mod manager;
pub mod mentions;
mod pairing_allow;
mod pending_history;
pub mod routing;
mod status;
pub mod telegram;

use std::sync::{Arc, RwLock};

use openclaw_agent::AgentRuntime;
use openclaw_config::{EnvMap, OpenClawConfig, Paths};
use openclaw_store::ChannelPairingStore;

pub use manager::ChannelManager;

/// Why a channel operation failed; each message names the fix.
#[derive(Debug, thiserror::Error)]
pub enum ChannelError {
    #[error("unknown channel {0:?}: this gateway delivers to telegram and discord")]
    UnknownChannel(String),
    #[error(
        "{0} has no transport in openclaw-rs yet (its config is kept, but no messages are exchanged); use telegram or discord"
    )]
    Unsupported(String),
    #[error("no enabled {channel} account {account:?} with a bot token: {}", token_hint(.channel))]
    NotConfigured { channel: String, account: String },
    #[error("invalid {channel} target {target:?}: {hint}")]
    InvalidTarget {
        channel: &'static str,
        target: String,
        hint: &'static str,
    },
    #[error("the message is empty")]
    EmptyMessage,
    #[error("cannot build the HTTP client for the channel's proxy (channels.<channel>.proxy): {0}")]
    Proxy(String),
    #[error(transparent)]
    Api(#[from] telegram::ApiError),
    #[error(transparent)]
    DiscordApi(#[from] discord::ApiError),
}

fn token_hint(channel: &str) -> &'static str {
    match channel {
        "discord" => {
            "set channels.discord.token (or DISCORD_BOT_TOKEN for the default account), or fix the error `openclaw channels status` shows for it"
        }
        _ => {
            "set channels.telegram.botToken (or tokenFile, or TELEGRAM_BOT_TOKEN for the default account)"
        }
    }
}

/// What every transport shares: the agent runtime, the state paths and the current config.
pub(crate) struct Shared {
    pub runtime: Arc<AgentRuntime>,
    pub paths: Paths,
    pub env: EnvMap,
    pub pairing: ChannelPairingStore,
    config: RwLock<Arc<OpenClawConfig>>,
}

impl Shared {
    pub fn config(&self) -> Arc<OpenClawConfig> {
        self.config
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn set_config(&self, c: OpenClawConfig) {
        *self.config.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(c);
    }
}
