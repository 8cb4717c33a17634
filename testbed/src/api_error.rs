//! Errors as the apiserver reports them: a `Status` object with code, reason, message and
//! details. Every failure the double returns goes through [`ApiError`], so clients see the
//! same body shapes (and kube-rs the same `kube::Error::Api` values) as against a real server.

use serde_json::{Value, json};

/// One field error inside an `Invalid` status (`details.causes[]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cause {
    /// `FieldValueRequired`, `FieldValueTypeInvalid`, `FieldValueInvalid`, `FieldValueNotSupported`, ...
    pub reason: &'static str,
    /// The message without the field prefix, e.g. `Required value`.
    pub message: String,
    /// The field path, e.g. `spec.resourceConfig.instanceCount`.
    pub field: String,
}

impl Cause {
    pub(crate) fn required(field: &str) -> Self {
        Cause {
            reason: "FieldValueRequired",
            message: "Required value".into(),
            field: field.into(),
        }
    }

    pub(crate) fn invalid(field: &str, value: &str, detail: &str) -> Self {
        Cause {
            reason: "FieldValueInvalid",
            message: format!("Invalid value: {value}: {detail}"),
            field: field.into(),
        }
    }

    pub(crate) fn forbidden(field: &str, detail: &str) -> Self {
        Cause {
            reason: "FieldValueForbidden",
            message: format!("Forbidden: {detail}"),
            field: field.into(),
        }
    }
}

/// A failed request: HTTP code plus the `Status` body the apiserver would send.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// HTTP status code (also `Status.code`).
    pub code: u16,
    /// `Status.reason`, e.g. `NotFound`, `AlreadyExists`, `Invalid`, `Expired`.
    pub reason: &'static str,
    /// `Status.message`.
    pub message: String,
    /// `Status.details`, when the real server sends one.
    pub details: Option<Value>,
    /// Seconds for the `Retry-After` header (429/503 style answers).
    pub retry_after: Option<u64>,
}

/// Names that identify a resource type in error messages (`trainingjobs.sagemaker.services.k8s.aws`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Subject<'a> {
    pub group: &'a str,
    pub plural: &'a str,
    pub kind: &'a str,
}

impl Subject<'_> {
    fn qualified(&self) -> String {
        if self.group.is_empty() {
            self.plural.to_string()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    fn details(&self, name: &str) -> Value {
        json!({"name": name, "group": self.group, "kind": self.plural})
    }
}

impl ApiError {
    fn new(code: u16, reason: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            code,
            reason,
            message: message.into(),
            details: None,
            retry_after: None,
        }
    }

    pub(crate) fn not_found(s: Subject<'_>, name: &str) -> Self {
        ApiError {
            details: Some(s.details(name)),
            ..Self::new(
                404,
                "NotFound",
                format!("{} \"{name}\" not found", s.qualified()),
            )
        }
    }

    /// 404 for a URL that names no resource the server knows.
    pub(crate) fn no_route() -> Self {
        ApiError {
            details: Some(json!({})),
            ..Self::new(
                404,
                "NotFound",
                "the server could not find the requested resource",
            )
        }
    }

    pub(crate) fn already_exists(s: Subject<'_>, name: &str) -> Self {
        ApiError {
            details: Some(s.details(name)),
            ..Self::new(
                409,
                "AlreadyExists",
                format!("{} \"{name}\" already exists", s.qualified()),
            )
        }
    }

    pub(crate) fn conflict(s: Subject<'_>, name: &str, why: &str) -> Self {
        ApiError {
            details: Some(s.details(name)),
            ..Self::new(
                409,
                "Conflict",
                format!(
                    "Operation cannot be fulfilled on {} \"{name}\": {why}",
                    s.qualified()
                ),
            )
        }
    }

    /// 422 with one cause per field error; the message joins them like `utilerrors.NewAggregate`.
    pub(crate) fn invalid(s: Subject<'_>, name: &str, causes: Vec<Cause>) -> Self {
        let rendered: Vec<String> = causes
            .iter()
            .map(|c| format!("{}: {}", c.field, c.message))
            .collect();
        let joined = if rendered.len() == 1 {
            rendered[0].clone()
        } else {
            format!("[{}]", rendered.join(", "))
        };
        let subject = if s.group.is_empty() {
            s.kind.to_string()
        } else {
            format!("{}.{}", s.kind, s.group)
        };
        let causes: Vec<Value> = causes
            .iter()
            .map(|c| json!({"reason": c.reason, "message": c.message, "field": c.field}))
            .collect();
        ApiError {
            details: Some(
                json!({"name": name, "group": s.group, "kind": s.kind, "causes": causes}),
            ),
            ..Self::new(
                422,
                "Invalid",
                format!("{subject} \"{name}\" is invalid: {joined}"),
            )
        }
    }

    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "BadRequest", message)
    }

    pub(crate) fn method_not_allowed() -> Self {
        ApiError {
            details: Some(json!({})),
            ..Self::new(
                405,
                "MethodNotAllowed",
                "the server does not allow this method on the requested resource",
            )
        }
    }

    pub(crate) fn unsupported_media_type(content_type: &str) -> Self {
        Self::new(
            415,
            "UnsupportedMediaType",
            format!(
                "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json; got {content_type:?}"
            ),
        )
    }

    pub(crate) fn too_large(limit: usize) -> Self {
        Self::new(
            413,
            "RequestEntityTooLarge",
            format!("Request entity too large: limit is {limit}"),
        )
    }

    /// The watch `ERROR` payload (or list answer) for a resourceVersion older than the history.
    pub(crate) fn expired(requested: u64, oldest: u64) -> Self {
        Self::new(
            410,
            "Expired",
            format!("too old resource version: {requested} ({oldest})"),
        )
    }

    /// An injected server-side failure (500, 503 or any other code a test asks for).
    pub(crate) fn injected(code: u16) -> Self {
        match code {
            500 => Self::new(
                500,
                "InternalError",
                "Internal error occurred: injected by the test bed",
            ),
            503 => Self::new(
                503,
                "ServiceUnavailable",
                "the server is currently unable to handle the request (injected)",
            ),
            504 => Self::new(
                504,
                "Timeout",
                "the server was unable to return a response in the time allotted (injected)",
            ),
            _ => Self::new(
                code,
                "InternalError",
                format!("injected failure with code {code}"),
            ),
        }
    }

    /// A fault only the fault proxy can make (it needs a real server behind it).
    pub(crate) fn not_in_the_double() -> Self {
        Self::new(
            501,
            "NotImplemented",
            "this fault needs a real API server: use the FaultProxy",
        )
    }

    /// 429 with `Retry-After`, as API Priority and Fairness answers an overloaded client.
    pub(crate) fn too_many_requests(retry_after_secs: u64) -> Self {
        ApiError {
            details: Some(json!({"retryAfterSeconds": retry_after_secs})),
            retry_after: Some(retry_after_secs),
            ..Self::new(
                429,
                "TooManyRequests",
                "Too many requests, please try again later.",
            )
        }
    }

    /// The `Status` object for the response body or a watch `ERROR` event.
    pub fn to_status(&self) -> Value {
        let mut v = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        });
        if let (Some(d), Some(obj)) = (&self.details, v.as_object_mut()) {
            obj.insert("details".into(), d.clone());
        }
        v
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.code, self.reason, self.message)
    }
}

impl std::error::Error for ApiError {}
