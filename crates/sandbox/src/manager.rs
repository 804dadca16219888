//! The facade the agent runtime calls. `SandboxManager` holds the engine (connected lazily on
//! first use, so a gateway without Docker keeps serving and the sandboxed call gets a clear
//! error), the registry and the prune throttle. `context` decides whether a session is sandboxed
//! and, if so, ensures its container and returns a `SandboxContext` for exec and file tools.
//! `ensure_browser` does the same for the scope's sandbox browser (see `browser`).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;

use crate::browser::{BrowserEndpoint, BrowserState};
use crate::engine::Engine;
use crate::error::SandboxError;
use crate::exec::{BackgroundExec, ExecOutcome, build_exec, run_exec, spawn_exec};
use crate::fs_bridge::{FileStat, FsBridge};
use crate::lifecycle::{
    ContainerHandle, ScopeDirs, container_owner, ensure_container_with, stage_inbound_media,
};
use crate::manage::{
    ContainerRow, DoodMounts, Explain, RecreateTarget, detect_own_container_mounts,
};
use crate::mounts::MountTable;
use crate::naming::{is_sandboxed, main_session_key, sandbox_workspace_dir, scope_key};
use crate::prune::Pruner;
use crate::registry::Registry;
use crate::shell_pool::ShellPool;
use crate::spec::SandboxSpec;

/// Default exec deadline (OpenClaw's 1800 s).
pub const DEFAULT_EXEC_TIMEOUT: Duration = Duration::from_secs(1800);
/// Default per-stream output cap.
pub const DEFAULT_MAX_OUTPUT: usize = 200 * 1024;

/// Options for one exec.
#[derive(Debug, Clone)]
pub struct ExecOptions {
    /// Host path under a mount, container path, or workspace-relative; `None` = workdir.
    pub cwd: Option<String>,
    pub env: BTreeMap<String, String>,
    /// `tools.exec.pathPrepend`.
    pub path_prepend: Vec<String>,
    pub timeout: Duration,
    pub max_output_bytes: usize,
    /// Keep stdin attached (pty, `background`, explicit `yieldMs`): runs in a dedicated engine
    /// exec. Otherwise `stream_exec` uses a warm shell and stdin is `/dev/null`.
    pub interactive: bool,
}

impl Default for ExecOptions {
    fn default() -> Self {
        ExecOptions {
            cwd: None,
            env: BTreeMap::new(),
            path_prepend: Vec::new(),
            timeout: DEFAULT_EXEC_TIMEOUT,
            max_output_bytes: DEFAULT_MAX_OUTPUT,
            interactive: false,
        }
    }
}

/// (container name, config hash) → the uid:gid the container runs as.
type OwnerKey = (String, String);

/// Process-wide sandbox state.
#[derive(Debug)]
pub struct SandboxManager {
    state_dir: PathBuf,
    registry: Arc<Registry>,
    engine: Mutex<Option<Engine>>,
    pruner: Pruner,
    browsers: BrowserState,
    owners: std::sync::Mutex<HashMap<OwnerKey, Option<(u32, u32)>>>,
    /// Gateway path → Docker host path when the gateway itself runs in a container (detected on
    /// first use unless set with `with_path_translation`); `None` inside = not in a container.
    host_paths: tokio::sync::OnceCell<Option<DoodMounts>>,
    /// Warm shells per container name (see `shell_pool`).
    shells: std::sync::Mutex<HashMap<String, Arc<ShellPool>>>,
}

impl SandboxManager {
    /// A manager for `state_dir` (`~/.openclaw`); Docker is contacted on first use.
    pub fn new(state_dir: PathBuf) -> SandboxManager {
        SandboxManager {
            registry: Arc::new(Registry::new(&state_dir)),
            browsers: BrowserState::new(&state_dir),
            state_dir,
            engine: Mutex::new(None),
            pruner: Pruner::default(),
            owners: std::sync::Mutex::new(HashMap::new()),
            host_paths: tokio::sync::OnceCell::new(),
            shells: std::sync::Mutex::new(HashMap::new()),
        }
    }

    /// Use this Docker-out-of-Docker translation instead of detecting it (`None`: the gateway's
    /// paths are the host's). Bind sources of new containers are translated through it.
    pub fn with_path_translation(self, host_paths: Option<DoodMounts>) -> SandboxManager {
        SandboxManager {
            host_paths: tokio::sync::OnceCell::new_with(Some(host_paths)),
            ..self
        }
    }

