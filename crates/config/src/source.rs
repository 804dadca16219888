//! Source positions for a loaded config: JSON pointer → (file, span).
//!
//! A config may be assembled from several files (`$include`), so each node remembers which file
//! it came from. Lookups walk up to the nearest ancestor that has a position, so even nodes that
//! were synthesised (or edited in memory) point somewhere sensible.

use std::collections::HashMap;

use crate::error::Location;
use crate::json5::{Span, Spans};

/// Span table for one document (pointers relative to that document's root) tagged by file.
pub type Locs = HashMap<String, (usize, Span)>;

/// Files plus the span of every node of the merged document.
#[derive(Debug, Clone, Default)]
pub struct SourceMap {
    files: Vec<String>,
    locs: Locs,
}

impl SourceMap {
    /// An empty map whose file 0 is `root_file` (used for locations nothing more precise covers).
    pub fn new(root_file: String) -> Self {
        SourceMap {
            files: vec![root_file],
            locs: HashMap::new(),
        }
    }

    pub(crate) fn add_file(&mut self, display: String) -> usize {
        self.files.push(display);
        self.files.len() - 1
    }

    pub(crate) fn set_locs(&mut self, locs: Locs) {
        self.locs = locs;
    }

    pub(crate) fn file_name(&self, idx: usize) -> String {
        self.files.get(idx).cloned().unwrap_or_default()
    }

    /// Display name of the root file.
    pub fn root_file(&self) -> &str {
        self.files.first().map(String::as_str).unwrap_or("<config>")
    }

    fn location(&self, file: usize, pos: crate::json5::Pos) -> Location {
        Location {
            file: self.files.get(file).cloned().unwrap_or_default(),
            line: pos.line,
            column: pos.column,
        }
    }

    fn find(&self, pointer: &str) -> Option<(usize, Span)> {
        let mut p = pointer;
        loop {
            if let Some(hit) = self.locs.get(p) {
                return Some(*hit);
            }
            if p.is_empty() {
                return None;
            }
            p = match p.rfind('/') {
                Some(i) => &p[..i],
                None => "",
            };
        }
    }

    /// Position of the key naming `pointer` (falls back to the value, then to ancestors).
    pub fn locate_key(&self, pointer: &str) -> Location {
        match self.find(pointer) {
            Some((f, span)) => self.location(f, span.key.unwrap_or(span.value)),
            None => self.whole_file(),
        }
    }

    /// Position of the value at `pointer` (falls back to ancestors).
    pub fn locate_value(&self, pointer: &str) -> Location {
        match self.find(pointer) {
            Some((f, span)) => self.location(f, span.value),
            None => self.whole_file(),
        }
    }

    fn whole_file(&self) -> Location {
        Location {
            file: self.root_file().to_string(),
            line: 0,
            column: 0,
        }
    }
}

/// Tag a parsed document's spans with a file index.
pub(crate) fn tag(spans: Spans, file: usize) -> Locs {
    spans.into_iter().map(|(k, s)| (k, (file, s))).collect()
}

/// Entries at or below `prefix`, re-rooted so `prefix` becomes `""`.
pub(crate) fn subtree(locs: &Locs, prefix: &str) -> Locs {
    let mut out = HashMap::new();
    for (k, v) in locs {
        if k == prefix {
            out.insert(String::new(), *v);
        } else if let Some(rest) = k.strip_prefix(prefix)
            && rest.starts_with('/')
        {
            out.insert(rest.to_string(), *v);
        }
    }
    out
}

/// Copy every entry of `from` into `into` under `prefix` (root entry included unless `skip_root`).
pub(crate) fn graft(into: &mut Locs, prefix: &str, from: Locs, skip_root: bool) {
    for (k, v) in from {
        if k.is_empty() && skip_root {
            continue;
        }
        into.insert(format!("{prefix}{k}"), v);
    }
}

/// Remove `prefix` and everything below it.
pub(crate) fn prune(locs: &mut Locs, prefix: &str) {
    locs.retain(|k, _| {
        !(k == prefix || (k.starts_with(prefix) && k[prefix.len()..].starts_with('/')))
    });
}
