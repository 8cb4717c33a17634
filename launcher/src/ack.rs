//! What the ACK runtime's conditions mean, the same for every kind (controller v1.9.1,
//! ACK runtime v0.62.0), written once against the shared [`Condition`] type:
//!
//! - `ACK.Terminal` True: failed, with its message. This comes first: a "Resource already
//!   exists" terminal carries the status of the *other*, older job of that name, and a
//!   `not implemented` terminal (a spec drift on a kind without update) freezes the status.
//! - `ACK.Recoverable` True whose AWS error code is a validation error
//!   (`ValidationException`, `InvalidParameter*`, `MissingParameter`), in either message
//!   format (aws-sdk-go v1 `Code: msg\n\tstatus code: ...`, v2 `api error Code: msg`):
//!   failed, since retrying the same request cannot succeed. Any other Recoverable
//!   (throttling, `... is Stopping.`, `... cannot be modified or deleted.`) is waited out;
//!   the follow loop bounds how long.
//!
//! What the kind's own status says comes after this, from the kind's rule
//! ([`crate::kinds`]).
//!
//! The launcher reads the controller's messages only here, into types ([`AckState`]).

use generated::ack::Condition;

/// What a resource's status means for the step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Waiting {
        /// The message of an `ACK.Recoverable` condition that is True.
        recoverable: Option<String>,
    },
    Succeeded {
        warnings: Vec<String>,
    },
    Failed(String),
}

/// The message of the `ACK.Terminal` condition the ACK runtime sets when SageMaker
/// already has a resource of the name that this resource did not create
/// (`condition.NotManagedMessage`; the reason explains adoption). The controller has
/// then copied *that* resource's ARN and status in beside it, from SageMaker's Describe.
pub const NOT_MANAGED: &str = "Resource already exists";

/// AWS error codes of requests that retrying cannot fix.
const VALIDATION_CODES: &[&str] = &[
    "ValidationException",
    "InvalidParameterValue",
    "InvalidParameterCombination",
    "InvalidParameter",
    "MissingParameter",
];

/// The condition of this type that is True, if any.
pub fn condition<'a>(conditions: &'a [Condition], kind: &str) -> Option<&'a Condition> {
    conditions
        .iter()
        .find(|c| c.r#type == kind && c.status == "True")
}

/// A condition's message with its reason, for a log line or a failure.
pub fn condition_text(condition: &Condition) -> String {
    let message = condition.message.as_deref().unwrap_or("").trim();
    match condition.reason.as_deref() {
        Some(reason) if !reason.is_empty() && !message.is_empty() => {
            format!("{message} ({reason})")
        }
        Some(reason) if !reason.is_empty() => reason.to_owned(),
        _ => message.to_owned(),
    }
}

/// The AWS error code at the start of a controller error message, in the aws-sdk-go v1
/// (`Code: msg`) or v2 (`api error Code: msg`) format.
pub fn aws_error_code(message: &str) -> Option<&str> {
    let rest = message.trim_start();
    let rest = rest.strip_prefix("api error ").unwrap_or(rest);
    let (code, _) = rest.split_once(':')?;
    (!code.is_empty() && code.chars().all(|c| c.is_ascii_alphanumeric())).then_some(code)
}

/// What the ACK runtime's conditions say about a resource, whatever its status says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AckState {
    /// A condition says the resource failed.
    Failed(AckFailure),
    /// Nothing failed; the message of a Recoverable error to wait out, if there is one.
    Waiting(Option<String>),
}

/// How the ACK conditions say a resource failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AckFailure {
    /// `ACK.Terminal` True, with its text.
    Terminal(String),
    /// The controller's own Terminal for a status that reached a failed state (`Endpoint
    /// status reached terminal state: Failed. Check the FailureReason.`), which says less
    /// than the kind's own rule, which gives the reason.
    TerminalState(String),
    /// A Recoverable validation error: retrying the same request cannot succeed.
    Rejected(String),
    /// The [`NOT_MANAGED`] Terminal: SageMaker already has a resource of this name that
    /// this resource did not create, and the status beside it is that resource's.
    NotManaged(String),
}

impl std::fmt::Display for AckFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AckFailure::Terminal(text)
            | AckFailure::TerminalState(text)
            | AckFailure::NotManaged(text) => {
                write!(f, "the ACK controller gave up: {text}")
            }
            AckFailure::Rejected(message) => write!(f, "SageMaker rejected the job: {message}"),
        }
    }
}

