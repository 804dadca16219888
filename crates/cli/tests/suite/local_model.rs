//! The embedded local model end to end: `openclaw models pull` errors, and (with
//! `--features local-model` and the model file) a real chat turn and a real exec tool turn
//! through `openclaw gateway --dev`.
//!
//! The model comes from `OPENCLAW_TEST_MODEL`, else `<repo>/target/models/
//! SmolLM2-135M-Instruct.Q4_1.gguf`. Without it the real-model tests print SKIP, unless
//! `OPENCLAW_REQUIRE_LOCAL_MODEL=1` (CI: `scripts/ci-local-model.sh`), which makes them fail.

use std::io::{Read, Write};
use std::net::TcpListener;

use super::harness::Home;

/// A one-shot loopback HTTP server answering every request with `body`.
fn serve_once(body: Vec<u8>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        if let Ok((mut s, _)) = listener.accept() {
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            );
            let _ = s.write_all(head.as_bytes());
            let _ = s.write_all(&body);
        }
    });
    format!("http://{addr}/model.gguf")
}

#[test]
fn pull_rejects_a_checksum_mismatch_and_keeps_no_file() {
    let home = Home::new();
    let url = serve_once(b"GGUF not the real model".to_vec());
    let out = home.run(&["models", "pull", "--from", "url", "--url", &url, "--json"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("checksum mismatch"), "{err}");
    assert!(
        err.contains("b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"),
        "{err}"
    );
    let models = home.state().join("models");
    assert!(!models.join("SmolLM2-135M-Instruct.Q4_1.gguf").exists());
}

#[test]
fn pull_with_a_matching_sha256_installs_the_file() {
    let home = Home::new();
    let body = b"GGUF tiny".to_vec();
    let url = serve_once(body.clone());
    let sha = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(&body))
    };
    let out = home.ok(&[
        "models", "pull", "--from", "url", "--url", &url, "--sha256", &sha, "--json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["sha256"], sha.as_str());
    assert_eq!(v["alreadyPresent"], false);
    let path = home
        .state()
        .join("models")
        .join("SmolLM2-135M-Instruct.Q4_1.gguf");
    assert_eq!(std::fs::read(path).unwrap(), body);
    let out = home.run(&["models", "pull", "--from", "url"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--url"));
}

#[test]
fn gateway_dev_without_a_pulled_model_configures_no_local_provider() {
    let home = Home::new();
    let port = super::harness::free_port();
    // OPENCLAW_OFFLINE: `--dev` must not fetch the model (it would with the feature on).
    let child = home
        .cmd(&["gateway", "--dev", "--port", &port.to_string()])
        .env("OPENCLAW_OFFLINE", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let gw = super::harness::Gateway { child, port };
    gw.wait_ready();
    let cfg = std::fs::read_to_string(home.config_path()).unwrap();
    assert!(!cfg.contains("local-gguf"), "{cfg}");
    gw.stop();
}

#[cfg(feature = "local-model")]
mod real {
    use std::path::PathBuf;

    use super::super::harness::{Home, free_port};

    fn model() -> Option<PathBuf> {
        let p = std::env::var_os("OPENCLAW_TEST_MODEL")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                    .join("../../target/models/SmolLM2-135M-Instruct.Q4_1.gguf")
            });
        if p.is_file() {
            return Some(p);
        }
        if std::env::var("OPENCLAW_REQUIRE_LOCAL_MODEL").as_deref() == Ok("1") {
            panic!(
                "local model {} missing: run `openclaw models pull --dir target/models` (or scripts/ci-local-model.sh), or set OPENCLAW_TEST_MODEL",
                p.display()
            );
        }
        eprintln!(
            "SKIP local model tests: {} not found (run `openclaw models pull --dir target/models`)",
            p.display()
        );
        None
    }

    /// `gateway --dev` with the model under `<state>/models/`, so dev setup configures it.
    fn dev_gateway(home: &Home, model: &std::path::Path) -> (super::super::harness::Gateway, u16) {
        let models = home.state().join("models");
        std::fs::create_dir_all(&models).unwrap();
        std::os::unix::fs::symlink(
            model.canonicalize().unwrap(),
            models.join("SmolLM2-135M-Instruct.Q4_1.gguf"),
        )
        .unwrap();
        let port = free_port();
        let child = home
            .cmd(&["gateway", "--dev", "--port", &port.to_string()])
            .env("OPENCLAW_GATEWAY_PORT", port.to_string())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let gw = super::super::harness::Gateway { child, port };
        gw.wait_ready();
        (gw, port)
    }

    fn agent(home: &Home, port: u16, message: &str) -> serde_json::Value {
        let out = home
            .cmd(&["agent", "-m", message, "--timeout", "300", "--json"])
            .env("OPENCLAW_GATEWAY_PORT", port.to_string())
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "agent failed: {stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_str(&stdout).unwrap()
    }

    fn answer(v: &serde_json::Value) -> String {
        v["result"]["payloads"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| p["text"].as_str())
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn chat_and_exec_turns_with_the_real_model() {
        let Some(model) = model() else { return };
        let home = Home::new();
        let (gw, port) = dev_gateway(&home, &model);
        let cfg = std::fs::read_to_string(home.config_path()).unwrap();
        assert!(
            cfg.contains("local/smollm2-135m") && cfg.contains("local-gguf"),
            "{cfg}"
        );

        let v = agent(&home, port, "What is the capital of France?");
        assert_eq!(v["status"], "ok", "{v}");
        assert_eq!(v["result"]["meta"]["agentMeta"]["provider"], "local");
        let text = answer(&v);
        assert!(!text.trim().is_empty(), "{v}");
        assert!(
            v["result"]["meta"]["agentMeta"]["usage"]["output"]
                .as_u64()
                .unwrap()
                > 0
        );

        let v = agent(&home, port, "run the command `uname -a`");
        assert_eq!(v["status"], "ok", "{v}");
        let text = answer(&v);
        // the transcript holds the real exec call and its result
        let sessions = home.state().join("agents/main/sessions");
        let transcript: String = std::fs::read_dir(&sessions)
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.path().extension().is_some_and(|x| x == "jsonl"))
            .map(|e| std::fs::read_to_string(e.path()).unwrap())
            .collect();
        assert!(
            text.contains("Linux"),
            "answer without the kernel name: {text}\ntranscript: {transcript}"
        );
        assert!(transcript.contains(r#""name":"exec""#), "{transcript}");
        assert!(transcript.contains(r#""toolName":"exec""#), "{transcript}");
        assert!(transcript.contains("uname -a"), "{transcript}");
        gw.stop();
    }

    #[test]
    fn a_missing_model_file_fails_the_turn_with_the_pull_command() {
        let Some(model) = model() else { return };
        let home = Home::new();
        let (gw, port) = dev_gateway(&home, &model);
        std::fs::remove_file(home.state().join("models/SmolLM2-135M-Instruct.Q4_1.gguf")).unwrap();
        let out = home
            .cmd(&["agent", "-m", "hi", "--timeout", "60", "--json"])
            .env("OPENCLAW_GATEWAY_PORT", port.to_string())
            .output()
            .unwrap();
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!out.status.success(), "{all}");
        assert!(all.contains("openclaw models pull"), "{all}");
        gw.stop();
    }
}
