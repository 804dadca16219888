//! Outbound text for Discord: split a reply into messages under `textChunkLimit` (2000, Discord's
//! hard limit) and a soft `maxLinesPerMessage` (17; clients collapse taller messages).
//!
//! Lengths are counted in UTF-16 units, which is what Discord's limit counts, so an emoji-heavy
//! reply never lands over it. Lines are kept whole when they fit; a longer line is split at
//! whitespace (hard inside a code block). A code fence cut by a split is closed at the end of
//! one message and reopened at the start of the next, so every message renders on its own.
//! Discord renders Markdown natively: the text is sent as written.

use openclaw_config::schema::ChunkMode;

/// Discord's hard per-message limit.
pub const DISCORD_MAX_CHARS: usize = 2000;
/// Default soft line limit per message.
pub const DEFAULT_MAX_LINES: usize = 17;

fn units(s: &str) -> usize {
    s.encode_utf16().count()
}

/// Byte index of the longest prefix of `s` that is at most `n` UTF-16 units (at least one char).
fn byte_at_units(s: &str, n: usize) -> usize {
    let mut used = 0;
    for (i, c) in s.char_indices() {
        used += c.len_utf16();
        if used > n {
            return if i == 0 { c.len_utf8() } else { i };
        }
    }
    s.len()
}

#[derive(Clone)]
struct Fence {
    indent: String,
    marker: char,
    len: usize,
    open_line: String,
}

impl Fence {
    fn parse(line: &str) -> Option<Fence> {
        let indent_len = line.len() - line.trim_start_matches(' ').len();
        if indent_len > 3 {
            return None;
        }
        let rest = &line[indent_len..];
        let marker = rest.chars().next().filter(|c| *c == '`' || *c == '~')?;
        let len = rest.chars().take_while(|c| *c == marker).count();
        (len >= 3).then(|| Fence {
            indent: line[..indent_len].to_string(),
            marker,
            len,
            open_line: line.to_string(),
        })
    }

    fn close_line(&self) -> String {
        format!(
            "{}{}",
            self.indent,
            self.marker.to_string().repeat(self.len)
        )
    }
}

/// Split `text` into Discord messages. `Newline` mode first splits at blank lines (one message
/// per paragraph, code blocks kept whole), then by length and lines.
pub fn chunk_text(text: &str, max_chars: usize, max_lines: usize, mode: ChunkMode) -> Vec<String> {
    let text = text.trim_matches('\n');
    if text.trim().is_empty() {
        return Vec::new();
    }
    let max_chars = max_chars.max(1);
    let max_lines = max_lines.max(1);
    match mode {
        ChunkMode::Length => chunk_block(text, max_chars, max_lines),
        ChunkMode::Newline => paragraphs(text)
            .iter()
            .flat_map(|p| chunk_block(p, max_chars, max_lines))
            .collect(),
    }
}

fn paragraphs(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut fence: Option<Fence> = None;
    for line in text.split('\n') {
        fence = next_fence(fence, line);
        if fence.is_none() && line.trim().is_empty() {
            if !cur.trim().is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            cur.clear();
            continue;
        }
        if !cur.is_empty() {
            cur.push('\n');
        }
        cur.push_str(line);
    }
    if !cur.trim().is_empty() {
        out.push(cur);
    }
    out
}

/// The fence open after `line`, given the one open before it.
fn next_fence(open: Option<Fence>, line: &str) -> Option<Fence> {
    match (open, Fence::parse(line)) {
        (None, found) => found,
        (Some(o), Some(f)) if f.marker == o.marker && f.len >= o.len => None,
        (Some(o), _) => Some(o),
    }
}

/// Messages being built: the current one and the ones finished.
struct Builder {
    out: Vec<String>,
    cur: String,
    lines: usize,
    /// `cur` holds nothing but the reopened fence line.
    fresh: bool,
}

impl Builder {
    fn push_line(&mut self, s: &str) {
        if !self.cur.is_empty() {
            self.cur.push('\n');
        }
        self.cur.push_str(s);
        self.lines += 1;
        self.fresh = false;
    }

    /// Finish the current message (closing an open fence) and start the next one (reopening it).
    fn flush(&mut self, open: Option<&Fence>) {
        if !self.fresh && !self.cur.trim().is_empty() {
            let mut msg = std::mem::take(&mut self.cur);
            if let Some(f) = open {
                msg.push('\n');
                msg.push_str(&f.close_line());
            }
            self.out.push(msg);
        }
        self.cur.clear();
        self.lines = 0;
        if let Some(f) = open {
            self.cur.push_str(&f.open_line);
            self.lines = 1;
        }
        self.fresh = true;
    }

