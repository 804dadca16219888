//! The docker gate and a per-test environment that removes every container it created.

use std::path::{Path, PathBuf};
use std::time::Duration;

use openclaw_sandbox::engine::Engine;
use openclaw_sandbox::spec::{SandboxMode, SandboxScope, SandboxSpec, WorkspaceAccess};
use openclaw_sandbox::{ExecOptions, SandboxContext, SandboxManager};
use tokio_util::sync::CancellationToken;

pub const TEST_IMAGE: &str = "openclaw-sandbox-test:busybox";
/// A fake sandbox browser (busybox httpd answering `/json/version`), from scripts/test-images.sh.
pub const BROWSER_TEST_IMAGE: &str = "openclaw-sandbox-browser-test:busybox";

/// The one gate for real-Docker tests: `None` (after printing `SKIP: <reason>`) when no daemon or
/// test image is present; panics instead when `OPENCLAW_REQUIRE_DOCKER=1`.
pub async fn docker_gate(test: &str, image: &str) -> Option<Engine> {
    let require = std::env::var("OPENCLAW_REQUIRE_DOCKER").is_ok_and(|v| v == "1");
    let skip = |reason: String| {
        if require {
            panic!("{test}: Docker required (OPENCLAW_REQUIRE_DOCKER=1) but {reason}");
        }
        eprintln!("SKIP: {test}: {reason}");
        None
    };
    let engine = match tokio::time::timeout(Duration::from_secs(8), Engine::connect()).await {
        Ok(Ok(e)) => e,
        Ok(Err(e)) => return skip(e.to_string()),
        Err(_) => return skip("Docker ping timed out".into()),
    };
    match engine.image_exists(image).await {
        Ok(true) => Some(engine),
        Ok(false) if image == TEST_IMAGE || image == BROWSER_TEST_IMAGE => skip(format!(
            "image {image} is missing; build it offline with scripts/test-images.sh"
        )),
        Ok(false) => skip(format!(
            "image {image} is missing; build it with scripts/sandbox-setup.sh"
        )),
        Err(e) => skip(e.to_string()),
    }
}

/// Temp state + a unique container prefix; `Drop` force-removes this test's containers.
pub struct TestEnv {
    pub engine: Engine,
    pub dir: tempfile::TempDir,
    pub prefix: String,
    pub manager: SandboxManager,
}

impl TestEnv {
    pub fn new(engine: Engine, name: &str) -> TestEnv {
        let dir = tempfile::tempdir().unwrap();
        let nonce = format!(
            "{:x}",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        );
        let prefix = format!("oc-test-{name}-{}-", &nonce[nonce.len() - 6..]);
        let manager = SandboxManager::with_engine(dir.path().join("state"), engine.clone());
        std::fs::create_dir_all(dir.path().join("agent-ws")).unwrap();
        TestEnv {
            engine,
            dir,
            prefix,
            manager,
        }
    }

    pub fn agent_ws(&self) -> PathBuf {
        self.dir.path().join("agent-ws")
    }

    /// Hardened defaults on the busybox image, session scope, uid 1234 (not the image user, so a
    /// posture that drops `user` is caught).
    pub fn spec(&self) -> SandboxSpec {
        let mut spec = SandboxSpec::defaults(&self.dir.path().join("state"));
        spec.mode = SandboxMode::All;
        spec.scope = SandboxScope::Session;
        spec.workspace_access = WorkspaceAccess::None;
        spec.workspace_root = self.dir.path().join("sandboxes");
        spec.docker.image = TEST_IMAGE.into();
        spec.docker.container_prefix = self.prefix.clone();
        spec.docker.user = Some("1234:1234".into());
        spec
    }

    pub async fn ctx(&self, spec: &SandboxSpec, session: &str) -> SandboxContext {
        self.manager
            .context(spec, "main", session, &self.agent_ws())
            .await
            .unwrap()
            .expect("sandboxed")
    }
}

impl Drop for TestEnv {
    fn drop(&mut self) {
        let engine = self.engine.clone();
        let prefix = self.prefix.clone();
        // Drop cannot await; clean up on a helper thread with its own runtime.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                for name in engine
                    .list_sandbox_containers(None)
                    .await
                    .unwrap_or_default()
                {
                    if name.starts_with(&prefix) {
                        let _ = engine.remove(&name).await;
                    }
                }
            });
        })
        .join();
    }
}

/// Run a command with a short deadline.
pub async fn sh(ctx: &SandboxContext, cmd: &str) -> openclaw_sandbox::exec::ExecOutcome {
    let opts = ExecOptions {
        timeout: Duration::from_secs(60),
        ..Default::default()
    };
    ctx.exec(cmd, &opts, &CancellationToken::new())
        .await
        .unwrap()
}

pub fn exists(p: &Path) -> bool {
    p.exists()
}
