//! Outbound text: split a reply into messages under `textChunkLimit`, then render each chunk's
//! Markdown as the HTML subset Telegram accepts (`<b> <i> <s> <code> <pre> <a>`).
//!
//! The renderer is deliberately small: what it cannot express stays literal text, and whatever
//! Telegram still refuses is resent as plain text by the sender. Chunks never end inside a code
//! fence: a fence cut by the limit is closed and reopened in the next chunk.

use openclaw_config::schema::ChunkMode;

/// Telegram's hard limit is 4096; the baseline stays below it.
pub const DEFAULT_TEXT_CHUNK_LIMIT: usize = 4000;

/// Split `text` into messages of at most `limit` characters. `Newline` mode first splits at
/// blank lines (one message per paragraph), then by length.
pub fn chunk_text(text: &str, limit: usize, mode: ChunkMode) -> Vec<String> {
    let limit = limit.max(16);
    let text = text.trim_matches('\n');
    if text.trim().is_empty() {
        return Vec::new();
    }
    let pieces: Vec<String> = match mode {
        ChunkMode::Length => vec![text.to_string()],
        ChunkMode::Newline => split_paragraphs(text),
    };
    pieces
        .iter()
        .flat_map(|p| chunk_by_length(p, limit))
        .filter(|c| !c.trim().is_empty())
        .collect()
}

