//! openclaw-providers
