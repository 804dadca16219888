//! Schema validation with positions and suggestions.
//!
//! Deserialises the merged, substituted value into [`OpenClawConfig`] through
//! `serde_path_to_error`, then turns serde's message into a [`ConfigError::Invalid`] that points
//! at the offending key in its file and names the fix: the closest known key for a typo, the
//! accepted values for a bad enum value. A few cross-field rules serde cannot express follow.

use serde_json::Value;

use crate::error::ConfigError;
use crate::keypath::{KeyPath, Seg};
use crate::schema::{AuthMode, BindMode, DmPolicy, OpenClawConfig};
use crate::source::SourceMap;

/// Validate `value` against the schema and the cross-field rules.
pub fn validate(value: &Value, map: &SourceMap) -> Result<OpenClawConfig, ConfigError> {
    if !value.is_object() {
        return Err(ConfigError::Invalid {
            at: map.locate_value(""),
            key_path: String::new(),
            message: "the config must be an object".into(),
            hint: Some("wrap the settings in { … }".into()),
            accepted: Vec::new(),
        });
    }
    let cfg: OpenClawConfig = serde_path_to_error::deserialize(value).map_err(|e| {
        let path = to_keypath(e.path());
        let message = e.into_inner().to_string();
        serde_error(&path, &message, map)
    })?;
    check_rules(&cfg, map)?;
    Ok(cfg)
}

fn to_keypath(p: &serde_path_to_error::Path) -> KeyPath {
    let mut segs = Vec::new();
    for s in p.iter() {
        match s {
            serde_path_to_error::Segment::Seq { index } => segs.push(Seg::Index(*index)),
            serde_path_to_error::Segment::Map { key } => segs.push(Seg::Key(key.clone())),
            serde_path_to_error::Segment::Enum { .. } | serde_path_to_error::Segment::Unknown => {}
        }
    }
    KeyPath(segs)
}

/// Names inside backticks: "unknown field `x`, expected one of `a`, `b`" → ["x", "a", "b"].
fn backticked(msg: &str) -> Vec<String> {
    msg.split('`')
        .enumerate()
        .filter(|(i, _)| i % 2 == 1)
        .map(|(_, s)| s.to_string())
        .collect()
}

fn serde_error(path: &KeyPath, message: &str, map: &SourceMap) -> ConfigError {
    if let Some(rest) = message.strip_prefix("unknown field ") {
        let names = backticked(rest);
        let bad = names.first().cloned().unwrap_or_default();
        let accepted: Vec<String> = names.into_iter().skip(1).collect();
        // serde_path_to_error records the unknown key itself as the last segment.
        let (key_ptr, parent) = match path.0.last() {
            Some(Seg::Key(k)) if *k == bad => {
                (path.to_pointer(), path.parent().unwrap_or_default())
            }
            _ => (path.child_key(&bad).to_pointer(), path.clone()),
        };
        let hint = match closest(&bad, &accepted) {
            Some(s) => Some(format!("did you mean \"{s}\"?")),
            None if accepted.is_empty() => Some("this object takes no keys".into()),
            None => Some(format!("accepted keys: {}", accepted.join(", "))),
        };
        return ConfigError::Invalid {
            at: map.locate_key(&key_ptr),
            key_path: parent.to_string(),
            message: format!("unknown key \"{bad}\""),
            hint,
            accepted,
        };
    }
    if let Some(rest) = message.strip_prefix("unknown variant ") {
        let names = backticked(rest);
        let bad = names.first().cloned().unwrap_or_default();
        let accepted: Vec<String> = names.into_iter().skip(1).collect();
        let list = accepted
            .iter()
            .map(|a| format!("\"{a}\""))
            .collect::<Vec<_>>()
            .join(", ");
        let hint = match closest(&bad, &accepted) {
            Some(s) => format!("did you mean \"{s}\"? accepted values: {list}"),
            None => format!("accepted values: {list}"),
        };
        return ConfigError::Invalid {
            at: map.locate_value(&path.to_pointer()),
            key_path: path.to_string(),
            message: format!("invalid value \"{bad}\""),
            hint: Some(hint),
            accepted,
        };
    }
    let (message, hint) = if message.contains("untagged enum ModelSelection") {
        (
            "invalid model setting".to_string(),
            Some(
                "use \"provider/model\" or { primary: \"provider/model\", fallbacks: [...] }"
                    .to_string(),
            ),
        )
    } else if message.contains("untagged enum SecretInput") {
        (
            "invalid secret".to_string(),
            Some("use a string (e.g. \"${MY_TOKEN}\") or { source: \"env\", provider: \"default\", id: \"MY_TOKEN\" }".to_string()),
        )
    } else if message.contains("untagged enum Ulimit") {
        (
            "invalid ulimit".to_string(),
            Some("use a number, a string, or { soft, hard }".to_string()),
        )
    } else if message.contains("untagged enum StringOrNumber") {
        ("expected a string or a number".to_string(), None)
    } else {
        (message.to_string(), None)
    };
    ConfigError::Invalid {
        at: map.locate_value(&path.to_pointer()),
        key_path: path.to_string(),
        message,
        hint,
        accepted: Vec::new(),
    }
}