/// Paragraphs separated by blank lines, keeping code fences whole.
fn split_paragraphs(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_fence = false;
    for line in text.split('\n') {
        if line.trim_start().starts_with("```") {
            in_fence = !in_fence;
        }
        if !in_fence && line.trim().is_empty() {
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

fn chunk_by_length(text: &str, limit: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text.to_string();
    // The fence line to reopen at the start of the next chunk.
    let mut reopen: Option<String> = None;
    loop {
        if let Some(open) = reopen.take() {
            rest = format!("{open}\n{rest}");
        }
        if rest.chars().count() <= limit {
            out.push(rest.trim_end().to_string());
            return out;
        }
        // Leave room to close a fence that the cut may leave open.
        let budget = limit - 4;
        let hard = byte_index_of_char(&rest, budget);
        let window = &rest[..hard];
        let min = budget / 3;
        let cut = [window.rfind("\n\n"), window.rfind('\n'), window.rfind(' ')]
            .into_iter()
            .flatten()
            .find(|&i| window[..i].chars().count() >= min)
            .unwrap_or(hard);
        let mut chunk = rest[..cut].trim_end().to_string();
        let tail = rest[cut..].trim_start_matches([' ', '\n']).to_string();
        if let Some(open) = open_fence(&chunk) {
            chunk.push_str("\n```");
            // A fence line too long to repeat would never let the text shrink.
            if open.chars().count() < budget / 2 {
                reopen = Some(open);
            }
        }
        if !chunk.trim().is_empty() {
            out.push(chunk);
        }
        rest = tail;
    }
}

fn byte_index_of_char(s: &str, n: usize) -> usize {
    s.char_indices().nth(n).map(|(i, _)| i).unwrap_or(s.len())
}

/// The opening fence line if `chunk` ends inside a code fence.
fn open_fence(chunk: &str) -> Option<String> {
    let mut open: Option<String> = None;
    for line in chunk.lines() {
        let t = line.trim_start();
        if t.starts_with("```") {
            open = match open {
                Some(_) => None,
                None => Some(t.to_string()),
            };
        }
    }
    open
}

/// Markdown to Telegram HTML.
pub fn render_html(markdown: &str) -> String {
    let mut out = String::with_capacity(markdown.len() + 32);
    let mut code: Option<(String, String)> = None; // (language, body)
    let mut lines = markdown.split('\n').peekable();
    while let Some(line) = lines.next() {
        let t = line.trim_start();
        if let Some(after) = t.strip_prefix("```") {
            match code.take() {
                None => code = Some((after.trim().to_string(), String::new())),
                Some((lang, body)) => {
                    push_pre(&mut out, &lang, &body);
                    if lines.peek().is_some() {
                        out.push('\n');
                    }
                }
            }
            continue;
        }
        if let Some((_, body)) = code.as_mut() {
            if !body.is_empty() {
                body.push('\n');
            }
            body.push_str(line);
            continue;
        }
        out.push_str(&render_line(line));
        if lines.peek().is_some() {
            out.push('\n');
        }
    }
    // An unclosed fence still renders as code.
    if let Some((lang, body)) = code {
        push_pre(&mut out, &lang, &body);
    }
    out
}

fn push_pre(out: &mut String, lang: &str, body: &str) {
    let lang: String = lang
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '_' | '#'))
        .collect();
    if lang.is_empty() {
        out.push_str(&format!("<pre><code>{}</code></pre>", escape(body)));
    } else {
        out.push_str(&format!(
            "<pre><code class=\"language-{lang}\">{}</code></pre>",
            escape(body)
        ));
    }
}

fn render_line(line: &str) -> String {
    let trimmed = line.trim_start();
    let hashes = trimmed.chars().take_while(|c| *c == '#').count();
    if (1..=6).contains(&hashes) && trimmed[hashes..].starts_with(' ') {
        return format!("<b>{}</b>", inline(trimmed[hashes..].trim()));
    }
    inline(line)
}

/// Inline code spans first (their content is literal), then the other marks.
fn inline(s: &str) -> String {
    let ticks = s.matches('`').count();
    let mut out = String::new();
    for (i, part) in s.split('`').enumerate() {
        // Part `i` follows backtick `i`; an odd one opens a span when another backtick follows.
        if i % 2 == 1 && i < ticks {
            out.push_str(&format!("<code>{}</code>", escape(part)));
        } else {
            if i % 2 == 1 {
                out.push('`');
            }
            out.push_str(&marks(&escape(part)));
        }
    }
    out
}

fn marks(escaped: &str) -> String {
    let s = links(escaped);
    let s = wrap_pairs(&s, "**", "b", false);
    let s = wrap_pairs(&s, "__", "b", true);
    let s = wrap_pairs(&s, "~~", "s", false);
    let s = wrap_pairs(&s, "*", "i", false);
    wrap_pairs(&s, "_", "i", true)
}

/// `[text](url)` → `<a href="url">text</a>`; input is already escaped.
fn links(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(open) = rest.find('[') {
        let after = &rest[open + 1..];
        let Some(close) = after.find("](") else { break };
        let target = &after[close + 2..];
        let Some(end) = target.find(')') else { break };
        let text = &after[..close];
        let url = &target[..end];
        let ok_url = !url.is_empty()
            && !url.contains(char::is_whitespace)
            && (url.starts_with("http://")
                || url.starts_with("https://")
                || url.starts_with("tg://"));
        if text.contains('[') || !ok_url {
            out.push_str(&rest[..open + 1]);
            rest = after;
            continue;
        }
        out.push_str(&rest[..open]);
        out.push_str(&format!(
            "<a href=\"{}\">{text}</a>",
            url.replace('"', "&quot;")
        ));
        rest = &target[end + 1..];
    }
    out.push_str(rest);
    out
}

/// Wrap text between pairs of `delim` in `<tag>`. Content must not start or end with a space;
/// `word_bound` delimiters (`_`) must not touch letters outside, so `snake_case` stays as is.
fn wrap_pairs(s: &str, delim: &str, tag: &str, word_bound: bool) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(start) = find_delim(rest, delim, word_bound, true) {
        let body_from = start + delim.len();
        let Some(rel_end) = find_delim(&rest[body_from..], delim, word_bound, false) else {
            break;
        };
        let body = &rest[body_from..body_from + rel_end];
        if body.is_empty()
            || body.starts_with(char::is_whitespace)
            || body.ends_with(char::is_whitespace)
        {
            out.push_str(&rest[..body_from]);
            rest = &rest[body_from..];
            continue;
        }
        out.push_str(&rest[..start]);
        out.push_str(&format!("<{tag}>{body}</{tag}>"));
        rest = &rest[body_from + rel_end + delim.len()..];
    }
    out.push_str(rest);
    out
}

