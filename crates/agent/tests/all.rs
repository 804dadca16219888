#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Integration tests of openclaw-agent: real processes and real files under temp dirs.

mod suite;
