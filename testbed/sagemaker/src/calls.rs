//! The call log: every request the API answered, in order, with what it answered.

use std::time::SystemTime;

use serde_json::Value;

use crate::error::AwsError;
use crate::kind::{Kind, Verb};

/// One answered request.
#[derive(Debug, Clone)]
pub struct Call {
    /// The operation (`CreateTrainingJob`; `sts:GetCallerIdentity` for the STS call).
    pub op: String,
    /// Its kind, for the SageMaker operations of the 13 kinds.
    pub kind: Option<Kind>,
    /// Its verb.
    pub verb: Option<Verb>,
    /// The resource name the request gave.
    pub name: Option<String>,
    /// The region of the request's signature.
    pub region: String,
    /// The request body (JSON; `null` for STS). It may hold a job's environment: tests
    /// may assert on it, the detached server never prints it.
    pub request: Value,
    /// The error answered, if any.
    pub error: Option<AwsError>,
    /// When it was answered.
    pub at: SystemTime,
}

impl Call {
    /// `op name: ok` or `op name: Code`, for logs (never the request body).
    pub fn summary(&self) -> String {
        let name = self.name.as_deref().unwrap_or("-");
        match &self.error {
            None => format!("{} {name}: ok", self.op),
            Some(e) => format!("{} {name}: {} {}", self.op, e.status, e.code),
        }
    }
}
