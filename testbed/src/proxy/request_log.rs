//! The request log: every request the proxy received, in arrival order, with what the client
//! got, so a test can assert how many creates, gets and watches a client made, with which
//! parameters and bodies.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

/// What a request asked for, as kube-apiserver's `RequestInfo.Verb` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verb {
    /// `GET` of one object (or a subresource of it).
    Get,
    /// `GET` of a collection.
    List,
    /// `GET` of a collection with `watch=true`.
    Watch,
    /// `POST` to a collection.
    Create,
    /// `PUT` of an object (or a subresource).
    Update,
    /// `PATCH` of an object (or a subresource).
    Patch,
    /// `DELETE` of an object.
    Delete,
    /// `/version`, `/api`, `/apis...` discovery documents.
    Discovery,
    /// Anything else (health checks, `deletecollection`, unknown paths).
    Other,
}

impl Verb {
    /// Classifies a request by method, path and query, as the API server does: the path is
    /// `/api/v1/...` or `/apis/<group>/<version>/...`, then `namespaces/<ns>/` for a
    /// namespaced resource, then the resource, a name and a subresource.
    pub fn of(method: &str, path: &str, query: &str) -> Verb {
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
        let rest = match segments.as_slice() {
            ["version"] | ["api"] | ["apis"] | ["api", _] | ["apis", _] | ["apis", _, _] => {
                return if method == "GET" {
                    Verb::Discovery
                } else {
                    Verb::Other
                };
            }
            ["api", _, rest @ ..] | ["apis", _, _, rest @ ..] => rest,
            _ => return Verb::Other,
        };
        // `namespaces/<ns>/<resource>...`, but `namespaces` and `namespaces/<ns>` name the
        // namespaces themselves.
        let resource = match rest {
            ["namespaces", _, resource @ ..] if !resource.is_empty() => resource,
            other => other,
        };
        let watch = || {
            form_urlencoded::parse(query.as_bytes())
                .any(|(k, v)| k == "watch" && (v == "true" || v == "1"))
        };
        match (resource.len(), method) {
            (1, "GET") if watch() => Verb::Watch,
            (1, "GET") => Verb::List,
            (1, "POST") => Verb::Create,
            (n, "GET") if n > 1 => Verb::Get,
            (n, "PUT") if n > 1 => Verb::Update,
            (n, "PATCH") if n > 1 => Verb::Patch,
            (n, "DELETE") if n > 1 => Verb::Delete,
            _ => Verb::Other,
        }
    }
}

/// One received request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRecord {
    /// Arrival number, from 0, never reused (not reset by [`RequestLog::clear`]).
    pub seq: u64,
    /// When the proxy had read the request's head.
    pub at: Instant,
    /// HTTP method, e.g. `POST`.
    pub method: String,
    /// URL path, e.g. `/apis/sagemaker.services.k8s.aws/v1alpha1/namespaces/ns/trainingjobs`.
    pub path: String,
    /// Raw query string (percent-encoded, without `?`).
    pub query: String,
    /// Request body as text (lossy UTF-8).
    pub body: String,
    /// The classified verb.
    pub verb: Verb,
    /// HTTP status the client got (0 while the request is being handled).
    pub status: u16,
}

impl RequestRecord {
    /// A decoded query parameter.
    pub fn param(&self, name: &str) -> Option<String> {
        form_urlencoded::parse(self.query.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }
}

/// Shared, append-only request log (cheap to clone).
#[derive(Debug, Clone, Default)]
pub struct RequestLog {
    records: Arc<Mutex<Records>>,
}

#[derive(Debug, Default)]
struct Records {
    next_seq: u64,
    list: Vec<RequestRecord>,
}

impl RequestLog {
    fn lock(&self) -> std::sync::MutexGuard<'_, Records> {
        self.records.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A copy of every record so far.
    pub fn records(&self) -> Vec<RequestRecord> {
        self.lock().list.clone()
    }

    /// How many requests of this verb were received.
    pub fn count(&self, verb: Verb) -> usize {
        self.lock().list.iter().filter(|r| r.verb == verb).count()
    }

    /// How many requests of this verb got this status.
    pub fn count_answered(&self, verb: Verb, status: u16) -> usize {
        self.lock()
            .list
            .iter()
            .filter(|r| r.verb == verb && r.status == status)
            .count()
    }

    /// Forgets all records (e.g. after a test's setup).
    pub fn clear(&self) {
        self.lock().list.clear();
    }

    /// Appends a record, giving it the next sequence number, which it returns.
    pub(crate) fn push(&self, mut record: RequestRecord) -> u64 {
        let mut r = self.lock();
        record.seq = r.next_seq;
        r.next_seq += 1;
        r.list.push(record);
        r.next_seq - 1
    }

    pub(crate) fn set_status(&self, seq: u64, status: u16) {
        if let Some(r) = self.lock().list.iter_mut().rev().find(|r| r.seq == seq) {
            r.status = status;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Verb;

    #[test]
    fn requests_are_classified_as_the_api_server_does() {
        let jobs = "/apis/sagemaker.services.k8s.aws/v1alpha1/namespaces/ns/trainingjobs";
        for (method, path, query, verb) in [
            ("GET", jobs, "watch=true&resourceVersion=5", Verb::Watch),
            ("GET", jobs, "watch=1", Verb::Watch),
            ("GET", jobs, "fieldSelector=metadata.name%3Dx", Verb::List),
            ("POST", jobs, "", Verb::Create),
            ("DELETE", jobs, "", Verb::Other),
            ("GET", &format!("{jobs}/x"), "", Verb::Get),
            ("PATCH", &format!("{jobs}/x/status"), "", Verb::Patch),
            ("PUT", &format!("{jobs}/x"), "", Verb::Update),
            ("DELETE", &format!("{jobs}/x"), "", Verb::Delete),
            ("GET", "/api/v1/namespaces", "", Verb::List),
            ("GET", "/api/v1/namespaces/ns", "", Verb::Get),
            (
                "GET",
                "/api/v1/namespaces/ns/configmaps",
                "watch=true",
                Verb::Watch,
            ),
            (
                "GET",
                "/apis/sagemaker.services.k8s.aws/v1alpha1",
                "",
                Verb::Discovery,
            ),
            ("GET", "/version", "", Verb::Discovery),
            ("GET", "/readyz", "", Verb::Other),
        ] {
            assert_eq!(
                Verb::of(method, path, query),
                verb,
                "{method} {path}?{query}"
            );
        }
    }
}