    /// Room left on the current message for one more line.
    fn room(&self, limit: usize) -> usize {
        let used = if self.cur.is_empty() {
            0
        } else {
            units(&self.cur) + 1
        };
        limit.saturating_sub(used)
    }
}

fn chunk_block(text: &str, max_chars: usize, max_lines: usize) -> Vec<String> {
    if units(text) <= max_chars && text.split('\n').count() <= max_lines {
        return vec![text.to_string()];
    }
    let mut b = Builder {
        out: Vec::new(),
        cur: String::new(),
        lines: 0,
        fresh: true,
    };
    let mut open: Option<Fence> = None;
    for line in text.split('\n') {
        let inside = open.is_some();
        let next = next_fence(open.clone(), line);
        // Keep room to close a fence that is open after this line.
        let reserve = next.as_ref().map(|f| units(&f.close_line()) + 1);
        let char_limit = match reserve {
            Some(r) if max_chars > r => max_chars - r,
            _ => max_chars,
        };
        let line_limit = match reserve {
            Some(_) if max_lines > 1 => max_lines - 1,
            _ => max_lines,
        };
        if !b.fresh && (b.room(char_limit) < units(line) || b.lines + 1 > line_limit) {
            b.flush(open.as_ref());
        }
        let mut rest = line;
        loop {
            let room = b.room(char_limit);
            if units(rest) <= room {
                b.push_line(rest);
                break;
            }
            if !b.fresh && room < max_chars / 4 {
                b.flush(open.as_ref());
                continue;
            }
            let hard = byte_at_units(rest, room.max(1));
            let cut = if inside {
                hard
            } else {
                rest[..hard]
                    .rfind(char::is_whitespace)
                    .filter(|&i| i > 0)
                    .unwrap_or(hard)
            };
            b.push_line(rest[..cut].trim_end());
            b.flush(open.as_ref());
            rest = if inside {
                &rest[cut..]
            } else {
                rest[cut..].trim_start()
            };
            if rest.is_empty() {
                break;
            }
        }
        open = next;
    }
    if !b.fresh {
        b.flush(open.as_ref());
    }
    b.out
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn chunk(text: &str, chars: usize, lines: usize) -> Vec<String> {
        chunk_text(text, chars, lines, ChunkMode::Length)
    }

    fn fences_balanced(s: &str) -> bool {
        s.lines()
            .filter(|l| l.trim_start().starts_with("```"))
            .count()
            % 2
            == 0
    }

    #[test]
    fn short_text_is_one_message() {
        assert_eq!(chunk("hello\nthere", 2000, 17), vec!["hello\nthere"]);
        assert!(chunk("  \n\n ", 2000, 17).is_empty());
    }

    #[test]
    fn long_text_splits_at_words_under_the_limit() {
        let text = "word ".repeat(1000);
        let out = chunk(&text, 2000, 17);
        assert_eq!(out.len(), 3);
        assert!(out.iter().all(|c| units(c) <= 2000));
        let words: usize = out.iter().map(|c| c.split_whitespace().count()).sum();
        assert_eq!(words, 1000);
    }

    #[test]
    fn tall_text_splits_by_lines() {
        let text: Vec<String> = (1..=40).map(|i| format!("line {i}")).collect();
        let out = chunk(&text.join("\n"), 2000, 17);
        assert_eq!(
            out.iter().map(|c| c.lines().count()).collect::<Vec<_>>(),
            vec![17, 17, 6]
        );
        assert_eq!(out.join("\n"), text.join("\n"));
    }

    #[test]
    fn code_fences_are_closed_and_reopened() {
        let body: Vec<String> = (0..30).map(|i| format!("let x{i} = {i};")).collect();
        let text = format!("Here:\n```rust\n{}\n```\ndone", body.join("\n"));
        let out = chunk(&text, 2000, 17);
        assert!(out.len() >= 2, "{out:#?}");
        for c in &out {
            assert!(fences_balanced(c), "{c}");
            assert!(c.lines().count() <= 17, "{c}");
        }
        assert!(out[1].starts_with("```rust\n"), "{}", out[1]);
    }

    #[test]
    fn utf16_units_are_counted() {
        let text = "😀".repeat(1500);
        let out = chunk(&text, 2000, 17);
        assert!(out.iter().all(|c| units(c) <= 2000));
        assert_eq!(out.concat(), text);
    }

    #[test]
    fn newline_mode_sends_paragraphs_apart() {
        let out = chunk_text("one\n\ntwo\n```\na\n\nb\n```", 2000, 17, ChunkMode::Newline);
        assert_eq!(out, vec!["one", "two\n```\na\n\nb\n```"]);
    }
}
