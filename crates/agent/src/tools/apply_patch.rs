//! `apply_patch`: add, delete, update and move files from one patch, all or nothing.
//!
//! Every operation is read and computed in memory first (later operations see the planned
//! result of earlier ones); only when every hunk of every file matched and every path resolved
//! inside the backend's root is anything written. Runs over `ToolContext::patch_fs`, which is
//! confined to the workspace unless `tools.exec.applyPatch.workspaceOnly` is false.

pub mod parser;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use super::backend::{FileKind, FsBackend};
use super::{Tool, ToolContext, ToolOutput, args};
pub use parser::{Chunk, PatchOp, apply_chunks, parse_patch};

/// Largest file an update loads.
pub const MAX_PATCH_FILE_BYTES: u64 = 10 * 1024 * 1024;

/// `apply_patch`.
#[derive(Debug, Default, Clone, Copy)]
pub struct ApplyPatchTool;

/// What a successful patch did, by path as written in the patch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PatchSummary {
    pub added: Vec<String>,
    pub modified: Vec<String>,
    pub deleted: Vec<String>,
}

/// Planned final state of a path: `Some(content)` to write, `None` to delete.
type Plan = BTreeMap<PathBuf, (String, Option<String>)>;

async fn current(fs: &dyn FsBackend, plan: &Plan, path: &str) -> Result<Option<String>, String> {
    if let Some((_, state)) = plan.get(Path::new(path)) {
        return Ok(state.clone());
    }
    match fs.stat(Path::new(path)).await {
        Ok(st) if st.kind == FileKind::Dir => Err(format!("apply_patch: {path} is a directory")),
        Ok(_) => {
            let bytes = fs
                .read_bytes(Path::new(path), 0, None, MAX_PATCH_FILE_BYTES)
                .await
                .map_err(|e| e.to_string())?;
            String::from_utf8(bytes)
                .map(Some)
                .map_err(|_| format!("apply_patch: {path} is not valid UTF-8 text"))
        }
        Err(super::BackendError::NotFound { .. }) => Ok(None),
        Err(e) => Err(e.to_string()),
    }
}

/// Validate and apply a parsed patch through `fs`.
pub async fn apply_ops(fs: &dyn FsBackend, ops: &[PatchOp]) -> Result<PatchSummary, String> {
    let mut plan: Plan = BTreeMap::new();
    let mut summary = PatchSummary::default();
    for op in ops {
        match op {
            PatchOp::Add { path, content } => {
                // Resolves the path (escape errors surface here, before any write).
                current(fs, &plan, path).await?;
                plan.insert(path.into(), (path.clone(), Some(content.clone())));
                summary.added.push(path.clone());
            }
            PatchOp::Delete { path } => {
                if current(fs, &plan, path).await?.is_none() {
                    return Err(format!(
                        "apply_patch: cannot delete {path}: file not found; nothing was written"
                    ));
                }
                plan.insert(path.into(), (path.clone(), None));
                summary.deleted.push(path.clone());
            }
            PatchOp::Update {
                path,
                move_to,
                chunks,
            } => {
                let Some(orig) = current(fs, &plan, path).await? else {
                    return Err(format!(
                        "apply_patch: cannot update {path}: file not found; use \"*** Add File:\" to create it. Nothing was written"
                    ));
                };
                let updated = if chunks.is_empty() {
                    orig
                } else {
                    apply_chunks(&orig, chunks, path)?
                };
                match move_to {
                    Some(dest) => {
                        current(fs, &plan, dest).await?;
                        plan.insert(path.into(), (path.clone(), None));
                        plan.insert(dest.into(), (dest.clone(), Some(updated)));
                        summary.modified.push(dest.clone());
                        summary.deleted.push(path.clone());
                    }
                    None => {
                        plan.insert(path.into(), (path.clone(), Some(updated)));
                        summary.modified.push(path.clone());
                    }
                }
            }
        }
    }
    // Writes first, deletes last: a failed write leaves the sources of moves in place.
    for (path, (_, state)) in &plan {
        if let Some(content) = state {
            fs.write(path, content.clone().into_bytes())
                .await
                .map_err(|e| e.to_string())?;
        }
    }
    for (path, (shown, state)) in &plan {
        if state.is_none() {
            match fs.remove_file(path).await {
                Ok(()) | Err(super::BackendError::NotFound { .. }) => {}
                Err(e) => return Err(format!("apply_patch: deleting {shown}: {e}")),
            }
        }
    }
    Ok(summary)
}

#[async_trait]
impl Tool for ApplyPatchTool {
    fn name(&self) -> &str {
        "apply_patch"
    }

    fn description(&self) -> &str {
        "Apply a patch to one or more files. The input starts with \"*** Begin Patch\" and ends with \"*** End Patch\"; operations are \"*** Add File: <path>\" (lines start with +), \"*** Delete File: <path>\" and \"*** Update File: <path>\" (optionally followed by \"*** Move to: <path>\") with @@ hunks of ' ', '-' and '+' lines. All or nothing: if any hunk does not match, no file is changed."
    }

    fn parameters(&self) -> Value {
        json!({
            "type": "object",
            "properties": {
                "input": {"type": "string", "description": "The entire patch text, from *** Begin Patch to *** End Patch"}
            },
            "required": ["input"]
        })
    }

    async fn call(&self, ctx: &ToolContext, a: Value, _cancel: CancellationToken) -> ToolOutput {
        let input = match args::required_str(&a, &["input", "patch"], "apply_patch") {
            Ok(s) => s,
            Err(e) => return ToolOutput::error(e),
        };
        let ops = match parse_patch(input) {
            Ok(ops) => ops,
            Err(e) => return ToolOutput::error(e),
        };
        match apply_ops(ctx.patch_fs.as_ref(), &ops).await {
            Ok(s) => {
                let mut text = String::from("Success. Updated the following files:");
                for (tag, list) in [("A", &s.added), ("M", &s.modified), ("D", &s.deleted)] {
                    for p in list {
                        text.push_str(&format!("\n{tag} {p}"));
                    }
                }
                ToolOutput::text(text).with_details(
                    json!({"added": s.added, "modified": s.modified, "deleted": s.deleted}),
                )
            }
            Err(e) => ToolOutput::error(e),
        }
    }
}
