//! `browser.*` from the config JSON: whether the host browser may be used and how it starts.
//!
//! The config crate keeps the `browser` block free-form (OpenClaw has many keys there that this
//! build ignores), so the keys read here are checked here, and a wrong type is an error that
//! names the key. Read: `enabled` (default true, as in OpenClaw), `executablePath`, `headless`
//! (default false), `noSandbox`, `extraArgs`, `cdpUrl` (attach to a running browser instead of
//! launching one), `attachOnly`, `defaultProfile` and `profiles.<name>.{cdpUrl, driver}`.
//! Everything else in the block (`color`, `ssrfPolicy`, `snapshotDefaults`, `cdpPort`, …) is
//! accepted and ignored.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::Value;

/// The profile the gateway launches and owns.
pub const MANAGED_PROFILE: &str = "openclaw";
/// OpenClaw's built-in Chrome-extension relay profile (not supported here).
const RELAY_PROFILE: &str = "chrome";

/// The resolved `browser` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrowserSettings {
    pub enabled: bool,
    pub executable_path: Option<PathBuf>,
    pub headless: bool,
    pub no_sandbox: bool,
    pub extra_args: Vec<String>,
    pub cdp_url: Option<String>,
    pub attach_only: bool,
    pub default_profile: String,
    /// `browser.profiles`: name → its `cdpUrl` (attach) or `None` (a browser we launch).
    pub profiles: BTreeMap<String, ProfileEntry>,
}

/// One `browser.profiles.<name>` entry.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProfileEntry {
    pub cdp_url: Option<String>,
    /// `driver: "extension"` (the Chrome extension relay).
    pub extension: bool,
}

impl Default for BrowserSettings {
    fn default() -> Self {
        BrowserSettings {
            enabled: true,
            executable_path: None,
            headless: false,
            no_sandbox: false,
            extra_args: Vec::new(),
            cdp_url: None,
            attach_only: false,
            default_profile: MANAGED_PROFILE.to_string(),
            profiles: BTreeMap::new(),
        }
    }
}

/// Where a profile's browser comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProfileSource {
    /// The gateway launches it (throwaway profile, loopback DevTools).
    Launch,
    /// An already running browser at this `http://` or `ws://` CDP URL.
    Attach { cdp_url: String },
}

fn bool_at(
    obj: &serde_json::Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<Option<bool>, String> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(other) => Err(format!("{path}.{key}: expected true or false, got {other}")),
    }
}

fn str_at(
    obj: &serde_json::Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<Option<String>, String> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim().to_string())),
        Some(other) => Err(format!("{path}.{key}: expected a string, got {other}")),
    }
}

fn cdp_url_at(obj: &serde_json::Map<String, Value>, path: &str) -> Result<Option<String>, String> {
    let Some(u) = str_at(obj, "cdpUrl", path)? else {
        return Ok(None);
    };
    match url::Url::parse(&u) {
        Ok(p) if matches!(p.scheme(), "http" | "ws") && p.host_str().is_some() => {
            Ok(Some(u.trim_end_matches('/').to_string()))
        }
        _ => Err(format!(
            "{path}.cdpUrl: expected an http:// or ws:// URL of a browser's DevTools endpoint (TLS is not supported), got {u:?}"
        )),
    }
}