/// The ACK runtime's part of the verdict: Terminal first, then a Recoverable validation
/// error, then any other Recoverable error to wait out.
pub fn state(conditions: &[Condition]) -> AckState {
    if let Some(terminal) = condition(conditions, "ACK.Terminal") {
        let text = condition_text(terminal);
        let state_reached = text.contains("status reached terminal state");
        let not_managed = terminal.message.as_deref().map(str::trim) == Some(NOT_MANAGED);
        return AckState::Failed(if not_managed {
            AckFailure::NotManaged(text)
        } else if state_reached {
            AckFailure::TerminalState(text)
        } else {
            AckFailure::Terminal(text)
        });
    }
    let recoverable = condition(conditions, "ACK.Recoverable").map(condition_text);
    if let Some(message) = &recoverable
        && aws_error_code(message).is_some_and(|code| VALIDATION_CODES.contains(&code))
    {
        return AckState::Failed(AckFailure::Rejected(message.clone()));
    }
    AckState::Waiting(recoverable)
}

/// Whether the status beside these conditions is another SageMaker resource's: the
/// [`NOT_MANAGED`] Terminal (not its region and account variants, which stop before
/// SageMaker is asked and copy nothing).
pub fn not_managed(conditions: &[Condition]) -> bool {
    matches!(
        state(conditions),
        AckState::Failed(AckFailure::NotManaged(_))
    )
}

/// Whether `ACK.ResourceSynced` is True.
pub fn synced(conditions: &[Condition]) -> bool {
    condition(conditions, "ACK.ResourceSynced").is_some()
}

/// The AWS console host of the partition and region in a SageMaker ARN
/// (`arn:<partition>:sagemaker:<region>:<account>:<type>/<name>`), and the region.
pub fn console_host(arn: &str) -> Option<(String, &str)> {
    let mut parts = arn.split(':');
    let (_, partition, _, region) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let host = if partition == "aws-cn" {
        format!("{region}.console.amazonaws.cn")
    } else {
        format!("{region}.console.aws.amazon.com")
    };
    Some((host, region))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn condition(kind: &str, status: &str, message: &str) -> Condition {
        Condition {
            r#type: kind.to_owned(),
            status: status.to_owned(),
            message: Some(message.to_owned()),
            ..Condition::default()
        }
    }

    #[test]
    fn terminal_fails_and_carries_its_reason() {
        let mut terminal = condition("ACK.Terminal", "True", "Resource already exists");
        terminal.reason = Some("This resource already exists but is not managed by ACK.".into());
        let AckState::Failed(failure) = state(&[terminal]) else {
            panic!("fails")
        };
        let failure = failure.to_string();
        assert!(failure.contains("Resource already exists"), "{failure}");
        assert!(failure.contains("not managed by ACK"), "{failure}");
        assert_eq!(
            state(&[condition("ACK.Terminal", "False", "")]),
            AckState::Waiting(None)
        );
    }

    #[test]
    fn only_the_name_taken_terminal_says_the_status_is_another_resources() {
        let mut taken = condition("ACK.Terminal", "True", NOT_MANAGED);
        taken.reason = Some("This resource already exists but is not managed by ACK.".into());
        assert!(not_managed(&[taken]));
        for other in [
            condition(
                "ACK.Terminal",
                "True",
                "api error InvalidParameterValue: bad",
            ),
            condition(
                "ACK.Terminal",
                "True",
                "Resource already exists in region us-east-1, but the desired state specifies region us-west-2. ",
            ),
            condition("ACK.Terminal", "False", NOT_MANAGED),
        ] {
            assert!(!not_managed(std::slice::from_ref(&other)), "{other:?}");
        }
    }

    #[test]
    fn validation_errors_fail_in_both_formats_and_others_wait() {
        for message in [
            "api error ValidationException: Invalid instance type",
            "ValidationException: Invalid instance type\n\tstatus code: 400, request id: abc",
            "InvalidParameterValue: bad",
            "api error MissingParameter: no role",
        ] {
            let result = state(&[condition("ACK.Recoverable", "True", message)]);
            assert!(
                matches!(result, AckState::Failed(AckFailure::Rejected(_))),
                "{message}: {result:?}"
            );
        }
        for message in [
            "api error ThrottlingException: slow down",
            "ProcessingJob is Stopping.",
            "Endpoint in Updating state cannot be modified or deleted.",
        ] {
            assert_eq!(
                state(&[condition("ACK.Recoverable", "True", message)]),
                AckState::Waiting(Some(message.to_owned()))
            );
        }
    }

    #[test]
    fn console_hosts_by_partition() {
        assert_eq!(
            console_host("arn:aws:sagemaker:us-west-2:1:processing-job/p"),
            Some(("us-west-2.console.aws.amazon.com".to_owned(), "us-west-2"))
        );
        assert_eq!(
            console_host("arn:aws-cn:sagemaker:cn-north-1:1:transform-job/t"),
            Some(("cn-north-1.console.amazonaws.cn".to_owned(), "cn-north-1"))
        );
        assert_eq!(console_host("not an arn"), None);
    }
}
