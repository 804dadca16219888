//! Benchmark of the embedded model: load time, prompt and generation speed, peak RSS, and one
//! grammar-forced tool call.
//!
//! `cargo run --release -p openclaw-local-model --features runtime --example bench -- [MODEL [THREADS]]`
//! (MODEL defaults to `target/models/SmolLM2-135M-Instruct.Q4_1.gguf`). Prints one JSON line.

use std::path::PathBuf;
use std::time::Instant;

use openclaw_local_model::runner::{Generation, Runner, RunnerOptions};
use openclaw_local_model::wire::{WireMessage, WireTool, WorkerEvent};

fn vm_hwm_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target/models/SmolLM2-135M-Instruct.Q4_1.gguf"));
    let mut options = RunnerOptions::default();
    if let Some(t) = std::env::args().nth(2).and_then(|t| t.parse().ok()) {
        options.threads = t;
    }
    let threads = options.threads;
    let t0 = Instant::now();
    let runner = Runner::load(&path, options)?;
    let load_s = t0.elapsed().as_secs_f64();

    let chat = Generation {
        messages: vec![WireMessage::new(
            "user",
            "Write a short story about a lighthouse keeper.",
        )],
        max_tokens: Some(200),
        temperature: Some(0.2),
        ..Default::default()
    };
    let mut output_tokens = 0u64;
    let mut first_token_s = None;
    let mut text = String::new();
    let t1 = Instant::now();
    runner.generate(&chat, &mut |ev| match ev {
        WorkerEvent::Token { text: t } => {
            first_token_s.get_or_insert(t1.elapsed().as_secs_f64());
            text.push_str(&t);
        }
        WorkerEvent::Done { usage, .. } => output_tokens = usage.output,
        _ => {}
    })?;
    let gen_s = t1.elapsed().as_secs_f64();
    let first = first_token_s.unwrap_or(gen_s);

    let tools = vec![
        WireTool {
            name: "exec".into(),
            description: "Run a shell command.".into(),
            parameters: serde_json::json!({"type":"object","properties":{"command":{"type":"string"}},"required":["command"]}),
        },
        WireTool {
            name: "read".into(),
            description: "Read a file.".into(),
            parameters: serde_json::json!({"type":"object","properties":{"path":{"type":"string"}},"required":["path"]}),
        },
    ];
    let forced = Generation {
        messages: vec![WireMessage::new("user", "Run the command `uname -a`")],
        tools,
        force_tool: true,
        max_tokens: Some(64),
        ..Default::default()
    };
    let mut call = None;
    let t2 = Instant::now();
    runner.generate(&forced, &mut |ev| {
        if let WorkerEvent::ToolCall { name, arguments } = ev {
            call = Some(format!("{name} {arguments}"));
        }
    })?;
    let tool_s = t2.elapsed().as_secs_f64();

    println!(
        "{}",
        serde_json::json!({
            "model": path.display().to_string(),
            "threads": threads,
            "load_s": load_s,
            "first_token_s": first,
            "output_tokens": output_tokens,
            "gen_tokens_per_s": output_tokens as f64 / (gen_s - first).max(1e-9),
            "tool_call": call,
            "tool_call_s": tool_s,
            "peak_rss_mb": vm_hwm_kb() as f64 / 1024.0,
            "sample": text.chars().take(160).collect::<String>(),
        })
    );
    Ok(())
}
