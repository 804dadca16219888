//! The host browser the gateway launches itself: Chromium or Chrome with a private, throwaway
//! profile and DevTools on a free loopback port.
//!
//! The executable is `browser.executablePath` or the first of [`BROWSER_NAMES`] on `PATH`. It
//! starts with `--remote-debugging-port=0` (Chromium binds DevTools to 127.0.0.1 and picks the
//! port) in a fresh `0700` user-data-dir under the temp dir, and writes the port and the
//! browser WebSocket path to `DevToolsActivePort` there, which we poll for. The browser runs in
//! its own process group so that stopping it takes its renderers and helpers too; a dropped
//! [`HostChrome`] kills the group and removes the profile, so no browser outlives the gateway
//! that started it.

use std::collections::VecDeque;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::task::JoinHandle;

/// Names looked up on `PATH` when `browser.executablePath` is not set, in order.
pub const BROWSER_NAMES: &[&str] = &[
    "chromium",
    "chromium-browser",
    "google-chrome",
    "google-chrome-stable",
];
/// How long a starting browser has to write `DevToolsActivePort`.
pub const LAUNCH_TIMEOUT: Duration = Duration::from_secs(20);
/// How long a stopping browser has to exit after SIGTERM before SIGKILL.
const EXIT_GRACE: Duration = Duration::from_secs(5);
const POLL_INTERVAL: Duration = Duration::from_millis(50);
/// Bytes of the browser's stderr kept for error messages.
const STDERR_TAIL: usize = 4 * 1024;

/// How to start the host browser (resolved from `browser.*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LaunchOptions {
    pub executable: PathBuf,
    pub headless: bool,
    /// `--no-sandbox`: asked for by `browser.noSandbox`, or forced when running as root.
    pub no_sandbox: bool,
    /// `browser.extraArgs`.
    pub extra_args: Vec<String>,
}

/// Why the browser could not be started. The text is what the model reads.
#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    #[error(
        "no Chromium or Chrome found on PATH (looked for {names}); install one (Debian: apt-get install chromium) or set browser.executablePath"
    )]
    NotFound { names: String },
    #[error("browser.executablePath {path} is not an executable file")]
    BadExecutable { path: String },
    #[error("cannot {op} {path}: {source}")]
    Io {
        op: &'static str,
        path: String,
        source: std::io::Error,
    },
    #[error("{executable} did not open DevTools within {secs} s{exited}. Last output:\n{stderr}")]
    NotReady {
        executable: String,
        secs: u64,
        exited: String,
        stderr: String,
    },
}

/// The browser to run: `configured` (`browser.executablePath`) when set, else the first of
/// [`BROWSER_NAMES`] found in `path` (the `PATH` value).
pub fn find_executable(
    configured: Option<&Path>,
    path: Option<&OsStr>,
) -> Result<PathBuf, LaunchError> {
    if let Some(p) = configured {
        return if is_executable(p) {
            Ok(p.to_path_buf())
        } else {
            Err(LaunchError::BadExecutable {
                path: p.display().to_string(),
            })
        };
    }
    let dirs: Vec<PathBuf> = path
        .map(|p| std::env::split_paths(p).collect())
        .unwrap_or_default();
    BROWSER_NAMES
        .iter()
        .flat_map(|name| dirs.iter().map(move |d| d.join(name)))
        .find(|p| is_executable(p))
        .ok_or_else(|| LaunchError::NotFound {
            names: BROWSER_NAMES.join(", "),
        })
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Whether Chromium's own sandbox cannot work here: it refuses to start as root without
/// `--no-sandbox` (CI containers run as root).
pub fn running_as_root() -> bool {
    rustix::process::geteuid().is_root()
}

/// The command line (without the executable). Pure, so the posture is pinned by a unit test.
pub fn chrome_args(opts: &LaunchOptions, user_data_dir: &Path) -> Vec<String> {
    let mut args = vec![
        // Port 0: Chromium picks a free port on 127.0.0.1 and reports it in DevToolsActivePort.
        "--remote-debugging-port=0".to_string(),
        format!("--user-data-dir={}", user_data_dir.display()),
        "--no-first-run".into(),
        "--no-default-browser-check".into(),
        "--disable-background-networking".into(),
        "--disable-component-update".into(),
        "--disable-default-apps".into(),
        "--disable-sync".into(),
        "--disable-dev-shm-usage".into(),
        "--password-store=basic".into(),
        "--use-mock-keychain".into(),
        "--window-size=1280,900".into(),
    ];
    if opts.headless {
        args.push("--headless=new".into());
    }
    if opts.no_sandbox {
        args.push("--no-sandbox".into());
    }
    args.extend(opts.extra_args.iter().cloned());
    args.push("about:blank".into());
    args
}

/// `DevToolsActivePort`: the port on the first line, the browser WebSocket path on the second.
pub fn parse_active_port(text: &str) -> Option<(u16, String)> {
    let mut lines = text.lines();
    let port = lines
        .next()?
        .trim()
        .parse::<u16>()
        .ok()
        .filter(|p| *p != 0)?;
    let path = lines.next()?.trim();
    path.starts_with("/devtools/browser/")
        .then(|| (port, path.to_string()))
}

/// A running host browser. Dropping it kills the browser and removes its profile.
pub struct HostChrome {
    child: tokio::process::Child,
    pid: Option<u32>,
    user_data_dir: PathBuf,
    executable: PathBuf,
    port: u16,
    ws_url: String,
    stderr: Arc<Mutex<VecDeque<u8>>>,
    stderr_task: JoinHandle<()>,
}

impl std::fmt::Debug for HostChrome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostChrome")
            .field("pid", &self.pid)
            .field("port", &self.port)
            .field("executable", &self.executable)
            .finish_non_exhaustive()
    }
}

