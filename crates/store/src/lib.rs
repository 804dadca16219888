//! openclaw-store