fn find_delim(s: &str, delim: &str, word_bound: bool, opening: bool) -> Option<usize> {
    let mut from = 0;
    while let Some(rel) = s[from..].find(delim) {
        let i = from + rel;
        let before = s[..i].chars().next_back();
        let after = s[i + delim.len()..].chars().next();
        // A single `*` next to another `*` belongs to a `**` pair.
        let doubled =
            delim.len() == 1 && (before == delim.chars().next() || after == delim.chars().next());
        let touches_word = if opening {
            before.is_some_and(char::is_alphanumeric)
        } else {
            after.is_some_and(char::is_alphanumeric)
        };
        if !doubled && (!word_bound || !touches_word) {
            return Some(i);
        }
        from = i + delim.len();
    }
    None
}

/// `&`, `<` and `>` as entities (all that Telegram's HTML mode requires).
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn renders_common_markdown() {
        assert_eq!(
            render_html("# Title\nSome **bold**, *it* and `a<b>` & [docs](https://x.y/?a=1&b=2)"),
            "<b>Title</b>\nSome <b>bold</b>, <i>it</i> and <code>a&lt;b&gt;</code> &amp; <a href=\"https://x.y/?a=1&amp;b=2\">docs</a>"
        );
        assert_eq!(
            render_html("keep snake_case_name and 2*3*4"),
            "keep snake_case_name and 2<i>3</i>4"
        );
        assert_eq!(
            render_html("~~gone~~ __strong__"),
            "<s>gone</s> <b>strong</b>"
        );
    }

    #[test]
    fn renders_code_fences() {
        assert_eq!(
            render_html("run:\n```sh\necho <hi> **x**\n```\ndone"),
            "run:\n<pre><code class=\"language-sh\">echo &lt;hi&gt; **x**</code></pre>\ndone"
        );
        assert_eq!(
            render_html("```\nunclosed"),
            "<pre><code>unclosed</code></pre>"
        );
    }

    #[test]
    fn short_text_is_one_chunk() {
        assert_eq!(chunk_text("hello", 4000, ChunkMode::Length), vec!["hello"]);
        assert!(chunk_text("  \n", 4000, ChunkMode::Length).is_empty());
    }

    #[test]
    fn long_text_splits_at_word_boundaries_under_the_limit() {
        let text = "word ".repeat(2000);
        let chunks = chunk_text(&text, 4000, ChunkMode::Length);
        assert_eq!(chunks.len(), 3);
        for c in &chunks {
            assert!(c.chars().count() <= 4000);
            assert!(!c.starts_with(' ') && !c.ends_with(' '));
        }
        assert_eq!(
            chunks.join(" ").split_whitespace().count(),
            text.split_whitespace().count()
        );
    }

    #[test]
    fn unbreakable_text_is_cut_hard() {
        let text = "x".repeat(100);
        let chunks = chunk_text(&text, 40, ChunkMode::Length);
        assert!(chunks.iter().all(|c| c.chars().count() <= 40));
        assert_eq!(chunks.concat(), text);
    }

    #[test]
    fn fences_are_closed_and_reopened() {
        let body = (0..40)
            .map(|i| format!("line {i}"))
            .collect::<Vec<_>>()
            .join("\n");
        let text = format!("intro\n```rust\n{body}\n```\nend");
        let chunks = chunk_text(&text, 120, ChunkMode::Length);
        assert!(chunks.len() > 2);
        for c in &chunks {
            assert!(c.chars().count() <= 120, "{c}");
            assert_eq!(c.matches("```").count() % 2, 0, "{c}");
        }
        assert!(chunks[1].starts_with("```rust\n"));
    }

    #[test]
    fn newline_mode_sends_paragraphs_separately() {
        assert_eq!(
            chunk_text("one\n\ntwo\nstill two\n\n\nthree", 4000, ChunkMode::Newline),
            vec!["one", "two\nstill two", "three"]
        );
    }
}
