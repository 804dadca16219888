//! In-memory edits of the config JSON: `config get/set/unset` paths and RFC 7396 merge patch.
//!
//! Edits apply to the file's own JSON (what `LoadedConfig::parsed` holds), not to the effective
//! value, so `${VAR}` references and `$include`s survive. Callers validate the result with
//! [`check`] before writing it.

use std::path::Path;

use serde_json::{Map, Value};

use crate::env::EnvMap;
use crate::error::ConfigError;
use crate::keypath::{KeyPath, Seg};
use crate::load::{LoadedConfig, parse_str};

/// Value at `path`, if any.
pub fn get_path<'a>(value: &'a Value, path: &KeyPath) -> Option<&'a Value> {
    let mut cur = value;
    for seg in &path.0 {
        cur = match (seg, cur) {
            (Seg::Key(k), Value::Object(m)) => m.get(k)?,
            (Seg::Index(i), Value::Array(a)) => a.get(*i)?,
            // `groups.0` written with a dot is a key; allow it to index arrays too.
            (Seg::Key(k), Value::Array(a)) => a.get(k.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(cur)
}

/// `config get <path>`: the value, or [`ConfigError::PathNotFound`].
pub fn get<'a>(value: &'a Value, path: &str) -> Result<&'a Value, ConfigError> {
    let kp = KeyPath::parse(path)?;
    get_path(value, &kp).ok_or_else(|| ConfigError::PathNotFound {
        path: path.to_string(),
    })
}

/// Parse a CLI value like `openclaw config set`: JSON5 when it parses, else the raw string.
pub fn parse_cli_value(raw: &str) -> Value {
    match crate::json5::parse(raw) {
        Ok((v, _)) => v,
        Err(_) => Value::String(raw.to_string()),
    }
}

/// Set `path` to `new`, creating intermediate objects. An index may address an existing element
/// or append (`== len`).
pub fn set_path(value: &mut Value, path: &KeyPath, new: Value) -> Result<(), ConfigError> {
    let shown = path.to_string();
    let Some((last, parents)) = path.0.split_last() else {
        *value = new;
        return Ok(());
    };
    let bad = |message: String| ConfigError::BadPath {
        path: shown.clone(),
        message,
    };
    let mut cur = value;
    for (n, seg) in parents.iter().enumerate() {
        let next_is_index = matches!(path.0.get(n + 1), Some(Seg::Index(_)));
        cur = match seg {
            Seg::Key(k) => {
                if cur.is_null() {
                    *cur = Value::Object(Map::new());
                }
                let Value::Object(m) = cur else {
                    return Err(bad(format!(
                        "\"{}\" is not an object",
                        KeyPath(path.0[..n].to_vec())
                    )));
                };
                m.entry(k.clone()).or_insert_with(|| {
                    if next_is_index {
                        Value::Array(Vec::new())
                    } else {
                        Value::Object(Map::new())
                    }
                })
            }
            Seg::Index(i) => {
                let Value::Array(a) = cur else {
                    return Err(bad(format!(
                        "\"{}\" is not an array",
                        KeyPath(path.0[..n].to_vec())
                    )));
                };
                if *i == a.len() {
                    a.push(if next_is_index {
                        Value::Array(Vec::new())
                    } else {
                        Value::Object(Map::new())
                    });
                }
                let len = a.len();
                a.get_mut(*i)
                    .ok_or_else(|| bad(format!("index {i} is out of range (length {len})")))?
            }
        };
    }
    match last {
        Seg::Key(k) => {
            if cur.is_null() {
                *cur = Value::Object(Map::new());
            }
            match cur {
                Value::Object(m) => {
                    m.insert(k.clone(), new);
                    Ok(())
                }
                _ => Err(bad("the parent is not an object".into())),
            }
        }
        Seg::Index(i) => match cur {
            Value::Array(a) if *i < a.len() => {
                a[*i] = new;
                Ok(())
            }
            Value::Array(a) if *i == a.len() => {
                a.push(new);
                Ok(())
            }
            Value::Array(a) => Err(bad(format!(
                "index {i} is out of range (length {})",
                a.len()
            ))),
            _ => Err(bad("the parent is not an array".into())),
        },
    }
}

/// `config set <path> <value>` with the CLI's value parsing.
pub fn set(value: &mut Value, path: &str, raw: &str) -> Result<(), ConfigError> {
    set_path(value, &KeyPath::parse(path)?, parse_cli_value(raw))
}

