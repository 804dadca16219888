//! The canonical tool tables: groups, profiles, sandbox defaults, channel ids.
//!
//! This is the one place these lists live; everything else (the policy, `sandbox explain`,
//! docs) reads them from here. Contents follow OpenClaw 2026.2.6 (the baseline).

/// `group:<name>` → tool names. `group:openclaw` is computed: every built-in ([`BUILTIN_TOOLS`]).
pub const TOOL_GROUPS: &[(&str, &[&str])] = &[
    ("group:runtime", &["exec", "process", "code_execution"]),
    ("group:fs", &["read", "write", "edit", "apply_patch"]),
    (
        "group:sessions",
        &[
            "sessions_list",
            "sessions_history",
            "sessions_send",
            "sessions_spawn",
            "sessions_yield",
            "subagents",
            "session_status",
        ],
    ),
    ("group:memory", &["memory_search", "memory_get"]),
    ("group:web", &["web_search", "x_search", "web_fetch"]),
    ("group:ui", &["browser", "canvas"]),
    ("group:automation", &["cron", "gateway"]),
    ("group:messaging", &["message"]),
    ("group:nodes", &["nodes"]),
    ("group:agents", &["agents_list"]),
    ("group:media", &["image", "image_generate", "tts"]),
];

/// Every built-in tool name (what `group:openclaw` means; plugin tools are not included).
pub const BUILTIN_TOOLS: &[&str] = &[
    "exec",
    "process",
    "code_execution",
    "read",
    "write",
    "edit",
    "apply_patch",
    "sessions_list",
    "sessions_history",
    "sessions_send",
    "sessions_spawn",
    "sessions_yield",
    "subagents",
    "session_status",
    "agents_list",
    "memory_search",
    "memory_get",
    "web_search",
    "x_search",
    "web_fetch",
    "browser",
    "canvas",
    "cron",
    "gateway",
    "message",
    "nodes",
    "image",
    "image_generate",
    "tts",
];

/// Name aliases, applied after lowercasing.
pub const TOOL_ALIASES: &[(&str, &str)] = &[("bash", "exec"), ("apply-patch", "apply_patch")];

/// `tools.profile` → base allowlist. `full` has no entry: it does not restrict.
pub const TOOL_PROFILES: &[(&str, &[&str])] = &[
    ("minimal", &["session_status"]),
    (
        "coding",
        &[
            "group:fs",
            "group:runtime",
            "group:web",
            "group:sessions",
            "group:memory",
            "cron",
            "image",
            "image_generate",
        ],
    ),
    (
        "messaging",
        &[
            "group:messaging",
            "sessions_list",
            "sessions_history",
            "sessions_send",
            "session_status",
        ],
    ),
];

/// Profile names accepted in config.
pub const PROFILE_NAMES: &[&str] = &["minimal", "coding", "messaging", "full"];

/// Sandbox tool policy default allow (`tools.sandbox.tools.allow` unset).
pub const SANDBOX_DEFAULT_ALLOW: &[&str] = &[
    "exec",
    "process",
    "read",
    "write",
    "edit",
    "apply_patch",
    "image",
    "sessions_list",
    "sessions_history",
    "sessions_send",
    "sessions_spawn",
    "session_status",
];

/// Sandbox tool policy default deny (`tools.sandbox.tools.deny` unset); every channel id is
/// added to it ([`CHANNEL_IDS`]).
pub const SANDBOX_DEFAULT_DENY: &[&str] = &["browser", "canvas", "nodes", "cron", "gateway"];

/// Channel ids; channel plugin tools are named after them.
pub const CHANNEL_IDS: &[&str] = &[
    "telegram",
    "discord",
    "whatsapp",
    "slack",
    "signal",
    "imessage",
    "bluebubbles",
    "googlechat",
    "msteams",
    "matrix",
    "mattermost",
    "line",
    "irc",
    "nostr",
    "feishu",
    "zalo",
    "twitch",
    "nextcloud-talk",
];

/// The members of a group (`None` for an unknown group).
pub fn group_members(group: &str) -> Option<Vec<&'static str>> {
    if group == "group:openclaw" {
        return Some(BUILTIN_TOOLS.to_vec());
    }
    TOOL_GROUPS
        .iter()
        .find(|(g, _)| *g == group)
        .map(|(_, m)| m.to_vec())
}

/// The entries of a restricting profile (`None` for `full` and unknown names).
pub fn profile_entries(profile: &str) -> Option<&'static [&'static str]> {
    TOOL_PROFILES
        .iter()
        .find(|(p, _)| *p == profile)
        .map(|(_, e)| *e)
}

/// The default sandbox deny list including channel ids.
pub fn sandbox_default_deny() -> Vec<&'static str> {
    SANDBOX_DEFAULT_DENY
        .iter()
        .chain(CHANNEL_IDS.iter())
        .copied()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_members_are_builtins() {
        for (g, members) in TOOL_GROUPS {
            for m in *members {
                assert!(
                    BUILTIN_TOOLS.contains(m),
                    "{g} member {m} missing from BUILTIN_TOOLS"
                );
            }
        }
        for (_, entries) in TOOL_PROFILES {
            for e in *entries {
                assert!(
                    e.starts_with("group:") && group_members(e).is_some()
                        || BUILTIN_TOOLS.contains(e),
                    "{e}"
                );
            }
        }
        assert!(sandbox_default_deny().contains(&"discord"));
    }
}
