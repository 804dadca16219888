//! The agent workspace: bootstrap files seeded on first setup, and the files injected into
//! the system prompt. The templates are our own words, compiled into the binary.

use std::io;
use std::path::Path;

/// Bootstrap files in the order they are seeded and injected.
pub const BOOTSTRAP_FILES: &[(&str, &str)] = &[
    ("AGENTS.md", include_str!("../templates/AGENTS.md")),
    ("SOUL.md", include_str!("../templates/SOUL.md")),
    ("TOOLS.md", include_str!("../templates/TOOLS.md")),
    ("IDENTITY.md", include_str!("../templates/IDENTITY.md")),
    ("USER.md", include_str!("../templates/USER.md")),
    ("HEARTBEAT.md", include_str!("../templates/HEARTBEAT.md")),
    ("BOOTSTRAP.md", include_str!("../templates/BOOTSTRAP.md")),
];

/// Create the workspace and write every missing bootstrap file. Existing files are never
/// overwritten. `BOOTSTRAP.md` is only written into a brand-new workspace (one that had no
/// bootstrap files at all), so deleting it after the first run sticks.
pub fn ensure_workspace(dir: &Path) -> io::Result<Vec<String>> {
    std::fs::create_dir_all(dir)?;
    let fresh = !BOOTSTRAP_FILES
        .iter()
        .any(|(name, _)| dir.join(name).exists());
    let mut created = Vec::new();
    for (name, body) in BOOTSTRAP_FILES {
        if *name == "BOOTSTRAP.md" && !fresh {
            continue;
        }
        let path = dir.join(name);
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(mut f) => {
                io::Write::write_all(&mut f, body.as_bytes())?;
                created.push((*name).to_string());
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
    }
    Ok(created)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_once_and_never_overwrites() {
        let dir = tempfile::tempdir().unwrap();
        let ws = dir.path().join("ws");
        let created = ensure_workspace(&ws).unwrap();
        assert_eq!(created.len(), BOOTSTRAP_FILES.len());
        std::fs::write(ws.join("SOUL.md"), "mine").unwrap();
        std::fs::remove_file(ws.join("BOOTSTRAP.md")).unwrap();
        let created = ensure_workspace(&ws).unwrap();
        assert!(created.is_empty(), "{created:?}");
        assert_eq!(std::fs::read_to_string(ws.join("SOUL.md")).unwrap(), "mine");
        assert!(
            !ws.join("BOOTSTRAP.md").exists(),
            "BOOTSTRAP.md must not come back"
        );
    }
}
