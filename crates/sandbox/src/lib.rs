//! openclaw-sandbox: the Docker agent sandbox.
//!
//! The gateway stays on the host; tool execution for sandboxed sessions moves into a long-lived
//! container per scope (session, agent or shared) that tools `exec` into. This crate owns the
//! chain: `spec` (resolved config) → `naming` (scope key, container name, workspace dir) →
//! `validate` (refuse dangerous binds/network/profiles) → `posture` (the one create body) →
//! `hash` (drift detection) → `engine` (bollard, the only Docker client) → `lifecycle` (ensure,
//! recreate, seed) → `exec` / `fs_bridge` (run commands, move files) → `registry` / `prune` /
//! `manage` (list, recreate, explain, DooD). `stream` is the exec the agent's job registry drives.
//! `browser` is the per-scope Chromium container the `browser` tool drives over CDP.
//! Which tools a sandboxed session gets is the agent crate's tool policy, not ours.
//! `manager` is the facade the agent runtime calls.
//!
//! It never falls back to the host: if Docker, the image or the posture cannot be honoured, the
//! call fails with a message that names the next step.

pub mod browser;
pub mod engine;
pub mod error;
pub mod exec;
pub mod fs_bridge;
pub mod hash;
pub mod lifecycle;
pub mod manage;
pub mod manager;
pub mod mounts;
pub mod naming;
pub mod posture;
pub mod prune;
pub mod registry;
pub mod shell_pool;
pub mod spec;
pub mod stream;
pub mod validate;

pub use browser::BrowserEndpoint;
pub use error::SandboxError;
pub use manager::{ExecOptions, SandboxContext, SandboxManager};
pub use spec::{SandboxSpec, resolve, resolve_in};
