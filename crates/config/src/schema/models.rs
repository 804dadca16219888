//! `models`: custom model providers and their model catalogs.

use std::collections::BTreeMap;

use super::common::SecretInput;

config_enum! {
    /// `merge` (default) adds configured providers to the built-in catalog; `replace` uses only these.
    pub enum ModelsMode { Merge, Replace }
}

config_enum! {
    /// Wire API a provider speaks.
    pub enum ModelApi {
        OpenaiCompletions,
        OpenaiResponses,
        AnthropicMessages,
        GoogleGenerativeAi,
        GoogleVertex,
        GithubCopilot,
        BedrockConverseStream,
        Ollama,
        AzureOpenaiResponses,
        /// The embedded GGUF model run by `openclaw local-model-worker` (needs `modelPath`).
        LocalGguf,
    }
}

config_enum! {
    pub enum ProviderAuth { ApiKey, Token, Oauth, AwsSdk }
}

config_struct! {
    pub struct ModelsConfig {
        pub mode: Option<ModelsMode>,
        pub providers: Option<BTreeMap<String, ProviderConfig>>,
        pub bedrock_discovery: Option<serde_json::Value>,
    }
}

config_struct! {
    pub struct ProviderConfig {
        pub base_url: Option<String>,
        /// Defaults to `openai-completions` when `baseUrl` is set.
        pub api: Option<ModelApi>,
        pub api_key: Option<SecretInput>,
        pub auth: Option<ProviderAuth>,
        pub headers: Option<BTreeMap<String, String>>,
        pub auth_header: Option<bool>,
        pub timeout_seconds: Option<u64>,
        pub models: Option<Vec<ModelDefinition>>,
        /// GGUF model file for `api: "local-gguf"` (`openclaw models pull` fetches one).
        pub model_path: Option<String>,
    }
}

config_struct! {
    pub struct ModelDefinition {
        pub id: Option<String>,
        pub name: Option<String>,
        pub api: Option<ModelApi>,
        pub reasoning: Option<bool>,
        /// Input kinds, e.g. `["text", "image"]`.
        pub input: Option<Vec<String>>,
        pub cost: Option<ModelCost>,
        pub context_window: Option<u64>,
        pub context_tokens: Option<u64>,
        pub max_tokens: Option<u64>,
        pub headers: Option<BTreeMap<String, String>>,
        /// Compatibility switches for OpenAI-like endpoints.
        pub compat: Option<serde_json::Map<String, serde_json::Value>>,
    }
}

config_struct! {
    /// Price per million tokens.
    pub struct ModelCost {
        pub input: Option<f64>,
        pub output: Option<f64>,
        pub cache_read: Option<f64>,
        pub cache_write: Option<f64>,
    }
}
