//! Environment: `.env` files, the merged variable map, and `${VAR}` substitution.
//!
//! Library code never reads the process environment; callers pass an [`EnvMap`]. The usual map is
//! the process environment overlaid on `<state>/.env` (the process wins), then config `env.vars`
//! filling only what is still missing.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use crate::error::{ConfigError, Location};
use crate::keypath::KeyPath;
use crate::source::SourceMap;

/// Environment variables by name.
pub type EnvMap = BTreeMap<String, String>;

/// Parse a `.env` file (`KEY=VALUE`, `export KEY=VALUE`, `#` comments, single/double quotes).
/// A missing file is an empty map; a malformed line is an error naming file and line.
pub fn load_dotenv(path: &Path) -> Result<EnvMap, ConfigError> {
    match std::fs::read_to_string(path) {
        Ok(text) => parse_dotenv(&text, &path.display().to_string()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(EnvMap::new()),
        Err(e) => Err(ConfigError::io("read", path, e)),
    }
}

/// Parse `.env` text; `file` names the source in errors.
pub fn parse_dotenv(text: &str, file: &str) -> Result<EnvMap, ConfigError> {
    let mut out = EnvMap::new();
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line
            .strip_prefix("export ")
            .map(str::trim_start)
            .unwrap_or(line);
        let bad = |message: &str| ConfigError::Syntax {
            at: Location {
                file: file.to_string(),
                line: n + 1,
                column: 1,
            },
            message: format!("{message}; expected KEY=VALUE"),
        };
        let Some((key, rest)) = line.split_once('=') else {
            return Err(bad("missing '='"));
        };
        let key = key.trim();
        if !is_dotenv_key(key) {
            return Err(bad(&format!("invalid variable name {key:?}")));
        }
        let rest = rest.trim();
        let value = if let Some(body) = rest.strip_prefix('"') {
            let mut v = String::new();
            let mut chars = body.chars();
            let mut closed = false;
            while let Some(c) = chars.next() {
                match c {
                    '"' => {
                        closed = true;
                        break;
                    }
                    '\\' => match chars.next() {
                        Some('n') => v.push('\n'),
                        Some('r') => v.push('\r'),
                        Some('t') => v.push('\t'),
                        Some(o) => v.push(o),
                        None => v.push('\\'),
                    },
                    o => v.push(o),
                }
            }
            if !closed {
                return Err(bad("unterminated double quote"));
            }
            v
        } else if let Some(body) = rest.strip_prefix('\'') {
            match body.find('\'') {
                Some(end) => body[..end].to_string(),
                None => return Err(bad("unterminated single quote")),
            }
        } else {
            match rest.find(" #") {
                Some(i) => rest[..i].trim_end().to_string(),
                None => rest.to_string(),
            }
        };
        out.insert(key.to_string(), value);
    }
    Ok(out)
}

fn is_dotenv_key(k: &str) -> bool {
    let mut chars = k.chars();
    matches!(chars.next(), Some(c) if c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c == '.' || c.is_ascii_alphanumeric())
}

/// Overlay `process` on `dotenv`: a variable set in the process always wins.
pub fn merge_env(process: &EnvMap, dotenv: EnvMap) -> EnvMap {
    let mut out = dotenv;
    for (k, v) in process {
        out.insert(k.clone(), v.clone());
    }
    out
}

/// The process environment as an [`EnvMap`] (non-UTF-8 entries are skipped). Only binaries
/// should call this; libraries take the map as a parameter.
pub fn process_env() -> EnvMap {
    std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .collect()
}

/// Fill `env` from the config's `env` section (`env.vars.*` and inline string entries) without
/// overriding anything already set. Runs before substitution, as upstream does.
pub fn apply_config_env(env: &mut EnvMap, config: &Value) {
    let Some(section) = config.get("env").and_then(Value::as_object) else {
        return;
    };
    let vars = section
        .get("vars")
        .and_then(Value::as_object)
        .into_iter()
        .flatten();
    let inline = section
        .iter()
        .filter(|(k, _)| k.as_str() != "vars" && k.as_str() != "shellEnv");
    for (k, v) in vars.chain(inline) {
        if let Some(s) = v.as_str()
            && !s.is_empty()
            && env.get(k).is_none_or(String::is_empty)
        {
            env.insert(k.clone(), s.to_string());
        }
    }
}

fn is_var_start(c: char) -> bool {
    c == '_' || c.is_ascii_uppercase()
}

