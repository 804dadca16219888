//! `edit`: replace one exact occurrence of `oldText` with `newText`.
//!
//! Exact match only (no fuzzy whitespace), and the match must be unique: zero matches and
//! several matches are errors that say how to fix the call. Claude-style `file_path`,
//! `old_string`, `new_string` are accepted.

use std::path::Path;

use async_trait::async_trait;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use super::fs::path_arg;
use super::{Tool, ToolContext, ToolOutput, args};

/// Largest file `edit` loads.
pub const MAX_EDIT_BYTES: u64 = 10 * 1024 * 1024;

/// `edit`.
#[derive(Debug, Default, Clone, Copy)]
pub struct EditTool;

/// Apply the replacement to `content`; errors name `path` and the fix.
pub fn replace_unique(
    content: &str,
    old: &str,
    new: &str,
    path: &str,
) -> Result<(String, usize), String> {
    if old.is_empty() {
        return Err(format!(
            "edit: oldText is empty; give the exact text to replace in {path} (use write to create a file)"
        ));
    }
    let count = content.matches(old).count();
    match count {
        0 => Err(format!(
            "Could not find the exact text in {path}. The old text must match exactly including all whitespace and newlines; read the file first."
        )),
        1 => {
            let at = content.find(old).unwrap_or(0);
            let line = content[..at].matches('\n').count() + 1;
            Ok((content.replacen(old, new, 1), line))
        }
        n => Err(format!(
            "Found {n} occurrences of the text in {path}. The text must be unique; include more surrounding context in oldText."
        )),
    }
}

async fn edit(ctx: &ToolContext, a: &Value) -> Result<ToolOutput, String> {
    let path = path_arg(a, "edit")?;
    let old = args::required_str(a, &["oldText", "old_string", "oldString"], "edit")?;
    let new = args::required_str(a, &["newText", "new_string", "newString"], "edit")?;
    let p = Path::new(path);
    let bytes = ctx
        .fs
        .read_bytes(p, 0, None, MAX_EDIT_BYTES)
        .await
        .map_err(|e| e.to_string())?;
    let content = String::from_utf8(bytes)
        .map_err(|_| format!("{path} is not valid UTF-8 text; edit only changes text files"))?;
    let (updated, line) = replace_unique(&content, old, new, path)?;
    ctx.fs
        .write(p, updated.into_bytes())
        .await
        .map_err(|e| e.to_string())?;
    Ok(
        ToolOutput::text(format!("Successfully replaced text in {path}."))
            .with_details(json!({"path": path, "firstChangedLine": line})),
    )
}

#[async_trait]
impl Tool for EditTool {
    fn name(&self) -> &str {
        "edit"
    }

    fn description(&self) -> &str {
        "Edit a file by replacing exact text. oldText must match exactly once (including whitespace)."
    }

    fn parameters(&self) -> Value {
        json!({
            "type": "object",
            "properties": {
                "path": {"type": "string", "description": "Path to the file (relative to the workspace or absolute)"},
                "oldText": {"type": "string", "description": "Exact text to find and replace (must be unique)"},
                "newText": {"type": "string", "description": "New text to replace the old text with"}
            },
            "required": ["path", "oldText", "newText"]
        })
    }

    async fn call(&self, ctx: &ToolContext, a: Value, _cancel: CancellationToken) -> ToolOutput {
        edit(ctx, &a).await.unwrap_or_else(ToolOutput::error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn unique_replacement() {
        assert_eq!(
            replace_unique("a\nfoo\nb", "foo", "bar", "f").unwrap(),
            ("a\nbar\nb".to_string(), 2)
        );
        assert!(
            replace_unique("abc", "x", "y", "f")
                .unwrap_err()
                .starts_with("Could not find")
        );
        assert!(
            replace_unique("xx x", "x", "y", "f")
                .unwrap_err()
                .starts_with("Found 3 occurrences")
        );
        assert!(replace_unique("abc", "", "y", "f").is_err());
    }
}
