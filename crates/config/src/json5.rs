//! A small JSON5 parser that keeps positions.
//!
//! Produces a `serde_json::Value` plus a span table (JSON pointer → line:column of the key and of
//! the value) so that later stages (env substitution, schema validation) can point at the exact
//! spot in the file. Supports comments, trailing commas, unquoted (identifier) keys, single-quoted
//! strings, hex numbers, leading/trailing decimal points, explicit `+`, line continuations and
//! `\x`/`\u` escapes. `Infinity`/`NaN` are refused: JSON cannot hold them and no config key takes
//! them. Duplicate keys: the last one wins (as in JSON5/JavaScript).

use std::collections::HashMap;

use serde_json::{Map, Number, Value};

/// 1-based line and column (columns count characters, not bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pos {
    pub line: usize,
    pub column: usize,
}

/// Position of one node: the key (for object members) and the value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub key: Option<Pos>,
    pub value: Pos,
}

/// JSON pointer → span, for every node in one document.
pub type Spans = HashMap<String, Span>;

/// A syntax error with its position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub pos: Pos,
    pub message: String,
}

/// Maximum nesting depth; deeper documents are refused rather than overflowing the stack.
const MAX_DEPTH: usize = 256;

/// Parse JSON5 text into a value and its span table.
pub fn parse(text: &str) -> Result<(Value, Spans), SyntaxError> {
    let mut p = Parser {
        chars: text.chars().collect(),
        i: 0,
        line: 1,
        col: 1,
        spans: HashMap::new(),
    };
    if p.peek() == Some('\u{feff}') {
        p.bump();
    }
    p.skip_ws()?;
    if p.peek().is_none() {
        return Err(p.err("empty document: expected a JSON5 value such as {}"));
    }
    let start = p.pos();
    let v = p.value(&mut String::new(), 0)?;
    p.spans.insert(
        String::new(),
        Span {
            key: None,
            value: start,
        },
    );
    p.skip_ws()?;
    if let Some(c) = p.peek() {
        return Err(p.err(&format!(
            "unexpected {} after the end of the document",
            show(c)
        )));
    }
    Ok((v, p.spans))
}

fn show(c: char) -> String {
    match c {
        '\n' => "end of line".to_string(),
        c if c.is_control() => format!("character U+{:04X}", c as u32),
        c => format!("character '{c}'"),
    }
}

struct Parser {
    chars: Vec<char>,
    i: usize,
    line: usize,
    col: usize,
    spans: Spans,
}

fn escape_ptr(k: &str) -> String {
    k.replace('~', "~0").replace('/', "~1")
}

fn is_id_start(c: char) -> bool {
    c == '$' || c == '_' || c.is_alphabetic()
}

fn is_id_continue(c: char) -> bool {
    is_id_start(c) || c.is_alphanumeric() || c == '\u{200c}' || c == '\u{200d}'
}

