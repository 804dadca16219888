#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Integration tests of openclaw-store: real files in temp dirs, a 2026.2 state-dir fixture,
//! and a child process killed with SIGKILL mid-write.

mod suite;
