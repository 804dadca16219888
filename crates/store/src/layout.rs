//! Where files live under the state dir (`~/.openclaw`, `/home/node/.openclaw` in Docker), in
//! the legacy JSON layout of OpenClaw 2026.2. Every path this crate touches is built here so a
//! layout change is one edit.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use crate::session_key::normalize_agent_id;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateLayout {
    root: PathBuf,
}

impl StateLayout {
    pub fn new(state_dir: impl Into<PathBuf>) -> Self {
        StateLayout {
            root: state_dir.into(),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `<state>/agents/<agentId>/sessions` (agent id normalized).
    pub fn sessions_dir(&self, agent_id: &str) -> PathBuf {
        self.root
            .join("agents")
            .join(normalize_agent_id(agent_id))
            .join("sessions")
    }

    /// `<state>/agents/<agentId>/sessions/sessions.json`.
    pub fn sessions_index(&self, agent_id: &str) -> PathBuf {
        self.sessions_dir(agent_id).join("sessions.json")
    }

    /// `<state>/agents/<agentId>/sessions/<sessionId>.jsonl`.
    pub fn transcript(&self, agent_id: &str, session_id: &str) -> PathBuf {
        self.sessions_dir(agent_id)
            .join(format!("{session_id}.jsonl"))
    }

    /// `<state>/devices`, holding `paired.json` and `pending.json`.
    pub fn devices_dir(&self) -> PathBuf {
        self.root.join("devices")
    }

    /// `<state>/identity`, holding `device.json` and `device-auth.json`.
    pub fn identity_dir(&self) -> PathBuf {
        self.root.join("identity")
    }

    pub fn device_identity(&self) -> PathBuf {
        self.identity_dir().join("device.json")
    }

    pub fn device_auth(&self) -> PathBuf {
        self.identity_dir().join("device-auth.json")
    }
}

/// Timestamp used in archive names (`.reset.<ts>`, `.corrupt-<ts>`): ISO-8601 UTC with `:`
/// replaced by `-` so the name is valid on every filesystem, e.g. `2026-02-06T04-00-00.000Z`.
pub fn archive_timestamp(now: DateTime<Utc>) -> String {
    now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
        .replace(':', "-")
}

/// ISO-8601 UTC with milliseconds, as JavaScript's `Date.toISOString()` prints it.
pub fn iso_timestamp(now: DateTime<Utc>) -> String {
    now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn paths_follow_the_legacy_layout() {
        let l = StateLayout::new("/home/node/.openclaw");
        assert_eq!(
            l.sessions_index("Main"),
            PathBuf::from("/home/node/.openclaw/agents/main/sessions/sessions.json")
        );
        assert_eq!(
            l.transcript("main", "abc"),
            PathBuf::from("/home/node/.openclaw/agents/main/sessions/abc.jsonl")
        );
        assert_eq!(
            l.device_identity(),
            PathBuf::from("/home/node/.openclaw/identity/device.json")
        );
    }

    #[test]
    fn timestamps_match_javascript() {
        let t = Utc.with_ymd_and_hms(2026, 2, 6, 4, 5, 6).unwrap();
        assert_eq!(iso_timestamp(t), "2026-02-06T04:05:06.000Z");
        assert_eq!(archive_timestamp(t), "2026-02-06T04-05-06.000Z");
    }
}