    /// The gateway→host path translation: detected once (inspecting our own container through
    /// the engine) and cached; a failed detection is retried on the next call.
    pub async fn path_translation(&self) -> Result<Option<&DoodMounts>, SandboxError> {
        let engine = self.engine().await?;
        let t = self
            .host_paths
            .get_or_try_init(|| async {
                let found = detect_own_container_mounts(&engine).await?;
                if let Some(m) = &found {
                    tracing::info!(mounts = ?m.mounts, "gateway runs in a container: sandbox bind sources are translated to host paths");
                }
                Ok::<_, SandboxError>(found)
            })
            .await?;
        Ok(t.as_ref())
    }

    /// A manager with an already connected engine.
    pub fn with_engine(state_dir: PathBuf, engine: Engine) -> SandboxManager {
        SandboxManager {
            engine: Mutex::new(Some(engine)),
            ..SandboxManager::new(state_dir)
        }
    }

    pub fn state_dir(&self) -> &Path {
        &self.state_dir
    }
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The engine, connecting on first use (a failed connect is retried on the next call).
    pub async fn engine(&self) -> Result<Engine, SandboxError> {
        let mut guard = self.engine.lock().await;
        if let Some(e) = guard.as_ref() {
            return Ok(e.clone());
        }
        let e = Engine::connect().await?;
        *guard = Some(e.clone());
        Ok(e)
    }

    /// Sandbox context for a run, or `None` when the session is not sandboxed. The agent's main
    /// session key is `agent:<agentId>:main`; use `context_with_main` for another `mainKey`.
    pub async fn context(
        &self,
        spec: &SandboxSpec,
        agent_id: &str,
        session_key: &str,
        agent_workspace: &Path,
    ) -> Result<Option<SandboxContext>, SandboxError> {
        let main = main_session_key(agent_id, "main", false);
        self.context_with_main(spec, agent_id, session_key, &main, agent_workspace)
            .await
    }

