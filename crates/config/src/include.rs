//! `$include`: splitting one config over several files.
//!
//! `{ "$include": "./x.json5" }` replaces the object that holds it; an array of files is
//! deep-merged in order (later wins); sibling keys are merged on top of the included content.
//! Deep merge: objects merge key by key, arrays concatenate, anything else is replaced.
//! Paths are relative to the including file; nesting is limited to [`MAX_INCLUDE_DEPTH`];
//! cycles are refused with the whole chain in the message. Every included node keeps the
//! position it had in its own file, so later errors point into the right file.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::error::ConfigError;
use crate::json5;
use crate::source::{self, Locs, SourceMap};

pub const INCLUDE_KEY: &str = "$include";
/// Maximum `$include` nesting.
pub const MAX_INCLUDE_DEPTH: usize = 10;
/// Largest file an include may pull in.
pub const MAX_INCLUDE_BYTES: u64 = 2 * 1024 * 1024;

/// State shared by one resolution pass.
pub(crate) struct Resolver<'a> {
    pub map: &'a mut SourceMap,
    /// Turns a path into the name shown in messages (home abbreviated to `~`).
    pub display: &'a dyn Fn(&Path) -> String,
}

struct Frame<'f> {
    /// Canonical paths of the files on the include chain, root first.
    chain: &'f [PathBuf],
}

impl Resolver<'_> {
    /// Resolve every `$include` in `value` (parsed from `file_path`, whose spans are `locs`).
    pub fn resolve(
        &mut self,
        value: Value,
        locs: Locs,
        file_path: &Path,
    ) -> Result<(Value, Locs), ConfigError> {
        let canonical =
            std::fs::canonicalize(file_path).unwrap_or_else(|_| file_path.to_path_buf());
        let chain = vec![canonical];
        self.node(value, locs, &Frame { chain: &chain })
    }

    fn node(
        &mut self,
        value: Value,
        locs: Locs,
        fr: &Frame<'_>,
    ) -> Result<(Value, Locs), ConfigError> {
        match value {
            Value::Object(mut map) => {
                let include = map.remove(INCLUDE_KEY);
                let mut out_map = Map::new();
                let mut out_locs = Locs::new();
                if let Some(root) = locs.get("") {
                    out_locs.insert(String::new(), *root);
                }
                for (k, v) in map {
                    let ptr = format!("/{}", k.replace('~', "~0").replace('/', "~1"));
                    let (cv, cl) = self.node(v, source::subtree(&locs, &ptr), fr)?;
                    source::graft(&mut out_locs, &ptr, cl, false);
                    out_map.insert(k, cv);
                }
                let siblings = (Value::Object(out_map), out_locs);
                match include {
                    None => Ok(siblings),
                    Some(spec) => {
                        let (mut acc, mut acc_locs) = self.included(&spec, &locs, fr)?;
                        deep_merge(&mut acc, &mut acc_locs, "", siblings.0, &siblings.1, "");
                        // The merged object sits where the including object was.
                        match locs.get("") {
                            Some(root) => {
                                acc_locs.insert(String::new(), *root);
                            }
                            None => {
                                acc_locs.remove("");
                            }
                        }
                        Ok((acc, acc_locs))
                    }
                }
            }
            Value::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                let mut out_locs = Locs::new();
                if let Some(root) = locs.get("") {
                    out_locs.insert(String::new(), *root);
                }
                for (i, v) in items.into_iter().enumerate() {
                    let ptr = format!("/{i}");
                    let (cv, cl) = self.node(v, source::subtree(&locs, &ptr), fr)?;
                    source::graft(&mut out_locs, &ptr, cl, false);
                    out.push(cv);
                }
                Ok((Value::Array(out), out_locs))
            }
            other => Ok((other, locs)),
        }
    }

    fn err(&self, locs: &Locs, message: String) -> ConfigError {
        // Point at the `$include` key inside the current object.
        let ptr = format!("/{INCLUDE_KEY}");
        let at = match locs.get(&ptr).or_else(|| locs.get("")) {
            Some((f, span)) => {
                let pos = span.key.unwrap_or(span.value);
                crate::error::Location {
                    file: self.map_file(*f),
                    line: pos.line,
                    column: pos.column,
                }
            }
            None => crate::error::Location {
                file: self.map.root_file().to_string(),
                line: 0,
                column: 0,
            },
        };
        ConfigError::Include {
            at,
            key_path: String::new(),
            message,
        }
    }

    fn map_file(&self, idx: usize) -> String {
        self.map.file_name(idx)
    }

    fn included(
        &mut self,
        spec: &Value,
        locs: &Locs,
        fr: &Frame<'_>,
    ) -> Result<(Value, Locs), ConfigError> {
        let files: Vec<&str> = match spec {
            Value::String(s) => vec![s.as_str()],
            Value::Array(items) => {
                let mut v = Vec::new();
                for item in items {
                    match item {
                        Value::String(s) => v.push(s.as_str()),
                        _ => {
                            return Err(self.err(
                                locs,
                                "each entry of a $include array must be a file path string".into(),
                            ));
                        }
                    }
                }
                v
            }
            _ => {
                return Err(self.err(
                    locs,
                    "$include must be a file path string or an array of file path strings".into(),
                ));
            }
        };
        let base_dir = fr
            .chain
            .last()
            .and_then(|p| p.parent())
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let mut acc: Option<(Value, Locs)> = None;
        for rel in files {
            let next = self.load_one(rel, &base_dir, locs, fr)?;
            acc = Some(match acc {
                None => next,
                Some((mut v, mut l)) => {
                    deep_merge(&mut v, &mut l, "", next.0, &next.1, "");
                    (v, l)
                }
            });
        }
        Ok(acc.unwrap_or((Value::Object(Map::new()), Locs::new())))
    }

    fn load_one(
        &mut self,
        rel: &str,
        base_dir: &Path,
        locs: &Locs,
        fr: &Frame<'_>,
    ) -> Result<(Value, Locs), ConfigError> {
        if rel.is_empty() || rel.contains('\0') || rel.len() >= 4096 {
            return Err(self.err(locs, format!("invalid include path {rel:?}")));
        }
        let path = base_dir.join(rel);
        let canonical = match std::fs::canonicalize(&path) {
            Ok(p) => p,
            Err(e) => {
                return Err(self.err(
                    locs,
                    format!(
                        "cannot read included file \"{rel}\" ({}): {e}; create it or fix the path (relative to the including file)",
                        (self.display)(&path)
                    ),
                ));
            }
        };
        if fr.chain.contains(&canonical) {
            let mut names: Vec<String> = fr.chain.iter().map(|p| (self.display)(p)).collect();
            names.push((self.display)(&canonical));
            return Err(self.err(
                locs,
                format!(
                    "circular include: {}; remove one of these includes",
                    names.join(" -> ")
                ),
            ));
        }
        if fr.chain.len() > MAX_INCLUDE_DEPTH {
            return Err(self.err(
                locs,
                format!("includes are nested more than {MAX_INCLUDE_DEPTH} levels deep"),
            ));
        }
        let meta =
            std::fs::metadata(&canonical).map_err(|e| ConfigError::io("read", &canonical, e))?;
        if meta.len() > MAX_INCLUDE_BYTES {
            return Err(self.err(
                locs,
                format!(
                    "included file {} is larger than 2 MB",
                    (self.display)(&canonical)
                ),
            ));
        }
        let text = std::fs::read_to_string(&canonical)
            .map_err(|e| ConfigError::io("read", &canonical, e))?;
        let shown = (self.display)(&canonical);
        let (value, spans) = json5::parse(&text).map_err(|e| ConfigError::Syntax {
            at: crate::error::Location {
                file: shown.clone(),
                line: e.pos.line,
                column: e.pos.column,
            },
            message: e.message,
        })?;
        let idx = self.map.add_file(shown);
        let mut chain = fr.chain.to_vec();
        chain.push(canonical);
        self.node(value, source::tag(spans, idx), &Frame { chain: &chain })
    }
}