impl Parser {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.i).copied()
    }

    fn peek_at(&self, n: usize) -> Option<char> {
        self.chars.get(self.i + n).copied()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.chars.get(self.i).copied()?;
        self.i += 1;
        if c == '\n'
            || c == '\u{2028}'
            || c == '\u{2029}'
            || (c == '\r' && self.peek() != Some('\n'))
        {
            self.line += 1;
            self.col = 1;
        } else {
            self.col += 1;
        }
        Some(c)
    }

    fn pos(&self) -> Pos {
        Pos {
            line: self.line,
            column: self.col,
        }
    }

    fn err(&self, message: &str) -> SyntaxError {
        SyntaxError {
            pos: self.pos(),
            message: message.to_string(),
        }
    }

    fn err_at(&self, pos: Pos, message: &str) -> SyntaxError {
        SyntaxError {
            pos,
            message: message.to_string(),
        }
    }

    fn skip_ws(&mut self) -> Result<(), SyntaxError> {
        loop {
            match self.peek() {
                Some(c) if c.is_whitespace() || c == '\u{feff}' => {
                    self.bump();
                }
                Some('/') if self.peek_at(1) == Some('/') => {
                    while let Some(c) = self.peek() {
                        if c == '\n' || c == '\r' || c == '\u{2028}' || c == '\u{2029}' {
                            break;
                        }
                        self.bump();
                    }
                }
                Some('/') if self.peek_at(1) == Some('*') => {
                    let start = self.pos();
                    self.bump();
                    self.bump();
                    loop {
                        match self.peek() {
                            None => return Err(self.err_at(start, "unterminated /* comment")),
                            Some('*') if self.peek_at(1) == Some('/') => {
                                self.bump();
                                self.bump();
                                break;
                            }
                            Some(_) => {
                                self.bump();
                            }
                        }
                    }
                }
                _ => return Ok(()),
            }
        }
    }

    fn value(&mut self, ptr: &mut String, depth: usize) -> Result<Value, SyntaxError> {
        if depth > MAX_DEPTH {
            return Err(self.err("nesting is too deep"));
        }
        match self.peek() {
            None => Err(self.err("unexpected end of input: expected a value")),
            Some('{') => self.object(ptr, depth),
            Some('[') => self.array(ptr, depth),
            Some('"') | Some('\'') => Ok(Value::String(self.string()?)),
            Some(c) if c == '-' || c == '+' || c == '.' || c.is_ascii_digit() => self.number(),
            Some(c) if is_id_start(c) => {
                let start = self.pos();
                let word = self.identifier()?;
                match word.as_str() {
                    "true" => Ok(Value::Bool(true)),
                    "false" => Ok(Value::Bool(false)),
                    "null" => Ok(Value::Null),
                    "Infinity" | "NaN" => Err(self.err_at(
                        start,
                        &format!("{word} is not supported in config files; use a finite number"),
                    )),
                    _ => Err(self.err_at(
                        start,
                        &format!("unexpected word '{word}': strings must be quoted"),
                    )),
                }
            }
            Some(c) => Err(self.err(&format!("unexpected {}: expected a value", show(c)))),
        }
    }

    fn object(&mut self, ptr: &mut String, depth: usize) -> Result<Value, SyntaxError> {
        let open = self.pos();
        self.bump();
        let mut map = Map::new();
        loop {
            self.skip_ws()?;
            match self.peek() {
                None => return Err(self.err_at(open, "unterminated object: missing '}'")),
                Some('}') => {
                    self.bump();
                    return Ok(Value::Object(map));
                }
                _ => {}
            }
            let key_pos = self.pos();
            let key = match self.peek() {
                Some('"') | Some('\'') => self.string()?,
                Some(c) if is_id_start(c) || c == '\\' => self.identifier()?,
                Some(c) => {
                    return Err(
                        self.err(&format!("unexpected {}: expected a key or '}}'", show(c)))
                    );
                }
                None => return Err(self.err_at(open, "unterminated object: missing '}'")),
            };
            self.skip_ws()?;
            if self.peek() != Some(':') {
                return Err(self.err(&format!("expected ':' after key \"{key}\"")));
            }
            self.bump();
            self.skip_ws()?;
            let len = ptr.len();
            ptr.push('/');
            ptr.push_str(&escape_ptr(&key));
            let value_pos = self.pos();
            let v = self.value(ptr, depth + 1)?;
            self.spans.insert(
                ptr.clone(),
                Span {
                    key: Some(key_pos),
                    value: value_pos,
                },
            );
            ptr.truncate(len);
            map.insert(key, v);
            self.skip_ws()?;
            match self.peek() {
                Some(',') => {
                    self.bump();
                }
                Some('}') => {}
                None => return Err(self.err_at(open, "unterminated object: missing '}'")),
                Some(c) => {
                    return Err(self.err(&format!(
                        "unexpected {}: expected ',' or '}}' (missing comma?)",
                        show(c)
                    )));
                }
            }
        }
    }

    fn array(&mut self, ptr: &mut String, depth: usize) -> Result<Value, SyntaxError> {
        let open = self.pos();
        self.bump();
        let mut items = Vec::new();
        loop {
            self.skip_ws()?;
            match self.peek() {
                None => return Err(self.err_at(open, "unterminated array: missing ']'")),
                Some(']') => {
                    self.bump();
                    return Ok(Value::Array(items));
                }
                _ => {}
            }
            let len = ptr.len();
            ptr.push('/');
            ptr.push_str(&items.len().to_string());
            let value_pos = self.pos();
            let v = self.value(ptr, depth + 1)?;
            self.spans.insert(
                ptr.clone(),
                Span {
                    key: None,
                    value: value_pos,
                },
            );
            ptr.truncate(len);
            items.push(v);
            self.skip_ws()?;
            match self.peek() {
                Some(',') => {
                    self.bump();
                }
                Some(']') => {}
                None => return Err(self.err_at(open, "unterminated array: missing ']'")),
                Some(c) => {
                    return Err(self.err(&format!(
                        "unexpected {}: expected ',' or ']' (missing comma?)",
                        show(c)
                    )));
                }
            }
        }
    }

    fn identifier(&mut self) -> Result<String, SyntaxError> {
        let mut s = String::new();
        while let Some(c) = self.peek() {
            if c == '\\' {
                let at = self.pos();
                self.bump();
                if self.bump() != Some('u') {
                    return Err(self.err_at(at, "only \\u escapes are allowed in unquoted keys"));
                }
                s.push(self.unicode_escape(at)?);
            } else if (s.is_empty() && is_id_start(c)) || (!s.is_empty() && is_id_continue(c)) {
                s.push(c);
                self.bump();
            } else {
                break;
            }
        }
        if s.is_empty() {
            return Err(self.err("expected a key"));
        }
        Ok(s)
    }

    fn hex_digits(&mut self, n: usize, at: Pos) -> Result<u32, SyntaxError> {
        let mut v = 0u32;
        for _ in 0..n {
            let d = self
                .peek()
                .and_then(|c| c.to_digit(16))
                .ok_or_else(|| self.err_at(at, "invalid escape: expected hex digits"))?;
            self.bump();
            v = v * 16 + d;
        }
        Ok(v)
    }

    fn unicode_escape(&mut self, at: Pos) -> Result<char, SyntaxError> {
        let hi = self.hex_digits(4, at)?;
        if (0xD800..0xDC00).contains(&hi)
            && self.peek() == Some('\\')
            && self.peek_at(1) == Some('u')
        {
            self.bump();
            self.bump();
            let lo = self.hex_digits(4, at)?;
            if (0xDC00..0xE000).contains(&lo) {
                let c = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                return char::from_u32(c).ok_or_else(|| self.err_at(at, "invalid surrogate pair"));
            }
            return Err(self.err_at(at, "invalid surrogate pair"));
        }
        char::from_u32(hi).ok_or_else(|| self.err_at(at, "invalid \\u escape (lone surrogate)"))
    }

    fn string(&mut self) -> Result<String, SyntaxError> {
        let open = self.pos();
        let quote = self.bump().unwrap_or('"');
        let mut s = String::new();
        loop {
            let Some(c) = self.peek() else {
                return Err(self.err_at(open, "unterminated string"));
            };
            if c == quote {
                self.bump();
                return Ok(s);
            }
            match c {
                '\\' => {
                    let at = self.pos();
                    self.bump();
                    let Some(e) = self.bump() else {
                        return Err(self.err_at(open, "unterminated string"));
                    };
                    match e {
                        'n' => s.push('\n'),
                        'r' => s.push('\r'),
                        't' => s.push('\t'),
                        'b' => s.push('\u{8}'),
                        'f' => s.push('\u{c}'),
                        'v' => s.push('\u{b}'),
                        '0' if !self.peek().is_some_and(|d| d.is_ascii_digit()) => s.push('\0'),
                        'x' => {
                            let v = self.hex_digits(2, at)?;
                            s.push(char::from_u32(v).unwrap_or('\u{fffd}'));
                        }
                        'u' => s.push(self.unicode_escape(at)?),
                        '\r' => {
                            if self.peek() == Some('\n') {
                                self.bump();
                            }
                        }
                        '\n' | '\u{2028}' | '\u{2029}' => {}
                        d if d.is_ascii_digit() => {
                            return Err(self.err_at(at, "octal escapes are not allowed"));
                        }
                        other => s.push(other),
                    }
                }
                '\n' | '\r' => {
                    return Err(
                        self.err("unterminated string: line break inside a string (use \\n)")
                    );
                }
                _ => {
                    s.push(c);
                    self.bump();
                }
            }
        }
    }

    fn number(&mut self) -> Result<Value, SyntaxError> {
        let start = self.pos();
        let mut neg = false;
        if let Some(c @ ('+' | '-')) = self.peek() {
            neg = c == '-';
            self.bump();
        }
        if self.peek().is_some_and(is_id_start) {
            let word = self.identifier()?;
            return Err(self.err_at(
                start,
                &format!("{word} is not supported in config files; use a finite number"),
            ));
        }
        if self.peek() == Some('0') && matches!(self.peek_at(1), Some('x' | 'X')) {
            self.bump();
            self.bump();
            let mut digits = String::new();
            while let Some(c) = self.peek().filter(|c| c.is_ascii_hexdigit()) {
                digits.push(c);
                self.bump();
            }
            if digits.is_empty() {
                return Err(self.err_at(start, "invalid hex number"));
            }
            let v = u64::from_str_radix(&digits, 16)
                .map_err(|_| self.err_at(start, "hex number is too large"))?;
            return Ok(if neg {
                i64::try_from(v)
                    .map(|v| Value::Number((-v).into()))
                    .or_else(|_| float(-(v as f64)).ok_or(()))
                    .map_err(|_| self.err_at(start, "hex number is too large"))?
            } else {
                Value::Number(v.into())
            });
        }
        let mut text = String::new();
        if neg {
            text.push('-');
        }
        let mut int_digits = 0;
        while let Some(c) = self.peek().filter(|c| c.is_ascii_digit()) {
            text.push(c);
            int_digits += 1;
            self.bump();
        }
        let mut is_float = false;
        let mut frac_digits = 0;
        if self.peek() == Some('.') {
            is_float = true;
            self.bump();
            text.push('.');
            while let Some(c) = self.peek().filter(|c| c.is_ascii_digit()) {
                text.push(c);
                frac_digits += 1;
                self.bump();
            }
        }
        if int_digits == 0 && frac_digits == 0 {
            return Err(self.err_at(start, "invalid number"));
        }
        if matches!(self.peek(), Some('e' | 'E')) {
            is_float = true;
            text.push('e');
            self.bump();
            if let Some(c @ ('+' | '-')) = self.peek() {
                text.push(c);
                self.bump();
            }
            let mut exp = 0;
            while let Some(c) = self.peek().filter(|c| c.is_ascii_digit()) {
                text.push(c);
                exp += 1;
                self.bump();
            }
            if exp == 0 {
                return Err(self.err_at(start, "invalid number: missing exponent digits"));
            }
        }
        if self.peek().is_some_and(is_id_continue) {
            return Err(self.err(&format!(
                "unexpected {} in number",
                show(self.peek().unwrap_or(' '))
            )));
        }
        if int_digits > 1 && text.trim_start_matches('-').starts_with('0') && !is_float {
            return Err(self.err_at(start, "leading zeros are not allowed in numbers"));
        }
        if !is_float {
            if let Ok(v) = text.parse::<i64>() {
                return Ok(Value::Number(v.into()));
            }
            if let Ok(v) = text.parse::<u64>() {
                return Ok(Value::Number(v.into()));
            }
        }
        // Normalise ".5" / "5." forms for Rust's float parser.
        let fixed = text.replace("-.", "-0.").replace(".e", ".0e");
        let fixed = if fixed.starts_with('.') {
            format!("0{fixed}")
        } else {
            fixed
        };
        let fixed = if fixed.ends_with('.') {
            format!("{fixed}0")
        } else {
            fixed
        };
        let f: f64 = fixed
            .parse()
            .map_err(|_| self.err_at(start, "invalid number"))?;
        float(f).ok_or_else(|| self.err_at(start, "number is out of range"))
    }
}

