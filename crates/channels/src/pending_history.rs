//! Unmentioned group messages a transport keeps as context for the bot's next answer in that
//! group (Telegram groups and topics, Discord channels and threads), bounded per conversation
//! by the channel's `historyLimit` and in the number of conversations.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

/// At most this many conversations keep pending history; past it the map is cleared.
const CONVERSATIONS_MAX: usize = 512;

#[derive(Default)]
pub(crate) struct PendingHistory {
    by_peer: Mutex<HashMap<String, VecDeque<String>>>,
}

impl PendingHistory {
    /// Remember `line` for `peer`, keeping the newest `limit` (0 keeps nothing).
    pub fn push(&self, peer: &str, line: String, limit: usize) {
        if limit == 0 {
            return;
        }
        let mut h = self.by_peer.lock().unwrap_or_else(|p| p.into_inner());
        if !h.contains_key(peer) && h.len() >= CONVERSATIONS_MAX {
            h.clear();
        }
        let q = h.entry(peer.to_string()).or_default();
        q.push_back(line);
        while q.len() > limit {
            q.pop_front();
        }
    }

    /// Everything kept for `peer`, oldest first; the conversation starts over.
    pub fn take(&self, peer: &str) -> Vec<String> {
        let mut h = self.by_peer.lock().unwrap_or_else(|p| p.into_inner());
        h.remove(peer)
            .map(|q| q.into_iter().collect())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_newest_up_to_the_limit_and_take_empties() {
        let h = PendingHistory::default();
        for i in 0..5 {
            h.push("g", format!("m{i}"), 3);
        }
        h.push("off", "x".into(), 0);
        assert_eq!(h.take("g"), vec!["m2", "m3", "m4"]);
        assert!(h.take("g").is_empty());
        assert!(h.take("off").is_empty());
    }
}