/// Deep-merge `src` (spans `src_locs`, rooted at `src_ptr`) into `dst` at pointer `dst_ptr`.
/// Objects merge, arrays concatenate, anything else replaces.
pub(crate) fn deep_merge(
    dst: &mut Value,
    dst_locs: &mut Locs,
    dst_ptr: &str,
    src: Value,
    src_locs: &Locs,
    src_ptr: &str,
) {
    match (dst, src) {
        (Value::Object(d), Value::Object(s)) => {
            for (k, v) in s {
                let seg = format!("/{}", k.replace('~', "~0").replace('/', "~1"));
                let dp = format!("{dst_ptr}{seg}");
                let sp = format!("{src_ptr}{seg}");
                match d.get_mut(&k) {
                    Some(existing) => deep_merge(existing, dst_locs, &dp, v, src_locs, &sp),
                    None => {
                        source::graft(dst_locs, &dp, source::subtree(src_locs, &sp), false);
                        d.insert(k, v);
                    }
                }
            }
        }
        (Value::Array(d), Value::Array(s)) => {
            let n = d.len();
            for (j, v) in s.into_iter().enumerate() {
                let sp = format!("{src_ptr}/{j}");
                let dp = format!("{dst_ptr}/{}", n + j);
                source::graft(dst_locs, &dp, source::subtree(src_locs, &sp), false);
                d.push(v);
            }
        }
        (d, s) => {
            source::prune(dst_locs, dst_ptr);
            source::graft(dst_locs, dst_ptr, source::subtree(src_locs, src_ptr), false);
            *d = s;
        }
    }
}
