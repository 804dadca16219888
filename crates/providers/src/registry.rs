//! Build model clients from provider config data and resolve `provider/model` refs.
//!
//! The registry takes plain data (the config crate converts `models.providers` into
//! [`ProviderConfig`]s) and key values the caller already read, so this crate never reads files
//! or the environment. One `reqwest::Client` is built here and shared by every provider: one
//! connection pool, `TCP_NODELAY`, a connect deadline. A provider whose config is unusable does
//! not stop the others; the error surfaces when a model on it is resolved.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use crate::ModelClient;
use crate::anthropic::AnthropicClient;
use crate::error::ProviderError;
use crate::failover::{Candidate, FailoverClient, FailoverPolicy};
use crate::local::LocalClient;
use crate::openai::OpenAiClient;

pub const OPENAI_BASE_URL: &str = "https://api.openai.com/v1";
pub const ANTHROPIC_BASE_URL: &str = "https://api.anthropic.com";
pub const OLLAMA_BASE_URL: &str = "http://127.0.0.1:11434";

/// One `models.providers.<id>` entry, already env-substituted.
#[derive(Clone, Default)]
pub struct ProviderConfig {
    pub id: String,
    pub base_url: Option<String>,
    /// `openai-completions` (default with a baseUrl), `anthropic-messages`, `ollama`.
    pub api: Option<String>,
    pub api_key: Option<String>,
    pub headers: BTreeMap<String, String>,
    /// Idle/stall window for this provider; overrides [`RegistryOptions::idle_timeout`].
    pub timeout_seconds: Option<u64>,
    pub models: Vec<ModelInfo>,
    /// GGUF file for `api: "local-gguf"` (`models.providers.<id>.modelPath`).
    pub model_path: Option<String>,
}

impl std::fmt::Debug for ProviderConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderConfig")
            .field("id", &self.id)
            .field("base_url", &self.base_url)
            .field("api", &self.api)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .field("timeout_seconds", &self.timeout_seconds)
            .field("models", &self.models)
            .field("model_path", &self.model_path)
            .finish()
    }
}

/// Catalog data for one model of a provider.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ModelInfo {
    pub id: String,
    pub name: Option<String>,
    pub context_window: Option<u64>,
    pub max_tokens: Option<u32>,
    pub reasoning: bool,
    /// Input kinds, e.g. `["text", "image"]`.
    pub input: Vec<String>,
}

/// Keys for the built-in `openai` and `anthropic` providers (values of `OPENAI_API_KEY` /
/// `ANTHROPIC_API_KEY`, read by the caller). A built-in provider exists only when its key is set
/// or it is configured explicitly.
#[derive(Clone, Default)]
pub struct BuiltinKeys {
    pub openai: Option<String>,
    pub anthropic: Option<String>,
}

impl std::fmt::Debug for BuiltinKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BuiltinKeys")
            .field("openai", &self.openai.is_some())
            .field("anthropic", &self.anthropic.is_some())
            .finish()
    }
}

/// Transport settings shared by all providers.
#[derive(Debug, Clone)]
pub struct RegistryOptions {
    /// TCP/TLS connect deadline.
    pub connect_timeout: Duration,
    /// Longest wait for response headers and between body reads (stall detection).
    pub idle_timeout: Duration,
}

impl Default for RegistryOptions {
    fn default() -> Self {
        RegistryOptions {
            connect_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(120),
        }
    }
}

/// A parsed `provider/model` ref.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ModelRef {
    pub provider: String,
    pub model: String,
}

impl std::fmt::Display for ModelRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.provider, self.model)
    }
}

/// Split `provider/model`; everything after the first `/` is the model id
/// (`openrouter/anthropic/claude-sonnet-4-6` → `openrouter` + `anthropic/claude-sonnet-4-6`).
pub fn resolve_model_ref(s: &str) -> Result<ModelRef, ProviderError> {
    match s.trim().split_once('/') {
        Some((p, m)) if !p.is_empty() && !m.is_empty() => Ok(ModelRef {
            provider: p.to_string(),
            model: m.to_string(),
        }),
        _ => Err(ProviderError::Config(format!(
            "model ref {s:?} is not of the form provider/model (e.g. \"anthropic/claude-opus-4-6\" or \"ollama/llama3.1\")"
        ))),
    }
}

struct Entry {
    client: Result<Arc<dyn ModelClient>, String>,
    config: ProviderConfig,
}

/// All configured providers, ready to serve model calls.
pub struct ProviderRegistry {
    http: reqwest::Client,
    providers: BTreeMap<String, Entry>,
}

