//! Parse `*** Begin Patch` … `*** End Patch` text and apply update hunks to file contents.
//!
//! Pure and synchronous: no I/O here, so the grammar and the matching rules are tested on
//! strings. Matching follows the codex apply-patch rules: hunks are located in order, each after
//! the previous one; lines are compared exactly, then ignoring trailing whitespace, then ignoring
//! surrounding whitespace; an `@@ <context>` header first moves to the line that matches it;
//! `*** End of File` anchors a hunk at the end of the file.

/// One file operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatchOp {
    Add {
        path: String,
        content: String,
    },
    Delete {
        path: String,
    },
    Update {
        path: String,
        move_to: Option<String>,
        chunks: Vec<Chunk>,
    },
}

impl PatchOp {
    pub fn path(&self) -> &str {
        match self {
            PatchOp::Add { path, .. } | PatchOp::Delete { path } | PatchOp::Update { path, .. } => {
                path
            }
        }
    }
}

/// One `@@` hunk of an update.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Chunk {
    /// Text after `@@ `, used to move to the right place first.
    pub context: Option<String>,
    pub old_lines: Vec<String>,
    pub new_lines: Vec<String>,
    pub end_of_file: bool,
}

const BEGIN: &str = "*** Begin Patch";
const END: &str = "*** End Patch";
const ADD: &str = "*** Add File: ";
const DELETE: &str = "*** Delete File: ";
const UPDATE: &str = "*** Update File: ";
const MOVE: &str = "*** Move to: ";
const EOF_MARK: &str = "*** End of File";

/// Parse a whole patch. Errors give the 1-based line number and what was expected.
pub fn parse_patch(text: &str) -> Result<Vec<PatchOp>, String> {
    let lines: Vec<&str> = text
        .trim()
        .lines()
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .collect();
    // Tolerate a heredoc wrapper (`<<'EOF'` … `EOF`) as models sometimes send it.
    let lines: Vec<&str> = match (lines.first(), lines.last()) {
        (Some(f), Some(l)) if f.trim_start().starts_with("<<") && l.trim() == "EOF" => {
            lines[1..lines.len() - 1].to_vec()
        }
        _ => lines,
    };
    if lines.first().map(|l| l.trim()) != Some(BEGIN) {
        return Err(format!("apply_patch: the first line must be \"{BEGIN}\""));
    }
    if lines.last().map(|l| l.trim()) != Some(END) {
        return Err(format!("apply_patch: the last line must be \"{END}\""));
    }
    let body = &lines[1..lines.len() - 1];
    let mut ops = Vec::new();
    let mut i = 0;
    while i < body.len() {
        let line = body[i];
        let n = i + 2;
        if let Some(path) = line.strip_prefix(ADD) {
            i += 1;
            let mut content = String::new();
            while i < body.len() && !body[i].starts_with("*** ") {
                let Some(l) = body[i].strip_prefix('+') else {
                    return Err(format!(
                        "apply_patch: line {}: every line of an added file must start with '+' ({path})",
                        i + 2
                    ));
                };
                content.push_str(l);
                content.push('\n');
                i += 1;
            }
            ops.push(PatchOp::Add {
                path: path.trim().to_string(),
                content,
            });
        } else if let Some(path) = line.strip_prefix(DELETE) {
            ops.push(PatchOp::Delete {
                path: path.trim().to_string(),
            });
            i += 1;
        } else if let Some(path) = line.strip_prefix(UPDATE) {
            i += 1;
            let mut move_to = None;
            if let Some(dest) = body.get(i).and_then(|l| l.strip_prefix(MOVE)) {
                move_to = Some(dest.trim().to_string());
                i += 1;
            }
            let mut chunks: Vec<Chunk> = Vec::new();
            while i < body.len() {
                let l = body[i];
                if l.starts_with("*** ") && l.trim() != EOF_MARK {
                    break;
                }
                if l.trim() == EOF_MARK {
                    match chunks.last_mut() {
                        Some(c) => c.end_of_file = true,
                        None => {
                            return Err(format!(
                                "apply_patch: line {}: \"{EOF_MARK}\" before any hunk ({path})",
                                i + 2
                            ));
                        }
                    }
                } else if let Some(rest) = l.strip_prefix("@@") {
                    let ctx = rest.trim();
                    chunks.push(Chunk {
                        context: (!ctx.is_empty()).then(|| ctx.to_string()),
                        ..Chunk::default()
                    });
                } else {
                    if chunks.is_empty() || chunks.last().is_some_and(|c| c.end_of_file) {
                        chunks.push(Chunk::default());
                    }
                    let Some(c) = chunks.last_mut() else { break };
                    match l.chars().next() {
                        Some('+') => c.new_lines.push(l[1..].to_string()),
                        Some('-') => c.old_lines.push(l[1..].to_string()),
                        Some(' ') => {
                            c.old_lines.push(l[1..].to_string());
                            c.new_lines.push(l[1..].to_string());
                        }
                        None => {
                            c.old_lines.push(String::new());
                            c.new_lines.push(String::new());
                        }
                        Some(_) => {
                            return Err(format!(
                                "apply_patch: line {}: hunk lines must start with ' ', '+' or '-' ({path}): {l:?}",
                                i + 2
                            ));
                        }
                    }
                }
                i += 1;
            }
            if chunks.is_empty() && move_to.is_none() {
                return Err(format!("apply_patch: update of {path} has no hunks"));
            }
            ops.push(PatchOp::Update {
                path: path.trim().to_string(),
                move_to,
                chunks,
            });
        } else if line.trim().is_empty() {
            i += 1;
        } else {
            return Err(format!(
                "apply_patch: line {n}: expected \"*** Add File:\", \"*** Delete File:\" or \"*** Update File:\", got {line:?}"
            ));
        }
    }
    if ops.is_empty() {
        return Err("apply_patch: the patch contains no file operations".into());
    }
    Ok(ops)
}

