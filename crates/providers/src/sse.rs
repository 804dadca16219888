//! Server-Sent Events line parser (the subset model APIs use).
//!
//! Bytes arrive in arbitrary pieces: a line, a UTF-8 character or a `\r\n` pair may be split
//! across TCP reads. The parser buffers bytes until a line end, so callers feed whatever the
//! socket gave them and get back only complete events. Handles `\n`, `\r\n` and `\r` line ends,
//! multi-line `data:` (joined with `\n`), `event:` names and `:` comments (keep-alives).
//! `id:` and `retry:` are ignored: model streams are never resumed.

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SseEvent {
    /// The `event:` field, if the server named the event.
    pub event: Option<String>,
    /// All `data:` lines joined with `\n`.
    pub data: String,
}

/// Incremental parser; feed bytes, collect events.
#[derive(Debug, Default)]
pub struct SseParser {
    line: Vec<u8>,
    /// The previous byte was `\r`, so a leading `\n` in the next piece ends nothing.
    after_cr: bool,
    event: Option<String>,
    data: Option<String>,
}

impl SseParser {
    pub fn new() -> Self {
        Self::default()
    }

    /// Feed the next piece of the body; returns the events it completed.
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<SseEvent> {
        let mut out = Vec::new();
        for &b in bytes {
            if self.after_cr {
                self.after_cr = false;
                if b == b'\n' {
                    continue;
                }
            }
            match b {
                b'\n' => self.end_line(&mut out),
                b'\r' => {
                    self.after_cr = true;
                    self.end_line(&mut out);
                }
                _ => self.line.push(b),
            }
        }
        out
    }

    /// End of body: an event missing its final blank line is still delivered.
    pub fn finish(&mut self) -> Option<SseEvent> {
        let mut out = Vec::new();
        if !self.line.is_empty() {
            self.end_line(&mut out);
        }
        self.dispatch(&mut out);
        out.pop()
    }

    fn end_line(&mut self, out: &mut Vec<SseEvent>) {
        let line = std::mem::take(&mut self.line);
        if line.is_empty() {
            self.dispatch(out);
            return;
        }
        let line = String::from_utf8_lossy(&line);
        if line.starts_with(':') {
            return;
        }
        let (field, value) = match line.find(':') {
            Some(i) => {
                let v = &line[i + 1..];
                (&line[..i], v.strip_prefix(' ').unwrap_or(v))
            }
            None => (line.as_ref(), ""),
        };
        match field {
            "data" => match &mut self.data {
                Some(d) => {
                    d.push('\n');
                    d.push_str(value);
                }
                None => self.data = Some(value.to_string()),
            },
            "event" => self.event = Some(value.to_string()),
            _ => {}
        }
    }

    fn dispatch(&mut self, out: &mut Vec<SseEvent>) {
        let event = self.event.take();
        if let Some(data) = self.data.take() {
            out.push(SseEvent { event, data });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn ev(event: Option<&str>, data: &str) -> SseEvent {
        SseEvent {
            event: event.map(str::to_string),
            data: data.to_string(),
        }
    }

    #[test]
    fn parses_basic_events_and_comments() {
        let mut p = SseParser::new();
        let got = p.feed(b": keep-alive\n\nevent: ping\ndata: {}\n\ndata:x\n\n");
        assert_eq!(got, vec![ev(Some("ping"), "{}"), ev(None, "x")]);
    }

    #[test]
    fn crlf_and_cr_line_ends() {
        let mut p = SseParser::new();
        let got = p.feed(b"data: a\r\n\r\ndata: b\r\rdata: c\n\n");
        assert_eq!(got, vec![ev(None, "a"), ev(None, "b"), ev(None, "c")]);
    }

    #[test]
    fn multi_line_data_is_joined() {
        let mut p = SseParser::new();
        let got = p.feed(b"event: e\ndata: one\ndata: two\ndata:\n\n");
        assert_eq!(got, vec![ev(Some("e"), "one\ntwo\n")]);
    }

    #[test]
    fn every_split_point_gives_the_same_events() {
        let body = "event: message\r\ndata: {\"t\":\"h\u{e9}llo \u{1F600}\"}\r\n\r\n: c\r\ndata: [DONE]\r\n\r\n";
        let bytes = body.as_bytes();
        let whole = SseParser::new().feed(bytes);
        assert_eq!(whole.len(), 2);
        for split in 0..bytes.len() {
            let mut p = SseParser::new();
            let mut got = p.feed(&bytes[..split]);
            got.extend(p.feed(&bytes[split..]));
            assert_eq!(got, whole, "split at {split}");
        }
        let mut p = SseParser::new();
        let mut got = Vec::new();
        for b in bytes {
            got.extend(p.feed(std::slice::from_ref(b)));
        }
        assert_eq!(got, whole);
    }

    #[test]
    fn finish_delivers_unterminated_event() {
        let mut p = SseParser::new();
        assert!(p.feed(b"data: tail").is_empty());
        assert_eq!(p.finish(), Some(ev(None, "tail")));
        assert_eq!(p.finish(), None);
    }

    #[test]
    fn blank_lines_without_data_dispatch_nothing() {
        let mut p = SseParser::new();
        assert!(p.feed(b"\n\n\nevent: x\n\n").is_empty());
    }
}
