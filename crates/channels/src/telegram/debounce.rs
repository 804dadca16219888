//! Inbound debounce (`messages.inbound.debounceMs`, `byChannel.telegram`; 0 = off, the
//! default): text messages a sender fires off in quick succession in a DM ("hi" … "are you
//! there?" … "I need help with X") become one agent turn, run after `debounceMs` of quiet and
//! answered as the newest of them. Media and commands (`/…`) are never held back: they end the
//! burst and run on their own. Group messages are not debounced (their mentions are judged per
//! message).

use std::sync::Arc;
use std::time::Duration;

use openclaw_config::OpenClawConfig;
use tokio::sync::mpsc;

use super::Account;
use super::inbound;
use super::types::Message;

/// `messages.inbound`: the channel's entry, else the global one, else off.
pub(crate) fn window(cfg: &OpenClawConfig) -> Duration {
    let inbound = cfg.messages.as_ref().and_then(|m| m.inbound.as_ref());
    let ms = inbound
        .and_then(|i| i.by_channel.as_ref())
        .and_then(|b| b.get("telegram").copied())
        .or_else(|| inbound.and_then(|i| i.debounce_ms))
        .unwrap_or(0);
    Duration::from_millis(ms)
}

/// A plain text DM: the only kind a burst is made of.
fn joinable(m: &Message) -> bool {
    m.chat.kind == "private"
        && m.media_placeholder().is_none()
        && m.text
            .as_deref()
            .is_some_and(|t| !t.trim().is_empty() && !t.trim_start().starts_with('/'))
}

fn same_sender(a: &Message, b: &Message) -> bool {
    a.from.as_ref().map(|u| u.id) == b.from.as_ref().map(|u| u.id)
}

/// Handle `first` and whatever joins its burst from `rx` (one chat's queue, in order).
pub(crate) async fn handle(acct: &Arc<Account>, first: Message, rx: &mut mpsc::Receiver<Message>) {
    let mut next = Some(first);
    while let Some(m) = next.take() {
        let quiet = window(&acct.shared.config());
        if quiet.is_zero() || !joinable(&m) {
            inbound::handle(acct, m).await;
            return;
        }
        let mut burst = vec![m];
        loop {
            let got = tokio::select! {
                _ = acct.cancel.cancelled() => None,
                r = tokio::time::timeout(quiet, rx.recv()) => r.ok().flatten(),
            };
            match got {
                Some(m) if joinable(&m) && same_sender(&burst[0], &m) => burst.push(m),
                // Anything else ends the burst and is handled after it.
                other => {
                    next = other;
                    break;
                }
            }
        }
        flush(acct, burst).await;
    }
}

/// One message for the whole burst: the newest one (its id, for threading and idempotency)
/// carrying every text in order.
async fn flush(acct: &Arc<Account>, burst: Vec<Message>) {
    let texts: Vec<String> = burst.iter().filter_map(|m| m.text.clone()).collect();
    let Some(mut last) = burst.into_iter().last() else {
        return;
    };
    for _ in 1..texts.len() {
        acct.mark_handled();
    }
    last.text = Some(texts.join("\n"));
    last.entities.clear();
    inbound::handle(acct, last).await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use openclaw_config::{EnvMap, parse_str};

    fn cfg(text: &str) -> OpenClawConfig {
        parse_str(
            text,
            std::path::Path::new("/x/openclaw.json"),
            &EnvMap::new(),
        )
        .unwrap()
        .config
    }

    #[test]
    fn the_channel_entry_wins_and_off_is_the_default() {
        assert_eq!(window(&cfg("{}")), Duration::ZERO);
        let global = cfg("{ messages: { inbound: { debounceMs: 2000 } } }");
        assert_eq!(window(&global), Duration::from_millis(2000));
        let both = cfg(
            "{ messages: { inbound: { debounceMs: 2000, byChannel: { telegram: 0, discord: 9 } } } }",
        );
        assert_eq!(window(&both), Duration::ZERO);
    }
}
