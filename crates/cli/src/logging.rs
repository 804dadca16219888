//! Logging: human-readable lines on stderr, and the same events as JSON lines appended to the
//! rolling file `/tmp/openclaw/openclaw-YYYY-MM-DD.log` that `logs.tail` and the Control UI's
//! Logs tab read (OpenClaw's location and line format).
//! Secrets never reach a log line: the types that hold them redact their `Debug`.

use std::path::PathBuf;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

pub fn log_file_path() -> PathBuf {
    let day = chrono::Local::now().format("%Y-%m-%d");
    PathBuf::from(format!("/tmp/openclaw/openclaw-{day}.log"))
}

pub fn init(verbose: bool, to_file: bool) {
    let default = if verbose { "debug" } else { "info" };
    let filter = || {
        EnvFilter::try_from_env("OPENCLAW_LOG_LEVEL").unwrap_or_else(|_| {
            EnvFilter::new(format!(
                "{default},hyper=warn,tungstenite=warn,bollard=warn"
            ))
        })
    };
    let stderr = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_filter_fn(filter());
    let file = to_file.then(|| {
        let path = log_file_path();
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .ok()
    });
    let file_layer = file.flatten().map(|f| {
        tracing_subscriber::fmt::layer()
            .json()
            .with_writer(std::sync::Mutex::new(f))
            .with_ansi(false)
            .with_target(false)
            .with_filter_fn(filter())
    });
    let _ = tracing_subscriber::registry()
        .with(stderr)
        .with(file_layer)
        .try_init();
}

trait WithFilterFn<S>: Sized {
    fn with_filter_fn(
        self,
        f: EnvFilter,
    ) -> tracing_subscriber::filter::Filtered<Self, EnvFilter, S>;
}

impl<S, L> WithFilterFn<S> for L
where
    L: tracing_subscriber::Layer<S>,
    S: tracing::Subscriber,
{
    fn with_filter_fn(
        self,
        f: EnvFilter,
    ) -> tracing_subscriber::filter::Filtered<Self, EnvFilter, S> {
        tracing_subscriber::Layer::with_filter(self, f)
    }
}
