//! The request log: every HTTP request the server received, in arrival order, so a test can
//! assert how many creates, gets and watches a client made and with which bodies.

use std::sync::{Arc, Mutex, PoisonError};

/// What a request asked for, like the apiserver's `RequestInfo.Verb`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verb {
    /// `GET` of one object (or its `/status`).
    Get,
    /// `GET` of a collection.
    List,
    /// `GET` of a collection with `watch=true`.
    Watch,
    /// `POST` to a collection.
    Create,
    /// `PUT` of an object (or its `/status`).
    Update,
    /// `PATCH` of an object (or its `/status`).
    Patch,
    /// `DELETE` of an object.
    Delete,
    /// `/version`, `/api`, `/apis...` discovery documents.
    Discovery,
    /// Anything else (unknown paths, unsupported methods, health checks).
    Other,
}

/// One received request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRecord {
    /// Arrival number, starting at 0 and never reused (not reset by [`RequestLog::clear`]).
    pub seq: u64,
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
    /// `Some("status")` for the status subresource.
    pub subresource: Option<String>,
    /// HTTP status of the answer (0 while still being handled).
    pub status: u16,
}

impl RequestRecord {
    /// A decoded query parameter.
    pub fn param(&self, name: &str) -> Option<String> {
        crate::http::query::parse(&self.query)
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
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
