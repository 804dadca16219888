//! The per-session queue of messages waiting for the active run to end.
//!
//! Pure data: the session task decides *when* to push and pop; this module decides what a
//! full queue drops (`cap` + `drop` policy), when the queue is ready (`debounceMs` of quiet
//! after the last message queued behind a run, so a burst becomes one turn) and how `collect`
//! coalesces waiting messages into one follow-up prompt under the header
//! `[Queued messages while agent was busy]`.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use openclaw_store::InboundMedia;

use crate::settings::{DropPolicy, QueueModeSetting, QueueSettings};

/// Prompt header of a coalesced follow-up turn.
pub const COLLECT_HEADER: &str = "[Queued messages while agent was busy]";
/// Longest text kept per dropped message in the `summarize` note.
const SUMMARY_CHARS: usize = 80;

/// One waiting message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queued {
    pub run_id: String,
    pub text: String,
    pub mode: QueueModeSetting,
    /// Extra system prompt for this run, if the caller gave one.
    pub extra_system: Option<String>,
    /// Quiet time to wait after this message when it queues behind a run.
    pub debounce: Duration,
    /// Files sent with the message.
    pub media: Vec<InboundMedia>,
}

/// A message steered into the running turn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Steer {
    /// The run the turn answers for it; `None` for the copy `steer-backlog` injects (its run
    /// is the follow-up turn).
    pub run_id: Option<String>,
    pub text: String,
}

/// What `push` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushOutcome {
    Queued,
    /// Queued; these older runs were dropped to make room.
    QueuedDropping(Vec<String>),
    /// Rejected (`drop: new` on a full queue).
    Rejected,
}

/// A batch that becomes one turn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    /// Run ids answered by this turn; the first one names the turn's events.
    pub run_ids: Vec<String>,
    pub text: String,
    pub extra_system: Option<String>,
    /// Files of every message in the batch, in order.
    pub media: Vec<InboundMedia>,
}

#[derive(Debug, Default)]
pub struct PendingQueue {
    items: VecDeque<Queued>,
    /// Summaries of messages dropped under `summarize`, injected into the next batch.
    dropped: Vec<String>,
    /// When the queue may start its next turn: the last message queued behind a run plus its
    /// debounce. `None` = at once.
    ready_at: Option<Instant>,
}

impl PendingQueue {
    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// When the next turn may start (`None` = now, or nothing is waiting).
    pub fn ready_at(&self) -> Option<Instant> {
        self.ready_at.filter(|_| !self.items.is_empty())
    }

    /// Whether a turn may start now.
    pub fn is_ready(&self, now: Instant) -> bool {
        !self.items.is_empty() && self.ready_at.is_none_or(|t| t <= now)
    }

    /// Queue a message that waits behind a run (or behind other waiting messages): the quiet
    /// window restarts.
    pub fn push_behind(
        &mut self,
        item: Queued,
        settings: &QueueSettings,
        now: Instant,
    ) -> PushOutcome {
        let ready = now + item.debounce;
        let out = self.push(item, settings);
        if out != PushOutcome::Rejected {
            self.ready_at = Some(ready);
        }
        out
    }

    /// Queue a message that may start at once (nothing is running or waiting).
    pub fn push(&mut self, item: Queued, settings: &QueueSettings) -> PushOutcome {
        let mut dropped = Vec::new();
        while self.items.len() >= settings.cap.max(1) {
            match settings.drop {
                DropPolicy::New => return PushOutcome::Rejected,
                DropPolicy::Old => {
                    if let Some(old) = self.items.pop_front() {
                        dropped.push(old.run_id);
                    }
                }
                DropPolicy::Summarize => {
                    if let Some(old) = self.items.pop_front() {
                        self.dropped.push(shorten(&old.text));
                        dropped.push(old.run_id);
                    }
                }
            }
        }
        self.items.push_back(item);
        if dropped.is_empty() {
            PushOutcome::Queued
        } else {
            PushOutcome::QueuedDropping(dropped)
        }
    }

    /// Put messages back at the front (steers the run could not take).
    pub fn push_front_all(&mut self, items: Vec<Queued>) {
        for item in items.into_iter().rev() {
            self.items.push_front(item);
        }
    }

    /// Remove every waiting run (interrupt, abort); returns their ids.
    pub fn clear(&mut self) -> Vec<String> {
        self.dropped.clear();
        self.ready_at = None;
        self.items.drain(..).map(|q| q.run_id).collect()
    }

    /// Remove one waiting run by id.
    pub fn remove(&mut self, run_id: &str) -> bool {
        let before = self.items.len();
        self.items.retain(|q| q.run_id != run_id);
        before != self.items.len()
    }

