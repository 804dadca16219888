//! Where OpenClaw keeps things: resolved once from an environment map.
//!
//! `OPENCLAW_HOME` > `HOME` gives the home directory; the state dir is `OPENCLAW_STATE_DIR`, else
//! `~/.openclaw` (or `~/.openclaw-<profile>` with `OPENCLAW_PROFILE`); the config file is
//! `OPENCLAW_CONFIG_PATH`, else `<state>/openclaw.json`; the default workspace is
//! `OPENCLAW_WORKSPACE_DIR`, else `<state>/workspace`. Only [`Paths::from_process_env`] reads the
//! process environment.

use std::path::{Path, PathBuf};

use crate::env::EnvMap;
use crate::error::ConfigError;

/// Name of the config file inside the state dir.
pub const CONFIG_FILE_NAME: &str = "openclaw.json";

/// Resolved OpenClaw locations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
    /// Home directory used for `~` expansion and defaults.
    pub home: PathBuf,
    /// State directory (`~/.openclaw`).
    pub state_dir: PathBuf,
    /// Active config file.
    pub config_path: PathBuf,
    /// Default agent workspace.
    pub workspace_dir: PathBuf,
    /// Profile name from `OPENCLAW_PROFILE`, if any.
    pub profile: Option<String>,
}

fn non_empty<'a>(env: &'a EnvMap, key: &str) -> Option<&'a str> {
    env.get(key).map(|s| s.trim()).filter(|s| !s.is_empty())
}

/// Expand a leading `~` (alone or followed by `/`) against `home`.
pub fn expand_tilde(raw: &str, home: &Path) -> PathBuf {
    if raw == "~" {
        home.to_path_buf()
    } else if let Some(rest) = raw.strip_prefix("~/") {
        home.join(rest)
    } else {
        PathBuf::from(raw)
    }
}

impl Paths {
    /// Resolve from an environment map.
    pub fn from_env(env: &EnvMap) -> Result<Paths, ConfigError> {
        let home = non_empty(env, "OPENCLAW_HOME")
            .or_else(|| non_empty(env, "HOME"))
            .or_else(|| non_empty(env, "USERPROFILE"))
            .ok_or(ConfigError::NoHome)?;
        let home = PathBuf::from(home);
        let home = if home.starts_with("~") {
            // OPENCLAW_HOME=~/x relative to the real HOME.
            match non_empty(env, "HOME") {
                Some(h) => expand_tilde(&home.to_string_lossy(), Path::new(h)),
                None => home,
            }
        } else {
            home
        };
        let profile = non_empty(env, "OPENCLAW_PROFILE")
            .filter(|p| *p != "default")
            .map(str::to_string);
        let state_dir = match non_empty(env, "OPENCLAW_STATE_DIR") {
            Some(s) => expand_tilde(s, &home),
            None => match &profile {
                Some(p) => home.join(format!(".openclaw-{p}")),
                None => home.join(".openclaw"),
            },
        };
        let config_path = match non_empty(env, "OPENCLAW_CONFIG_PATH") {
            Some(s) => expand_tilde(s, &home),
            None => state_dir.join(CONFIG_FILE_NAME),
        };
        let workspace_dir = match non_empty(env, "OPENCLAW_WORKSPACE_DIR") {
            Some(s) => expand_tilde(s, &home),
            None => state_dir.join("workspace"),
        };
        Ok(Paths {
            home,
            state_dir,
            config_path,
            workspace_dir,
            profile,
        })
    }

    /// Resolve from the process environment (the only place this crate reads it).
    pub fn from_process_env() -> Result<Paths, ConfigError> {
        Paths::from_env(&crate::env::process_env())
    }

    /// Expand `~` in a path taken from config.
    pub fn expand(&self, raw: &str) -> PathBuf {
        expand_tilde(raw, &self.home)
    }

    /// Show a path with the home directory abbreviated to `~`.
    pub fn display(&self, path: &Path) -> String {
        display_with_home(path, Some(&self.home))
    }

    /// `<state>/.env`.
    pub fn dotenv_path(&self) -> PathBuf {
        self.state_dir.join(".env")
    }

