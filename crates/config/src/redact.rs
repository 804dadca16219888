//! Hiding secrets in config output (`config.get`, `config get`).
//!
//! Secret values are replaced by [`REDACTED`], the same sentinel the baseline uses, so that a
//! client can send the config back unchanged and [`restore_redacted`] puts the real values back.
//! Counters such as `maxTokens`/`contextTokens` are not secrets (the baseline wrongly redacted
//! them; we do not).

use serde_json::Value;

/// The placeholder written instead of a secret.
pub const REDACTED: &str = "__OPENCLAW_REDACTED__";

/// Keys whose string values are secret.
pub fn is_secret_key(key: &str) -> bool {
    let lower = key.to_ascii_lowercase();
    matches!(
        lower.as_str(),
        "token"
            | "password"
            | "apikey"
            | "api_key"
            | "bottoken"
            | "secret"
            | "privatekey"
            | "clientsecret"
    ) || key.ends_with("Token")
        || key.ends_with("Secret")
        || key.ends_with("Password")
        || key.ends_with("ApiKey")
        || key.ends_with("PrivateKey")
}

fn is_secret_header(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower == "authorization"
        || lower == "cookie"
        || lower.contains("api-key")
        || lower.contains("token")
}

/// A copy of `value` with secrets replaced by [`REDACTED`].
pub fn redact(value: &Value) -> Value {
    let mut out = value.clone();
    redact_in_place(&mut out, None);
    out
}

fn redact_in_place(value: &mut Value, parent_key: Option<&str>) {
    match value {
        Value::Object(m) => {
            for (k, v) in m.iter_mut() {
                let secret =
                    is_secret_key(k) || (parent_key == Some("headers") && is_secret_header(k));
                if secret && matches!(v, Value::String(_) | Value::Number(_)) {
                    *v = Value::String(REDACTED.into());
                } else if parent_key.is_none() && k == "env" {
                    redact_env(v);
                } else {
                    redact_in_place(v, Some(k));
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                redact_in_place(item, parent_key);
            }
        }
        _ => {}
    }
}

/// `env.vars.*` and inline `env.KEY` values are all secret-ish.
fn redact_env(env: &mut Value) {
    let Value::Object(m) = env else { return };
    for (k, v) in m.iter_mut() {
        match (k.as_str(), v) {
            ("shellEnv", _) => {}
            ("vars", Value::Object(vars)) => {
                for val in vars.values_mut() {
                    if val.is_string() {
                        *val = Value::String(REDACTED.into());
                    }
                }
            }
            (_, val @ Value::String(_)) => *val = Value::String(REDACTED.into()),
            _ => {}
        }
    }
}

fn collect_secrets(original: &Value, redacted: &Value, out: &mut Vec<String>) {
    match (original, redacted) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in a {
                if let Some(w) = b.get(k) {
                    collect_secrets(v, w, out);
                }
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            for (v, w) in a.iter().zip(b) {
                collect_secrets(v, w, out);
            }
        }
        (Value::String(s), Value::String(r)) if r == REDACTED && !s.is_empty() => {
            out.push(s.clone())
        }
        (Value::Number(n), Value::String(r)) if r == REDACTED => out.push(n.to_string()),
        _ => {}
    }
}

/// Redact the raw file text: every secret string literal found in `parsed` is replaced by the
/// quoted sentinel (comments and layout are kept).
pub fn redact_raw(raw: &str, parsed: &Value) -> String {
    let mut secrets = Vec::new();
    collect_secrets(parsed, &redact(parsed), &mut secrets);
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    let mut out = raw.to_string();
    for s in secrets {
        let json = serde_json::to_string(&s).unwrap_or_default();
        out = out.replace(&json, &format!("\"{REDACTED}\""));
        out = out.replace(&format!("'{s}'"), &format!("\"{REDACTED}\""));
    }
    out
}

/// Put real values back where a client returned [`REDACTED`] (same path in `current`).
/// Returns the paths that held the sentinel but have no current value (callers should refuse).
pub fn restore_redacted(proposed: &mut Value, current: &Value) -> Vec<String> {
    let mut missing = Vec::new();
    restore(
        proposed,
        Some(current),
        &crate::keypath::KeyPath::root(),
        &mut missing,
    );
    missing
}

fn restore(
    p: &mut Value,
    c: Option<&Value>,
    path: &crate::keypath::KeyPath,
    missing: &mut Vec<String>,
) {
    match p {
        Value::String(s) if s == REDACTED => match c {
            Some(v) if !v.is_null() => *p = v.clone(),
            _ => missing.push(path.to_string()),
        },
        Value::Object(m) => {
            for (k, v) in m.iter_mut() {
                restore(v, c.and_then(|c| c.get(k)), &path.child_key(k), missing);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter_mut().enumerate() {
                restore(v, c.and_then(|c| c.get(i)), &path.child_index(i), missing);
            }
        }
        _ => {}
    }
}
