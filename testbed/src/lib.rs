//! # testbed: the launcher's test kit
//!
//! Test support (not shipped), around one model of Kubernetes: the real one.
//! - [`cluster`] (re-exported, a crate of its own so that xtask can use it alone): a real
//!   kube-apiserver and etcd, built from Go modules and started the way envtest does.
//! - [`FaultProxy`]: an HTTPS proxy in front of that server for what it will not do on
//!   demand. Each [`Fault`] applies to the next matching requests (a count, one [`Verb`],
//!   a path): an answer with any code and a Kubernetes `Status` (403, 410, 500, 503...),
//!   429 with `Retry-After`, a delay (a slow answer; a create that lands late), a lost
//!   answer (forwarded, the server acts, the client gets a 5xx), a watch answered with one
//!   `ERROR` event (410 `Expired`, 500, 403), a watch stream ended cleanly after N events or
//!   a time, a watch connection reset; and refused connections for a while. It logs every
//!   request with what the client got ([`RequestLog`]: verb, path, query, body, status,
//!   when). Everything else is the real server's answer, with the client's own token.
//! - [`ack`]: the real ACK SageMaker controller's stack ([`cluster::AckController`] with our
//!   SageMaker API, `sagemaker-emulator`), a namespace per test.
//!
//! ```no_run
//! use testbed::{Fault, FaultProxy, Verb, cluster::Cluster};
//!
//! let cluster = Cluster::start().unwrap();
//! cluster.create_namespace("team-a").unwrap();
//! let proxy = FaultProxy::start(&cluster).unwrap();
//! proxy.inject(Fault::status(503).times(2).only(Verb::Create));
//! let kubeconfig = proxy.kubeconfig_yaml(&cluster.kubeconfig_yaml("team-a"), &cluster);
//! std::fs::write("/tmp/kubeconfig", kubeconfig).unwrap();
//! // ... run the launcher with KUBECONFIG=/tmp/kubeconfig, then assert:
//! assert_eq!(proxy.requests().count(Verb::Create), 3);
//! ```

pub mod ack;
mod proxy;

/// The real control plane ([`cluster::Cluster`]), re-exported for the tests.
pub use cluster;
pub use cluster::TlsError;

pub use proxy::{Fault, FaultProxy, RequestLog, RequestRecord, Verb};
