//! openclaw-test-support
