//! A real OCI registry on this machine: Debian's `docker-registry` (the reference
//! implementation, distribution 2.8), filesystem storage under the cluster's directory,
//! listening on the host's end of the node's veth pair (containerd in the node pulls from
//! it over plain HTTP; nothing beyond this machine can reach it). Images are pushed with
//! `skopeo copy` from OCI layouts, as `cargo xtask image --push` does.

use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use crate::error::ClusterError;
use crate::process::{Server, wait_for_addr};

/// The port on the host's end of the node's link (the address is the cluster's own).
pub const REGISTRY_PORT: u16 = 5000;

/// A running registry. Dropping it kills it.
#[derive(Debug)]
pub struct Registry {
    server: Server,
    addr: SocketAddr,
}

impl Registry {
    /// Starts `docker-registry serve` on `address:5000`, storing under `dir/registry`.
    pub fn start(
        dir: &Path,
        address: IpAddr,
        group: Option<u32>,
    ) -> Result<Registry, ClusterError> {
        which("docker-registry", "docker-registry")?;
        let base = dir.join("registry");
        std::fs::create_dir_all(&base).map_err(|e| ClusterError::io("cannot create", &base, e))?;
        let addr = SocketAddr::new(address, REGISTRY_PORT);
        let config = format!(
            "version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: {addr}\n  secret: {}\n",
            base.join("data").display(),
            crate::random::random_hex(16)?,
        );
        let config_file = base.join("config.yml");
        std::fs::write(&config_file, config)
            .map_err(|e| ClusterError::io("cannot write", &config_file, e))?;
        let mut server = Server::spawn(
            "docker-registry",
            Path::new("docker-registry"),
            &["serve".into(), config_file.display().to_string()],
            dir.join("registry.log"),
            group,
        )?;
        wait_for_addr(&mut server, addr, Duration::from_secs(30))?;
        Ok(Registry { server, addr })
    }

    /// `host:port`, the registry part of an image reference.
    pub fn host(&self) -> String {
        self.addr.to_string()
    }

    /// Pushes the image `tag` of the OCI layout `layout` as `<host>/<name>` (a reference
    /// without the registry, `repository:tag`); returns the full reference.
    pub fn push(&self, layout: &Path, tag: &str, name: &str) -> Result<String, ClusterError> {
        let reference = format!("{}/{name}", self.host());
        push(layout, tag, &reference)?;
        Ok(reference)
    }

    /// Leaves the registry running when this handle is dropped.
    pub fn detach(&mut self) {
        self.server.detach();
    }
}

/// `skopeo copy oci:<layout>:<tag> docker://<reference>`, plain HTTP allowed (a registry
/// on this machine).
pub fn push(layout: &Path, tag: &str, reference: &str) -> Result<(), ClusterError> {
    which("skopeo", "skopeo")?;
    crate::netns::run(
        "skopeo",
        &[
            "copy",
            "--quiet",
            "--dest-tls-verify=false",
            &format!("oci:{}:{tag}", layout.display()),
            &format!("docker://{reference}"),
        ],
    )
    .map(|_| ())
}

/// Fails with the Debian package to install when `program` is not on PATH.
pub(crate) fn which(program: &str, package: &str) -> Result<(), ClusterError> {
    let found = std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()));
    if found {
        Ok(())
    } else {
        Err(ClusterError::Invalid(format!(
            "`{program}` is not on PATH: a cluster with a node needs Debian's `{package}` \
             package (`apt-get install {package}`; .ci/run installs it; see README: Prerequisites)"
        )))
    }
}
