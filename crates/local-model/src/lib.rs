//! The embedded local model: a small GGUF chat model run in-process by llama.cpp, so a fresh
//! install can chat with no API key and no network.
//!
//! - [`wire`]: the newline-delimited JSON protocol between the gateway and the worker process.
//! - [`grammar`]: GBNF built from tool JSON Schemas, which forces a well-formed tool call.
//! - [`prompt`]: tool section, ChatML fallback, trimming old turns to fit the context.
//! - `runner` / `worker` (feature `runtime`): llama.cpp itself (via `llama-cpp-2`) and the
//!   stdin/stdout loop behind `openclaw local-model-worker`.
//!
//! Only this crate sees llama-cpp-2, and only with `runtime` on: the plain parts above are what
//! the providers crate uses to talk to the worker. Inference runs in a separate process because
//! a C++ abort inside llama.cpp must not take the gateway down.

pub mod grammar;
pub mod prompt;
#[cfg(feature = "runtime")]
pub mod runner;
pub mod wire;
#[cfg(feature = "runtime")]
pub mod worker;

use std::path::PathBuf;

/// File name of the default model (`openclaw models pull` puts it under `<stateDir>/models/`).
pub const DEFAULT_MODEL_FILE: &str = "SmolLM2-135M-Instruct.Q4_1.gguf";
/// Model id of the default model in `models.providers.local`.
pub const DEFAULT_MODEL_ID: &str = "smollm2-135m";

/// Errors of the local model runtime.
#[derive(Debug, thiserror::Error)]
pub enum LocalModelError {
    #[error("model file {} not found — run `openclaw models pull` to fetch it", .path.display())]
    ModelMissing { path: PathBuf },
    #[error("cannot load model {}: {detail} — is it a GGUF file? `openclaw models pull` fetches a known-good one", .path.display())]
    Load { path: PathBuf, detail: String },
    #[error("local model inference failed: {0}")]
    Inference(String),
    #[error(transparent)]
    Grammar(#[from] grammar::GrammarError),
    #[error("worker i/o failed: {0}")]
    Io(#[from] std::io::Error),
}
