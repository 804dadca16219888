//! Agent turn figures through the real gateway against a zero-latency fake model:
//! plain turn, turn with one host `exec` of `echo`, the same with 1,000 sessions stored,
//! and RSS across many turns.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use openclaw_test_support::{FakeOpenAi, Script};
use serde_json::json;

use crate::stats::{ms, summarize};
use crate::util::*;

/// Every run needs its own idempotency key, or the gateway answers from its dedupe cache.
static NEXT_KEY: AtomicU64 = AtomicU64::new(0);

async fn turns(
    ws: &mut Ws,
    n: usize,
    message: &str,
    session_of: impl Fn(usize) -> String,
) -> anyhow::Result<Vec<Duration>> {
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let key = NEXT_KEY.fetch_add(1, Ordering::Relaxed);
        let params = json!({"message": message, "idempotencyKey": format!("bench-{key}"),
                            "sessionKey": session_of(i)});
        let t = Instant::now();
        let res = call(ws, &format!("t{i}"), "agent", params).await?;
        out.push(t.elapsed());
        anyhow::ensure!(res["payload"]["status"] == "ok", "turn failed: {res}");
        if std::env::var_os("OPENCLAW_BENCH_DEBUG").is_some() && i < 3 {
            eprintln!(
                "{message:?} {:?} -> {}",
                t.elapsed(),
                res["payload"]["result"]["payloads"]
            );
        }
    }
    Ok(out)
}

pub async fn run(bin: &Path) -> anyhow::Result<()> {
    let fake = FakeOpenAi::start(Script::echo().zero_latency()).await;
    let home = Home::new(bin)?;
    let port = free_port();
    home.onboard(port)?;
    let provider = json!({"baseUrl": fake.base_url, "api": "openai-completions", "apiKey": "x",
                          "models": [{"id": "m", "name": "m", "contextWindow": 128000}]});
    home.ok(&[
        "config",
        "set",
        "models.providers.fake",
        &provider.to_string(),
    ])?;
    home.ok(&["config", "set", "agents.defaults.model.primary", "fake/m"])?;
    let mut child = home.spawn_gateway()?;
    wait_ready(port, Instant::now())?;
    let mut ws = connect(port, "T").await?;

    // Sessions rotate over 50 keys so each measured turn has a short history: the figures
    // compare session counts, not transcript lengths (a long history costs more per turn,
    // because the whole context is sent to the model).
    turns(&mut ws, 50, "warm up", |i| {
        format!("agent:main:w-{}", i % 50)
    })
    .await?;
    let plain = summarize(turns(&mut ws, 500, "hi", |i| format!("agent:main:p-{}", i % 50)).await?);
    println!("agent turn, plain:        {plain}");
    let tool = summarize(
        turns(&mut ws, 300, r#"TOOL exec {"command":"echo hi"}"#, |i| {
            format!("agent:main:x-{}", i % 50)
        })
        .await?,
    );
    println!("agent turn, host exec:    {tool}");

    // 1,000 stored sessions: one turn each, then the same measurement as `plain` again, right
    // away (the 1,000 new transcript files are still being synced in the background) and once
    // that has settled.
    turns(&mut ws, 1000, "fill", |i| format!("agent:main:bench-{i}")).await?;
    let plain_burst =
        summarize(turns(&mut ws, 500, "hi", |i| format!("agent:main:q-{}", i % 50)).await?);
    println!("plain, right after 1,000 new sessions: {plain_burst}");
    tokio::time::sleep(Duration::from_secs(15)).await;
    let plain_many =
        summarize(turns(&mut ws, 500, "hi", |i| format!("agent:main:r-{}", i % 50)).await?);
    println!("plain, 1,000 sessions stored:          {plain_many}");

    // RSS is sampled at the start, after every 1,000 turns and at the end: a bounded runtime
    // stays flat after the first 1,000 (sessions warm, caches full).
    let n: usize = std::env::var("OPENCLAW_BENCH_TURNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let rss_before = rss_kb(child.id());
    let mut rss_marks = Vec::new();
    let mut soak_times = Vec::with_capacity(n);
    let mut done = 0;
    while done < n {
        let chunk = (n - done).min(1000);
        let offset = done;
        soak_times.extend(
            turns(&mut ws, chunk, "soak", |i| {
                format!("agent:main:soak-{}", (offset + i) % 50)
            })
            .await?,
        );
        done += chunk;
        rss_marks.push((done, rss_kb(child.id())));
    }
    let soak = summarize(soak_times);
    let rss_after = rss_kb(child.id());
    let rss_1k = rss_marks.first().map(|m| m.1).unwrap_or(rss_before);
    let mb = |kb: u64| kb as f64 / 1024.0;
    println!("{n} turns:              {soak}");
    println!(
        "RSS across {n} turns:   {:.1} MB -> {:.1} MB (after 1,000: {:.1} MB)",
        mb(rss_before),
        mb(rss_after),
        mb(rss_1k)
    );
    let marks: Vec<String> = rss_marks
        .iter()
        .map(|(t, kb)| format!("{t}: {:.1}", mb(*kb)))
        .collect();
    println!("RSS (MB) by turn:       {}", marks.join(", "));
    let _ = child.kill();
    let _ = child.wait();
    println!(
        "{}",
        json!({"bench":"turns","plainP50Ms":ms(plain.p50),"execP50Ms":ms(tool.p50),"plain1000SessionsP50Ms":ms(plain_many.p50),"plainRightAfter1000NewP50Ms":ms(plain_burst.p50),
               "rssBeforeMb":mb(rss_before),"rssAfter1000Mb":mb(rss_1k),"rssAfterMb":mb(rss_after),"soakTurns":n})
    );
    Ok(())
}
