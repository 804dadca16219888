//! Key paths: the dotted/bracket form people type (`agents.list[0].id`, `models.providers["my.proxy"]`)
//! and the JSON-pointer form used internally to index source positions (`/agents/list/0/id`).

use std::fmt;

use crate::error::ConfigError;

/// One step of a key path.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Seg {
    Key(String),
    Index(usize),
}

/// A parsed key path. The empty path is the document root.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyPath(pub Vec<Seg>);

impl KeyPath {
    pub fn root() -> Self {
        KeyPath(Vec::new())
    }

    pub fn child_key(&self, key: &str) -> Self {
        let mut v = self.0.clone();
        v.push(Seg::Key(key.to_string()));
        KeyPath(v)
    }

    pub fn child_index(&self, index: usize) -> Self {
        let mut v = self.0.clone();
        v.push(Seg::Index(index));
        KeyPath(v)
    }

    pub fn parent(&self) -> Option<KeyPath> {
        if self.0.is_empty() {
            None
        } else {
            Some(KeyPath(self.0[..self.0.len() - 1].to_vec()))
        }
    }

    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    /// RFC 6901 JSON pointer (`""` for the root).
    pub fn to_pointer(&self) -> String {
        let mut out = String::new();
        for seg in &self.0 {
            out.push('/');
            match seg {
                Seg::Key(k) => out.push_str(&k.replace('~', "~0").replace('/', "~1")),
                Seg::Index(i) => out.push_str(&i.to_string()),
            }
        }
        out
    }

    /// Parse the CLI form: `a.b[0].c`, `a["x.y"]`, `a['x']`. Numeric dotted segments stay keys
    /// (`groups.-100123`), bracketed numbers are indexes.
    pub fn parse(text: &str) -> Result<KeyPath, ConfigError> {
        let bad = |message: &str| ConfigError::BadPath {
            path: text.to_string(),
            message: message.to_string(),
        };
        let chars: Vec<char> = text.trim().chars().collect();
        if chars.is_empty() {
            return Err(bad("path is empty"));
        }
        let mut segs = Vec::new();
        let mut i = 0;
        let mut cur = String::new();
        let mut after_bracket = false;
        while i < chars.len() {
            let c = chars[i];
            match c {
                '.' => {
                    if !after_bracket {
                        if cur.is_empty() {
                            return Err(bad("empty segment"));
                        }
                        segs.push(Seg::Key(std::mem::take(&mut cur)));
                    }
                    after_bracket = false;
                    i += 1;
                    if i == chars.len() {
                        return Err(bad("path ends with '.'"));
                    }
                }
                '[' => {
                    if !cur.is_empty() {
                        segs.push(Seg::Key(std::mem::take(&mut cur)));
                    } else if !after_bracket && i != 0 {
                        return Err(bad("empty segment before '['"));
                    }
                    i += 1;
                    let q = chars.get(i).copied();
                    if q == Some('"') || q == Some('\'') {
                        let quote = q.unwrap_or('"');
                        i += 1;
                        let mut key = String::new();
                        while i < chars.len() && chars[i] != quote {
                            if chars[i] == '\\' && i + 1 < chars.len() {
                                i += 1;
                            }
                            key.push(chars[i]);
                            i += 1;
                        }
                        if chars.get(i) != Some(&quote) || chars.get(i + 1) != Some(&']') {
                            return Err(bad("unterminated quoted segment"));
                        }
                        i += 2;
                        segs.push(Seg::Key(key));
                    } else {
                        let start = i;
                        while i < chars.len() && chars[i] != ']' {
                            i += 1;
                        }
                        if i == chars.len() {
                            return Err(bad("missing ']'"));
                        }
                        let inner: String = chars[start..i].iter().collect();
                        i += 1;
                        let inner = inner.trim();
                        match inner.parse::<usize>() {
                            Ok(n) => segs.push(Seg::Index(n)),
                            Err(_) if !inner.is_empty() => segs.push(Seg::Key(inner.to_string())),
                            Err(_) => return Err(bad("empty brackets")),
                        }
                    }
                    after_bracket = true;
                }
                _ => {
                    if after_bracket {
                        return Err(bad("expected '.' or '[' after ']'"));
                    }
                    cur.push(c);
                    i += 1;
                }
            }
        }
        if !cur.is_empty() {
            segs.push(Seg::Key(cur));
        }
        Ok(KeyPath(segs))
    }
}

fn is_plain_key(k: &str) -> bool {
    !k.is_empty()
        && k.chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '-' || c == '$' || c == '*')
}

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (n, seg) in self.0.iter().enumerate() {
            match seg {
                Seg::Key(k) if is_plain_key(k) => {
                    if n > 0 {
                        f.write_str(".")?;
                    }
                    f.write_str(k)?;
                }
                Seg::Key(k) => write!(f, "[{}]", serde_json::Value::String(k.clone()))?,
                Seg::Index(i) => write!(f, "[{i}]")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn k(s: &str) -> Seg {
        Seg::Key(s.into())
    }

    #[test]
    fn parses_dotted_and_bracket_forms() {
        assert_eq!(
            KeyPath::parse("agents.list[0].id").unwrap().0,
            vec![k("agents"), k("list"), Seg::Index(0), k("id")]
        );
        assert_eq!(
            KeyPath::parse("models.providers[\"my.proxy\"].apiKey")
                .unwrap()
                .0,
            vec![k("models"), k("providers"), k("my.proxy"), k("apiKey")]
        );
        assert_eq!(
            KeyPath::parse("channels.telegram.groups.-100").unwrap().0,
            vec![k("channels"), k("telegram"), k("groups"), k("-100")]
        );
        assert_eq!(
            KeyPath::parse("a[1][2]").unwrap().0,
            vec![k("a"), Seg::Index(1), Seg::Index(2)]
        );
        assert!(KeyPath::parse("a..b").is_err());
        assert!(KeyPath::parse("a.").is_err());
        assert!(KeyPath::parse("a[0").is_err());
        assert!(KeyPath::parse("").is_err());
    }

    #[test]
    fn renders_and_points() {
        let p = KeyPath::parse("models.providers[\"a/b\"].models[0]").unwrap();
        assert_eq!(p.to_string(), "models.providers[\"a/b\"].models[0]");
        assert_eq!(p.to_pointer(), "/models/providers/a~1b/models/0");
        assert_eq!(KeyPath::root().to_pointer(), "");
    }
}
