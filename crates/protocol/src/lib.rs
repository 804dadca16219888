//! Wire types of the OpenClaw Gateway WebSocket protocol (v3 and v4).
//!
//! This crate is plain data: frames, handshake payloads, event payloads, error codes and the
//! transcript message shapes that the gateway, the agent runtime, the store and the CLI share.
//! It holds no I/O and no policy; behaviour lives in the crates that use these types.
//!
//! Field names follow the recorded frames of OpenClaw 2026.2.6-3 (protocol 3) and 2026.9.6
//! (protocol 4): camelCase everywhere, `type`-tagged frames and content blocks.

pub mod connect;
pub mod error;
pub mod events;
pub mod frame;
pub mod message;
pub mod scope;

pub use connect::*;
pub use error::*;
pub use events::*;
pub use frame::*;
pub use message::*;
pub use scope::*;

/// Oldest protocol revision this implementation speaks (OpenClaw 2026.2.x).
pub const PROTOCOL_MIN: u32 = 3;
/// Newest protocol revision this implementation speaks (OpenClaw 2026.5+).
pub const PROTOCOL_MAX: u32 = 4;

/// Pick the highest protocol both sides speak, or `None` when the ranges do not overlap.
pub fn negotiate_protocol(client_min: u32, client_max: u32) -> Option<u32> {
    let hi = client_max.min(PROTOCOL_MAX);
    let lo = client_min.max(PROTOCOL_MIN);
    (lo <= hi).then_some(hi)
}

/// Current time in Unix milliseconds, the unit every `ts` field on the wire uses.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiates_highest_common_revision() {
        assert_eq!(negotiate_protocol(3, 3), Some(3));
        assert_eq!(negotiate_protocol(4, 4), Some(4));
        assert_eq!(negotiate_protocol(3, 4), Some(4));
        assert_eq!(negotiate_protocol(1, 9), Some(4));
        assert_eq!(negotiate_protocol(5, 6), None);
        assert_eq!(negotiate_protocol(1, 2), None);
    }
}
