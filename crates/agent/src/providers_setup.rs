//! From `models.providers` to ready model clients: converts the config's provider entries into
//! the providers crate's plain data, builds one registry (one HTTP pool) per config snapshot,
//! and one failover client per agent (primary + fallbacks). Nothing here runs per turn.

use std::sync::Arc;

use openclaw_config::resolve::resolve_secret;
use openclaw_config::{EnvMap, ModelRefs, OpenClawConfig};
use openclaw_providers::{
    BuiltinKeys, FailoverPolicy, ModelClient, ModelInfo, ProviderConfig, ProviderRegistry,
    RegistryOptions, resolve_model_ref,
};

/// Provider configs from `models.providers`, with `${VAR}`/secret refs resolved.
pub fn provider_configs(cfg: &OpenClawConfig, env: &EnvMap) -> Vec<ProviderConfig> {
    let Some(providers) = cfg.models.as_ref().and_then(|m| m.providers.as_ref()) else {
        return Vec::new();
    };
    providers
        .iter()
        .map(|(id, p)| {
            let api_key = match resolve_secret(
                p.api_key.as_ref(),
                env,
                &format!("models.providers.{id}.apiKey"),
            ) {
                Ok(s) => s.map(|s| s.expose().to_string()),
                Err(e) => {
                    tracing::warn!(provider = %id, error = %e, "provider api key unresolved");
                    None
                }
            };
            ProviderConfig {
                id: id.clone(),
                base_url: p.base_url.clone(),
                api: p
                    .api
                    .and_then(|a| serde_json::to_value(a).ok())
                    .and_then(|v| v.as_str().map(str::to_string)),
                api_key,
                headers: p.headers.clone().unwrap_or_default(),
                timeout_seconds: p.timeout_seconds,
                model_path: p.model_path.clone(),
                models: p
                    .models
                    .as_deref()
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|m| {
                        Some(ModelInfo {
                            id: m.id.clone()?,
                            name: m.name.clone(),
                            context_window: m.context_window.or(m.context_tokens),
                            max_tokens: m.max_tokens.map(|t| t.min(u64::from(u32::MAX)) as u32),
                            reasoning: m.reasoning.unwrap_or(false),
                            input: m.input.clone().unwrap_or_default(),
                        })
                    })
                    .collect(),
            }
        })
        .collect()
}

/// The registry for a config snapshot; `Err` holds a message naming the fix.
pub fn registry(cfg: &OpenClawConfig, env: &EnvMap) -> Result<ProviderRegistry, String> {
    let keys = BuiltinKeys {
        openai: env.get("OPENAI_API_KEY").cloned(),
        anthropic: env.get("ANTHROPIC_API_KEY").cloned(),
    };
    ProviderRegistry::new(provider_configs(cfg, env), keys, RegistryOptions::default())
        .map_err(|e| e.to_string())
}

/// Whether the primary model's catalog entry (`models.providers.<p>.models[]`) lists `"image"`
/// in `input`. A model without an entry counts as text-only.
pub fn primary_accepts_images(reg: &ProviderRegistry, refs: &ModelRefs) -> bool {
    refs.primary
        .as_deref()
        .and_then(|p| resolve_model_ref(p).ok())
        .and_then(|r| reg.model_info(&r).cloned())
        .is_some_and(|m| m.input.iter().any(|i| i.eq_ignore_ascii_case("image")))
}

/// Type of [`agent_client`]'s result: the client (or why none), the primary `(provider,
/// model)` and its context window.
pub type AgentClient = (
    Result<Arc<dyn ModelClient>, String>,
    Option<(String, String)>,
    Option<u64>,
);

/// The failover client for an agent's model refs.
pub fn agent_client(reg: &ProviderRegistry, refs: &ModelRefs) -> AgentClient {
    let Some(primary) = refs.primary.as_deref() else {
        return (
            Err("no model configured: set agents.defaults.model.primary (e.g. \"anthropic/claude-opus-4-6\") or run `openclaw onboard`".to_string()),
            None,
            None,
        );
    };
    let parsed = resolve_model_ref(primary).ok();
    let window = parsed
        .as_ref()
        .and_then(|r| reg.model_info(r))
        .and_then(|m| m.context_window);
    let label = parsed.map(|r| (r.provider, r.model));
    let client = reg
        .failover(primary, &refs.fallbacks, FailoverPolicy::default())
        .map(|c| Arc::new(c) as Arc<dyn ModelClient>)
        .map_err(|e| e.to_string());
    (client, label, window)
}
