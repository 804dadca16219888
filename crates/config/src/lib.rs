//! openclaw-config
