//! Dev-only helpers shared by the workspace's tests.
//!
//! [`fake_model`] runs local model servers (OpenAI-compatible and Anthropic) on `127.0.0.1:0`
//! that speak the real streaming wire formats, answer like the scripted model of the recorded
//! traces (`pong: <text>`, `TOOL <name> <json>` → one tool call, then `tool said: <output>`) and
//! inject faults per request index. Nothing here talks to the internet.

pub mod fake_model;

pub use fake_model::{Behavior, FakeAnthropic, FakeOpenAi, FakeServer, RecordedRequest, Script};