    /// `<state>/agents/<id>`.
    pub fn agent_dir(&self, agent_id: &str) -> PathBuf {
        self.state_dir.join("agents").join(agent_id)
    }

    /// `<state>/agents/<id>/agent` (auth profiles, models.json).
    pub fn agent_config_dir(&self, agent_id: &str) -> PathBuf {
        self.agent_dir(agent_id).join("agent")
    }

    /// `<state>/agents/<id>/sessions`.
    pub fn sessions_dir(&self, agent_id: &str) -> PathBuf {
        self.agent_dir(agent_id).join("sessions")
    }

    /// `<state>/logs`.
    pub fn logs_dir(&self) -> PathBuf {
        self.state_dir.join("logs")
    }

    /// `<state>/identity`.
    pub fn identity_dir(&self) -> PathBuf {
        self.state_dir.join("identity")
    }

    /// `<state>/devices`.
    pub fn devices_dir(&self) -> PathBuf {
        self.state_dir.join("devices")
    }

    /// `<state>/credentials`.
    pub fn credentials_dir(&self) -> PathBuf {
        self.state_dir.join("credentials")
    }

    /// `<state>/sandboxes` (default sandbox workspace root).
    pub fn sandboxes_dir(&self) -> PathBuf {
        self.state_dir.join("sandboxes")
    }

    /// `<state>/sandbox` (sandbox registry files).
    pub fn sandbox_state_dir(&self) -> PathBuf {
        self.state_dir.join("sandbox")
    }

    /// `<config>.bak`.
    pub fn backup_path(&self) -> PathBuf {
        crate::write::backup_path(&self.config_path)
    }
}

pub(crate) fn display_with_home(path: &Path, home: Option<&Path>) -> String {
    if let Some(home) = home
        && !home.as_os_str().is_empty()
        && let Ok(rest) = path.strip_prefix(home)
    {
        if rest.as_os_str().is_empty() {
            return "~".to_string();
        }
        return format!("~/{}", rest.display());
    }
    path.display().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn env(pairs: &[(&str, &str)]) -> EnvMap {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_from_home() {
        let p = Paths::from_env(&env(&[("HOME", "/home/node")])).unwrap();
        assert_eq!(p.state_dir, PathBuf::from("/home/node/.openclaw"));
        assert_eq!(
            p.config_path,
            PathBuf::from("/home/node/.openclaw/openclaw.json")
        );
        assert_eq!(
            p.workspace_dir,
            PathBuf::from("/home/node/.openclaw/workspace")
        );
        assert_eq!(
            p.sessions_dir("main"),
            PathBuf::from("/home/node/.openclaw/agents/main/sessions")
        );
        assert_eq!(p.display(&p.config_path), "~/.openclaw/openclaw.json");
        assert_eq!(p.expand("~/x"), PathBuf::from("/home/node/x"));
        assert_eq!(p.expand("/abs"), PathBuf::from("/abs"));
    }

    #[test]
    fn overrides_and_profile() {
        let p = Paths::from_env(&env(&[
            ("HOME", "/h"),
            ("OPENCLAW_HOME", "/oc"),
            ("OPENCLAW_PROFILE", "dev"),
        ]))
        .unwrap();
        assert_eq!(p.state_dir, PathBuf::from("/oc/.openclaw-dev"));
        assert_eq!(
            p.config_path,
            PathBuf::from("/oc/.openclaw-dev/openclaw.json")
        );

        let p = Paths::from_env(&env(&[
            ("HOME", "/h"),
            ("OPENCLAW_STATE_DIR", "~/state"),
            ("OPENCLAW_CONFIG_PATH", "/etc/oc.json5"),
            ("OPENCLAW_WORKSPACE_DIR", "/ws"),
        ]))
        .unwrap();
        assert_eq!(p.state_dir, PathBuf::from("/h/state"));
        assert_eq!(p.config_path, PathBuf::from("/etc/oc.json5"));
        assert_eq!(p.workspace_dir, PathBuf::from("/ws"));
        assert!(matches!(
            Paths::from_env(&EnvMap::new()),
            Err(ConfigError::NoHome)
        ));
    }
}
