#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Integration tests for openclaw-providers against local fake model servers.

mod suite;
