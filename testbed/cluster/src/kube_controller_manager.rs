//! kube-controller-manager (v1.35.4, wrapper `testbed/go/kube-node`) on the host. Without
//! it the node keeps its `node.kubernetes.io/not-ready:NoSchedule` taint (the node
//! lifecycle controller removes it), no namespace gets the `kube-root-ca.crt` ConfigMap
//! that every pod's service-account volume projects, deleted workflows keep their pods
//! (garbage collector), and no `default` ServiceAccount is made.
//!
//! Each controller runs with its own service account's credentials
//! (`--use-service-account-credentials`), as kubeadm runs it; no serving port, no leader
//! election, no certificate signing (the CSR and bootstrap-token controllers stay off).

use std::path::Path;

use crate::error::ClusterError;
use crate::kube_scheduler::write_kubeconfig;
use crate::process::Server;

/// A running kube-controller-manager. Dropping it kills it.
#[derive(Debug)]
pub struct KubeControllerManager {
    server: Server,
}

impl KubeControllerManager {
    /// Starts it with `kubeconfig` (as `system:kube-controller-manager`), the cluster's CA
    /// (`ca_file`, published to every namespace) and the service-account signing key.
    pub fn start(
        dir: &Path,
        bin: &Path,
        kubeconfig: &str,
        ca_file: &Path,
        service_account_key: &Path,
        group: Option<u32>,
    ) -> Result<KubeControllerManager, ClusterError> {
        let file = write_kubeconfig(dir, "kube-controller-manager", kubeconfig)?;
        let args = vec![
            format!("--kubeconfig={}", file.display()),
            format!("--authentication-kubeconfig={}", file.display()),
            format!("--authorization-kubeconfig={}", file.display()),
            format!("--root-ca-file={}", ca_file.display()),
            format!(
                "--service-account-private-key-file={}",
                service_account_key.display()
            ),
            "--use-service-account-credentials=true".into(),
            "--controllers=*,-csrsigning,-csrapproving,-csrcleaner,-bootstrapsigner,-tokencleaner"
                .into(),
            "--secure-port=0".into(),
            "--leader-elect=false".into(),
            // Notice a node that stopped reporting within seconds, not 40.
            "--node-monitor-period=2s".into(),
            "--v=1".into(),
        ];
        let server = Server::spawn(
            "kube-controller-manager",
            bin,
            &args,
            dir.join("kube-controller-manager.log"),
            group,
        )?;
        Ok(KubeControllerManager { server })
    }

    /// Fails with the log's tail if it has exited.
    pub fn check_running(&mut self) -> Result<(), ClusterError> {
        self.server.check_running()
    }

    /// Leaves it running when this handle is dropped.
    pub fn detach(&mut self) {
        self.server.detach();
    }
}
