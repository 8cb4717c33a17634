//! An error answer of the AWS JSON 1.1 protocol: an HTTP status, the error code (sent as
//! the `X-Amzn-ErrorType` header and the body's `__type`) and a message.

/// An error SageMaker answers with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsError {
    /// The HTTP status (400 for client errors and throttling, 5xx for server errors).
    pub status: u16,
    /// The code (`ValidationException`, `ResourceNotFound`, `ThrottlingException`, ...).
    pub code: String,
    /// The message.
    pub message: String,
}

impl AwsError {
    /// Any error.
    pub fn new(status: u16, code: &str, message: impl Into<String>) -> AwsError {
        AwsError {
            status,
            code: code.into(),
            message: message.into(),
        }
    }

    /// SageMaker's usual input error (400 `ValidationException`); the controller treats it
    /// as recoverable and retries with a growing back-off.
    pub fn validation(message: impl Into<String>) -> AwsError {
        AwsError::new(400, "ValidationException", message)
    }

    /// 400 `ThrottlingException` "Rate exceeded": the SDK retries it (3 attempts in all).
    pub fn throttling() -> AwsError {
        AwsError::new(400, "ThrottlingException", "Rate exceeded")
    }

    /// 500 `InternalFailure`: the SDK retries it (3 attempts in all).
    pub fn internal() -> AwsError {
        AwsError::new(
            500,
            "InternalFailure",
            "The request processing has failed because of an unknown error, exception or failure.",
        )
    }

    /// 503 `ServiceUnavailable`: the SDK retries it (3 attempts in all).
    pub fn unavailable() -> AwsError {
        AwsError::new(503, "ServiceUnavailable", "Service is unavailable")
    }

    /// 400 with one of the codes the controller treats as terminal
    /// (`InvalidParameterValue`, `InvalidParameterCombination`, `MissingParameter`, ...).
    pub fn terminal(code: &str, message: impl Into<String>) -> AwsError {
        AwsError::new(400, code, message)
    }
}

impl std::fmt::Display for AwsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): {}", self.code, self.status, self.message)
    }
}
