//! openclaw-channels