fn is_var_char(c: char) -> bool {
    c == '_' || c.is_ascii_uppercase() || c.is_ascii_digit()
}

/// Length in bytes of `NAME}` at the start of `s` when `NAME` is a valid variable name.
fn var_ref(s: &str) -> Option<(usize, &str)> {
    let mut chars = s.char_indices();
    let (_, first) = chars.next()?;
    if !is_var_start(first) {
        return None;
    }
    for (i, c) in chars {
        if c == '}' {
            return Some((i + 1, &s[..i]));
        }
        if !is_var_char(c) {
            return None;
        }
    }
    None
}

/// Substitute `${VAR}` in one string. `$${VAR}` yields a literal `${VAR}`. Returns the name of
/// the first missing or empty variable as the error.
pub fn substitute(s: &str, env: &EnvMap) -> Result<String, String> {
    if !s.contains("${") {
        return Ok(s.to_string());
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        if let Some(after) = tail.strip_prefix("$${")
            && let Some((len, name)) = var_ref(after)
        {
            out.push_str("${");
            out.push_str(name);
            out.push('}');
            rest = &after[len..];
            continue;
        }
        if let Some(after) = tail.strip_prefix("${")
            && let Some((len, name)) = var_ref(after)
        {
            match env.get(name) {
                Some(v) if !v.is_empty() => out.push_str(v),
                _ => return Err(name.to_string()),
            }
            rest = &after[len..];
            continue;
        }
        out.push('$');
        rest = &tail[1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Substitute in every string of `value`; errors point at the string's position.
pub(crate) fn substitute_value(
    value: &mut Value,
    env: &EnvMap,
    map: &SourceMap,
    path: &KeyPath,
) -> Result<(), ConfigError> {
    match value {
        Value::String(s) => match substitute(s, env) {
            Ok(v) => {
                *s = v;
                Ok(())
            }
            Err(var) => Err(ConfigError::MissingEnvVar {
                at: map.locate_value(&path.to_pointer()),
                key_path: path.to_string(),
                var,
            }),
        },
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                substitute_value(item, env, map, &path.child_index(i))?;
            }
            Ok(())
        }
        Value::Object(m) => {
            for (k, v) in m.iter_mut() {
                substitute_value(v, env, map, &path.child_key(k))?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn env(pairs: &[(&str, &str)]) -> EnvMap {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn substitutes_and_escapes() {
        let e = env(&[("BASE", "http://x"), ("K", "v"), ("EMPTY", "")]);
        assert_eq!(substitute("${BASE}/v1", &e).unwrap(), "http://x/v1");
        assert_eq!(substitute("a${K}b${K}", &e).unwrap(), "avbv");
        assert_eq!(substitute("$${K}", &e).unwrap(), "${K}");
        assert_eq!(substitute("$$${K}", &e).unwrap(), "$${K}");
        assert_eq!(substitute("${lower} $5 $", &e).unwrap(), "${lower} $5 $");
        assert_eq!(substitute("${MISSING}", &e).unwrap_err(), "MISSING");
        assert_eq!(substitute("${EMPTY}", &e).unwrap_err(), "EMPTY");
        assert_eq!(substitute("$${MISSING}", &e).unwrap(), "${MISSING}");
    }

    #[test]
    fn dotenv_forms() {
        let text = "# c\nexport A=1\nB = \"two words\\n\" \nC='lit $x'\nD=plain # comment\nE=\n";
        assert_eq!(
            parse_dotenv(text, ".env").unwrap(),
            env(&[
                ("A", "1"),
                ("B", "two words\n"),
                ("C", "lit $x"),
                ("D", "plain"),
                ("E", "")
            ])
        );
        let err = parse_dotenv("A=1\nnot a line\n", "/s/.env").unwrap_err();
        assert!(err.to_string().starts_with("/s/.env:2:1:"), "{err}");
    }

    #[test]
    fn process_wins_over_dotenv_and_config_fills_gaps() {
        let merged = merge_env(&env(&[("A", "proc")]), env(&[("A", "file"), ("B", "file")]));
        assert_eq!(merged, env(&[("A", "proc"), ("B", "file")]));
        let mut m = merged;
        apply_config_env(
            &mut m,
            &serde_json::json!({"env": {"vars": {"A": "cfg", "C": "cfg"}, "D": "inline", "shellEnv": {"enabled": true}}}),
        );
        assert_eq!(
            m,
            env(&[("A", "proc"), ("B", "file"), ("C", "cfg"), ("D", "inline")])
        );
    }
}
