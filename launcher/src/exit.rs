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
//!
//! Each ending is a type that says what happened; its text is written once, in its
//! `Display`.

use std::process::ExitCode;

#[derive(Debug, thiserror::Error)]
pub enum Failure {
    #[error("{0}")]
    JobFailed(JobFailure),
    #[error("{0}")]
    InvalidInput(InvalidInput),
    #[error("{0}")]
    Unreachable(Unreachable),
    #[error("{0}")]
    Forbidden(Forbidden),
    #[error("{0}")]
    TimedOut(Timeout),
    #[error("{0}")]
    Conflict(Conflict),
    #[error("{0}")]
    Config(ConfigError),
    #[error("{0}")]
    Refused(Refusal),
    #[error("{0}")]
    Undecodable(Undecodable),
    #[error("the job succeeded, but the outputs could not be written: {0}")]
    OutputsNotWritten(std::io::Error),
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

/// The resource ended badly, or went away.
#[derive(Debug, thiserror::Error)]
pub enum JobFailure {
    /// What its status means (the kind's rule, or the ACK conditions).
    #[error("{0}")]
    Failed(String),
    #[error("the resource was deleted before the job finished")]
    Deleted,
    #[error(
        "{0} was deleted and another resource of that name took its place; it is not this \
         step's, so it is not followed"
    )]
    Replaced(String),
}

/// What is wrong with the inputs, found before anything was sent.
#[derive(Debug, thiserror::Error)]
pub enum InvalidInput {
    /// One line per problem: `input `x` at `path`: what was expected`.
    #[error("{}", .0.join("\n"))]
    Problems(Vec<String>),
    #[error(
        "the resource is too large: {bytes} bytes of JSON, more than the {limit} bytes a \
         Kubernetes object may hold"
    )]
    TooLarge { bytes: usize, limit: usize },
    #[error("cannot print the resource: {0}")]
    Unprintable(String),
}

/// The Kubernetes API could not be reached, or kept failing.
#[derive(Debug, thiserror::Error)]
pub enum Unreachable {
    /// A call kept failing for the time allowed.
    #[error("could not {what} for {seconds:.1}s: {text}")]
    GaveUp {
        what: String,
        seconds: f64,
        text: String,
    },
    #[error("the watch kept failing for {seconds:.1}s: {text}")]
    WatchKeptFailing { seconds: f64, text: String },
    /// An answer that leaves the launcher nothing to follow (`what`: `watch`, `list`).
    #[error("cannot {what} the resource: {message}")]
    Answer { what: &'static str, message: String },
    /// The create was answered 404: the kind's CRD is not installed.
    #[error(
        "the cluster does not serve {kind}s ({message}): is the ACK SageMaker controller's \
         CRD installed?"
    )]
    NotServed { kind: &'static str, message: String },
}

/// The Kubernetes API refused the launcher's credentials.
#[derive(Debug, thiserror::Error)]
pub enum Forbidden {
    /// 401/403 on a call (`what`: `create the resource`, ...).
    #[error(
        "the Kubernetes API refused to {what}: {text}. The step's service account needs get, \
         list, watch, create and delete on this resource, and patch where the launcher \
         updates it (Endpoint, MonitoringSchedule): component-template/rbac.yaml."
    )]
    Refused { what: String, text: String },
    #[error("cannot get credentials for the Kubernetes API: {0}")]
    Credentials(String),
}

/// A time limit passed.
#[derive(Debug, thiserror::Error)]
pub enum Timeout {
    /// `--time-limit` (or the kind's): the resource not `done` (or `updated`) in time.
    #[error(
        "the {noun} was not {goal} within the time limit of {seconds}s (--time-limit); it is \
         left as it is"
    )]
    TimeLimit {
        noun: &'static str,
        goal: &'static str,
        seconds: u64,
    },
    #[error("the ACK controller kept reporting a recoverable error for {seconds}s: {message}")]
    Recoverable { seconds: u64, message: String },
    #[error(
        "the ACK controller wrote no status within {seconds}s: is the ACK SageMaker \
         controller running in this cluster, watching this namespace, with a region and AWS \
         credentials?"
    )]
    NoStatus { seconds: u64 },
}

