//! The kubelet (`k8s.io/kubernetes` v1.35.4, wrapper `testbed/go/kube-node`) inside the
//! node's namespaces, registering the node `<name>` with the node's address, running its
//! pods on [`crate::containerd::Containerd`] under the node's own cgroup root.
//!
//! What this machine needs (`../shared/reference/single-node-kubernetes.md`): cgroup v1
//! allowed (`failCgroupV1: false`), the `cgroupfs` driver (no systemd), swap tolerated,
//! no negative OOM score for itself. Every path is under the cluster's directory: the
//! root directory (pods' volumes), the certificate directory, the pods' logs, the volume
//! plugins' directory. It serves on the node's address only, with a certificate from the
//! cluster's CA; the API server authenticates to it with a client certificate of that CA
//! and the kubelet asks the API server whether a caller may (webhook authorization), as
//! in a kubeadm cluster: `kubectl logs` works, nobody else gets in.

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use crate::error::ClusterError;
use crate::process::Server;
use crate::tls::Ca;

/// What the kubelet is given.
#[derive(Debug, Clone)]
pub struct KubeletConfig {
    /// The node's name.
    pub node_name: String,
    /// The node's address (its end of the veth pair).
    pub node_address: Ipv4Addr,
    /// The kubelet's kubeconfig (as `system:node:<name>`).
    pub kubeconfig: String,
    /// containerd's CRI endpoint.
    pub runtime_endpoint: String,
    /// The node's cgroup root (`/<name>`).
    pub cgroup_root: String,
}

/// A running kubelet. Dropping it kills it (the pods it started are containerd's).
#[derive(Debug)]
pub struct Kubelet {
    server: Server,
}

impl Kubelet {
    /// Writes its configuration, certificate and kubeconfig under `dir/kubelet` and
    /// starts it with `command` (the node's `nsenter`).
    pub fn start(
        dir: &Path,
        mut command: std::process::Command,
        ca: &Ca,
        config: &KubeletConfig,
        group: Option<u32>,
    ) -> Result<Kubelet, ClusterError> {
        let base = dir.join("kubelet");
        for sub in ["root", "pki", "pod-logs", "volume-plugins"] {
            let d = base.join(sub);
            std::fs::create_dir_all(&d).map_err(|e| ClusterError::io("cannot create", &d, e))?;
        }
        let write = |name: &str, text: &str| -> Result<PathBuf, ClusterError> {
            let path = base.join(name);
            std::fs::write(&path, text).map_err(|e| ClusterError::io("cannot write", &path, e))?;
            Ok(path)
        };
        let serving = ca.serving_cert(
            &config.node_name,
            &[config.node_address.to_string(), config.node_name.clone()],
        )?;
        let cert = write("kubelet.crt", &serving.chain_pem)?;
        let key = write("kubelet.key", &serving.key_pem)?;
        let client_ca = write("client-ca.crt", ca.pem())?;
        let kubeconfig = write("kubeconfig", &config.kubeconfig)?;
        let settings = serde_json::json!({
            "apiVersion": "kubelet.config.k8s.io/v1beta1",
            "kind": "KubeletConfiguration",
            "address": config.node_address.to_string(),
            "port": 10250,
            "readOnlyPort": 0,
            "healthzBindAddress": "127.0.0.1",
            "healthzPort": 10248,
            "tlsCertFile": cert,
            "tlsPrivateKeyFile": key,
            "authentication": {
                "anonymous": {"enabled": false},
                "webhook": {"enabled": true},
                "x509": {"clientCAFile": client_ca},
            },
            "authorization": {"mode": "Webhook"},
            "containerRuntimeEndpoint": config.runtime_endpoint,
            "cgroupDriver": "cgroupfs",
            "cgroupRoot": config.cgroup_root,
            "failCgroupV1": false,
            "failSwapOn": false,
            "oomScoreAdj": 0,
            "podLogsDir": base.join("pod-logs"),
            "volumePluginDir": base.join("volume-plugins"),
            "resolvConf": "/etc/resolv.conf",
            "serializeImagePulls": false,
            // The disk is shared with everything else on the machine: evict only when it
            // is really full, and never collect images during a test.
            "evictionHard": {
                "memory.available": "100Mi",
                "nodefs.available": "1%",
                "nodefs.inodesFree": "1%",
                "imagefs.available": "1%",
            },
            "imageGCHighThresholdPercent": 100,
            "imageGCLowThresholdPercent": 99,
            // Status every few seconds: a test waits for Ready, not for a minute.
            "nodeStatusUpdateFrequency": "4s",
            "syncFrequency": "10s",
        });
        let config_file = write("config.json", &settings.to_string())?;
        command
            .arg(format!("--config={}", config_file.display()))
            .arg(format!("--kubeconfig={}", kubeconfig.display()))
            .arg(format!("--root-dir={}", base.join("root").display()))
            .arg(format!("--cert-dir={}", base.join("pki").display()))
            .arg(format!("--node-ip={}", config.node_address))
            .arg(format!("--hostname-override={}", config.node_name))
            .arg("--v=1");
        let server = Server::spawn_command("kubelet", command, dir.join("kubelet.log"), group)?;
        Ok(Kubelet { server })
    }

    /// Fails with the log's tail if the kubelet has exited.
    pub fn check_running(&mut self) -> Result<(), ClusterError> {
        self.server.check_running()
    }

    /// The kubelet's log.
    pub fn log(&self) -> &Path {
        &self.server.log
    }

    /// Leaves the kubelet running when this handle is dropped.
    pub fn detach(&mut self) {
        self.server.detach();
    }
}
