//! Helpers: a temp state dir with a config file and an env map.

use std::path::{Path, PathBuf};

use openclaw_config::{EnvMap, Paths};

pub struct Home {
    _dir: tempfile::TempDir,
    pub paths: Paths,
}

impl Home {
    pub fn new() -> Home {
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths::from_env(&env(&[("HOME", dir.path().to_str().unwrap())])).unwrap();
        std::fs::create_dir_all(&paths.state_dir).unwrap();
        Home { _dir: dir, paths }
    }

    pub fn write_config(&self, text: &str) -> PathBuf {
        std::fs::write(&self.paths.config_path, text).unwrap();
        self.paths.config_path.clone()
    }

    pub fn write(&self, rel: &str, text: &str) -> PathBuf {
        let p = self.paths.state_dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        p
    }

    pub fn state(&self) -> &Path {
        &self.paths.state_dir
    }
}

pub fn env(pairs: &[(&str, &str)]) -> EnvMap {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}
