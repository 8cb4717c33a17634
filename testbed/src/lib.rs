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
//! - The API double ([`TestBed`], the `server` module): a hand-written Kubernetes API that
//!   no test of the launcher's outcomes uses any more (they run on the real ACK
//!   controller); it is removed next. It applies the [`Fault`]s that need no server behind
//!   them (delays, status answers).
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
mod api_error;
mod clock;
mod crd;
mod http;
mod kubeconfig;
mod patch;
mod proxy;
mod schema;
mod selector;
mod server;
mod store;

/// The real control plane ([`cluster::Cluster`]), re-exported for the tests.
pub use cluster;
pub use cluster::TlsError;

pub use api_error::{ApiError, Cause};
pub use clock::rfc3339;
pub use crd::{Crd, CrdError, CrdVersion};
pub use kubeconfig::TOKEN;
pub use proxy::{Fault, FaultProxy, RequestLog, RequestRecord, Verb};
pub use server::{
    Faults, Options, StartError, TestBed, WaitTimeout, fixture, fixture_path, training_job_crd_path,
};
pub use store::{EventType, StoredEvent};

/// Names one served resource: API group, version and plural (the URL segments).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ResourceRef {
    /// API group, e.g. `sagemaker.services.k8s.aws`.
    pub group: String,
    /// Version, e.g. `v1alpha1`.
    pub version: String,
    /// Plural, e.g. `trainingjobs`.
    pub plural: String,
}

impl ResourceRef {
    /// `sagemaker.services.k8s.aws/v1alpha1` `trainingjobs`.
    pub fn training_job() -> ResourceRef {
        ResourceRef {
            group: "sagemaker.services.k8s.aws".into(),
            version: "v1alpha1".into(),
            plural: "trainingjobs".into(),
        }
    }
}