/// A resource of the name exists, and the step may not take it over.
#[derive(Debug, thiserror::Error)]
pub enum Conflict {
    #[error("{name} exists but cannot be read: {message}")]
    Unreadable { name: String, message: String },
    #[error("{name} cannot be read again: {message}")]
    UnreadableAgain { name: String, message: String },
    #[error(
        "a {kind} named {name} exists in region {existing}, not {wanted}: a resource cannot \
         move to another region"
    )]
    OtherRegion {
        kind: &'static str,
        name: String,
        existing: String,
        wanted: String,
    },
    /// The same inputs, but another KFP run or step made it.
    #[error(
        "a {kind} named {name} already exists in this namespace with the same inputs, but \
         another KFP run or step created it (it records `{recorded}`, this step is `{this}`); \
         its results are not this run's. Leave {name_input} empty (the launcher then names \
         the job after the run and step), choose a new name for each run, or delete the old \
         resource"
    )]
    OtherStep {
        kind: &'static str,
        name: String,
        recorded: String,
        this: String,
        name_input: &'static str,
    },
    /// Other inputs, and a kind the controller cannot update.
    #[error(
        "a {kind} named {name} already exists in this namespace and was not created by this \
         step with these inputs, and the ACK controller cannot update a {kind}; choose \
         another {name_input} (or leave it empty for a name per run and step), or delete the \
         old resource"
    )]
    NotOurs {
        kind: &'static str,
        name: String,
        name_input: &'static str,
    },
    #[error("{name} could not be updated ({code} {reason}): {message}")]
    NotUpdated {
        name: String,
        code: u16,
        reason: String,
        message: String,
    },
}

/// The Kubernetes client configuration is unusable.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("no usable Kubernetes configuration (in-cluster service account or kubeconfig): {0}")]
    NoConfig(String),
    #[error("cannot build a Kubernetes client: {0}")]
    Client(String),
    #[error("the Kubernetes client configuration is unusable: {0}")]
    Unusable(String),
    #[error(
        "TLS with the Kubernetes API failed (check the cluster CA the kubeconfig or the \
         service account names): {0}"
    )]
    Tls(String),
}

/// The API server refused what the launcher sent.
#[derive(Debug)]
pub enum Refusal {
    /// The create: with the causes the server listed, and for 400/413/422 (`schema`) what
    /// to check.
    Create {
        status: ApiStatus,
        causes: Vec<(String, String)>,
        schema: bool,
    },
    Update {
        name: String,
        status: ApiStatus,
    },
}

/// The code, reason and message of an API server's answer.
#[derive(Debug)]
pub struct ApiStatus {
    pub code: u16,
    pub reason: String,
    pub message: String,
}

impl From<&kube::core::Status> for ApiStatus {
    fn from(status: &kube::core::Status) -> Self {
        ApiStatus {
            code: status.code,
            reason: status.reason.clone(),
            message: status.message.clone(),
        }
    }
}

impl std::fmt::Display for ApiStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "({} {}): {}", self.code, self.reason, self.message)
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Create {
                status,
                causes,
                schema,
            } => {
                write!(f, "the Kubernetes API refused the resource {status}")?;
                if !*schema {
                    return Ok(());
                }
                if !causes.is_empty() {
                    let causes: Vec<String> = causes
                        .iter()
                        .map(|(field, message)| format!("`{field}`: {message}"))
                        .collect();
                    write!(f, "; causes: {}", causes.join("; "))?;
                }
                f.write_str(
                    ". The inputs broke the CRD's schema or a size limit of the cluster; check \
                     them against the installed CRD",
                )
            }
            Refusal::Update { name, status } => {
                write!(
                    f,
                    "the Kubernetes API refused the update of {name} {status}"
                )
            }
        }
    }
}

impl std::error::Error for Refusal {}

/// What the cluster holds does not decode into the generated types.
#[derive(Debug, thiserror::Error)]
pub enum Undecodable {
    #[error("the API server's answer does not decode into the generated types: {0}")]
    Answer(String),
    /// The resource read again as JSON: the first field the types cannot hold.
    #[error(
        "{kind} {name}: field `{path}` does not decode into the generated types ({error}); \
         the cluster's ACK SageMaker controller is likely newer than the CRD this launcher \
         was generated from: regenerate (`cargo xtask regenerate --controller-version \
         <installed version>`) and use that launcher image"
    )]
    Field {
        kind: &'static str,
        name: String,
        path: String,
        error: String,
    },
}
