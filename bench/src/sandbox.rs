//! Sandboxed turn figures: a whole agent turn whose `exec` of `echo` runs in a warm sandbox
//! container, and the first turn of a new scope (create + start + exec; image present).
//! Uses the offline test image (`scripts/test-images.sh`) unless OPENCLAW_BENCH_SANDBOX_IMAGE
//! names another one.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use openclaw_test_support::{FakeOpenAi, Script};
use serde_json::json;

use crate::stats::{ms, summarize};
use crate::util::*;

static NEXT: AtomicU64 = AtomicU64::new(0);

async fn turn(ws: &mut Ws, session: &str) -> anyhow::Result<Duration> {
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let params = json!({"message": r#"TOOL exec {"command":"echo hi"}"#, "idempotencyKey": format!("sbx-{n}"), "sessionKey": session});
    let t = Instant::now();
    let res = call(ws, &format!("s{n}"), "agent", params).await?;
    let took = t.elapsed();
    let text = res["payload"]["result"]["payloads"][0]["text"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    anyhow::ensure!(text == "tool said: hi", "sandboxed turn failed: {res}");
    Ok(took)
}

pub async fn run(bin: &Path) -> anyhow::Result<()> {
    let image = std::env::var("OPENCLAW_BENCH_SANDBOX_IMAGE")
        .unwrap_or_else(|_| "openclaw-sandbox-test:busybox".into());
    let fake = FakeOpenAi::start(Script::echo().zero_latency()).await;
    let home = Home::new(bin)?;
    let port = free_port();
    home.onboard(port)?;
    let provider = json!({"baseUrl": fake.base_url, "api": "openai-completions", "apiKey": "x", "models": [{"id": "m"}]});
    home.ok(&[
        "config",
        "set",
        "models.providers.fake",
        &provider.to_string(),
    ])?;
    home.ok(&["config", "set", "agents.defaults.model.primary", "fake/m"])?;
    let prefix = format!("oc-bench-{}-", std::process::id());
    let sandbox = json!({"mode": "all", "scope": "session", "docker": {"image": image, "containerPrefix": prefix}});
    home.ok(&[
        "config",
        "set",
        "agents.defaults.sandbox",
        &sandbox.to_string(),
    ])?;
    let mut child = home.spawn_gateway()?;
    wait_ready(port, Instant::now())?;
    let mut ws = connect(port, "T").await?;

    let mut cold = Vec::new();
    for i in 0..10 {
        cold.push(turn(&mut ws, &format!("agent:main:cold-{i}")).await?);
    }
    let cold = summarize(cold);
    println!("first sandboxed turn:     {cold}");
    // Warm containers, short histories: rotate over the ten scopes just created.
    let mut warm = Vec::new();
    for i in 0..200 {
        warm.push(turn(&mut ws, &format!("agent:main:cold-{}", i % 10)).await?);
    }
    let warm = summarize(warm);
    println!("sandboxed exec turn:      {warm}");
    let _ = child.kill();
    let _ = child.wait();
    // Remove what the bench created.
    let _ = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "docker ps -aq --filter name={prefix} | xargs -r docker rm -f >/dev/null"
        ))
        .status();
    println!(
        "{}",
        json!({"bench":"sandbox","coldP50Ms":ms(cold.p50),"warmP50Ms":ms(warm.p50),"image":image})
    );
    Ok(())
}
