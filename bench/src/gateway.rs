//! Gateway figures: start → `/readyz`, idle RSS, connect + `health` round trip.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::stats::{ms, summarize};
use crate::util::*;

pub async fn run(bin: &Path) -> anyhow::Result<()> {
    let home = Home::new(bin)?;
    let port = free_port();
    home.onboard(port)?;

    let mut starts = Vec::new();
    let mut rss = 0;
    for i in 0..10 {
        let t = Instant::now();
        let mut child = home.spawn_gateway()?;
        starts.push(wait_ready(port, t)?);
        if i == 9 {
            tokio::time::sleep(Duration::from_secs(1)).await;
            rss = rss_kb(child.id());
        }
        let _ = child.kill();
        let _ = child.wait();
    }
    let start = summarize(starts);
    println!("start -> /readyz:        {start}");
    println!("idle RSS:                {:.1} MB", rss as f64 / 1024.0);

    let mut child = home.spawn_gateway()?;
    wait_ready(port, Instant::now())?;
    let mut samples = Vec::new();
    for i in 0..300 {
        let t = Instant::now();
        let mut ws = connect(port, "T").await?;
        let res = call(&mut ws, &format!("h{i}"), "health", json!({})).await?;
        samples.push(t.elapsed());
        anyhow::ensure!(res["ok"] == true, "health failed: {res}");
        drop(ws);
    }
    let connect_health = summarize(samples);
    println!("connect + health:        {connect_health}");

    let mut ws = connect(port, "T").await?;
    let mut samples = Vec::new();
    for i in 0..2000 {
        let t = Instant::now();
        call(&mut ws, &format!("x{i}"), "health", json!({})).await?;
        samples.push(t.elapsed());
    }
    let health_rt = summarize(samples);
    println!("health round trip:       {health_rt}");
    let _ = child.kill();
    let _ = child.wait();
    println!(
        "{}",
        json!({"bench":"gateway","startReadyP50Ms":ms(start.p50),"idleRssMb":rss as f64/1024.0,
               "connectHealthP50Ms":ms(connect_health.p50),"healthRoundTripP50Ms":ms(health_rt.p50)})
    );
    Ok(())
}
