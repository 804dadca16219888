//! Persistent state of the gateway: session index, transcripts, device pairing and the CLI's
//! own device identity, in the on-disk layout of OpenClaw 2026.2 (legacy JSON/JSONL files), so an
//! existing `~/.openclaw` state dir is read and written in place.
//!
//! Modules, one noun each:
//! - [`layout`]: where every file lives under the state dir.
//! - [`session_key`]: parse, build and classify session keys (`agent:<id>:<rest>`).
//! - [`index`]: `sessions.json`, held in memory by one [`SessionStore`] whose writer task
//!   coalesces writes.
//! - [`transcript`]: `<sessionId>.jsonl` (pi-coding-agent v3 lines), a writer task per open
//!   transcript, the loader and the model-context builder.
//! - [`reset`]: daily/idle reset decisions, `/new`/`/reset` trigger detection (pure), and
//!   `reset_session` (new id, old transcript archived).
//! - [`channel_pairing`]: DM pairing of chat channels (`credentials/<channel>-pairing.json`,
//!   `credentials/<channel>-allowFrom.json`).
//! - [`devices`]: paired devices and pending pairing requests (`devices/*.json`).
//! - [`identity`]: the CLI's Ed25519 device identity, cached device tokens, and the connect
//!   payload builders + signature check shared by client and gateway.
//! - [`atomic_file`]: temp + fsync + rename writes with 0600 files and 0700 dirs.
//! - [`media`]: inbound media files (`media/inbound/<uuid><ext>`) and their MIME types.
//!
//! This crate never blocks the async runtime: disk work runs in writer tasks through
//! `spawn_blocking` or `tokio::fs`. It holds no policy about *when* to reset or pair; callers
//! decide and this crate records.

pub mod atomic_file;
pub mod channel_pairing;
pub mod devices;
pub mod error;
pub mod identity;
pub mod index;
pub mod layout;
pub mod media;
pub mod reset;
pub mod session_key;
pub mod transcript;

pub use channel_pairing::{Approved, ChannelPairingStore, PairingRequest, Upserted};
pub use devices::{
    DeviceList, DeviceStore, DeviceToken, PairedDevice, PairingOutcome, PairingRequestInput,
    PendingRequest, VerifiedDevice,
};
pub use error::StoreError;
pub use identity::{
    DeviceAuthError, DeviceAuthPayload, DeviceAuthStore, DeviceIdentity, PayloadVersion,
    StoredDeviceToken,
};
pub use index::{SessionEntry, SessionStore, SessionStoreOptions};
pub use layout::StateLayout;
pub use media::InboundMedia;
pub use reset::{ResetMode, ResetReason, ResetRules, ResetTrigger};
pub use reset::{ResetOutcome, detect_trigger, needs_reset, reset_session};
pub use session_key::{DmScope, ParsedSessionKey, PeerKind, SessionKind};
pub use transcript::{
    Entry, EntryBody, SessionContext, SessionHeader, Transcript, TranscriptMessage,
    TranscriptWriter,
};

/// Current time in Unix milliseconds.
pub(crate) fn now_ms() -> u64 {
    openclaw_protocol::now_ms()
}
