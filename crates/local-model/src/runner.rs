//! The llama.cpp runner: load a GGUF once, then run one streamed generation per request.
//!
//! A fresh context (KV cache) is made per request: for a 135M model that costs milliseconds and
//! keeps requests independent. Free-text answers stream token by token; a forced tool call is
//! sampled under the grammar from [`crate::grammar`] and reported once, parsed.
//!
//! Note: `LlamaSampler::sample` already accepts the sampled token into the chain (grammar
//! included). Accepting it again makes llama.cpp abort the process, which is why this only ever
//! runs inside the worker process.

use std::num::NonZeroU32;
use std::path::Path;
use std::time::Instant;

use llama_cpp_2::context::params::LlamaContextParams;
use llama_cpp_2::llama_backend::LlamaBackend;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::model::{LlamaChatMessage, LlamaChatTemplate, LlamaModel};
use llama_cpp_2::sampling::LlamaSampler;
use llama_cpp_2::token::LlamaToken;

use crate::LocalModelError;
use crate::grammar::{parse_tool_call, tool_call_grammar};
use crate::prompt::{chatml, drop_oldest, with_tool_section};
use crate::wire::{WireMessage, WireStopReason, WireTool, WireUsage, WorkerEvent};

/// Default answer budget when a request sets none.
pub const DEFAULT_MAX_TOKENS: u32 = 512;

/// Load-time settings.
#[derive(Debug, Clone)]
pub struct RunnerOptions {
    /// Context window in tokens (prompt + answer).
    pub n_ctx: u32,
    /// CPU threads for generation and prompt processing.
    pub threads: i32,
}

impl Default for RunnerOptions {
    fn default() -> Self {
        // Half the cores, at most 4: ggml's threads spin at barriers, and on a busy 2-core box
        // two threads measured 3 tok/s against 80 tok/s for one.
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        RunnerOptions {
            n_ctx: 4096,
            threads: i32::try_from((cores / 2).clamp(1, 4)).unwrap_or(1),
        }
    }
}

/// One generation request (the fields of `WorkerRequest::Generate`).
#[derive(Debug, Clone, Default)]
pub struct Generation {
    pub messages: Vec<WireMessage>,
    pub tools: Vec<WireTool>,
    pub force_tool: bool,
    pub max_tokens: Option<u32>,
    pub temperature: Option<f32>,
}

/// A loaded model.
pub struct Runner {
    backend: LlamaBackend,
    model: LlamaModel,
    template: Option<LlamaChatTemplate>,
    options: RunnerOptions,
    name: String,
    load_ms: u64,
}

impl Runner {
    /// Load `path` (a GGUF file). llama.cpp's own logging is silenced; stdout stays clean.
    pub fn load(path: &Path, options: RunnerOptions) -> Result<Self, LocalModelError> {
        if !path.is_file() {
            return Err(LocalModelError::ModelMissing {
                path: path.to_path_buf(),
            });
        }
        let started = Instant::now();
        let mut backend = LlamaBackend::init().map_err(|e| LocalModelError::Load {
            path: path.to_path_buf(),
            detail: e.to_string(),
        })?;
        backend.void_logs();
        let model = LlamaModel::load_from_file(&backend, path, &LlamaModelParams::default())
            .map_err(|e| LocalModelError::Load {
                path: path.to_path_buf(),
                detail: e.to_string(),
            })?;
        let template = model.chat_template(None).ok();
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        Ok(Runner {
            backend,
            model,
            template,
            options,
            name,
            load_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        })
    }

    /// The `ready` event for this model.
    pub fn ready_event(&self) -> WorkerEvent {
        WorkerEvent::Ready {
            model: self.name.clone(),
            load_ms: self.load_ms,
        }
    }

    fn render(&self, messages: &[WireMessage]) -> String {
        if let Some(t) = &self.template {
            let chat: Result<Vec<LlamaChatMessage>, _> = messages
                .iter()
                .map(|m| LlamaChatMessage::new(m.role.clone(), m.content.clone()))
                .collect();
            if let Ok(chat) = chat
                && let Ok(text) = self.model.apply_chat_template(t, &chat, true)
            {
                return text;
            }
        }
        chatml(messages)
    }

    /// Tokenize the prompt, dropping old turns (then old tokens) until `reserve` answer tokens fit.
    fn prompt_tokens(&self, messages: &[WireMessage], reserve: u32) -> Vec<LlamaToken> {
        let budget = self.options.n_ctx.saturating_sub(reserve).max(16) as usize;
        let mut messages = messages.to_vec();
        loop {
            let tokens = self
                .model
                .vocab()
                .tokenize(self.render(&messages).as_bytes(), true, true);
            if tokens.len() <= budget {
                return tokens;
            }
            if !drop_oldest(&mut messages) {
                return tokens[tokens.len() - budget..].to_vec();
            }
        }
    }

