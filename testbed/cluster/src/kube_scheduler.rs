//! kube-scheduler (v1.35.4, wrapper `testbed/go/kube-node`) on the host: Argo's pods
//! carry no node name. No leader election (one scheduler), no serving port.

use std::path::{Path, PathBuf};

use crate::error::ClusterError;
use crate::process::Server;

/// A running kube-scheduler. Dropping it kills it.
#[derive(Debug)]
pub struct KubeScheduler {
    server: Server,
}

impl KubeScheduler {
    /// Starts it with `kubeconfig` (as `system:kube-scheduler`, which the API server's
    /// bootstrap RBAC binds), written under `dir`.
    pub fn start(
        dir: &Path,
        bin: &Path,
        kubeconfig: &str,
        group: Option<u32>,
    ) -> Result<KubeScheduler, ClusterError> {
        let file = write_kubeconfig(dir, "kube-scheduler", kubeconfig)?;
        let args = vec![
            format!("--kubeconfig={}", file.display()),
            format!("--authentication-kubeconfig={}", file.display()),
            format!("--authorization-kubeconfig={}", file.display()),
            "--secure-port=0".into(),
            "--leader-elect=false".into(),
            "--v=1".into(),
        ];
        let server = Server::spawn(
            "kube-scheduler",
            bin,
            &args,
            dir.join("kube-scheduler.log"),
            group,
        )?;
        Ok(KubeScheduler { server })
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

/// Writes `dir/<name>.kubeconfig`.
pub(crate) fn write_kubeconfig(
    dir: &Path,
    name: &str,
    text: &str,
) -> Result<PathBuf, ClusterError> {
    let path = dir.join(format!("{name}.kubeconfig"));
    std::fs::write(&path, text).map_err(|e| ClusterError::io("cannot write", &path, e))?;
    Ok(path)
}