    /// As `context`, with an explicit main session key (`agent:<id>:<mainKey>` or `global`).
    pub async fn context_with_main(
        &self,
        spec: &SandboxSpec,
        agent_id: &str,
        session_key: &str,
        main_session_key: &str,
        agent_workspace: &Path,
    ) -> Result<Option<SandboxContext>, SandboxError> {
        if !is_sandboxed(spec.mode, session_key, main_session_key) {
            return Ok(None);
        }
        let engine = self.engine().await?;
        if let Err(e) = self
            .pruner
            .maybe_prune_with_browsers(
                &engine,
                &self.registry,
                self.browsers.registry(),
                spec.prune,
                &spec.workspace_root,
            )
            .await
        {
            tracing::warn!(error = %e, "sandbox prune failed");
        }
        let key = scope_key(spec.scope, agent_id, session_key);
        let dirs = ScopeDirs {
            sandbox_workspace: sandbox_workspace_dir(&spec.workspace_root, spec.scope, &key),
            agent_workspace: agent_workspace.to_path_buf(),
        };
        let host_paths = self.path_translation().await?;
        let handle =
            ensure_container_with(&engine, &self.registry, spec, &key, &dirs, host_paths).await?;
        let cache_key = (handle.name.clone(), handle.config_hash.clone());
        let cached = self
            .owners
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&cache_key)
            .copied();
        let owner = match cached {
            Some(o) => o,
            None => {
                let o = container_owner(&engine, spec, &handle.name).await;
                self.owners
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(cache_key, o);
                o
            }
        };
        let shells = self.shell_pool(&engine, &handle);
        let table = MountTable::new(spec, &handle.mounts)?;
        let bridge = FsBridge::new(
            Some(engine.clone()),
            handle.name.clone(),
            table.clone(),
            owner,
        );
        Ok(Some(SandboxContext {
            engine,
            spec: spec.clone(),
            handle,
            table,
            bridge,
            shells,
            dirs,
            agent_id: agent_id.to_string(),
            session_key: session_key.to_string(),
        }))
    }

    /// The warm shells of `handle`'s container; emptied when the container was just (re)started,
    /// because shells of a previous incarnation are dead even if they have not noticed yet.
    fn shell_pool(&self, engine: &Engine, handle: &ContainerHandle) -> Arc<ShellPool> {
        let mut shells = self.shells.lock().unwrap_or_else(|p| p.into_inner());
        let pool = shells
            .entry(handle.name.clone())
            .or_insert_with(|| Arc::new(ShellPool::new(engine.clone(), handle.name.clone())))
            .clone();
        if handle.started {
            pool.clear();
        }
        pool
    }

    /// `sandbox list`.
    pub async fn list(&self, configured_image: &str) -> Result<Vec<ContainerRow>, SandboxError> {
        crate::manage::list(&self.engine().await?, &self.registry, configured_image).await
    }

    /// `sandbox recreate`.
    pub async fn recreate(&self, target: &RecreateTarget) -> Result<Vec<String>, SandboxError> {
        let removed =
            crate::manage::recreate(&self.engine().await?, &self.registry, target).await?;
        let mut shells = self.shells.lock().unwrap_or_else(|p| p.into_inner());
        for name in &removed {
            shells.remove(name);
        }
        Ok(removed)
    }

    /// The sandbox browser registry (`sandbox/browsers.json`).
    pub fn browser_registry(&self) -> &Registry {
        self.browsers.registry()
    }

    /// `sandbox recreate --browser`.
    pub async fn recreate_browsers(
        &self,
        target: &RecreateTarget,
    ) -> Result<Vec<String>, SandboxError> {
        crate::manage::recreate(&self.engine().await?, self.browsers.registry(), target).await
    }

    /// A ready sandbox browser for the session's scope, or `None` when the session is not
    /// sandboxed or `browser.enabled` is off. Whether the `browser` tool is allowed is the
    /// caller's check. The main session key is `agent:<agentId>:main`, as in `context`.
    pub async fn ensure_browser(
        &self,
        spec: &SandboxSpec,
        agent_id: &str,
        session_key: &str,
        agent_workspace: &Path,
    ) -> Result<Option<BrowserEndpoint>, SandboxError> {
        let main = main_session_key(agent_id, "main", false);
        self.ensure_browser_with_main(spec, agent_id, session_key, &main, agent_workspace)
            .await
    }

    /// As `ensure_browser`, with an explicit main session key.
    pub async fn ensure_browser_with_main(
        &self,
        spec: &SandboxSpec,
        agent_id: &str,
        session_key: &str,
        main_session_key: &str,
        agent_workspace: &Path,
    ) -> Result<Option<BrowserEndpoint>, SandboxError> {
        if !spec.browser.enabled || !is_sandboxed(spec.mode, session_key, main_session_key) {
            return Ok(None);
        }
        let engine = self.engine().await?;
        if let Err(e) = self
            .pruner
            .maybe_prune_with_browsers(
                &engine,
                &self.registry,
                self.browsers.registry(),
                spec.prune,
                &spec.workspace_root,
            )
            .await
        {
            tracing::warn!(error = %e, "sandbox prune failed");
        }
        let key = scope_key(spec.scope, agent_id, session_key);
        let dirs = ScopeDirs {
            sandbox_workspace: sandbox_workspace_dir(&spec.workspace_root, spec.scope, &key),
            agent_workspace: agent_workspace.to_path_buf(),
        };
        let host_paths = self.path_translation().await?;
        crate::browser::ensure_browser(&engine, &self.browsers, spec, &key, &dirs, host_paths)
            .await
            .map(Some)
    }
}

/// A sandboxed session's view of its container.
#[derive(Debug, Clone)]
pub struct SandboxContext {
    engine: Engine,
    spec: SandboxSpec,
    handle: ContainerHandle,
    table: MountTable,
    bridge: FsBridge,
    shells: Arc<ShellPool>,
    dirs: ScopeDirs,
    agent_id: String,
    session_key: String,
}

