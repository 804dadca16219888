//! Session reset: when a session starts over (daily at `atHour`, after `idleMinutes`, or on a
//! `/new` / `/reset` trigger) and how (new session id, old transcript archived as
//! `<id>.jsonl.reset.<ts>` and kept).
//!
//! The decision functions are pure and take `now` in the gateway's local time zone, so tests
//! can pin it. Freshness is judged from the entry's `updatedAt`; callers must not bump it for
//! heartbeat, cron or exec system-event turns. The decision is evaluated when the next message
//! arrives, not by a timer.

use chrono::{DateTime, Duration, NaiveTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use crate::error::StoreError;
use crate::index::{SessionEntry, SessionStore};
use crate::layout::archive_timestamp;

/// `session.reset.mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ResetMode {
    /// Reset at `atHour` every day (baseline default); `idleMinutes` may also apply.
    #[default]
    Daily,
    /// Reset only after `idleMinutes` without activity.
    Idle,
    /// Never reset automatically.
    None,
}

/// Resolved `session.reset` rules for one session (after `resetByType`/`resetByChannel`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResetRules {
    pub mode: ResetMode,
    /// Hour of day (0–23, gateway-local) of the daily reset.
    pub at_hour: u32,
    /// Idle timeout in minutes, if configured.
    pub idle_minutes: Option<u64>,
}

/// Baseline default when `session.reset.mode` is `idle` and no `idleMinutes` is set.
pub const DEFAULT_IDLE_MINUTES: u64 = 60;

impl Default for ResetRules {
    fn default() -> Self {
        ResetRules {
            mode: ResetMode::Daily,
            at_hour: 4,
            idle_minutes: None,
        }
    }
}

/// Why a session was (or must be) reset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ResetReason {
    /// The daily reset hour passed since the last activity.
    Daily,
    /// No activity for `idleMinutes`.
    Idle,
    /// `/new` or `sessions.reset {reason:"new"}`.
    New,
    /// `/reset` or `sessions.reset`.
    Reset,
}

/// Whether `entry` is stale at `now` under `rules`; the reason that expired first wins.
pub fn needs_reset<Tz: TimeZone>(
    entry: &SessionEntry,
    now: &DateTime<Tz>,
    rules: &ResetRules,
) -> Option<ResetReason> {
    let last = i64::try_from(entry.updated_at).ok()?;
    let now_ms = now.timestamp_millis();
    let idle_minutes = match rules.mode {
        ResetMode::None => return None,
        ResetMode::Idle => Some(rules.idle_minutes.unwrap_or(DEFAULT_IDLE_MINUTES)),
        ResetMode::Daily => rules.idle_minutes,
    };
    // Expiry instants; the earliest one that has passed decides.
    let daily_expiry = match rules.mode {
        ResetMode::Daily => next_boundary_after(last, now, rules.at_hour),
        _ => None,
    };
    let idle_expiry = idle_minutes
        .map(|m| last.saturating_add(i64::try_from(m).unwrap_or(i64::MAX / 120_000) * 60_000));
    let mut best: Option<(i64, ResetReason)> = None;
    for (at, reason) in [
        (daily_expiry, ResetReason::Daily),
        (idle_expiry, ResetReason::Idle),
    ] {
        if let Some(at) = at
            && at <= now_ms
            && best.is_none_or(|(b, _)| at < b)
        {
            best = Some((at, reason));
        }
    }
    best.map(|(_, r)| r)
}

/// The first daily boundary (`at_hour`:00 local) strictly after `last_ms`, in ms.
fn next_boundary_after<Tz: TimeZone>(
    last_ms: i64,
    now: &DateTime<Tz>,
    at_hour: u32,
) -> Option<i64> {
    let tz = now.timezone();
    let last = tz.timestamp_millis_opt(last_ms).single()?;
    let time = NaiveTime::from_hms_opt(at_hour.min(23), 0, 0)?;
    let mut day = last.date_naive();
    for _ in 0..3 {
        let naive = day.and_time(time);
        // In a DST gap the hour does not exist; use the instant just after the gap.
        let local = tz.from_local_datetime(&naive).earliest().or_else(|| {
            tz.from_local_datetime(&(naive + Duration::hours(1)))
                .earliest()
        })?;
        let ms = local.timestamp_millis();
        if ms > last_ms {
            return Some(ms);
        }
        day = day.succ_opt()?;
    }
    None
}

