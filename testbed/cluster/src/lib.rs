//! A real control plane for tests, envtest-style: etcd 3.6 and kube-apiserver 1.35 built
//! from Go modules ([`Tool`]), started as child processes on 127.0.0.1 with per-run
//! certificates, tokens and service-account keys, and stopped when the [`Cluster`] is
//! dropped (a watchdog kills them if the test process dies without dropping it).
//!
//! ```no_run
//! let cluster = cluster::Cluster::start().unwrap();
//! cluster.create_namespace("team-a").unwrap();
//! cluster.write_kubeconfig("/tmp/kubeconfig", "team-a").unwrap();
//! // ... run a client with KUBECONFIG=/tmp/kubeconfig; dropping `cluster` stops it all.
//! ```
//!
//! kube-apiserver runs as envtest configures it (controller-runtime's
//! `pkg/internal/testing/controlplane/apiserver.go`): RBAC authorization, a service
//! cluster IP range of `10.0.0.0/24`, privileged containers allowed, the `ServiceAccount`
//! admission plugin disabled (no controller-manager creates the `default` accounts), the
//! service-account issuer at its own URL. Unlike envtest, the harness authenticates with a
//! static token in `system:masters` rather than a client certificate, so the kubeconfigs it
//! writes hold only tokens.

mod ack_controller;
pub mod argo;
mod cgroups;
pub mod containerd;
mod control_plane;
mod error;
mod go_build;
pub mod images;
pub mod kube_controller_manager;
pub mod kube_proxy;
pub mod kube_scheduler;
pub mod kubeconfig;
pub mod kubelet;
pub mod netns;
mod process;
mod random;
pub mod registry;
pub mod s3;
mod stack;
mod teardown;
pub mod tls;

pub use ack_controller::{
    AckController, CONTROLLER_VERSION, ControllerOptions, KINDS, RUNTIME_VERSION, release_crds,
};
pub use control_plane::{Cluster, Detached, Identity, SERVICE_CIDR, established};
pub use error::ClusterError;
pub use go_build::{BuildError, Tool, go_dir};
pub use stack::{DetachedStack, Stack, StackOptions};
pub use tls::TlsError;
