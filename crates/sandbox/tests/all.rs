#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Integration tests against the real Docker engine (one binary; cases in `suite/`).

mod suite;
