//! containerd (Debian's package, 1.6) as the node's container runtime, with runc and the
//! CNI plugins from Debian too, inside the node's namespaces and with every path of its
//! own under the cluster's directory: root, state, socket, runc's root, the CNI
//! configuration and the host-local IP leases, the registry configuration.
//!
//! Settings this machine needs (`../shared/reference/single-node-kubernetes.md`):
//! `restrict_oom_score_adj` (this VM refuses negative OOM scores, which the kubelet gives
//! every sandbox: without it every pod fails with "can't get final child's PID from
//! pipe"), the pods' network namespaces under the state directory, and registries reached
//! over plain HTTP through `certs.d/<host>/hosts.toml`.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::error::ClusterError;
use crate::netns::NodeNamespace;
use crate::process::{Server, log_tail};

/// The pods' addresses, inside the node's network namespace only.
pub const POD_CIDR: &str = "10.88.0.0/16";

/// Where Debian's `containernetworking-plugins` installs the plugins.
const CNI_BIN_DIR: &str = "/usr/lib/cni";

/// A running containerd. Dropping it kills containerd; its shims and their containers
/// are the teardown's (they leave the process group).
#[derive(Debug)]
pub struct Containerd {
    server: Server,
    socket: PathBuf,
}

/// What containerd is configured with.
#[derive(Debug, Clone)]
pub struct ContainerdConfig {
    /// The sandbox ("pause") image every pod starts with.
    pub sandbox_image: String,
    /// Registries (`host:port`) reached over plain HTTP, and the registry (`host:port`)
    /// that stands in for Docker Hub, so that an image named without a registry
    /// (`ack-sagemaker-kfp-launcher:0.1.0`, as the committed components name it) is
    /// pulled from it as it would be from a mirror in an air-gapped cluster.
    pub plain_http: Vec<String>,
    pub docker_hub_mirror: Option<String>,
}

impl Containerd {
    /// Writes the configuration under `dir/containerd`, starts containerd in the node's
    /// namespaces and waits for its socket.
    pub fn start(
        dir: &Path,
        node: &NodeNamespace,
        config: &ContainerdConfig,
        group: Option<u32>,
    ) -> Result<Containerd, ClusterError> {
        let base = dir.join("containerd");
        let certs = base.join("certs.d");
        let cni_conf = base.join("cni");
        for d in [&base, &certs, &cni_conf] {
            std::fs::create_dir_all(d).map_err(|e| ClusterError::io("cannot create", d, e))?;
        }
        let write = |path: PathBuf, text: String| {
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(|e| ClusterError::io("cannot create", parent, e))?;
            }
            std::fs::write(&path, text).map_err(|e| ClusterError::io("cannot write", &path, e))
        };
        for host in &config.plain_http {
            write(certs.join(host).join("hosts.toml"), hosts_toml(host))?;
        }
        if let Some(mirror) = &config.docker_hub_mirror {
            write(
                certs.join("docker.io").join("hosts.toml"),
                hosts_toml(mirror),
            )?;
        }
        write(
            cni_conf.join("10-ack-kfp.conflist"),
            cni_conflist(&base.join("ipam")),
        )?;
        let socket = base.join("containerd.sock");
        let config_file = base.join("config.toml");
        write(
            config_file.clone(),
            config_toml(&base, &socket, &certs, &cni_conf, &config.sandbox_image),
        )?;
        let mut command = node.command(Path::new("containerd"));
        command.arg("--config").arg(&config_file);
        let mut server =
            Server::spawn_command("containerd", command, dir.join("containerd.log"), group)?;
        let deadline = Instant::now() + Duration::from_secs(30);
        while !socket.exists() {
            server.check_running()?;
            if Instant::now() > deadline {
                return Err(ClusterError::NotReady {
                    name: "containerd",
                    log_tail: log_tail(&server.log),
                });
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(Containerd { server, socket })
    }

    /// The CRI endpoint for the kubelet (`unix://...`).
    pub fn endpoint(&self) -> String {
        format!("unix://{}", self.socket.display())
    }

    /// containerd's log.
    pub fn log(&self) -> &Path {
        &self.server.log
    }

    /// Leaves containerd running when this handle is dropped.
    pub fn detach(&mut self) {
        self.server.detach();
    }
}

/// A registry reached over plain HTTP, for pulling.
fn hosts_toml(host: &str) -> String {
    format!(
        "server = \"http://{host}\"\n\n[host.\"http://{host}\"]\n  capabilities = [\"pull\", \"resolve\"]\n"
    )
}

/// The pods' network: a bridge with the gateway on it, host-local addresses, and
/// masquerading of what leaves the pod range (the host answers the node's address).
fn cni_conflist(ipam_dir: &Path) -> String {
    serde_json::json!({
        "cniVersion": "1.0.0",
        "name": "ack-kfp",
        "plugins": [{
            "type": "bridge",
            "bridge": "cni0",
            "isGateway": true,
            "ipMasq": true,
            "hairpinMode": true,
            "ipam": {
                "type": "host-local",
                "ranges": [[{"subnet": POD_CIDR}]],
                "routes": [{"dst": "0.0.0.0/0"}],
                "dataDir": ipam_dir,
            },
        }],
    })
    .to_string()
}

fn config_toml(
    base: &Path,
    socket: &Path,
    certs: &Path,
    cni_conf: &Path,
    sandbox_image: &str,
) -> String {
    let b = base.display();
    format!(
        r#"version = 2
root = "{b}/root"
state = "{b}/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]

[grpc]
  address = "{socket}"

[plugins."io.containerd.internal.v1.opt"]
  path = "{b}/opt"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "{sandbox_image}"
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  stream_server_address = "127.0.0.1"
  enable_unprivileged_ports = false

  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "{CNI_BIN_DIR}"
    conf_dir = "{cni_conf}"

  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
    runtime_type = "io.containerd.runc.v2"

    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
      Root = "{b}/runc"

  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "{certs}"
"#,
        socket = socket.display(),
        cni_conf = cni_conf.display(),
        certs = certs.display(),
    )
}