impl BrowserSettings {
    /// Read the root `browser` value; `None` gives the defaults.
    pub fn from_config(value: Option<&Value>) -> Result<BrowserSettings, String> {
        let mut s = BrowserSettings::default();
        let obj = match value {
            None | Some(Value::Null) => return Ok(s),
            Some(Value::Object(o)) => o,
            Some(other) => return Err(format!("browser: expected an object, got {other}")),
        };
        let p = "browser";
        s.enabled = bool_at(obj, "enabled", p)?.unwrap_or(s.enabled);
        s.executable_path = str_at(obj, "executablePath", p)?.map(PathBuf::from);
        s.headless = bool_at(obj, "headless", p)?.unwrap_or(false);
        s.no_sandbox = bool_at(obj, "noSandbox", p)?.unwrap_or(false);
        s.attach_only = bool_at(obj, "attachOnly", p)?.unwrap_or(false);
        s.cdp_url = cdp_url_at(obj, p)?;
        if let Some(d) = str_at(obj, "defaultProfile", p)? {
            s.default_profile = d;
        }
        s.extra_args = match obj.get("extraArgs") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(a)) if a.iter().all(Value::is_string) => a
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect(),
            Some(other) => {
                return Err(format!(
                    "browser.extraArgs: expected an array of strings, got {other}"
                ));
            }
        };
        match obj.get("profiles") {
            None | Some(Value::Null) => {}
            Some(Value::Object(profiles)) => {
                for (name, entry) in profiles {
                    let path = format!("browser.profiles.{name}");
                    let Some(e) = entry.as_object() else {
                        return Err(format!("{path}: expected an object, got {entry}"));
                    };
                    let driver = str_at(e, "driver", &path)?;
                    s.profiles.insert(
                        name.clone(),
                        ProfileEntry {
                            cdp_url: cdp_url_at(e, &path)?,
                            extension: driver.as_deref() == Some("extension"),
                        },
                    );
                }
            }
            Some(other) => {
                return Err(format!("browser.profiles: expected an object, got {other}"));
            }
        }
        Ok(s)
    }

    /// The profile a call uses: `requested`, else `browser.defaultProfile`.
    pub fn profile_name<'a>(&'a self, requested: Option<&'a str>) -> &'a str {
        requested
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .unwrap_or(&self.default_profile)
    }

    /// Where the browser of profile `name` comes from, or why it cannot be used.
    pub fn source(&self, name: &str) -> Result<ProfileSource, String> {
        let entry = self.profiles.get(name);
        if entry.is_some_and(|e| e.extension) || (name == RELAY_PROFILE && entry.is_none()) {
            return Err(format!(
                "browser profile \"{name}\" uses the Chrome extension relay, which this build does not support; use profile \"{MANAGED_PROFILE}\" (a browser the gateway launches) or a profile with a cdpUrl"
            ));
        }
        if name != MANAGED_PROFILE && entry.is_none() {
            return Err(format!(
                "unknown browser profile \"{name}\"; known: {}. Add it under browser.profiles",
                self.profile_names().join(", ")
            ));
        }
        if let Some(url) = entry.and_then(|e| e.cdp_url.clone()) {
            return Ok(ProfileSource::Attach { cdp_url: url });
        }
        if name == MANAGED_PROFILE
            && let Some(url) = &self.cdp_url
        {
            return Ok(ProfileSource::Attach {
                cdp_url: url.clone(),
            });
        }
        if self.attach_only {
            return Err(format!(
                "browser.attachOnly is true but profile \"{name}\" has no cdpUrl to attach to; set browser.cdpUrl (or browser.profiles.{name}.cdpUrl) or set browser.attachOnly to false"
            ));
        }
        Ok(ProfileSource::Launch)
    }

    /// `openclaw` plus the configured profiles, sorted.
    pub fn profile_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.profiles.keys().cloned().collect();
        if !self.profiles.contains_key(MANAGED_PROFILE) {
            names.push(MANAGED_PROFILE.to_string());
        }
        names.sort();
        names
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;
    use serde_json::json;

    #[test]
    fn defaults_match_openclaw() {
        let s = BrowserSettings::from_config(None).unwrap();
        assert_eq!(s, BrowserSettings::default());
        assert!(s.enabled && !s.headless);
        assert_eq!(s.source(s.profile_name(None)), Ok(ProfileSource::Launch));
    }

    #[test]
    fn reads_the_supported_keys_and_ignores_the_rest() {
        let s = BrowserSettings::from_config(Some(&json!({
            "enabled": true, "executablePath": "/opt/chrome", "headless": true, "noSandbox": true,
            "extraArgs": ["--lang=en"], "color": "#FF4500", "ssrfPolicy": {},
            "profiles": {"work": {"cdpUrl": "http://127.0.0.1:9333/", "color": "#00f"}, "mine": {"cdpPort": 18801}},
        })))
        .unwrap();
        assert_eq!(s.executable_path, Some(PathBuf::from("/opt/chrome")));
        assert!(s.headless && s.no_sandbox);
        assert_eq!(s.extra_args, vec!["--lang=en".to_string()]);
        assert_eq!(
            s.source("work"),
            Ok(ProfileSource::Attach {
                cdp_url: "http://127.0.0.1:9333".into()
            })
        );
        assert_eq!(s.source("mine"), Ok(ProfileSource::Launch));
        assert_eq!(s.profile_names(), vec!["mine", "openclaw", "work"]);
    }

    #[test]
    fn wrong_types_name_the_key() {
        let err = BrowserSettings::from_config(Some(&json!({"headless": "yes"}))).unwrap_err();
        assert!(err.starts_with("browser.headless:"), "{err}");
        let err = BrowserSettings::from_config(Some(&json!({"cdpUrl": "https://x"}))).unwrap_err();
        assert!(err.starts_with("browser.cdpUrl:"), "{err}");
        let err = BrowserSettings::from_config(Some(&json!({"profiles": {"a": {"cdpUrl": 1}}})))
            .unwrap_err();
        assert!(err.starts_with("browser.profiles.a.cdpUrl:"), "{err}");
    }

    #[test]
    fn profiles_that_cannot_work_say_why() {
        let s = BrowserSettings::from_config(Some(&json!({"attachOnly": true}))).unwrap();
        assert!(
            s.source("openclaw")
                .unwrap_err()
                .contains("browser.attachOnly")
        );
        let s = BrowserSettings::default();
        assert!(s.source("chrome").unwrap_err().contains("extension relay"));
        assert!(s.source("nope").unwrap_err().contains("browser.profiles"));
        let s = BrowserSettings::from_config(Some(&json!({"cdpUrl": "http://127.0.0.1:9222"})))
            .unwrap();
        assert_eq!(
            s.source("openclaw"),
            Ok(ProfileSource::Attach {
                cdp_url: "http://127.0.0.1:9222".into()
            })
        );
    }
}