    /// Run one generation, reporting events through `emit` (never `Ready`). Ends with `Done`
    /// unless an error is returned.
    pub fn generate(
        &self,
        req: &Generation,
        emit: &mut dyn FnMut(WorkerEvent),
    ) -> Result<(), LocalModelError> {
        let forced = req.force_tool && !req.tools.is_empty();
        let max_tokens = req
            .max_tokens
            .unwrap_or(DEFAULT_MAX_TOKENS)
            .clamp(1, self.options.n_ctx / 2);
        let messages = with_tool_section(&req.messages, &req.tools, forced);
        let tokens = self.prompt_tokens(&messages, max_tokens);
        let infer = |e: &dyn std::fmt::Display| LocalModelError::Inference(e.to_string());

        let params = LlamaContextParams::default()
            .with_n_ctx(NonZeroU32::new(self.options.n_ctx))
            .with_n_batch(512)
            .with_n_threads(self.options.threads)
            .with_n_threads_batch(self.options.threads);
        let mut ctx = self
            .model
            .new_context(&self.backend, params)
            .map_err(|e| infer(&e))?;
        let mut sampler = if forced {
            let grammar = tool_call_grammar(&req.tools)?;
            let g = LlamaSampler::grammar(&self.model, &grammar, "root")
                .map_err(|e| infer(&format!("tool grammar rejected: {e}")))?;
            LlamaSampler::chain_simple([g, LlamaSampler::greedy()])
        } else {
            let temp = req.temperature.unwrap_or(0.2);
            if temp <= 0.0 {
                LlamaSampler::greedy()
            } else {
                LlamaSampler::chain_simple([
                    LlamaSampler::penalties(self.model.n_vocab(), 64, 1.1, 0.0, 0.0),
                    LlamaSampler::top_k(40),
                    LlamaSampler::top_p(0.9, 1),
                    LlamaSampler::temp(temp),
                    LlamaSampler::dist(rand_seed()),
                ])
            }
        };

        // Prompt, in batches; logits only for the very last token.
        let mut batch = LlamaBatch::new(512, 1);
        let last = tokens.len().saturating_sub(1);
        for (chunk_no, chunk) in tokens.chunks(512).enumerate() {
            batch.clear();
            for (i, t) in chunk.iter().enumerate() {
                let pos = chunk_no * 512 + i;
                batch
                    .add(*t, pos as i32, &[0], pos == last)
                    .map_err(|e| infer(&e))?;
            }
            ctx.decode(&mut batch).map_err(|e| infer(&e))?;
        }

        let vocab = self.model.vocab();
        let mut pos = tokens.len() as i32;
        let mut produced: u32 = 0;
        let mut pending: Vec<u8> = Vec::new();
        let mut text = String::new();
        let mut stop = WireStopReason::Length;
        while produced < max_tokens && (pos as u32) < self.options.n_ctx {
            let token = sampler.sample(&ctx, batch.n_tokens() - 1);
            if vocab.is_eog(token) {
                stop = WireStopReason::Stop;
                break;
            }
            produced += 1;
            pending.extend(vocab.token_to_piece(token, false, None));
            let piece = take_valid_utf8(&mut pending);
            if !piece.is_empty() {
                if forced {
                    text.push_str(&piece);
                } else {
                    emit(WorkerEvent::Token { text: piece });
                }
            }
            batch.clear();
            batch.add(token, pos, &[0], true).map_err(|e| infer(&e))?;
            pos += 1;
            ctx.decode(&mut batch).map_err(|e| infer(&e))?;
        }
        let usage = WireUsage {
            input: tokens.len() as u64,
            output: u64::from(produced),
        };
        if forced {
            let Some((name, arguments)) = parse_tool_call(&text) else {
                return Err(LocalModelError::Inference(format!(
                    "the model produced no complete tool call within {max_tokens} tokens: {text:?}"
                )));
            };
            emit(WorkerEvent::ToolCall { name, arguments });
            stop = WireStopReason::ToolUse;
        }
        emit(WorkerEvent::Done {
            stop_reason: stop,
            usage,
        });
        Ok(())
    }
}

/// Move the longest complete UTF-8 prefix out of `pending` (a token can end mid-character).
fn take_valid_utf8(pending: &mut Vec<u8>) -> String {
    let valid = match std::str::from_utf8(pending) {
        Ok(_) => pending.len(),
        Err(e) if e.error_len().is_some() => {
            // Invalid bytes (not just a cut): replace them rather than stall.
            let s = String::from_utf8_lossy(pending).into_owned();
            pending.clear();
            return s;
        }
        Err(e) => e.valid_up_to(),
    };
    let rest = pending.split_off(valid);
    let out = String::from_utf8_lossy(pending).into_owned();
    *pending = rest;
    out
}

fn rand_seed() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_pieces_wait_for_complete_characters() {
        let mut p = "é".as_bytes()[..1].to_vec();
        assert_eq!(take_valid_utf8(&mut p), "");
        p.extend(&"é".as_bytes()[1..]);
        p.extend(b"x");
        assert_eq!(take_valid_utf8(&mut p), "éx");
        assert!(p.is_empty());
    }
}
