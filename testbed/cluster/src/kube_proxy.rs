//! kube-proxy (v1.35.4, wrapper `testbed/go/kube-node`) in iptables mode inside the
//! node's network namespace: the `kubernetes` Service's cluster IP (10.0.0.1:443), which
//! in-cluster clients (the launcher, Argo's executor) dial, reaches the API server on the
//! host's end of the node's veth pair. Its rules exist only in the node's namespace, so
//! two clusters never rewrite each other's chains.
//!
//! Settings: no conntrack or OOM-score changes (the node's namespace cannot change the
//! machine's conntrack limits, and this VM refuses negative OOM scores), node ports on the
//! node's address only, health and metrics on the namespace's loopback.

use std::net::Ipv4Addr;
use std::path::Path;

use crate::containerd::POD_CIDR;
use crate::error::ClusterError;
use crate::process::Server;

/// A running kube-proxy. Dropping it kills it; its rules go with the node's namespace.
#[derive(Debug)]
pub struct KubeProxy {
    server: Server,
}

impl KubeProxy {
    /// Writes its configuration and kubeconfig (`system:kube-proxy`) under
    /// `dir/kube-proxy` and starts it with `command` (the node's `nsenter`).
    pub fn start(
        dir: &Path,
        mut command: std::process::Command,
        kubeconfig: &str,
        node_name: &str,
        node_address: Ipv4Addr,
        group: Option<u32>,
    ) -> Result<KubeProxy, ClusterError> {
        let base = dir.join("kube-proxy");
        std::fs::create_dir_all(&base).map_err(|e| ClusterError::io("cannot create", &base, e))?;
        let kubeconfig_file = base.join("kubeconfig");
        std::fs::write(&kubeconfig_file, kubeconfig)
            .map_err(|e| ClusterError::io("cannot write", &kubeconfig_file, e))?;
        let settings = serde_json::json!({
            "apiVersion": "kubeproxy.config.k8s.io/v1alpha1",
            "kind": "KubeProxyConfiguration",
            "clientConnection": {"kubeconfig": kubeconfig_file},
            "mode": "iptables",
            "hostnameOverride": node_name,
            "bindAddress": node_address.to_string(),
            "healthzBindAddress": "127.0.0.1:10256",
            "metricsBindAddress": "127.0.0.1:10249",
            "clusterCIDR": POD_CIDR,
            "nodePortAddresses": [format!("{node_address}/32")],
            "oomScoreAdj": 0,
            "conntrack": {
                "maxPerCore": 0,
                "min": 0,
                "tcpEstablishedTimeout": "0s",
                "tcpCloseWaitTimeout": "0s",
            },
            "iptables": {"localhostNodePorts": false, "syncPeriod": "30s", "minSyncPeriod": "0s"},
        });
        let config_file = base.join("config.json");
        std::fs::write(&config_file, settings.to_string())
            .map_err(|e| ClusterError::io("cannot write", &config_file, e))?;
        command
            .arg(format!("--config={}", config_file.display()))
            .arg("--v=1");
        let server =
            Server::spawn_command("kube-proxy", command, dir.join("kube-proxy.log"), group)?;
        Ok(KubeProxy { server })
    }

    /// Fails with the log's tail if kube-proxy has exited.
    pub fn check_running(&mut self) -> Result<(), ClusterError> {
        self.server.check_running()
    }

    /// Leaves kube-proxy running when this handle is dropped.
    pub fn detach(&mut self) {
        self.server.detach();
    }
}