/// Levenshtein distance (small strings only).
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The accepted name closest to `bad`, if it is close enough to be a plausible typo.
pub fn closest<'a>(bad: &str, accepted: &'a [String]) -> Option<&'a str> {
    let lower = bad.to_lowercase();
    if let Some(hit) = accepted.iter().find(|a| a.to_lowercase() == lower) {
        return Some(hit);
    }
    let (best, d) = accepted
        .iter()
        .map(|a| (a, distance(&lower, &a.to_lowercase())))
        .min_by_key(|(_, d)| *d)?;
    let limit = (bad.chars().count() / 3).max(2);
    (d <= limit).then_some(best.as_str())
}

fn rule(map: &SourceMap, path: &str, message: &str, hint: &str) -> ConfigError {
    let kp = KeyPath::parse(path).unwrap_or_default();
    ConfigError::Invalid {
        at: map.locate_key(&kp.to_pointer()),
        key_path: kp.to_string(),
        message: message.to_string(),
        hint: Some(hint.to_string()),
        accepted: Vec::new(),
    }
}

fn is_agent_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

/// Cross-field rules the types cannot express.
fn check_rules(cfg: &OpenClawConfig, map: &SourceMap) -> Result<(), ConfigError> {
    if let Some(gw) = &cfg.gateway {
        if gw.bind == Some(BindMode::Custom)
            && gw
                .custom_bind_host
                .as_deref()
                .is_none_or(|h| h.trim().is_empty())
        {
            return Err(rule(
                map,
                "gateway.bind",
                "bind \"custom\" needs gateway.customBindHost",
                "set gateway.customBindHost to an IPv4 address, or choose another bind mode",
            ));
        }
        if let Some(auth) = &gw.auth
            && auth.mode.is_none()
            && auth.token.is_some()
            && auth.password.is_some()
        {
            return Err(rule(
                map,
                "gateway.auth",
                "both token and password are set but mode is not",
                "set gateway.auth.mode to \"token\" or \"password\"",
            ));
        }
        if let Some(auth) = &gw.auth
            && auth.mode == Some(AuthMode::TrustedProxy)
            && auth
                .trusted_proxy
                .as_ref()
                .and_then(|t| t.user_header.as_ref())
                .is_none()
        {
            return Err(rule(
                map,
                "gateway.auth.mode",
                "trusted-proxy auth needs gateway.auth.trustedProxy.userHeader",
                "set gateway.auth.trustedProxy.userHeader (e.g. \"x-forwarded-user\")",
            ));
        }
    }
    if let Some(list) = cfg.agents.as_ref().and_then(|a| a.list.as_ref()) {
        let mut seen = std::collections::BTreeSet::new();
        let mut defaults = 0;
        for (i, agent) in list.iter().enumerate() {
            let here = format!("agents.list[{i}]");
            let Some(id) = agent.id.as_deref() else {
                return Err(rule(
                    map,
                    &here,
                    "agent entry has no id",
                    "add id: \"<name>\"",
                ));
            };
            if !is_agent_id(id) {
                return Err(rule(
                    map,
                    &format!("{here}.id"),
                    &format!("invalid agent id \"{id}\""),
                    "use lowercase letters, digits, '-' and '_' (at most 64)",
                ));
            }
            if !seen.insert(id.to_string()) {
                return Err(rule(
                    map,
                    &format!("{here}.id"),
                    &format!("duplicate agent id \"{id}\""),
                    "give every agent a unique id",
                ));
            }
            if agent.default == Some(true) {
                defaults += 1;
                if defaults > 1 {
                    return Err(rule(
                        map,
                        &format!("{here}.default"),
                        "more than one agent has default: true",
                        "mark exactly one agent as default",
                    ));
                }
            }
        }
    }
    if let Some(bindings) = &cfg.bindings {
        for (i, b) in bindings.iter().enumerate() {
            if b.agent_id.as_deref().is_none_or(str::is_empty) {
                return Err(rule(
                    map,
                    &format!("bindings[{i}]"),
                    "binding has no agentId",
                    "add agentId: \"<agent id>\"",
                ));
            }
            if b.match_
                .as_ref()
                .and_then(|m| m.channel.as_deref())
                .is_none_or(str::is_empty)
            {
                return Err(rule(
                    map,
                    &format!("bindings[{i}]"),
                    "binding has no match.channel",
                    "add match: { channel: \"telegram\" } (or another channel id)",
                ));
            }
        }
    }
    if let Some(ch) = &cfg.channels {
        let policies = [
            (
                "telegram",
                ch.telegram.as_ref().map(|c| (c.dm_policy, &c.allow_from)),
            ),
            (
                "discord",
                ch.discord.as_ref().map(|c| (c.dm_policy, &c.allow_from)),
            ),
            (
                "whatsapp",
                ch.whatsapp.as_ref().map(|c| (c.dm_policy, &c.allow_from)),
            ),
        ];
        for (name, entry) in policies {
            if let Some((Some(DmPolicy::Open), allow)) = entry {
                let has_star = allow
                    .as_ref()
                    .is_some_and(|a| a.iter().any(|v| v.to_text() == "*"));
                if !has_star {
                    return Err(rule(
                        map,
                        &format!("channels.{name}.dmPolicy"),
                        "dmPolicy \"open\" requires allowFrom to include \"*\"",
                        &format!(
                            "add allowFrom: [\"*\"] to channels.{name}, or use dmPolicy \"pairing\""
                        ),
                    ));
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closest_key() {
        let keys: Vec<String> = ["sandbox", "subagents", "model", "models"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(closest("sandox", &keys), Some("sandbox"));
        assert_eq!(closest("MODEL", &keys), Some("model"));
        assert_eq!(closest("zzzzzzzz", &keys), None);
    }
}
