//! Dev-only helpers shared by the workspace's tests.
//!
//! [`fake_model`] runs local model servers (OpenAI-compatible and Anthropic) on `127.0.0.1:0`
//! that speak the real streaming wire formats, answer like the scripted model of the recorded
//! traces (`pong: <text>`, `TOOL <name> <json>` → one tool call, then `tool said: <output>`) and
//! inject faults per request index. [`fake_telegram`] is a Telegram Bot API server with the
//! same wire format as the real one (long-polled `getUpdates`, recorded `sendMessage`s, the
//! real HTML parse error on demand). [`fake_discord`] is Discord's REST API and gateway
//! WebSocket (HELLO, IDENTIFY/READY, heartbeats, RESUME with replay, close codes). Nothing here
//! talks to the internet.

pub mod fake_discord;
pub mod fake_model;
pub mod fake_telegram;

pub use fake_discord::FakeDiscord;
pub use fake_model::{Behavior, FakeAnthropic, FakeOpenAi, FakeServer, RecordedRequest, Script};
pub use fake_telegram::{FakeTelegram, RecordedCall};
