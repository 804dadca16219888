//! openclaw-agent: the agent runtime — sessions, turns, tools and tool policy.
//!
//! The path of a message through this crate: [`runtime::AgentRuntime::submit`] (key, run id,
//! one op) → `session.rs` (one task per session, fed by a bounded submission queue; queue
//! modes) → [`turn`] (prompt from [`prompt`], model stream, tool calls) →
//! [`tools::router`] (policy-filtered tools, dispatch) → the tool (`tools/exec.rs`,
//! `tools/fs.rs`, …) → an execution backend ([`tools::backend`]: host now, Docker sandbox via
//! the same traits). Files the user sent reach the model through [`media`].

pub mod media;
pub mod policy;
pub mod prompt;
pub mod providers_setup;
pub mod queue;
pub mod run;
pub mod runtime;
pub mod sandbox_backend;
mod session;
mod sessions_api;
pub mod settings;
pub mod tools;
pub mod turn;
pub mod workspace;

pub use policy::{Blocked, EffectivePolicy, PolicyError, ToolPolicyInput};
pub use run::{EventSink, RunOutcome, RunState, RunStatus, RuntimeEvent};
pub use runtime::{
    AgentRuntime, History, Identity, RunRequest, RuntimeError, RuntimeOptions, SessionView,
    Submitted,
};
pub use settings::QueueModeSetting;
pub use tools::{Tool, ToolContext, ToolOutput, ToolRouter};
