//! openclaw-sandbox