    /// The next turn: one message, or (collect) every consecutive collect message coalesced.
    pub fn next_batch(&mut self) -> Option<Batch> {
        let first = self.items.pop_front()?;
        let mut group = vec![first];
        if group[0].mode == QueueModeSetting::Collect {
            while self
                .items
                .front()
                .is_some_and(|q| q.mode == QueueModeSetting::Collect)
            {
                if let Some(q) = self.items.pop_front() {
                    group.push(q);
                }
            }
        }
        if self.items.is_empty() {
            self.ready_at = None;
        }
        let dropped = std::mem::take(&mut self.dropped);
        let extra_system = group.iter().find_map(|q| q.extra_system.clone());
        let run_ids = group.iter().map(|q| q.run_id.clone()).collect();
        let media = group.iter().flat_map(|q| q.media.iter().cloned()).collect();
        let text = if group.len() == 1 && dropped.is_empty() {
            group.remove(0).text
        } else {
            coalesce(&group, &dropped)
        };
        Some(Batch {
            run_ids,
            text,
            extra_system,
            media,
        })
    }
}

fn coalesce(group: &[Queued], dropped: &[String]) -> String {
    let mut out = String::from(COLLECT_HEADER);
    if !dropped.is_empty() {
        out.push_str(&format!(
            "\n\n[{} older queued message(s) were dropped]\n",
            dropped.len()
        ));
        for d in dropped {
            out.push_str(&format!("- {d}\n"));
        }
    }
    for (i, q) in group.iter().enumerate() {
        out.push_str(&format!("\n\n---\nQueued #{}\n{}", i + 1, q.text));
    }
    out
}

fn shorten(s: &str) -> String {
    let one_line = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= SUMMARY_CHARS {
        return one_line;
    }
    let mut out: String = one_line.chars().take(SUMMARY_CHARS).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn q(id: &str, mode: QueueModeSetting) -> Queued {
        Queued {
            run_id: id.into(),
            text: format!("msg {id}"),
            mode,
            extra_system: None,
            debounce: Duration::from_millis(500),
            media: Vec::new(),
        }
    }

    #[test]
    fn collect_coalesces_in_order() {
        let s = QueueSettings::default();
        let mut p = PendingQueue::default();
        for id in ["a", "b", "c"] {
            assert_eq!(
                p.push(q(id, QueueModeSetting::Collect), &s),
                PushOutcome::Queued
            );
        }
        let b = p.next_batch().unwrap();
        assert_eq!(b.run_ids, vec!["a", "b", "c"]);
        assert!(b.text.starts_with(COLLECT_HEADER));
        let (ia, ib, ic) = (
            b.text.find("msg a").unwrap(),
            b.text.find("msg b").unwrap(),
            b.text.find("msg c").unwrap(),
        );
        assert!(ia < ib && ib < ic);
        assert!(p.next_batch().is_none());
    }

    #[test]
    fn followups_run_one_by_one() {
        let s = QueueSettings::default();
        let mut p = PendingQueue::default();
        p.push(q("a", QueueModeSetting::Followup), &s);
        p.push(q("b", QueueModeSetting::Followup), &s);
        assert_eq!(p.next_batch().unwrap().text, "msg a");
        assert_eq!(p.next_batch().unwrap().text, "msg b");
    }

    #[test]
    fn a_burst_behind_a_run_waits_for_quiet_then_runs_as_one_batch() {
        let s = QueueSettings::default();
        let mut p = PendingQueue::default();
        let t0 = Instant::now();
        p.push_behind(q("a", QueueModeSetting::Collect), &s, t0);
        p.push_behind(
            q("b", QueueModeSetting::Collect),
            &s,
            t0 + Duration::from_millis(300),
        );
        // The window restarts with every message.
        assert_eq!(p.ready_at(), Some(t0 + Duration::from_millis(800)));
        assert!(!p.is_ready(t0 + Duration::from_millis(600)));
        assert!(p.is_ready(t0 + Duration::from_millis(800)));
        assert_eq!(p.next_batch().unwrap().run_ids, vec!["a", "b"]);
        assert_eq!(p.ready_at(), None);
        // A message that did not wait behind anything is ready at once.
        p.push(q("c", QueueModeSetting::Collect), &s);
        assert!(p.is_ready(t0));
    }

    #[test]
    fn cap_and_drop_policies() {
        let mut s = QueueSettings {
            cap: 2,
            drop: DropPolicy::New,
            ..QueueSettings::default()
        };
        let mut p = PendingQueue::default();
        p.push(q("a", QueueModeSetting::Collect), &s);
        p.push(q("b", QueueModeSetting::Collect), &s);
        assert_eq!(
            p.push(q("c", QueueModeSetting::Collect), &s),
            PushOutcome::Rejected
        );
        s.drop = DropPolicy::Old;
        assert_eq!(
            p.push(q("c", QueueModeSetting::Collect), &s),
            PushOutcome::QueuedDropping(vec!["a".into()])
        );
        s.drop = DropPolicy::Summarize;
        assert_eq!(
            p.push(q("d", QueueModeSetting::Collect), &s),
            PushOutcome::QueuedDropping(vec!["b".into()])
        );
        let batch = p.next_batch().unwrap();
        assert_eq!(batch.run_ids, vec!["c", "d"]);
        assert!(batch.text.contains("- msg b"), "{}", batch.text);
    }
}