fn float(f: f64) -> Option<Value> {
    Number::from_f64(f).map(Value::Number)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;
    use serde_json::json;

    #[test]
    fn parses_json5_features() {
        let text = r#"
// comment
{
  unquoted: 'single',
  "double": "a\"b\n",
  /* block */ hex: 0xFF,
  neg: -5, pos: +3, lead: .5, trail: 5., exp: 1e3,
  arr: [1, 2, 3,],
  $schema: "x",
  nested: { ok: true, no: false, nil: null, },
  cont: "a\
b",
}
"#;
        let (v, _) = parse(text).unwrap();
        assert_eq!(
            v,
            json!({
                "unquoted": "single", "double": "a\"b\n", "hex": 255, "neg": -5, "pos": 3,
                "lead": 0.5, "trail": 5.0, "exp": 1000.0, "arr": [1, 2, 3], "$schema": "x",
                "nested": {"ok": true, "no": false, "nil": null}, "cont": "ab"
            })
        );
    }

    #[test]
    fn records_key_and_value_positions() {
        let text = "{\n  gateway: {\n    port: 18789,\n  },\n  list: [ 'a', {id: 1} ],\n}";
        let (_, spans) = parse(text).unwrap();
        assert_eq!(
            spans["/gateway/port"],
            Span {
                key: Some(Pos { line: 3, column: 5 }),
                value: Pos {
                    line: 3,
                    column: 11
                }
            }
        );
        assert_eq!(
            spans["/list/1/id"].key,
            Some(Pos {
                line: 5,
                column: 17
            })
        );
        assert_eq!(
            spans["/list/0"].value,
            Pos {
                line: 5,
                column: 11
            }
        );
    }

    #[test]
    fn errors_carry_line_and_column() {
        let e = parse("{\n  a: 1\n  b: 2\n}").unwrap_err();
        assert_eq!(e.pos, Pos { line: 3, column: 3 });
        assert!(e.message.contains("missing comma"), "{}", e.message);

        let e = parse("{\n  a: 'x,\n}").unwrap_err();
        assert_eq!(e.pos.line, 2);

        let e = parse("{ a: Infinity }").unwrap_err();
        assert!(e.message.contains("Infinity"));
        let e = parse("{ a: yes }").unwrap_err();
        assert_eq!(e.pos, Pos { line: 1, column: 6 });
        assert!(parse("").is_err());
        assert!(parse("{} x").is_err());
        assert!(parse("{ /* open").is_err());
    }

    #[test]
    fn plain_json_roundtrips() {
        let v = json!({"a": [1, 2.5, "x", null, {"b": false}], "c": -9007199254740993i64});
        let (back, _) = parse(&serde_json::to_string_pretty(&v).unwrap()).unwrap();
        assert_eq!(back, v);
    }
}