/// Default `session.resetTriggers`.
pub const DEFAULT_RESET_TRIGGERS: [&str; 2] = ["/new", "/reset"];

/// A detected reset command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResetTrigger {
    /// The trigger as configured, e.g. `/new`.
    pub trigger: String,
    /// Text after the trigger, trimmed (`/new <model>` → the model); empty if none.
    pub rest: String,
}

impl ResetTrigger {
    pub fn reason(&self) -> ResetReason {
        if self.trigger.eq_ignore_ascii_case("/new") {
            ResetReason::New
        } else {
            ResetReason::Reset
        }
    }
}

/// Detect a reset trigger: the message (trimmed) is a trigger, or starts with one followed by
/// whitespace. Case-insensitive. `/newer` is not `/new`.
pub fn detect_trigger<S: AsRef<str>>(text: &str, triggers: &[S]) -> Option<ResetTrigger> {
    let t = text.trim();
    for trig in triggers {
        let trig = trig.as_ref().trim();
        if trig.is_empty() || t.len() < trig.len() || !t.is_char_boundary(trig.len()) {
            continue;
        }
        let (head, tail) = t.split_at(trig.len());
        if head.eq_ignore_ascii_case(trig)
            && (tail.is_empty() || tail.starts_with(char::is_whitespace))
        {
            return Some(ResetTrigger {
                trigger: trig.to_string(),
                rest: tail.trim().to_string(),
            });
        }
    }
    None
}

/// What [`reset_session`] did.
#[derive(Debug, Clone, PartialEq)]
pub struct ResetOutcome {
    pub key: String,
    pub previous_session_id: Option<String>,
    pub entry: SessionEntry,
    /// Where the old transcript went, if there was one.
    pub archived: Option<std::path::PathBuf>,
}

