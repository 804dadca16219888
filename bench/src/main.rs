//! `openclaw-bench`: measures the real `openclaw` binary the way a user meets it.
//!
//! `cargo build --release && cargo run --release -p openclaw-bench -- [gateway|turns|all]`
//! Figures are printed as a table and as one JSON line. Nothing here asserts on time: the
//! numbers are for the README and the release notes, not for pass/fail.

mod gateway;
mod sandbox;
mod stats;
mod turns;
mod util;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let what = std::env::args().nth(1).unwrap_or_else(|| "all".into());
    let bin = util::openclaw_bin()?;
    println!(
        "binary: {} ({:.1} MB)",
        bin.display(),
        std::fs::metadata(&bin)?.len() as f64 / 1e6
    );
    if what == "gateway" || what == "all" {
        gateway::run(&bin).await?;
    }
    if what == "turns" || what == "all" {
        turns::run(&bin).await?;
    }
    if what == "sandbox" || what == "all" {
        sandbox::run(&bin).await?;
    }
    Ok(())
}
