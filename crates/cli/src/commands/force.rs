//! `gateway --force`: stop whatever process listens on the gateway port, found through
//! `/proc/net/tcp{,6}` socket inodes and each process's fd table.

use std::time::Duration;

pub async fn free_port(port: u16) {
    let pids = tokio::task::spawn_blocking(move || listeners_on(port))
        .await
        .unwrap_or_default();
    let me = std::process::id() as i32;
    for pid in pids.into_iter().filter(|p| *p != me) {
        eprintln!("--force: stopping pid {pid} listening on port {port}");
        // SAFETY: kill(2) with a pid we just read from /proc; no memory is involved.
        unsafe { libc::kill(pid, libc::SIGTERM) };
        for _ in 0..50 {
            if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

fn listeners_on(port: u16) -> Vec<i32> {
    let mut inodes = Vec::new();
    for file in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(file) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let cols: Vec<&str> = line.split_whitespace().collect();
            if cols.len() < 10 || cols[3] != "0A" {
                continue; // 0A = LISTEN
            }
            let local_port = cols[1]
                .rsplit(':')
                .next()
                .and_then(|p| u16::from_str_radix(p, 16).ok());
            if local_port == Some(port) {
                inodes.push(format!("socket:[{}]", cols[9]));
            }
        }
    }
    let mut pids = Vec::new();
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return pids;
    };
    for p in procs.flatten() {
        let Ok(pid) = p.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(fds) = std::fs::read_dir(p.path().join("fd")) else {
            continue;
        };
        for fd in fds.flatten() {
            if let Ok(target) = std::fs::read_link(fd.path())
                && inodes.iter().any(|i| target.to_string_lossy() == *i)
            {
                pids.push(pid);
                break;
            }
        }
    }
    pids
}
