//! How a run ends, and the exit code each ending gets.
//!
//! | code | meaning |
//! |---|---|
//! | 0 | the job succeeded |
//! | 1 | the job failed: SageMaker or the ACK controller said so (Failed, Stopped, ACK.Terminal, a validation error, a failed debug rule) |
//! | 2 | the inputs are invalid; nothing was sent to the cluster |
//! | 3 | the Kubernetes API could not be reached or kept failing |
//! | 4 | the Kubernetes API refused the launcher's credentials (401/403): check its RBAC |
//! | 5 | timed out: the controller wrote no status, a recoverable error did not clear, or `--time-limit` passed |
//! | 6 | a resource of that name exists and is not this step's (other inputs, or another run or step), and the kind cannot be updated |
//! | 7 | the Kubernetes client configuration is unusable: kubeconfig, in-cluster config, TLS/CA |
//! | 8 | the API server refused the resource (400/413/422: the CRD's schema or a size limit) |
//! | 9 | the cluster's resource does not decode into the generated types: regenerate for the installed controller |
//! | 10 | the job succeeded, but the outputs could not be written |
//! | 130, 143 | cancelled by SIGINT or SIGTERM; this step's resource was deleted |

use std::process::ExitCode;

#[derive(Debug, thiserror::Error)]
pub enum Failure {
    #[error("{0}")]
    JobFailed(String),
    #[error("{0}")]
    InvalidInput(String),
    #[error("{0}")]
    Unreachable(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    TimedOut(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Config(String),
    #[error("{0}")]
    Refused(String),
    #[error("{0}")]
    Undecodable(String),
    #[error("{0}")]
    OutputsNotWritten(String),
    #[error("cancelled by {0}")]
    Cancelled(Signal),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signal {
    Interrupt,
    Terminate,
}

impl std::fmt::Display for Signal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Signal::Interrupt => "SIGINT",
            Signal::Terminate => "SIGTERM",
        })
    }
}

impl Failure {
    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(match self {
            Failure::JobFailed(_) => 1,
            Failure::InvalidInput(_) => 2,
            Failure::Unreachable(_) => 3,
            Failure::Forbidden(_) => 4,
            Failure::TimedOut(_) => 5,
            Failure::Conflict(_) => 6,
            Failure::Config(_) => 7,
            Failure::Refused(_) => 8,
            Failure::Undecodable(_) => 9,
            Failure::OutputsNotWritten(_) => 10,
            Failure::Cancelled(Signal::Interrupt) => 130,
            Failure::Cancelled(Signal::Terminate) => 143,
        })
    }
}