/// Remove `path`; returns the removed value. Absent → [`ConfigError::PathNotFound`].
pub fn unset_path(value: &mut Value, path: &KeyPath) -> Result<Value, ConfigError> {
    let not_found = || ConfigError::PathNotFound {
        path: path.to_string(),
    };
    let Some((last, parents)) = path.0.split_last() else {
        return Err(ConfigError::BadPath {
            path: String::new(),
            message: "cannot unset the whole config".into(),
        });
    };
    let mut cur = value;
    for seg in parents {
        cur = match (seg, cur) {
            (Seg::Key(k), Value::Object(m)) => m.get_mut(k).ok_or_else(not_found)?,
            (Seg::Index(i), Value::Array(a)) => a.get_mut(*i).ok_or_else(not_found)?,
            _ => return Err(not_found()),
        };
    }
    match (last, cur) {
        (Seg::Key(k), Value::Object(m)) => m.shift_remove(k).ok_or_else(not_found),
        (Seg::Index(i), Value::Array(a)) if *i < a.len() => Ok(a.remove(*i)),
        _ => Err(not_found()),
    }
}

/// `config unset <path>`.
pub fn unset(value: &mut Value, path: &str) -> Result<Value, ConfigError> {
    unset_path(value, &KeyPath::parse(path)?)
}

/// RFC 7396 JSON merge patch: objects merge recursively, `null` deletes, anything else replaces.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(p) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    if let Value::Object(t) = target {
        for (k, v) in p {
            if v.is_null() {
                t.shift_remove(k);
            } else {
                merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
    }
}

/// Validate an edited config (rendered as it would be written) without writing it.
/// Positions in errors refer to the rendered text.
pub fn check(value: &Value, origin: &Path, env: &EnvMap) -> Result<LoadedConfig, ConfigError> {
    parse_str(&crate::write::render(value), origin, env)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;
    use serde_json::json;

    #[test]
    fn set_creates_and_parses_json5() {
        let mut v = json!({});
        set(&mut v, "gateway.port", "18790").unwrap();
        set(&mut v, "gateway.auth.token", "abc def").unwrap();
        set(&mut v, "agents.list[0].id", "main").unwrap();
        set(&mut v, "tools.deny", "['exec', 'write']").unwrap();
        set(&mut v, "gateway.bind", "lan").unwrap();
        assert_eq!(
            v,
            json!({
                "gateway": {"port": 18790, "auth": {"token": "abc def"}, "bind": "lan"},
                "agents": {"list": [{"id": "main"}]},
                "tools": {"deny": ["exec", "write"]}
            })
        );
        assert_eq!(get(&v, "agents.list[0].id").unwrap(), &json!("main"));
        assert!(matches!(
            get(&v, "agents.list[1]"),
            Err(ConfigError::PathNotFound { .. })
        ));
        assert!(matches!(
            set(&mut v, "gateway.port.x", "1"),
            Err(ConfigError::BadPath { .. })
        ));
        assert!(set(&mut v, "agents.list[5].id", "x").is_err());
    }

    #[test]
    fn unset_removes_or_reports_absent() {
        let mut v = json!({"gateway": {"auth": {"token": "t", "mode": "token"}}, "l": [1, 2]});
        assert_eq!(unset(&mut v, "gateway.auth.token").unwrap(), json!("t"));
        assert_eq!(unset(&mut v, "l[0]").unwrap(), json!(1));
        assert_eq!(v, json!({"gateway": {"auth": {"mode": "token"}}, "l": [2]}));
        assert!(matches!(
            unset(&mut v, "gateway.auth.token"),
            Err(ConfigError::PathNotFound { .. })
        ));
        assert!(matches!(
            unset(&mut v, "nope.x"),
            Err(ConfigError::PathNotFound { .. })
        ));
    }

    #[test]
    fn merge_patch_rfc7396() {
        let mut v = json!({"a": "b", "c": {"d": "e", "f": "g"}, "arr": [1, 2]});
        merge_patch(
            &mut v,
            &json!({"a": "z", "c": {"f": null, "n": 1}, "arr": [3]}),
        );
        assert_eq!(v, json!({"a": "z", "c": {"d": "e", "n": 1}, "arr": [3]}));
    }
}