fn io_err(op: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> LaunchError {
    let path = path.display().to_string();
    move |source| LaunchError::Io { op, path, source }
}

impl HostChrome {
    /// Start the browser and wait (at most [`LAUNCH_TIMEOUT`]) until DevTools listens.
    pub async fn launch(opts: &LaunchOptions) -> Result<HostChrome, LaunchError> {
        let dir = std::env::temp_dir().join(format!("openclaw-browser-{}", uuid::Uuid::new_v4()));
        tokio::fs::DirBuilder::new()
            .mode(0o700)
            .create(&dir)
            .await
            .map_err(io_err("create the browser profile", &dir))?;
        let mut cmd = tokio::process::Command::new(&opts.executable);
        cmd.args(chrome_args(opts, &dir))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(true);
        let mut child = match cmd.spawn() {
            Ok(c) => c,
            Err(e) => {
                let _ = tokio::fs::remove_dir_all(&dir).await;
                return Err(io_err("start", &opts.executable)(e));
            }
        };
        let stderr = Arc::new(Mutex::new(VecDeque::with_capacity(STDERR_TAIL)));
        let stderr_task = tokio::spawn(drain_stderr(child.stderr.take(), stderr.clone()));
        let mut chrome = HostChrome {
            pid: child.id(),
            child,
            user_data_dir: dir,
            executable: opts.executable.clone(),
            port: 0,
            ws_url: String::new(),
            stderr,
            stderr_task,
        };
        match chrome.wait_for_devtools().await {
            Ok((port, path)) => {
                chrome.port = port;
                chrome.ws_url = format!("ws://127.0.0.1:{port}{path}");
                Ok(chrome)
            }
            Err(e) => {
                chrome.stop().await;
                Err(e)
            }
        }
    }

    async fn wait_for_devtools(&mut self) -> Result<(u16, String), LaunchError> {
        let file = self.user_data_dir.join("DevToolsActivePort");
        let deadline = tokio::time::Instant::now() + LAUNCH_TIMEOUT;
        loop {
            if let Ok(text) = tokio::fs::read_to_string(&file).await
                && let Some(found) = parse_active_port(&text)
            {
                return Ok(found);
            }
            let exited = match self.child.try_wait() {
                Ok(Some(status)) => Some(format!(" (it exited: {status})")),
                _ => None,
            };
            if exited.is_some() || tokio::time::Instant::now() >= deadline {
                // Let the drain task read what the browser printed before it died.
                tokio::time::sleep(POLL_INTERVAL).await;
                return Err(LaunchError::NotReady {
                    executable: self.executable.display().to_string(),
                    secs: LAUNCH_TIMEOUT.as_secs(),
                    exited: exited.unwrap_or_default(),
                    stderr: self.stderr_tail(),
                });
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    pub fn pid(&self) -> Option<u32> {
        self.pid
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `ws://127.0.0.1:<port>/devtools/browser/<id>`.
    pub fn ws_url(&self) -> &str {
        &self.ws_url
    }

    pub fn executable(&self) -> &Path {
        &self.executable
    }

    /// The last bytes the browser wrote to stderr.
    pub fn stderr_tail(&self) -> String {
        let buf = self.stderr.lock().unwrap_or_else(|p| p.into_inner());
        let (a, b) = buf.as_slices();
        String::from_utf8_lossy(&[a, b].concat()).into_owned()
    }

    fn signal_group(&self, sig: rustix::process::Signal) {
        if let Some(pid) = self
            .pid
            .and_then(|p| i32::try_from(p).ok())
            .and_then(rustix::process::Pid::from_raw)
        {
            // ESRCH (already gone) is fine.
            let _ = rustix::process::kill_process_group(pid, sig);
        }
    }

    /// Stop the browser: SIGTERM to its group, SIGKILL after [`EXIT_GRACE`], reap it and remove
    /// its profile.
    pub async fn stop(mut self) {
        self.signal_group(rustix::process::Signal::TERM);
        if tokio::time::timeout(EXIT_GRACE, self.child.wait())
            .await
            .is_err()
        {
            self.signal_group(rustix::process::Signal::KILL);
            let _ = self.child.wait().await;
        }
        // Helpers may still be exiting; the group kill makes sure none stays.
        self.signal_group(rustix::process::Signal::KILL);
        self.pid = None;
        let _ = tokio::fs::remove_dir_all(&self.user_data_dir).await;
        self.user_data_dir = PathBuf::new();
    }
}

impl Drop for HostChrome {
    fn drop(&mut self) {
        self.stderr_task.abort();
        self.signal_group(rustix::process::Signal::KILL);
        let dir = std::mem::take(&mut self.user_data_dir);
        if dir.as_os_str().is_empty() {
            return;
        }
        match tokio::runtime::Handle::try_current() {
            Ok(h) => {
                h.spawn_blocking(move || std::fs::remove_dir_all(dir));
            }
            Err(_) => {
                let _ = std::fs::remove_dir_all(dir);
            }
        }
    }
}

/// Keep reading stderr (a full pipe would stall the browser) and remember its tail.
async fn drain_stderr(pipe: Option<tokio::process::ChildStderr>, tail: Arc<Mutex<VecDeque<u8>>>) {
    let Some(mut pipe) = pipe else { return };
    let mut buf = [0u8; 4096];
    while let Ok(n) = pipe.read(&mut buf).await {
        if n == 0 {
            break;
        }
        let mut t = tail.lock().unwrap_or_else(|p| p.into_inner());
        t.extend(&buf[..n]);
        let excess = t.len().saturating_sub(STDERR_TAIL);
        t.drain(..excess);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn command_line_is_pinned() {
        let opts = LaunchOptions {
            executable: "/usr/bin/chromium".into(),
            headless: true,
            no_sandbox: true,
            extra_args: vec!["--lang=en".into()],
        };
        assert_eq!(
            chrome_args(&opts, Path::new("/tmp/p")),
            vec![
                "--remote-debugging-port=0",
                "--user-data-dir=/tmp/p",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-default-apps",
                "--disable-sync",
                "--disable-dev-shm-usage",
                "--password-store=basic",
                "--use-mock-keychain",
                "--window-size=1280,900",
                "--headless=new",
                "--no-sandbox",
                "--lang=en",
                "about:blank",
            ]
        );
        let headed = LaunchOptions {
            headless: false,
            no_sandbox: false,
            extra_args: vec![],
            ..opts
        };
        let args = chrome_args(&headed, Path::new("/tmp/p"));
        assert!(
            !args
                .iter()
                .any(|a| a.starts_with("--headless") || a == "--no-sandbox")
        );
        assert!(
            !args
                .iter()
                .any(|a| a.starts_with("--remote-debugging-address"))
        );
    }

    #[test]
    fn active_port_file_parses() {
        assert_eq!(
            parse_active_port("36739\n/devtools/browser/4133-88\n"),
            Some((36739, "/devtools/browser/4133-88".to_string()))
        );
        assert_eq!(parse_active_port("0\n/devtools/browser/x"), None);
        assert_eq!(parse_active_port("123\n"), None);
        assert_eq!(parse_active_port(""), None);
    }

    #[test]
    fn executable_lookup_names_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let err = find_executable(None, Some(dir.path().as_os_str())).unwrap_err();
        assert!(err.to_string().contains("browser.executablePath"), "{err}");
        let missing = dir.path().join("nope");
        let err = find_executable(Some(&missing), None).unwrap_err();
        assert!(err.to_string().contains("browser.executablePath"), "{err}");

        use std::os::unix::fs::PermissionsExt;
        let fake = dir.path().join("chromium-browser");
        std::fs::write(&fake, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert_eq!(
            find_executable(None, Some(dir.path().as_os_str())).unwrap(),
            fake
        );
    }
}
