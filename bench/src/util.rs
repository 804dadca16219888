//! Spawning the binary in a throwaway home, and a minimal protocol client.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

pub type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub fn openclaw_bin() -> anyhow::Result<PathBuf> {
    if let Ok(p) = std::env::var("OPENCLAW_BIN") {
        return Ok(PathBuf::from(p));
    }
    let exe = std::env::current_exe()?;
    let dir = exe.parent().context("no parent dir")?;
    let bin = dir.join("openclaw");
    if !bin.exists() {
        bail!(
            "{} not found: run `cargo build --release` first (or set OPENCLAW_BIN)",
            bin.display()
        );
    }
    Ok(bin)
}

pub struct Home {
    pub dir: tempfile::TempDir,
    pub bin: PathBuf,
}

impl Home {
    pub fn new(bin: &Path) -> anyhow::Result<Self> {
        Ok(Self {
            dir: tempfile::tempdir()?,
            bin: bin.to_path_buf(),
        })
    }

    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(&self.bin);
        c.args(args)
            .env_clear()
            .env("HOME", self.dir.path())
            .env("PATH", std::env::var("PATH").unwrap_or_default());
        c
    }

    pub fn ok(&self, args: &[&str]) -> anyhow::Result<String> {
        let out = self.cmd(args).output()?;
        if !out.status.success() {
            bail!(
                "openclaw {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    pub fn onboard(&self, port: u16) -> anyhow::Result<()> {
        let p = port.to_string();
        self.ok(&[
            "onboard",
            "--non-interactive",
            "--accept-risk",
            "--gateway-token",
            "T",
            "--gateway-port",
            &p,
            "--json",
        ])?;
        Ok(())
    }

    pub fn spawn_gateway(&self) -> anyhow::Result<Child> {
        Ok(self
            .cmd(&["gateway"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?)
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(18999)
}

/// Poll `GET /readyz` until it answers 200; returns the time it took.
pub fn wait_ready(port: u16, started: Instant) -> anyhow::Result<Duration> {
    use std::io::{Read, Write};
    let deadline = started + Duration::from_secs(20);
    while Instant::now() < deadline {
        if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            let _ = s.set_nodelay(true);
            s.write_all(b"GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")?;
            let mut buf = String::new();
            let _ = s.read_to_string(&mut buf);
            if buf.starts_with("HTTP/1.1 200") {
                return Ok(started.elapsed());
            }
        }
        std::thread::sleep(Duration::from_micros(200));
    }
    bail!("gateway on port {port} never became ready")
}

pub fn rss_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

pub async fn connect(port: u16, token: &str) -> anyhow::Result<Ws> {
    let url = format!("ws://127.0.0.1:{port}/");
    let (mut ws, _) =
        tokio_tungstenite::connect_async_with_config(url.as_str(), None, true).await?;
    let _challenge = next(&mut ws).await?;
    let req = json!({"type":"req","id":"c","method":"connect","params":{"minProtocol":3,"maxProtocol":4,
        "client":{"id":"cli","version":"bench","platform":"linux","mode":"cli"},"role":"operator",
        "scopes":["operator.admin","operator.read","operator.write"],"caps":[],"auth":{"token":token}}});
    ws.send(Message::Text(req.to_string().into())).await?;
    let res = next(&mut ws).await?;
    if res["ok"] != true {
        bail!("connect failed: {res}");
    }
    Ok(ws)
}

pub async fn next(ws: &mut Ws) -> anyhow::Result<Value> {
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(t))) => return Ok(serde_json::from_str(t.as_str())?),
            Some(Ok(_)) => continue,
            other => bail!("socket ended: {other:?}"),
        }
    }
}

/// Send a request and wait for its final response (skipping events and `accepted` acks).
pub async fn call(ws: &mut Ws, id: &str, method: &str, params: Value) -> anyhow::Result<Value> {
    let req = json!({"type":"req","id":id,"method":method,"params":params});
    ws.send(Message::Text(req.to_string().into())).await?;
    loop {
        let f = next(ws).await?;
        if std::env::var_os("OPENCLAW_BENCH_FRAMES").is_some() && f["type"] == "res" {
            eprintln!(
                "  frame for {id}: {}",
                serde_json::to_string(&f)
                    .unwrap_or_default()
                    .chars()
                    .take(160)
                    .collect::<String>()
            );
        }
        if f["type"] == "res" && f["id"] == id && f["payload"]["status"] != "accepted" {
            return Ok(f);
        }
    }
}