fn seek(lines: &[String], pattern: &[String], start: usize, eof: bool) -> Option<usize> {
    if pattern.is_empty() {
        return Some(start);
    }
    if pattern.len() > lines.len() {
        return None;
    }
    let last = lines.len() - pattern.len();
    let from = if eof { last } else { start };
    let passes: [fn(&str, &str) -> bool; 3] = [
        |a, b| a == b,
        |a, b| a.trim_end() == b.trim_end(),
        |a, b| a.trim() == b.trim(),
    ];
    for eq in passes {
        for i in from.min(last + 1)..=last {
            if pattern
                .iter()
                .enumerate()
                .all(|(k, p)| eq(&lines[i + k], p))
            {
                return Some(i);
            }
        }
        if eof {
            // Fall back to a normal search when the end anchor does not hold.
            for i in start..=last {
                if pattern
                    .iter()
                    .enumerate()
                    .all(|(k, p)| eq(&lines[i + k], p))
                {
                    return Some(i);
                }
            }
        }
    }
    None
}

/// Apply `chunks` to `original`. The error names the hunk (1-based) that did not match.
pub fn apply_chunks(original: &str, chunks: &[Chunk], path: &str) -> Result<String, String> {
    let mut lines: Vec<String> = original.split('\n').map(str::to_string).collect();
    if lines.last().is_some_and(String::is_empty) {
        lines.pop();
    }
    let mut at = 0usize;
    let mut replacements: Vec<(usize, usize, Vec<String>)> = Vec::new();
    for (n, chunk) in chunks.iter().enumerate() {
        let hunk = n + 1;
        if let Some(ctx) = &chunk.context {
            let idx = seek(&lines, std::slice::from_ref(ctx), at, false).ok_or_else(|| {
                format!("apply_patch: hunk {hunk} of {path} did not match: context line \"@@ {ctx}\" not found; nothing was written")
            })?;
            at = idx + 1;
        }
        if chunk.old_lines.is_empty() {
            replacements.push((lines.len(), 0, chunk.new_lines.clone()));
            continue;
        }
        let mut old: &[String] = &chunk.old_lines;
        let mut new: &[String] = &chunk.new_lines;
        let mut found = seek(&lines, old, at, chunk.end_of_file);
        if found.is_none() && old.last().is_some_and(String::is_empty) {
            old = &old[..old.len() - 1];
            if new.last().is_some_and(String::is_empty) {
                new = &new[..new.len() - 1];
            }
            found = seek(&lines, old, at, chunk.end_of_file);
        }
        let Some(idx) = found else {
            return Err(format!(
                "apply_patch: hunk {hunk} of {path} did not match; expected these lines (after line {at}):\n{}\nnothing was written; read the file and regenerate the patch",
                chunk.old_lines.join("\n")
            ));
        };
        replacements.push((idx, old.len(), new.to_vec()));
        at = idx + old.len();
    }
    replacements.sort_by_key(|r| r.0);
    for (idx, len, new) in replacements.into_iter().rev() {
        lines.splice(idx..idx + len, new);
    }
    let mut out = lines.join("\n");
    out.push('\n');
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn parses_all_operations() {
        let patch = "*** Begin Patch\n*** Add File: new.txt\n+hello\n+world\n*** Delete File: old.txt\n*** Update File: a.rs\n*** Move to: b.rs\n@@ fn main\n-    x\n+    y\n*** End of File\n*** End Patch\n";
        let ops = parse_patch(patch).unwrap();
        assert_eq!(ops.len(), 3);
        assert_eq!(
            ops[0],
            PatchOp::Add {
                path: "new.txt".into(),
                content: "hello\nworld\n".into()
            }
        );
        assert_eq!(
            ops[1],
            PatchOp::Delete {
                path: "old.txt".into()
            }
        );
        let PatchOp::Update {
            move_to, chunks, ..
        } = &ops[2]
        else {
            panic!()
        };
        assert_eq!(move_to.as_deref(), Some("b.rs"));
        assert_eq!(
            chunks[0],
            Chunk {
                context: Some("fn main".into()),
                old_lines: vec!["    x".into()],
                new_lines: vec!["    y".into()],
                end_of_file: true
            }
        );
    }

    #[test]
    fn rejects_bad_envelopes() {
        assert!(parse_patch("hello").unwrap_err().contains("first line"));
        assert!(
            parse_patch("*** Begin Patch\n*** Add File: a\n+x")
                .unwrap_err()
                .contains("last line")
        );
        assert!(
            parse_patch("*** Begin Patch\n*** Frobnicate: a\n*** End Patch")
                .unwrap_err()
                .contains("line 2")
        );
        assert!(parse_patch("*** Begin Patch\n*** Add File: a\nno plus\n*** End Patch").is_err());
    }

    #[test]
    fn applies_multiple_hunks_in_order() {
        let orig = "a\nb\nc\nd\ne\nf\n";
        let chunks = vec![
            Chunk {
                context: None,
                old_lines: vec!["b".into()],
                new_lines: vec!["B".into()],
                end_of_file: false,
            },
            Chunk {
                context: Some("d".into()),
                old_lines: vec!["e".into()],
                new_lines: vec!["E".into(), "E2".into()],
                end_of_file: false,
            },
        ];
        assert_eq!(
            apply_chunks(orig, &chunks, "f").unwrap(),
            "a\nB\nc\nd\nE\nE2\nf\n"
        );
    }

    #[test]
    fn end_of_file_anchor_and_whitespace_tolerance() {
        let orig = "x\ny\nx\n";
        let chunks = vec![Chunk {
            context: None,
            old_lines: vec!["x".into()],
            new_lines: vec!["z".into()],
            end_of_file: true,
        }];
        assert_eq!(apply_chunks(orig, &chunks, "f").unwrap(), "x\ny\nz\n");
        let chunks = vec![Chunk {
            context: None,
            old_lines: vec!["y".into()],
            new_lines: vec!["w".into()],
            end_of_file: false,
        }];
        assert_eq!(apply_chunks("x\ny   \n", &chunks, "f").unwrap(), "x\nw\n");
    }

    #[test]
    fn mismatch_names_hunk_and_file() {
        let chunks = vec![
            Chunk {
                old_lines: vec!["a".into()],
                new_lines: vec!["A".into()],
                ..Chunk::default()
            },
            Chunk {
                old_lines: vec!["nope".into()],
                new_lines: vec![],
                ..Chunk::default()
            },
        ];
        let err = apply_chunks("a\nb\n", &chunks, "src/x.rs").unwrap_err();
        assert!(err.contains("hunk 2 of src/x.rs"), "{err}");
    }
}
