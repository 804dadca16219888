//! `agents.defaults` and `agents.list[]`: workspaces, models, loop behaviour, per-agent overrides.

use std::collections::BTreeMap;

use super::common::{ModelSelection, ToolPolicy};
use super::sandbox::SandboxConfig;
use super::tools::{AgentTools, ExecTools};

config_struct! {
    pub struct AgentsConfig {
        pub defaults: Option<AgentDefaults>,
        /// Per-agent entries; the one with `default: true` (else the first) is the default agent.
        pub list: Option<Vec<AgentEntry>>,
    }
}

config_enum! {
    pub enum ThinkingLevel { Off, Minimal, Low, Medium, High, Xhigh }
}

config_enum! {
    pub enum VerboseLevel { Off, On, Full }
}

config_enum! {
    pub enum ElevatedLevel { Off, On, Ask, Full }
}

config_enum! {
    pub enum OnOff { Off, On }
}

config_struct! {
    pub struct AgentDefaults {
        /// Default workspace (default `~/.openclaw/workspace`).
        pub workspace: Option<String>,
        pub repo_root: Option<String>,
        /// `"provider/model"` or `{ primary, fallbacks }`.
        pub model: Option<ModelSelection>,
        pub image_model: Option<ModelSelection>,
        pub pdf_model: Option<ModelSelection>,
        /// Model catalog and `/model` allowlist: `"provider/model" → { alias, params }`.
        pub models: Option<BTreeMap<String, ModelCatalogEntry>>,
        /// Parallel agent runs across sessions.
        pub max_concurrent: Option<u32>,
        pub timeout_seconds: Option<u64>,
        pub skip_bootstrap: Option<bool>,
        pub bootstrap_max_chars: Option<u64>,
        pub bootstrap_total_max_chars: Option<u64>,
        pub context_tokens: Option<u64>,
        pub compaction: Option<Compaction>,
        pub subagents: Option<Subagents>,
        pub heartbeat: Option<Heartbeat>,
        pub sandbox: Option<SandboxConfig>,
        pub thinking_default: Option<ThinkingLevel>,
        pub verbose_default: Option<VerboseLevel>,
        pub elevated_default: Option<ElevatedLevel>,
        pub block_streaming_default: Option<OnOff>,
        pub block_streaming_break: Option<String>,
        pub block_streaming_chunk: Option<serde_json::Value>,
        pub block_streaming_coalesce: Option<serde_json::Value>,
        pub human_delay: Option<HumanDelay>,
        pub context_pruning: Option<ContextPruning>,
        /// Provider request params merged under per-model and per-agent params.
        pub params: Option<serde_json::Map<String, serde_json::Value>>,
        pub user_timezone: Option<String>,
        pub time_format: Option<String>,
        pub envelope_timezone: Option<String>,
        pub envelope_timestamp: Option<String>,
        pub envelope_elapsed: Option<String>,
        pub media_max_mb: Option<f64>,
        pub typing_interval_seconds: Option<u64>,
        pub typing_mode: Option<String>,
        pub cli_backends: Option<serde_json::Value>,
        pub memory_search: Option<serde_json::Value>,
        pub embedded_pi: Option<serde_json::Value>,
    }
}

config_struct! {
    pub struct ModelCatalogEntry {
        pub alias: Option<String>,
        pub params: Option<serde_json::Map<String, serde_json::Value>>,
        pub streaming: Option<bool>,
    }
}

config_struct! {
    pub struct Compaction {
        /// `default` or `safeguard`.
        pub mode: Option<String>,
        pub reserve_tokens_floor: Option<u64>,
        pub max_history_share: Option<f64>,
        pub model: Option<String>,
        pub memory_flush: Option<MemoryFlush>,
    }
}

config_struct! {
    pub struct MemoryFlush {
        pub enabled: Option<bool>,
        pub soft_threshold_tokens: Option<u64>,
        pub prompt: Option<String>,
        pub system_prompt: Option<String>,
    }
}

config_struct! {
    pub struct Subagents {
        pub max_concurrent: Option<u32>,
        pub archive_after_minutes: Option<u64>,
        pub model: Option<ModelSelection>,
        pub thinking: Option<String>,
        pub allow_agents: Option<Vec<String>>,
        pub max_spawn_depth: Option<u32>,
        pub max_children_per_agent: Option<u32>,
    }
}

config_struct! {
    pub struct Heartbeat {
        /// Interval such as `30m` (`0m` disables).
        pub every: Option<String>,
        pub active_hours: Option<ActiveHours>,
        pub model: Option<String>,
        pub session: Option<String>,
        pub include_reasoning: Option<bool>,
        pub target: Option<String>,
        pub to: Option<String>,
        pub account_id: Option<String>,
        pub prompt: Option<String>,
        pub ack_max_chars: Option<u64>,
    }
}

config_struct! {
    pub struct ActiveHours {
        pub start: Option<String>,
        pub end: Option<String>,
        pub timezone: Option<String>,
    }
}

config_struct! {
    pub struct HumanDelay {
        /// `off`, `natural` or `custom`.
        pub mode: Option<String>,
        pub min_ms: Option<u64>,
        pub max_ms: Option<u64>,
    }
}

config_struct! {
    pub struct ContextPruning {
        /// `off` or `cache-ttl`.
        pub mode: Option<String>,
        pub ttl: Option<String>,
        pub keep_last_assistants: Option<u32>,
        pub soft_trim_ratio: Option<f64>,
        pub hard_clear_ratio: Option<f64>,
        pub min_prunable_tool_chars: Option<u64>,
        pub tools: Option<ToolPolicy>,
        pub soft_trim: Option<SoftTrim>,
        pub hard_clear: Option<HardClear>,
    }
}

config_struct! {
    pub struct SoftTrim {
        pub max_chars: Option<u64>,
        pub head_chars: Option<u64>,
        pub tail_chars: Option<u64>,
    }
}

config_struct! {
    pub struct HardClear {
        pub enabled: Option<bool>,
        pub placeholder: Option<String>,
    }
}

config_struct! {
    pub struct AgentEntry {
        /// Agent id (lowercase letters, digits, `-`, `_`).
        pub id: Option<String>,
        pub default: Option<bool>,
        pub name: Option<String>,
        pub workspace: Option<String>,
        pub agent_dir: Option<String>,
        pub model: Option<ModelSelection>,
        pub identity: Option<AgentIdentity>,
        pub group_chat: Option<GroupChat>,
        pub sandbox: Option<SandboxConfig>,
        pub tools: Option<AgentTools>,
        pub skills: Option<Vec<String>>,
        pub subagents: Option<Subagents>,
        pub heartbeat: Option<Heartbeat>,
        pub human_delay: Option<HumanDelay>,
        pub params: Option<serde_json::Map<String, serde_json::Value>>,
        pub exec: Option<ExecTools>,
    }
}

config_struct! {
    pub struct AgentIdentity {
        pub name: Option<String>,
        pub theme: Option<String>,
        pub emoji: Option<String>,
        pub avatar: Option<String>,
    }
}

config_struct! {
    pub struct GroupChat {
        pub mention_patterns: Option<Vec<String>>,
        pub history_limit: Option<u32>,
    }
}
