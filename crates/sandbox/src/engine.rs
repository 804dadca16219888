//! The connection to the Docker Engine API (bollard, never the `docker` CLI).
//!
//! `Engine::connect` negotiates the API version (works with 1.41 engines and current ones) and
//! pings under a timeout so an absent daemon is a fast, clear error instead of a hang. Every call
//! here carries a deadline. Missing images fail fast with the build command; we never substitute
//! another image (a plain Debian image lacks the tools the sandbox promises).

use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;

use bollard::Docker;
use bollard::errors::Error as BollardError;
use bollard::models::{ContainerCreateBody, NetworkCreateRequest};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, ListContainersOptionsBuilder, LogsOptionsBuilder,
    RemoveContainerOptionsBuilder,
};

use crate::error::SandboxError;
use crate::posture::{LABEL_CONFIG_HASH, LABEL_CREATED_AT, LABEL_SANDBOX, LABEL_SESSION_KEY};
use crate::spec::DEFAULT_IMAGE;

/// Deadline for connect + ping.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Deadline for ordinary control calls (inspect, create, start, remove).
pub const CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// A connected Docker engine.
#[derive(Clone, Debug)]
pub struct Engine {
    docker: Docker,
    host: String,
}

/// What `inspect` tells us about one container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerInfo {
    pub id: String,
    pub name: String,
    pub running: bool,
    pub image: Option<String>,
    pub labels: HashMap<String, String>,
    pub oom_killed: bool,
}

/// One published port as the engine reports it (`docker port`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedPort {
    /// `<port>/<proto>` inside the container.
    pub container_port: String,
    pub host_ip: String,
    pub host_port: u16,
}

/// Network names Docker provides itself; they are never created.
const BUILTIN_NETWORKS: &[&str] = &["bridge", "host", "none", "default"];

impl ContainerInfo {
    pub fn config_hash(&self) -> Option<&str> {
        self.labels.get(LABEL_CONFIG_HASH).map(String::as_str)
    }
    pub fn created_at_ms(&self) -> Option<i64> {
        self.labels
            .get(LABEL_CREATED_AT)
            .and_then(|v| v.parse().ok())
    }
    pub fn scope_key(&self) -> Option<&str> {
        self.labels.get(LABEL_SESSION_KEY).map(String::as_str)
    }
}

pub(crate) async fn deadline<T>(
    op: &'static str,
    after: Duration,
    fut: impl Future<Output = Result<T, BollardError>>,
) -> Result<T, SandboxError> {
    match tokio::time::timeout(after, fut).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(SandboxError::docker(op, e)),
        Err(_) => Err(SandboxError::Timeout { op, after }),
    }
}

fn is_not_found(e: &BollardError) -> bool {
    matches!(
        e,
        BollardError::DockerResponseServerError {
            status_code: 404,
            ..
        }
    )
}

impl Engine {
    /// Connect to `$DOCKER_HOST` or the default unix socket, negotiate the version and ping.
    pub async fn connect() -> Result<Engine, SandboxError> {
        let host = std::env::var("DOCKER_HOST").ok().filter(|h| !h.is_empty());
        Engine::connect_to(host.as_deref()).await
    }

