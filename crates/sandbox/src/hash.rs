//! The config hash stamped on each container (`openclaw.configHash` label and registry): SHA-256
//! hex over canonical JSON (sorted keys, nulls dropped) of everything that shapes the container.
//! Any change (image, env, binds, limits, setupCommand, workspace paths, or our create-args epoch)
//! yields a new hash, which drives the auto-recreate rule in `lifecycle`.

use std::path::Path;

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::spec::{BrowserSpec, DockerSpec, WorkspaceAccess};

/// Bumped whenever the create body changes in a way the docker block does not show (init,
/// mount format, exec wrapper), so idle containers roll over to the new posture.
pub const CREATE_ARGS_EPOCH: &str = "openclaw-rs-2026-11-1";
/// Bumped whenever the browser container's create body or env contract changes.
pub const BROWSER_EPOCH: &str = "openclaw-rs-browser-2026-11-1";

/// Canonical JSON: object keys sorted, `null` members dropped, no whitespace.
pub fn canonical_json(value: &Value) -> String {
    fn canon(v: &Value) -> Value {
        match v {
            Value::Object(m) => {
                let mut keys: Vec<&String> =
                    m.keys().filter(|k| !m[k.as_str()].is_null()).collect();
                keys.sort();
                let mut out = Map::new();
                for k in keys {
                    out.insert(k.clone(), canon(&m[k.as_str()]));
                }
                Value::Object(out)
            }
            Value::Array(a) => Value::Array(a.iter().map(canon).collect()),
            other => other.clone(),
        }
    }
    canon(value).to_string()
}

/// The container config hash.
pub fn config_hash(
    docker: &DockerSpec,
    access: WorkspaceAccess,
    workspace_dir: &Path,
    agent_workspace_dir: &Path,
) -> String {
    let doc = json!({
        "docker": docker,
        "workspaceAccess": access.as_str(),
        "workspaceDir": workspace_dir.to_string_lossy(),
        "agentWorkspaceDir": agent_workspace_dir.to_string_lossy(),
        "createArgsEpoch": CREATE_ARGS_EPOCH,
    });
    hex::encode(Sha256::digest(canonical_json(&doc).as_bytes()))
}

/// The browser container's config hash: its docker block (browser image, network and binds
/// already applied) plus the browser keys that shape the container. `enabled`, `autoStart`,
/// `autoStartTimeoutMs` and `allowHostControl` only steer the gateway and are left out.
pub fn browser_config_hash(
    docker: &DockerSpec,
    browser: &BrowserSpec,
    access: WorkspaceAccess,
    workspace_dir: &Path,
    agent_workspace_dir: &Path,
) -> String {
    let doc = json!({
        "docker": docker,
        "browser": {
            "cdpPort": browser.cdp_port,
            "vncPort": browser.vnc_port,
            "noVncPort": browser.no_vnc_port,
            "headless": browser.headless,
            "enableNoVnc": browser.enable_no_vnc,
            "cdpSourceRange": browser.cdp_source_range,
        },
        "workspaceAccess": access.as_str(),
        "workspaceDir": workspace_dir.to_string_lossy(),
        "agentWorkspaceDir": agent_workspace_dir.to_string_lossy(),
        "createArgsEpoch": CREATE_ARGS_EPOCH,
        "browserEpoch": BROWSER_EPOCH,
    });
    hex::encode(Sha256::digest(canonical_json(&doc).as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn canonical_sorts_and_drops_nulls() {
        let v = json!({"b": 1, "a": {"z": null, "y": [ {"d": 1, "c": null} ]}});
        assert_eq!(canonical_json(&v), r#"{"a":{"y":[{"d":1}]},"b":1}"#);
    }

    #[test]
    fn hash_is_stable_and_sensitive() {
        let d = DockerSpec::default();
        let ws = Path::new("/s/ws");
        let aw = Path::new("/s/agent");
        let h = config_hash(&d, WorkspaceAccess::None, ws, aw);
        assert_eq!(h.len(), 64);
        assert_eq!(h, config_hash(&d.clone(), WorkspaceAccess::None, ws, aw));
        let mut d2 = d.clone();
        d2.setup_command = Some("true".into());
        assert_ne!(h, config_hash(&d2, WorkspaceAccess::None, ws, aw));
        assert_ne!(h, config_hash(&d, WorkspaceAccess::Ro, ws, aw));
        assert_ne!(
            h,
            config_hash(&d, WorkspaceAccess::None, Path::new("/other"), aw)
        );
        let mut d3 = d.clone();
        d3.env.insert("X".into(), "1".into());
        assert_ne!(h, config_hash(&d3, WorkspaceAccess::None, ws, aw));
    }

    #[test]
    fn browser_hash_tracks_container_shaping_keys_only() {
        let d = DockerSpec::default();
        let b = BrowserSpec::default();
        let (ws, aw) = (Path::new("/s/ws"), Path::new("/s/agent"));
        let h = browser_config_hash(&d, &b, WorkspaceAccess::None, ws, aw);
        assert_ne!(h, config_hash(&d, WorkspaceAccess::None, ws, aw));
        let same = BrowserSpec {
            enabled: true,
            auto_start_timeout_ms: 1,
            allow_host_control: true,
            ..b.clone()
        };
        assert_eq!(
            h,
            browser_config_hash(&d, &same, WorkspaceAccess::None, ws, aw)
        );
        let headless = BrowserSpec {
            headless: true,
            ..b.clone()
        };
        assert_ne!(
            h,
            browser_config_hash(&d, &headless, WorkspaceAccess::None, ws, aw)
        );
    }
}