/// Start `key` over: a new session id, token counters and run flags cleared (label, display
/// name, overrides and delivery context kept), and the old transcript renamed to
/// `<file>.reset.<ts>`. A missing key gets a fresh entry.
///
/// Close the session's [`TranscriptWriter`](crate::TranscriptWriter) first: a writer still
/// holding the old file would keep appending to the archive.
pub async fn reset_session(
    store: &SessionStore,
    key: &str,
    reason: ResetReason,
    now: DateTime<Utc>,
) -> Result<ResetOutcome, StoreError> {
    let now_ms = u64::try_from(now.timestamp_millis()).unwrap_or(0);
    let previous = store.get(key);
    let mut archived = None;
    if let Some(prev) = &previous {
        let old = store.transcript_path(prev);
        if tokio::fs::try_exists(&old).await.unwrap_or(false) {
            let target = std::path::PathBuf::from(format!(
                "{}.reset.{}",
                old.display(),
                archive_timestamp(now)
            ));
            tokio::fs::rename(&old, &target)
                .await
                .map_err(|e| StoreError::io("archive transcript to", &target, e))?;
            archived = Some(target);
        }
    }
    let mut entry = previous.clone().unwrap_or_default();
    entry.session_id = uuid::Uuid::new_v4().to_string();
    entry.updated_at = now_ms;
    entry.session_file = None;
    entry.input_tokens = None;
    entry.output_tokens = None;
    entry.total_tokens = None;
    entry.compaction_count = None;
    entry.aborted_last_run = None;
    entry.system_sent = None;
    for k in [
        "memoryFlushAt",
        "memoryFlushCompactionCount",
        "authProfileOverrideCompactionCount",
    ] {
        entry.extra.remove(k);
    }
    store.upsert(key, entry.clone());
    tracing::info!(key, ?reason, new_session_id = %entry.session_id, "session reset");
    Ok(ResetOutcome {
        key: key.to_string(),
        previous_session_id: previous.map(|p| p.session_id),
        entry,
        archived,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::FixedOffset;
    use pretty_assertions::assert_eq;

    fn at(tz: &FixedOffset, y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<FixedOffset> {
        tz.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
    }

    fn entry_at(t: &DateTime<FixedOffset>) -> SessionEntry {
        SessionEntry::new("s", t.timestamp_millis() as u64)
    }

    #[test]
    fn daily_reset_at_hour_in_local_time() {
        let tz = FixedOffset::east_opt(2 * 3600).unwrap();
        let rules = ResetRules::default();
        let e = entry_at(&at(&tz, 2026, 2, 6, 3, 0));
        assert_eq!(needs_reset(&e, &at(&tz, 2026, 2, 6, 3, 59), &rules), None);
        assert_eq!(
            needs_reset(&e, &at(&tz, 2026, 2, 6, 4, 0), &rules),
            Some(ResetReason::Daily)
        );
        let e = entry_at(&at(&tz, 2026, 2, 6, 5, 0));
        assert_eq!(needs_reset(&e, &at(&tz, 2026, 2, 6, 23, 0), &rules), None);
        assert_eq!(needs_reset(&e, &at(&tz, 2026, 2, 7, 3, 59), &rules), None);
        assert_eq!(
            needs_reset(&e, &at(&tz, 2026, 2, 7, 4, 1), &rules),
            Some(ResetReason::Daily)
        );
        // The same instants seen from UTC give a different answer: the hour is local.
        let e = entry_at(&at(&tz, 2026, 2, 6, 7, 0)); // 05:00 UTC
        let now = at(&tz, 2026, 2, 7, 4, 30); // 02:30 UTC
        assert_eq!(needs_reset(&e, &now, &rules), Some(ResetReason::Daily));
        let utc = FixedOffset::east_opt(0).unwrap();
        assert_eq!(needs_reset(&e, &now.with_timezone(&utc), &rules), None);
    }

    #[test]
    fn idle_and_whichever_first() {
        let tz = FixedOffset::east_opt(0).unwrap();
        let e = entry_at(&at(&tz, 2026, 2, 6, 10, 0));
        let idle = ResetRules {
            mode: ResetMode::Idle,
            at_hour: 4,
            idle_minutes: Some(30),
        };
        assert_eq!(needs_reset(&e, &at(&tz, 2026, 2, 6, 10, 29), &idle), None);
        assert_eq!(
            needs_reset(&e, &at(&tz, 2026, 2, 6, 10, 30), &idle),
            Some(ResetReason::Idle)
        );
        // Idle mode ignores the daily hour.
        let idle_default = ResetRules {
            mode: ResetMode::Idle,
            at_hour: 4,
            idle_minutes: None,
        };
        assert_eq!(
            needs_reset(&e, &at(&tz, 2026, 2, 6, 10, 59), &idle_default),
            None
        );
        assert_eq!(
            needs_reset(&e, &at(&tz, 2026, 2, 6, 11, 0), &idle_default),
            Some(ResetReason::Idle)
        );
        // Daily + idle: idle expires (10:30) before the next 04:00.
        let both = ResetRules {
            mode: ResetMode::Daily,
            at_hour: 4,
            idle_minutes: Some(30),
        };
        assert_eq!(
            needs_reset(&e, &at(&tz, 2026, 2, 7, 5, 0), &both),
            Some(ResetReason::Idle)
        );
        // Daily + long idle: 04:00 comes first.
        let long = ResetRules {
            mode: ResetMode::Daily,
            at_hour: 4,
            idle_minutes: Some(24 * 60),
        };
        assert_eq!(
            needs_reset(&e, &at(&tz, 2026, 2, 7, 5, 0), &long),
            Some(ResetReason::Daily)
        );
        let off = ResetRules {
            mode: ResetMode::None,
            at_hour: 4,
            idle_minutes: Some(1),
        };
        assert_eq!(needs_reset(&e, &at(&tz, 2026, 3, 1, 0, 0), &off), None);
    }

    #[test]
    fn trigger_detection() {
        let t = DEFAULT_RESET_TRIGGERS;
        assert_eq!(
            detect_trigger("/new", &t),
            Some(ResetTrigger {
                trigger: "/new".into(),
                rest: String::new()
            })
        );
        let got = detect_trigger("  /NEW  openai/gpt-5 ", &t).unwrap();
        assert_eq!(got.rest, "openai/gpt-5");
        assert_eq!(got.reason(), ResetReason::New);
        assert_eq!(
            detect_trigger("/reset", &t).unwrap().reason(),
            ResetReason::Reset
        );
        assert_eq!(detect_trigger("/newer", &t), None);
        assert_eq!(detect_trigger("please /new", &t), None);
        assert_eq!(detect_trigger("/é", &["/e"]), None);
        assert_eq!(
            detect_trigger("/start", &["/start"]).unwrap().trigger,
            "/start"
        );
    }
}
