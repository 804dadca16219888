//! The Docker gate and a per-test sandbox environment for the sandboxed-tools tests.
//!
//! Every real-Docker test calls [`docker_gate`]: without a daemon or the offline test image it
//! prints `SKIP: <reason>` and returns `None`; with `OPENCLAW_REQUIRE_DOCKER=1` it panics instead.
//! [`SandboxEnv`] owns a temp state dir and a unique container prefix and force-removes its
//! containers on drop.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use openclaw_agent::sandbox_backend::sandbox::engine::Engine;
use openclaw_agent::sandbox_backend::sandbox::spec::{
    SandboxMode, SandboxScope, SandboxSpec, WorkspaceAccess,
};
use openclaw_agent::sandbox_backend::sandbox::{SandboxError, SandboxManager};
use openclaw_agent::sandbox_backend::sandbox_tool_context;
use openclaw_agent::tools::{HostFsOptions, JobRegistry, ToolContext};

/// Built offline by `scripts/test-images.sh`.
pub const TEST_IMAGE: &str = "openclaw-sandbox-test:busybox";

pub async fn docker_gate(test: &str) -> Option<Engine> {
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
    match engine.image_exists(TEST_IMAGE).await {
        Ok(true) => Some(engine),
        Ok(false) => skip(format!(
            "image {TEST_IMAGE} is missing; build it offline with scripts/test-images.sh"
        )),
        Err(e) => skip(e.to_string()),
    }
}

pub struct SandboxEnv {
    pub dir: tempfile::TempDir,
    pub prefix: String,
    pub manager: Arc<SandboxManager>,
}

impl SandboxEnv {
    pub fn new(engine: Engine, name: &str) -> SandboxEnv {
        let dir = tempfile::tempdir().unwrap();
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let prefix = format!("oc-agent-{name}-{:06x}-", nanos & 0xff_ffff);
        let manager = Arc::new(
            SandboxManager::with_engine(dir.path().join("state"), engine)
                .with_path_translation(None),
        );
        std::fs::create_dir_all(dir.path().join("agent-ws")).unwrap();
        SandboxEnv {
            dir,
            prefix,
            manager,
        }
    }

    pub fn agent_ws(&self) -> PathBuf {
        self.dir.path().join("agent-ws")
    }

    /// Hardened defaults on the busybox image: mode all, session scope, network none.
    pub fn spec(&self, access: WorkspaceAccess) -> SandboxSpec {
        let mut spec = SandboxSpec::defaults(&self.dir.path().join("state"));
        spec.mode = SandboxMode::All;
        spec.scope = SandboxScope::Session;
        spec.workspace_access = access;
        spec.workspace_root = self.dir.path().join("sandboxes");
        spec.docker.image = TEST_IMAGE.into();
        spec.docker.container_prefix = self.prefix.clone();
        spec.docker.user = Some("1234:1234".into());
        assert_eq!(spec.docker.network, "none");
        spec
    }

    pub fn base(&self) -> ToolContext {
        ToolContext::host(
            "main",
            self.agent_ws(),
            HostFsOptions::default(),
            Arc::new(JobRegistry::default()),
        )
        .unwrap()
    }

    pub async fn tool_ctx(
        &self,
        spec: &SandboxSpec,
        session: &str,
    ) -> Result<ToolContext, SandboxError> {
        sandbox_tool_context(
            &self.manager,
            spec,
            "main",
            session,
            &self.agent_ws(),
            self.base(),
        )
        .await
    }
}

impl Drop for SandboxEnv {
    fn drop(&mut self) {
        let prefix = self.prefix.clone();
        // Drop cannot await; clean up on a helper thread with its own runtime.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                // A fresh connection: the test's one belongs to the runtime being torn down.
                let Ok(engine) = Engine::connect().await else {
                    return;
                };
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