impl SandboxContext {
    pub fn container_name(&self) -> &str {
        &self.handle.name
    }
    pub fn scope_key(&self) -> &str {
        &self.handle.scope_key
    }
    /// Container working directory (`/workspace`).
    pub fn workdir(&self) -> &str {
        &self.spec.docker.workdir
    }
    /// Host directory mounted at the workdir.
    pub fn workspace_dir(&self) -> &Path {
        &self.handle.mounts.workspace_dir
    }
    /// Stale-config warning (with the `openclaw sandbox recreate` command) when a hot container was kept.
    pub fn warning(&self) -> Option<&str> {
        self.handle.warning.as_deref()
    }
    pub fn handle(&self) -> &ContainerHandle {
        &self.handle
    }
    pub fn spec(&self) -> &SandboxSpec {
        &self.spec
    }
    pub fn mounts(&self) -> &MountTable {
        &self.table
    }
    pub fn bridge(&self) -> &FsBridge {
        &self.bridge
    }
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Run a command to completion (deadline, cancellation, output cap).
    pub async fn exec(
        &self,
        command: &str,
        opts: &ExecOptions,
        cancel: &CancellationToken,
    ) -> Result<ExecOutcome, SandboxError> {
        let req = build_exec(
            &self.spec,
            &self.table,
            opts.cwd.as_deref(),
            command,
            &opts.env,
            &opts.path_prepend,
        )?;
        run_exec(
            &self.engine,
            &self.handle.name,
            &req,
            opts.timeout,
            cancel,
            opts.max_output_bytes,
        )
        .await
    }

    /// Start a command in the background (`exec` background/yield, `process poll/log/kill`).
    pub fn spawn_exec(
        &self,
        command: &str,
        opts: &ExecOptions,
    ) -> Result<BackgroundExec, SandboxError> {
        let req = build_exec(
            &self.spec,
            &self.table,
            opts.cwd.as_deref(),
            command,
            &opts.env,
            &opts.path_prepend,
        )?;
        Ok(spawn_exec(
            self.engine.clone(),
            self.handle.name.clone(),
            req,
            opts.timeout,
            opts.max_output_bytes,
        ))
    }

    /// Start a command whose output streams through a channel (the agent's `exec` backend).
    pub async fn stream_exec(
        &self,
        command: &str,
        opts: &ExecOptions,
    ) -> Result<crate::stream::ExecStream, SandboxError> {
        let req = build_exec(
            &self.spec,
            &self.table,
            opts.cwd.as_deref(),
            command,
            &opts.env,
            &opts.path_prepend,
        )?;
        if opts.interactive {
            crate::stream::stream_exec(&self.engine, &self.handle.name, &req).await
        } else {
            self.shells.stream_exec(&req).await
        }
    }

    pub async fn read_file(&self, path: &str) -> Result<Vec<u8>, SandboxError> {
        self.bridge.read_file(path).await
    }
    pub async fn write_file(&self, path: &str, bytes: &[u8]) -> Result<(), SandboxError> {
        self.bridge.write_file(path, bytes).await
    }
    pub async fn mkdir(&self, path: &str) -> Result<(), SandboxError> {
        self.bridge.mkdir(path).await
    }
    pub async fn remove(&self, path: &str, recursive: bool) -> Result<(), SandboxError> {
        self.bridge.remove(path, recursive).await
    }
    pub async fn rename(&self, from: &str, to: &str) -> Result<(), SandboxError> {
        self.bridge.rename(from, to).await
    }
    pub async fn stat(&self, path: &str) -> Result<Option<FileStat>, SandboxError> {
        self.bridge.stat(path).await
    }

    /// Stage an inbound media file (from under `media_dir`) into the workspace; returns the
    /// workspace-relative path `media/inbound/<stem>-<8 hex><ext>`.
    pub async fn stage_media(
        &self,
        media_dir: &Path,
        source: &Path,
    ) -> Result<String, SandboxError> {
        let (m, s, ws) = (
            media_dir.to_path_buf(),
            source.to_path_buf(),
            self.workspace_dir().to_path_buf(),
        );
        tokio::task::spawn_blocking(move || stage_inbound_media(&m, &s, &ws))
            .await
            .map_err(|e| SandboxError::docker("stage media", e))?
    }

    /// `sandbox explain` for this session.
    pub fn explain(&self) -> Explain {
        let mut e = crate::manage::explain(
            &self.spec,
            &self.agent_id,
            &self.session_key,
            &self.dirs.agent_workspace,
            "main",
        );
        e.warnings
            .extend(self.handle.validation_warnings.iter().cloned());
        e.warnings.extend(self.handle.warning.iter().cloned());
        e
    }
}