    /// Connect to an explicit host (`unix:///path`, `tcp://…`), or the default socket with `None`.
    pub async fn connect_to(host: Option<&str>) -> Result<Engine, SandboxError> {
        let shown = host.unwrap_or("unix:///var/run/docker.sock").to_string();
        let unreachable = |detail: String| SandboxError::DockerUnreachable {
            host: shown.clone(),
            detail,
        };
        let docker = match host {
            None => Docker::connect_with_unix_defaults(),
            Some(h) if h.starts_with("unix://") => {
                Docker::connect_with_unix(h, CALL_TIMEOUT.as_secs(), bollard::API_DEFAULT_VERSION)
            }
            Some(h) => Docker::connect_with_host(h),
        }
        .map_err(|e| unreachable(e.to_string()))?;
        let docker = match tokio::time::timeout(CONNECT_TIMEOUT, docker.negotiate_version()).await {
            Ok(Ok(d)) => d,
            Ok(Err(e)) => return Err(unreachable(e.to_string())),
            Err(_) => return Err(unreachable(format!("no answer within {CONNECT_TIMEOUT:?}"))),
        };
        match tokio::time::timeout(CONNECT_TIMEOUT, docker.ping()).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => return Err(unreachable(e.to_string())),
            Err(_) => {
                return Err(unreachable(format!(
                    "ping timed out after {CONNECT_TIMEOUT:?}"
                )));
            }
        }
        Ok(Engine {
            docker,
            host: shown,
        })
    }

    /// The endpoint we talk to (for messages).
    pub fn host(&self) -> &str {
        &self.host
    }

    pub(crate) fn docker(&self) -> &Docker {
        &self.docker
    }

    /// Ping under the connect timeout.
    pub async fn ping(&self) -> Result<(), SandboxError> {
        deadline("ping", CONNECT_TIMEOUT, self.docker.ping())
            .await
            .map(|_| ())
    }

    /// Whether `image` exists locally.
    pub async fn image_exists(&self, image: &str) -> Result<bool, SandboxError> {
        match tokio::time::timeout(CALL_TIMEOUT, self.docker.inspect_image(image)).await {
            Ok(Ok(_)) => Ok(true),
            Ok(Err(e)) if is_not_found(&e) => Ok(false),
            Ok(Err(e)) => Err(SandboxError::docker("image inspect", e)),
            Err(_) => Err(SandboxError::Timeout {
                op: "image inspect",
                after: CALL_TIMEOUT,
            }),
        }
    }

    /// Fail fast (with the build command) when `image` is missing.
    pub async fn ensure_image(&self, image: &str) -> Result<(), SandboxError> {
        if self.image_exists(image).await? {
            return Ok(());
        }
        let hint = if image == DEFAULT_IMAGE {
            "Build it with scripts/sandbox-setup.sh (offline: scripts/test-images.sh --debian first), or set agents.defaults.sandbox.docker.image".to_string()
        } else {
            "Build or pull it first, or set agents.defaults.sandbox.docker.image".to_string()
        };
        Err(SandboxError::ImageMissing {
            image: image.to_string(),
            hint,
        })
    }

    /// Inspect a container by name; `None` when it does not exist.
    pub async fn inspect(&self, name: &str) -> Result<Option<ContainerInfo>, SandboxError> {
        let res =
            tokio::time::timeout(CALL_TIMEOUT, self.docker.inspect_container(name, None)).await;
        let c = match res {
            Ok(Ok(c)) => c,
            Ok(Err(e)) if is_not_found(&e) => return Ok(None),
            Ok(Err(e)) => return Err(SandboxError::docker("inspect", e)),
            Err(_) => {
                return Err(SandboxError::Timeout {
                    op: "inspect",
                    after: CALL_TIMEOUT,
                });
            }
        };
        let state = c.state.unwrap_or_default();
        let config = c.config.unwrap_or_default();
        Ok(Some(ContainerInfo {
            id: c.id.unwrap_or_default(),
            name: c
                .name
                .unwrap_or_default()
                .trim_start_matches('/')
                .to_string(),
            running: state.running.unwrap_or(false),
            oom_killed: state.oom_killed.unwrap_or(false),
            image: config.image,
            labels: config.labels.unwrap_or_default(),
        }))
    }

    /// Create a container with the given name.
    pub async fn create(
        &self,
        name: &str,
        body: ContainerCreateBody,
    ) -> Result<String, SandboxError> {
        let opts = CreateContainerOptionsBuilder::default().name(name).build();
        let r = deadline(
            "create",
            CALL_TIMEOUT,
            self.docker.create_container(Some(opts), body),
        )
        .await?;
        Ok(r.id)
    }

    /// Start a container.
    pub async fn start(&self, name: &str) -> Result<(), SandboxError> {
        deadline(
            "start",
            CALL_TIMEOUT,
            self.docker.start_container(name, None),
        )
        .await
    }

    /// `docker rm -f`; a missing container is not an error.
    pub async fn remove(&self, name: &str) -> Result<(), SandboxError> {
        let opts = RemoveContainerOptionsBuilder::default()
            .force(true)
            .v(true)
            .build();
        match tokio::time::timeout(CALL_TIMEOUT, self.docker.remove_container(name, Some(opts)))
            .await
        {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) if is_not_found(&e) => Ok(()),
            Ok(Err(BollardError::DockerResponseServerError {
                status_code: 409, ..
            })) => Ok(()),
            Ok(Err(e)) => Err(SandboxError::docker("rm -f", e)),
            Err(_) => Err(SandboxError::Timeout {
                op: "rm -f",
                after: CALL_TIMEOUT,
            }),
        }
    }

    /// The container's published ports (empty when it is not running or does not exist).
    pub async fn published_ports(&self, name: &str) -> Result<Vec<PublishedPort>, SandboxError> {
        let res =
            tokio::time::timeout(CALL_TIMEOUT, self.docker.inspect_container(name, None)).await;
        let c = match res {
            Ok(Ok(c)) => c,
            Ok(Err(e)) if is_not_found(&e) => return Ok(Vec::new()),
            Ok(Err(e)) => return Err(SandboxError::docker("port", e)),
            Err(_) => {
                return Err(SandboxError::Timeout {
                    op: "port",
                    after: CALL_TIMEOUT,
                });
            }
        };
        let mut out = Vec::new();
        let ports = c.network_settings.and_then(|n| n.ports).unwrap_or_default();
        for (container_port, bindings) in ports {
            for b in bindings.unwrap_or_default() {
                if let Some(host_port) = b.host_port.and_then(|p| p.parse().ok()) {
                    out.push(PublishedPort {
                        container_port: container_port.clone(),
                        host_ip: b.host_ip.unwrap_or_default(),
                        host_port,
                    });
                }
            }
        }
        out.sort_by(|a, b| (&a.container_port, a.host_port).cmp(&(&b.container_port, b.host_port)));
        Ok(out)
    }

    /// Create `name` as a local bridge network unless it exists (a built-in name is left alone).
    /// Engines before API 1.44 accept duplicate network names, and a container joining an
    /// ambiguous name fails, so creates are serialized process-wide.
    pub async fn ensure_network(
        &self,
        name: &str,
        labels: HashMap<String, String>,
    ) -> Result<(), SandboxError> {
        static CREATE: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
        if BUILTIN_NETWORKS.contains(&name) {
            return Ok(());
        }
        let _serial = CREATE.lock().await;
        match tokio::time::timeout(CALL_TIMEOUT, self.docker.inspect_network(name, None)).await {
            Ok(Ok(_)) => return Ok(()),
            Ok(Err(e)) if is_not_found(&e) => {}
            Ok(Err(e)) => return Err(SandboxError::docker("network inspect", e)),
            Err(_) => {
                return Err(SandboxError::Timeout {
                    op: "network inspect",
                    after: CALL_TIMEOUT,
                });
            }
        }
        let req = NetworkCreateRequest {
            name: name.to_string(),
            driver: Some("bridge".to_string()),
            labels: Some(labels),
            ..Default::default()
        };
        match tokio::time::timeout(CALL_TIMEOUT, self.docker.create_network(req)).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(BollardError::DockerResponseServerError {
                status_code: 409, ..
            })) => Ok(()),
            Ok(Err(e)) => Err(SandboxError::docker("network create", e)),
            Err(_) => Err(SandboxError::Timeout {
                op: "network create",
                after: CALL_TIMEOUT,
            }),
        }
    }

    /// The IPv4 gateway of network `name` (the address host-published traffic arrives from);
    /// `None` when the network has none.
    pub async fn network_gateway(
        &self,
        name: &str,
    ) -> Result<Option<std::net::Ipv4Addr>, SandboxError> {
        let net = deadline(
            "network inspect",
            CALL_TIMEOUT,
            self.docker.inspect_network(name, None),
        )
        .await?;
        Ok(net
            .ipam
            .and_then(|i| i.config)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|c| c.gateway?.parse().ok())
            .next())
    }

    /// The last `lines` lines of the container's output (best effort, for error messages).
    pub async fn tail_logs(&self, name: &str, lines: usize) -> String {
        use futures::StreamExt;
        let opts = LogsOptionsBuilder::default()
            .stdout(true)
            .stderr(true)
            .tail(&lines.to_string())
            .build();
        let mut stream = self.docker.logs(name, Some(opts));
        let mut out = String::new();
        let read = async {
            while let Some(Ok(chunk)) = stream.next().await {
                out.push_str(&String::from_utf8_lossy(&chunk.into_bytes()));
                if out.len() > 16 * 1024 {
                    break;
                }
            }
        };
        let _ = tokio::time::timeout(Duration::from_secs(5), read).await;
        out
    }

    /// Names of all containers carrying `openclaw.sandbox=1` (plus an optional extra label filter).
    pub async fn list_sandbox_containers(
        &self,
        extra_label: Option<&str>,
    ) -> Result<Vec<String>, SandboxError> {
        let mut labels = vec![format!("{LABEL_SANDBOX}=1")];
        if let Some(l) = extra_label {
            labels.push(l.to_string());
        }
        let filters = HashMap::from([("label".to_string(), labels)]);
        let opts = ListContainersOptionsBuilder::default()
            .all(true)
            .filters(&filters)
            .build();
        let list = deadline("ps", CALL_TIMEOUT, self.docker.list_containers(Some(opts))).await?;
        Ok(list
            .into_iter()
            .filter_map(|c| c.names.and_then(|n| n.into_iter().next()))
            .map(|n| n.trim_start_matches('/').to_string())
            .collect())
    }
}
