//! `kill -9` a process that is writing the index and a transcript, at random moments, several
//! times; after each kill both files must load and every transcript line must parse (after
//! the torn-line repair that `TranscriptWriter::open` performs).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use openclaw_protocol::Message;
use openclaw_store::{
    SessionEntry, SessionStore, SessionStoreOptions, TranscriptWriter, transcript,
};
use rand::Rng;

use super::assert_valid_jsonl;

const DIR_ENV: &str = "OPENCLAW_STORE_KILL_CHILD_DIR";
const READY: &str = "KILL_CHILD_READY";
const ROUNDS: usize = 6;

/// Not a test: the writer process that `kill_nine_leaves_loadable_files` spawns and kills.
#[test]
#[ignore = "child process of kill_nine_leaves_loadable_files; it runs until killed"]
fn child_writer() {
    let dir = std::env::var(DIR_ENV).expect("run by kill_nine_leaves_loadable_files");
    let dir = Path::new(&dir);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let opts = SessionStoreOptions {
            debounce: Duration::from_millis(1),
            lazy_debounce: Duration::from_millis(1),
        };
        let store = SessionStore::open_with(dir.join("sessions.json"), opts)
            .await
            .unwrap();
        let (w, t) = TranscriptWriter::open(dir.join("s1.jsonl"), "s1", "/w")
            .await
            .unwrap();
        let start = t.entries.len();
        let filler = "x".repeat(3000);
        let mut i = 0u64;
        loop {
            w.append_message(Message::user_text(format!("{i} {filler}"), i))
                .await
                .unwrap();
            store.update_or_insert(
                &format!("agent:main:direct:{}", i % 300),
                || SessionEntry::new(format!("s{i}"), i),
                |e| {
                    e.updated_at = i;
                    e.total_tokens = Some(i);
                },
            );
            if i.is_multiple_of(20) {
                w.flush().await.unwrap();
                store.flush().await.unwrap();
                if i == 0 {
                    println!("{READY} {start}");
                }
            }
            i += 1;
            if i.is_multiple_of(50) {
                tokio::task::yield_now().await;
            }
        }
    });
}

#[test]
fn kill_nine_leaves_loadable_files() {
    let dir = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut rng = rand::thread_rng();
    let mut last_count = 0usize;
    for round in 0..ROUNDS {
        let mut child = Command::new(&exe)
            .args([
                "--ignored",
                "--exact",
                "suite::kill_safety::child_writer",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(DIR_ENV, dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if line.contains(READY) {
                    let _ = tx.send(line);
                }
            }
        });
        let ready = rx.recv_timeout(Duration::from_secs(60));
        if ready.is_err() {
            let _ = child.kill();
            let _ = child.wait();
            panic!("round {round}: child writer never became ready");
        }
        // Let it write for a random while, then SIGKILL.
        std::thread::sleep(Duration::from_millis(rng.gen_range(5..150)));
        child.kill().unwrap();
        child.wait().unwrap();
        let _ = reader.join();

        // The index is complete JSON (old or new version), never torn.
        let raw = std::fs::read(dir.path().join("sessions.json")).unwrap();
        let index: serde_json::Value = serde_json::from_slice(&raw)
            .unwrap_or_else(|e| panic!("round {round}: torn sessions.json: {e}"));
        assert!(index.as_object().is_some_and(|m| !m.is_empty()));
        rt.block_on(async {
            let store = SessionStore::open(dir.path().join("sessions.json"))
                .await
                .unwrap();
            assert!(
                store.recovered_from().is_none(),
                "round {round}: index was treated as corrupt"
            );
            assert!(!store.is_empty());

            // The transcript loads (a torn tail at most), and after repair every line parses.
            let path = dir.path().join("s1.jsonl");
            let t = transcript::load(&path).await.unwrap();
            assert_eq!(
                t.skipped_lines, 0,
                "round {round}: only the last line may be damaged"
            );
            let (w, t2) = TranscriptWriter::open(&path, "s1", "/w").await.unwrap();
            assert_eq!(t2.entries.len(), t.entries.len());
            w.close().await.unwrap();
            let lines = assert_valid_jsonl(&path);
            assert!(lines > last_count, "round {round}: transcript did not grow");
            last_count = lines;
            // The parent chain is intact from the leaf to the first entry.
            assert_eq!(
                t.branch().len(),
                t.entries.len(),
                "round {round}: broken parent chain"
            );
        });
    }
    let leftovers: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".corrupt-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