impl std::fmt::Debug for ProviderRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderRegistry")
            .field("providers", &self.providers.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl ProviderRegistry {
    /// Build clients for `configs` plus the built-in providers whose keys are given. A configured
    /// `openai`/`anthropic`/`ollama` entry without `baseUrl` uses the well-known URL; a configured
    /// entry without `apiKey` takes the built-in key.
    pub fn new(
        configs: Vec<ProviderConfig>,
        keys: BuiltinKeys,
        options: RegistryOptions,
    ) -> Result<Self, ProviderError> {
        let http = reqwest::Client::builder()
            .tcp_nodelay(true)
            .connect_timeout(options.connect_timeout)
            .pool_idle_timeout(Duration::from_secs(90))
            .build()
            .map_err(|e| ProviderError::Config(format!("cannot build the HTTP client: {e}")))?;
        let mut all: BTreeMap<String, ProviderConfig> = BTreeMap::new();
        for (id, key) in [("openai", &keys.openai), ("anthropic", &keys.anthropic)] {
            if let Some(k) = key.as_ref().filter(|k| !k.is_empty()) {
                all.insert(
                    id.to_string(),
                    ProviderConfig {
                        id: id.to_string(),
                        api_key: Some(k.clone()),
                        ..Default::default()
                    },
                );
            }
        }
        for mut c in configs {
            if c.api_key.as_deref().is_none_or(str::is_empty) {
                c.api_key = match c.id.as_str() {
                    "openai" => keys.openai.clone(),
                    "anthropic" => keys.anthropic.clone(),
                    _ => None,
                };
            }
            all.insert(c.id.clone(), c);
        }
        let providers = all
            .into_iter()
            .map(|(id, config)| {
                let client = build_client(&http, &config, &options);
                (id, Entry { client, config })
            })
            .collect();
        Ok(ProviderRegistry { http, providers })
    }

    /// The shared HTTP client (for callers that need the same pool, e.g. model listing).
    pub fn http_client(&self) -> &reqwest::Client {
        &self.http
    }

    /// Provider ids, sorted.
    pub fn provider_ids(&self) -> Vec<String> {
        self.providers.keys().cloned().collect()
    }

    pub fn provider_config(&self, id: &str) -> Option<&ProviderConfig> {
        self.providers.get(id).map(|e| &e.config)
    }

    /// Catalog entry for a model, when the provider lists it.
    pub fn model_info(&self, r: &ModelRef) -> Option<&ModelInfo> {
        self.provider_config(&r.provider)?
            .models
            .iter()
            .find(|m| m.id == r.model)
    }

    /// The client for one provider.
    pub fn client(&self, provider: &str) -> Result<Arc<dyn ModelClient>, ProviderError> {
        match self.providers.get(provider) {
            Some(Entry { client: Ok(c), .. }) => Ok(c.clone()),
            Some(Entry { client: Err(e), .. }) => Err(ProviderError::Config(e.clone())),
            None => Err(ProviderError::Config(format!(
                "unknown model provider {provider:?} (known: {}); add it under models.providers or set its API key (OPENAI_API_KEY / ANTHROPIC_API_KEY)",
                if self.providers.is_empty() {
                    "none".to_string()
                } else {
                    self.provider_ids().join(", ")
                }
            ))),
        }
    }

    /// Resolve a `provider/model` ref into a failover candidate.
    pub fn candidate(&self, model_ref: &str) -> Result<Candidate, ProviderError> {
        let r = resolve_model_ref(model_ref)?;
        let client = self.client(&r.provider)?;
        Ok(Candidate {
            provider: r.provider,
            model: r.model,
            client,
        })
    }

    /// A client over `primary` then `fallbacks` (refs `provider/model`).
    pub fn failover(
        &self,
        primary: &str,
        fallbacks: &[String],
        policy: FailoverPolicy,
    ) -> Result<FailoverClient, ProviderError> {
        let mut candidates = vec![self.candidate(primary)?];
        for f in fallbacks {
            candidates.push(self.candidate(f)?);
        }
        Ok(FailoverClient::new(candidates, policy))
    }
}

fn build_client(
    http: &reqwest::Client,
    c: &ProviderConfig,
    options: &RegistryOptions,
) -> Result<Arc<dyn ModelClient>, String> {
    let idle = c
        .timeout_seconds
        .filter(|s| *s > 0)
        .map(Duration::from_secs)
        .unwrap_or(options.idle_timeout);
    let default_api = match c.id.as_str() {
        _ if c.model_path.is_some() => crate::local::API,
        "anthropic" => "anthropic-messages",
        "ollama" => "ollama",
        _ => "openai-completions",
    };
    let api = c.api.as_deref().unwrap_or(default_api);
    if api == crate::local::API {
        return local_client(c, idle);
    }
    let known_base = match c.id.as_str() {
        "openai" => Some(OPENAI_BASE_URL),
        "anthropic" => Some(ANTHROPIC_BASE_URL),
        "ollama" => Some(OLLAMA_BASE_URL),
        _ => None,
    };
    let base = c.base_url.clone().filter(|b| !b.is_empty()).or(known_base.map(str::to_string)).ok_or_else(|| {
        format!("model provider {:?} has no baseUrl; set models.providers.{}.baseUrl (e.g. \"http://127.0.0.1:11434/v1\")", c.id, c.id)
    })?;
    let (id, key, headers) = (c.id.clone(), c.api_key.clone(), c.headers.clone());
    Ok(match api {
        "openai-completions" | "openai" => Arc::new(OpenAiClient::new(
            http.clone(),
            id,
            base,
            key,
            headers,
            idle,
        )),
        "ollama" => {
            let trimmed = base.trim_end_matches('/');
            let base = if trimmed.ends_with("/v1") {
                trimmed.to_string()
            } else {
                format!("{trimmed}/v1")
            };
            Arc::new(OpenAiClient::new(
                http.clone(),
                id,
                base,
                key,
                headers,
                idle,
            ))
        }
        "anthropic-messages" => Arc::new(AnthropicClient::new(
            http.clone(),
            id,
            base,
            key,
            headers,
            idle,
        )),
        other => {
            return Err(format!(
                "model provider {:?} uses api {other:?}, which this build does not support; use \"openai-completions\", \"anthropic-messages\" or \"ollama\" in models.providers.{}.api",
                c.id, c.id
            ));
        }
    })
}

/// The embedded model: the worker is this very executable (`openclaw local-model-worker`).
fn local_client(c: &ProviderConfig, idle: Duration) -> Result<Arc<dyn ModelClient>, String> {
    let path = c.model_path.clone().filter(|p| !p.is_empty()).ok_or_else(|| {
        format!(
            "model provider {:?} uses api \"local-gguf\" but has no modelPath; run `openclaw models pull` and set models.providers.{}.modelPath to the .gguf file",
            c.id, c.id
        )
    })?;
    let exe = std::env::current_exe().map_err(|e| {
        format!("cannot find the openclaw executable to run the local model worker: {e}")
    })?;
    Ok(Arc::new(LocalClient::new(c.id.clone(), path, exe, idle)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn model_refs_split_on_first_slash() {
        assert_eq!(
            resolve_model_ref("openrouter/anthropic/claude-sonnet-4-6").unwrap(),
            ModelRef {
                provider: "openrouter".into(),
                model: "anthropic/claude-sonnet-4-6".into()
            }
        );
        assert_eq!(
            resolve_model_ref("ollama/llama3.1:8b").unwrap().to_string(),
            "ollama/llama3.1:8b"
        );
        for bad in ["gpt-5", "/m", "p/", ""] {
            assert!(
                matches!(resolve_model_ref(bad), Err(ProviderError::Config(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn builtins_only_with_keys_and_bad_providers_fail_lazily() {
        let reg = ProviderRegistry::new(
            vec![
                ProviderConfig {
                    id: "local".into(),
                    base_url: Some("http://127.0.0.1:1/v1".into()),
                    ..Default::default()
                },
                ProviderConfig {
                    id: "nourl".into(),
                    ..Default::default()
                },
                ProviderConfig {
                    id: "g".into(),
                    base_url: Some("http://x".into()),
                    api: Some("google-generative-ai".into()),
                    ..Default::default()
                },
                ProviderConfig {
                    id: "ollama".into(),
                    ..Default::default()
                },
                ProviderConfig {
                    id: "embedded".into(),
                    model_path: Some("/nowhere/m.gguf".into()),
                    ..Default::default()
                },
                ProviderConfig {
                    id: "nopath".into(),
                    api: Some("local-gguf".into()),
                    ..Default::default()
                },
            ],
            BuiltinKeys {
                openai: None,
                anthropic: Some("sk-ant".into()),
            },
            RegistryOptions::default(),
        )
        .unwrap();
        assert_eq!(
            reg.provider_ids(),
            vec![
                "anthropic",
                "embedded",
                "g",
                "local",
                "nopath",
                "nourl",
                "ollama"
            ]
        );
        assert!(reg.candidate("embedded/smollm2-135m").is_ok());
        let e = reg.candidate("nopath/m").err().unwrap().to_string();
        assert!(e.contains("models.providers.nopath.modelPath"), "{e}");
        assert!(reg.candidate("local/m").is_ok());
        assert!(reg.candidate("ollama/llama3").is_ok());
        assert!(reg.candidate("anthropic/claude").is_ok());
        let e = reg.candidate("openai/gpt").err().unwrap().to_string();
        assert!(e.contains("unknown model provider \"openai\""), "{e}");
        let e = reg.candidate("nourl/m").err().unwrap().to_string();
        assert!(e.contains("models.providers.nourl.baseUrl"), "{e}");
        let e = reg.candidate("g/m").err().unwrap().to_string();
        assert!(e.contains("google-generative-ai"), "{e}");
    }

    #[test]
    fn debug_redacts_secrets() {
        let c = ProviderConfig {
            id: "p".into(),
            api_key: Some("sk-secret".into()),
            ..Default::default()
        };
        assert!(!format!("{c:?}").contains("sk-secret"));
        let k = BuiltinKeys {
            openai: Some("sk-secret".into()),
            anthropic: None,
        };
        assert!(!format!("{k:?}").contains("sk-secret"));
    }
}
