//! openclaw-agent: the agent runtime — tools, tool policy, and (soon) sessions and turns.
//!
//! The path of a message through this crate: `session.rs` (one task per session, fed by a
//! bounded submission queue) → `turn.rs` (prompt, model stream, tool calls) →
//! [`tools::router`] (policy-filtered tools, dispatch) → the tool (`tools/exec.rs`,
//! `tools/fs.rs`, …) → an execution backend ([`tools::backend`]: host now, Docker sandbox via
//! the same traits).

pub mod policy;
pub mod tools;
pub mod workspace;

pub use policy::{Blocked, EffectivePolicy, PolicyError, ToolPolicyInput};
pub use tools::{Tool, ToolContext, ToolOutput, ToolRouter};
