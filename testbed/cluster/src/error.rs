//! The harness's one error type.

use std::path::{Path, PathBuf};

use crate::go_build::BuildError;
use crate::tls::TlsError;

/// Starting or using the cluster failed. Its `Debug` is its message, so a test's
/// `.expect(...)` says what to do (e.g. install Go) instead of printing a struct.
#[derive(thiserror::Error)]
pub enum ClusterError {
    /// A Go tool could not be built.
    #[error(transparent)]
    Build(#[from] BuildError),
    /// A file or process operation failed.
    #[error("{what} {path}: {source}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// The file or program.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// Certificates could not be generated.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// A server process exited.
    #[error("{name} exited ({status}); its log ends with:\n{log_tail}")]
    Exited {
        /// etcd or kube-apiserver.
        name: &'static str,
        /// The exit status.
        status: String,
        /// The log's last lines.
        log_tail: String,
    },
    /// A server did not become ready in time.
    #[error("{name} did not become ready; its log ends with:\n{log_tail}")]
    NotReady {
        /// etcd or kube-apiserver.
        name: &'static str,
        /// The log's last lines.
        log_tail: String,
    },
    /// The Kubernetes API refused a request of the harness.
    #[error("kubernetes API: {0}")]
    Kube(#[from] kube::Error),
    /// A kubeconfig or manifest could not be read.
    #[error("{0}")]
    Invalid(String),
}

impl std::fmt::Debug for ClusterError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

impl ClusterError {
    /// A file or process operation on `path` failed.
    pub fn io(what: &'static str, path: &Path, source: std::io::Error) -> ClusterError {
        ClusterError::Io {
            what,
            path: path.to_path_buf(),
            source,
        }
    }
}
