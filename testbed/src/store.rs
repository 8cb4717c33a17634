//! The object store behind the API: custom resources by (group, plural, namespace, name), a
//! global resourceVersion counter, and the event history watches are served from.
//!
//! Architecture invariant: every change to an object goes through [`Store::create`],
//! [`Store::update`] or [`Store::delete`], so the API and the in-process helpers all get
//! the same metadata rules (uid, generation, finalizers, no-op writes) and every change
//! appears exactly once in the history.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};

use crate::api_error::{ApiError, Cause, Subject};
use crate::crd::Crd;
use crate::patch;
use crate::schema::validate_and_prune;
use crate::selector::Selector;

/// The kind of change a watch event reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    /// The object was created.
    Added,
    /// The object changed (including deletionTimestamp being set).
    Modified,
    /// The object is gone.
    Deleted,
}

impl EventType {
    /// The wire name (`ADDED`, `MODIFIED`, `DELETED`).
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Added => "ADDED",
            EventType::Modified => "MODIFIED",
            EventType::Deleted => "DELETED",
        }
    }
}

/// One entry of the history: what changed, at which resourceVersion.
#[derive(Debug, Clone)]
pub struct StoredEvent {
    /// The resourceVersion the change produced.
    pub resource_version: u64,
    /// API group of the object.
    pub group: String,
    /// Plural resource name of the object.
    pub plural: String,
    /// What happened.
    pub event_type: EventType,
    /// The object after the change (for `Deleted`, its last state).
    pub object: Value,
}

impl StoredEvent {
    /// Namespace and name of the object.
    pub fn key(&self) -> (&str, &str) {
        (
            self.object
                .pointer("/metadata/namespace")
                .and_then(Value::as_str)
                .unwrap_or_default(),
            self.object
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or_default(),
        )
    }
}

/// Which part of the object a write may change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Subresource {
    /// The main resource: spec and metadata (status kept when the status subresource is on).
    Main,
    /// `/status`: only `.status` changes.
    Status,
}

/// The requested change of an update.
#[derive(Debug, Clone)]
pub(crate) enum Change {
    /// `application/merge-patch+json`.
    Merge(Value),
    /// `application/json-patch+json`.
    Json(Value),
    /// `PUT` of a whole object.
    Replace(Value),
}

/// The history no longer reaches back to the requested resourceVersion.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Expired {
    pub oldest: u64,
}

type Key = (String, String);

#[derive(Debug)]
struct Registered {
    crd: Crd,
    objects: BTreeMap<Key, Value>,
}

#[derive(Debug)]
struct Inner {
    resources: BTreeMap<Key, Registered>,
    rv: u64,
    history: VecDeque<StoredEvent>,
    compacted_rv: u64,
    history_limit: usize,
    rng: u64,
}

/// The shared state of one test bed.
#[derive(Debug)]
pub(crate) struct Store {
    inner: Mutex<Inner>,
    changed: Condvar,
    notify: tokio::sync::watch::Sender<u64>,
}

/// Fields of `metadata` a client may set; the rest is owned by the server.
const CLIENT_META: [&str; 7] = [
    "name",
    "generateName",
    "namespace",
    "labels",
    "annotations",
    "finalizers",
    "ownerReferences",
];
/// Fields of `metadata` the server owns and carries over on updates.
const SYSTEM_META: [&str; 7] = [
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "generateName",
];

fn subject(crd: &Crd) -> Subject<'_> {
    Subject {
        group: &crd.group,
        plural: &crd.plural,
        kind: &crd.kind,
    }
}

fn meta(obj: &Value) -> Option<&Map<String, Value>> {
    obj.get("metadata").and_then(Value::as_object)
}

fn meta_str<'a>(obj: &'a Value, field: &str) -> Option<&'a str> {
    meta(obj).and_then(|m| m.get(field)).and_then(Value::as_str)
}

fn finalizers(obj: &Value) -> Vec<String> {
    meta(obj)
        .and_then(|m| m.get("finalizers"))
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

fn set_meta(obj: &mut Value, field: &str, v: Value) {
    if let Some(m) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        m.insert(field.into(), v);
    }
}

/// Everything but metadata and status: a change here bumps `metadata.generation`.
fn spec_part(obj: &Value) -> Value {
    let mut o = obj.clone();
    if let Some(m) = o.as_object_mut() {
        m.remove("metadata");
        m.remove("status");
    }
    o
}

/// The DNS-1123 subdomain rule the apiserver applies to custom resource names.
fn name_causes(name: &str) -> Vec<Cause> {
    let mut causes = Vec::new();
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    if name.len() > 253 {
        causes.push(Cause::invalid(
            "metadata.name",
            &format!("{name:?}"),
            "must be no more than 253 characters",
        ));
    }
    if !name.split('.').all(label_ok) {
        causes.push(Cause::invalid(
            "metadata.name",
            &format!("{name:?}"),
            "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
        ));
    }
    causes
}

/// Keeps only client-settable metadata fields and checks their types.
fn sanitize_client_meta(obj: &mut Value) -> Result<(), ApiError> {
    let m = match obj.get("metadata") {
        None => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(_) => return Err(ApiError::bad_request("metadata must be an object")),
    };
    let mut out = Map::new();
    for (k, v) in m {
        if !CLIENT_META.contains(&k.as_str()) {
            continue;
        }
        let ok = match k.as_str() {
            "labels" | "annotations" => {
                v.as_object()
                    .is_some_and(|o| o.values().all(Value::is_string))
                    || v.is_null()
            }
            "finalizers" => {
                v.as_array().is_some_and(|a| a.iter().all(Value::is_string)) || v.is_null()
            }
            "ownerReferences" => v.is_array() || v.is_null(),
            _ => v.is_string(),
        };
        if !ok {
            return Err(ApiError::bad_request(format!(
                "metadata.{k} has the wrong type"
            )));
        }
        if !v.is_null() {
            out.insert(k, v);
        }
    }
    if let Some(o) = obj.as_object_mut() {
        o.insert("metadata".into(), Value::Object(out));
    }
    Ok(())
}

impl Inner {
    fn registered(&self, group: &str, plural: &str) -> Result<&Registered, ApiError> {
        self.resources
            .get(&(group.to_string(), plural.to_string()))
            .ok_or_else(ApiError::no_route)
    }

    fn next_rv(&mut self) -> u64 {
        self.rv += 1;
        self.rv
    }

    fn random(&mut self) -> u64 {
        // splitmix64: good enough for uids and generateName suffixes, no dependency.
        self.rng = self.rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn uid(&mut self) -> String {
        let (a, b) = (self.random(), self.random());
        let hex = format!("{a:016x}{b:016x}");
        format!(
            "{}-{}-4{}-a{}-{}",
            &hex[0..8],
            &hex[8..12],
            &hex[13..16],
            &hex[17..20],
            &hex[20..32]
        )
    }

    fn record(&mut self, group: &str, plural: &str, event_type: EventType, object: &Value) {
        self.history.push_back(StoredEvent {
            resource_version: self.rv,
            group: group.into(),
            plural: plural.into(),
            event_type,
            object: object.clone(),
        });
        while self.history.len() > self.history_limit {
            if let Some(e) = self.history.pop_front() {
                self.compacted_rv = e.resource_version;
            }
        }
    }

    /// Validates and prunes everything but metadata against the version's schema.
    fn schema_causes(schema: &Value, obj: &mut Value) -> Vec<Cause> {
        let meta = obj.as_object_mut().and_then(|o| o.remove("metadata"));
        let mut causes = Vec::new();
        validate_and_prune(schema, obj, "", &mut causes);
        if let (Some(m), Some(o)) = (meta, obj.as_object_mut()) {
            o.insert("metadata".into(), m);
        }
        causes
    }
}

impl Store {
    pub(crate) fn new(history_limit: usize) -> Store {
        let seed = u64::try_from(crate::clock::unix_now()).unwrap_or(0)
            ^ u64::from(std::process::id()) << 32;
        Store {
            inner: Mutex::new(Inner {
                resources: BTreeMap::new(),
                rv: 100,
                history: VecDeque::new(),
                compacted_rv: 0,
                history_limit: history_limit.max(1),
                rng: seed,
            }),
            changed: Condvar::new(),
            notify: tokio::sync::watch::channel(100).0,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn changed(&self, inner: &Inner) {
        self.notify.send_replace(inner.rv);
        self.changed.notify_all();
    }

    /// Registers (or replaces) a CRD; its existing objects are kept when replaced.
    pub(crate) fn register(&self, crd: Crd) {
        let mut inner = self.lock();
        let key = (crd.group.clone(), crd.plural.clone());
        let objects = inner
            .resources
            .remove(&key)
            .map(|r| r.objects)
            .unwrap_or_default();
        inner.resources.insert(key, Registered { crd, objects });
    }

    /// All registered CRDs, ordered by (group, plural).
    pub(crate) fn crds(&self) -> Vec<Crd> {
        self.lock()
            .resources
            .values()
            .map(|r| r.crd.clone())
            .collect()
    }

    /// The CRD serving `group/version/plural`, or the apiserver's 404 for an unknown URL.
    pub(crate) fn crd(&self, group: &str, version: &str, plural: &str) -> Result<Crd, ApiError> {
        let inner = self.lock();
        let crd = &inner.registered(group, plural)?.crd;
        crd.version(version).ok_or_else(ApiError::no_route)?;
        Ok(crd.clone())
    }

    pub(crate) fn subscribe(&self) -> tokio::sync::watch::Receiver<u64> {
        self.notify.subscribe()
    }

    /// `POST` to a collection.
    pub(crate) fn create(
        &self,
        r: &crate::ResourceRef,
        ns: &str,
        body: Value,
        dry_run: bool,
    ) -> Result<Value, ApiError> {
        let mut inner = self.lock();
        let crd = inner.registered(&r.group, &r.plural)?.crd.clone();
        let version = crd.version(&r.version).ok_or_else(ApiError::no_route)?;
        let api_version = format!("{}/{}", r.group, r.version);
        let mut obj = body;
        let Some(o) = obj.as_object_mut() else {
            return Err(ApiError::bad_request(
                "the body of the request must be a JSON object",
            ));
        };
        match o.get("apiVersion").and_then(Value::as_str) {
            Some(v) if v != api_version => {
                return Err(ApiError::bad_request(format!(
                    "the API version in the data ({v}) does not match the expected API version ({api_version})"
                )));
            }
            _ => {}
        }
        match o.get("kind").and_then(Value::as_str) {
            Some(k) if k != crd.kind => {
                return Err(ApiError::bad_request(format!(
                    "the kind in the data ({k}) does not match the expected kind ({})",
                    crd.kind
                )));
            }
            _ => {}
        }
        o.insert("apiVersion".into(), api_version.into());
        o.insert("kind".into(), crd.kind.clone().into());
        if version.status_subresource {
            o.remove("status");
        }
        sanitize_client_meta(&mut obj)?;
        if let Some(n) = meta_str(&obj, "namespace")
            && n != ns
        {
            return Err(ApiError::bad_request(
                "the namespace of the provided object does not match the namespace sent on the request",
            ));
        }
        set_meta(&mut obj, "namespace", ns.into());
        let name = match (meta_str(&obj, "name"), meta_str(&obj, "generateName")) {
            (Some(n), _) if !n.is_empty() => n.to_string(),
            (_, Some(prefix)) if !prefix.is_empty() => {
                const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
                let prefix = prefix.to_string();
                let suffix: String = (0..5)
                    .map(|_| {
                        let i =
                            usize::try_from(inner.random() % ALPHABET.len() as u64).unwrap_or(0);
                        char::from(ALPHABET[i])
                    })
                    .collect();
                format!("{prefix}{suffix}")
            }
            _ => {
                let cause = Cause {
                    reason: "FieldValueRequired",
                    message: "Required value: name or generateName is required".into(),
                    field: "metadata.name".into(),
                };
                return Err(ApiError::invalid(subject(&crd), "", vec![cause]));
            }
        };
        set_meta(&mut obj, "name", name.clone().into());
        let mut causes = name_causes(&name);
        causes.extend(Inner::schema_causes(&version.schema, &mut obj));
        if !causes.is_empty() {
            return Err(ApiError::invalid(subject(&crd), &name, causes));
        }
        let key = (ns.to_string(), name.clone());
        if inner
            .registered(&r.group, &r.plural)?
            .objects
            .contains_key(&key)
        {
            return Err(ApiError::already_exists(subject(&crd), &name));
        }
        let uid = inner.uid();
        set_meta(&mut obj, "uid", uid.into());
        set_meta(&mut obj, "generation", 1.into());
        set_meta(
            &mut obj,
            "creationTimestamp",
            crate::clock::now_rfc3339().into(),
        );
        if dry_run {
            // Like the real server (checked by tests/cluster_samples.rs): a dry-run create
            // answers without a resourceVersion, since nothing was stored.
            return Ok(obj);
        }
        let rv = inner.next_rv();
        set_meta(&mut obj, "resourceVersion", rv.to_string().into());
        inner.record(&r.group, &r.plural, EventType::Added, &obj);
        if let Some(reg) = inner
            .resources
            .get_mut(&(r.group.clone(), r.plural.clone()))
        {
            reg.objects.insert(key, obj.clone());
        }
        self.changed(&inner);
        Ok(obj)
    }

    /// `GET` of one object.
    pub(crate) fn get(
        &self,
        r: &crate::ResourceRef,
        ns: &str,
        name: &str,
    ) -> Result<Value, ApiError> {
        let inner = self.lock();
        let reg = inner.registered(&r.group, &r.plural)?;
        reg.objects
            .get(&(ns.to_string(), name.to_string()))
            .cloned()
            .ok_or_else(|| ApiError::not_found(subject(&reg.crd), name))
    }

    /// `LIST`: matching objects (of one namespace, or all) and the store's resourceVersion.
    pub(crate) fn list(
        &self,
        r: &crate::ResourceRef,
        ns: Option<&str>,
        sel: &Selector,
    ) -> Result<(Vec<Value>, u64), ApiError> {
        let inner = self.lock();
        let reg = inner.registered(&r.group, &r.plural)?;
        let items = reg
            .objects
            .iter()
            .filter(|((n, _), obj)| ns.is_none_or(|ns| ns == n) && sel.matches(obj))
            .map(|(_, obj)| obj.clone())
            .collect();
        Ok((items, inner.rv))
    }

    /// `PATCH`/`PUT` of the object or its `/status`.
    pub(crate) fn update(
        &self,
        r: &crate::ResourceRef,
        ns: &str,
        name: &str,
        sub: Subresource,
        change: Change,
    ) -> Result<Value, ApiError> {
        let mut inner = self.lock();
        let reg = inner.registered(&r.group, &r.plural)?;
        let crd = reg.crd.clone();
        let version = crd
            .version(&r.version)
            .ok_or_else(ApiError::no_route)?
            .clone();
        let key = (ns.to_string(), name.to_string());
        if sub == Subresource::Status && !version.status_subresource {
            return Err(ApiError::no_route());
        }
        let old = reg
            .objects
            .get(&key)
            .cloned()
            .ok_or_else(|| ApiError::not_found(subject(&crd), name))?;
        let old_rv = meta_str(&old, "resourceVersion")
            .unwrap_or_default()
            .to_string();
        let is_replace = matches!(change, Change::Replace(_));
        let new = match change {
            Change::Merge(p) => {
                let mut n = old.clone();
                patch::merge_patch(&mut n, &p);
                n
            }
            Change::Json(ops) => patch::json_patch(&old, &ops).map_err(|e| ApiError {
                code: 422,
                reason: "Invalid",
                message: e,
                details: None,
                retry_after: None,
            })?,
            Change::Replace(body) => body,
        };
        if !new.is_object() {
            return Err(ApiError::bad_request(
                "the patched object must be a JSON object",
            ));
        }
        if let Some(n) = meta_str(&new, "name")
            && n != name
        {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({n}) does not match the name on the URL ({name})"
            )));
        }
        if let Some(n) = meta_str(&new, "namespace")
            && n != ns
        {
            return Err(ApiError::bad_request(
                "the namespace of the provided object does not match the namespace sent on the request",
            ));
        }
        match meta_str(&new, "resourceVersion") {
            Some(rv) if rv != old_rv => {
                return Err(ApiError::conflict(
                    subject(&crd),
                    name,
                    "the object has been modified; please apply your changes to the latest version and try again",
                ));
            }
            None if is_replace => {
                let cause = Cause::invalid(
                    "metadata.resourceVersion",
                    "0x0",
                    "must be specified for an update",
                );
                return Err(ApiError::invalid(subject(&crd), name, vec![cause]));
            }
            _ => {}
        }
        let mut out = match sub {
            Subresource::Status => {
                let mut out = old.clone();
                if let Some(o) = out.as_object_mut() {
                    match new.get("status") {
                        Some(s) => o.insert("status".into(), s.clone()),
                        None => o.remove("status"),
                    };
                }
                out
            }
            Subresource::Main => {
                let mut out = new;
                sanitize_client_meta(&mut out)?;
                for f in SYSTEM_META {
                    match meta(&old).and_then(|m| m.get(f)) {
                        Some(v) => set_meta(&mut out, f, v.clone()),
                        None => {
                            if let Some(m) = out.get_mut("metadata").and_then(Value::as_object_mut)
                            {
                                m.remove(f);
                            }
                        }
                    }
                }
                set_meta(&mut out, "name", name.into());
                set_meta(&mut out, "namespace", ns.into());
                if let Some(o) = out.as_object_mut() {
                    for f in ["apiVersion", "kind"] {
                        if let Some(v) = old.get(f) {
                            o.insert(f.into(), v.clone());
                        }
                    }
                    if version.status_subresource {
                        match old.get("status") {
                            Some(s) => o.insert("status".into(), s.clone()),
                            None => o.remove("status"),
                        };
                    }
                }
                out
            }
        };
        let causes = Inner::schema_causes(&version.schema, &mut out);
        if !causes.is_empty() {
            return Err(ApiError::invalid(subject(&crd), name, causes));
        }
        let deleting = meta(&old).is_some_and(|m| m.contains_key("deletionTimestamp"));
        let (old_fin, new_fin) = (finalizers(&old), finalizers(&out));
        let added: Vec<&String> = new_fin.iter().filter(|f| !old_fin.contains(f)).collect();
        if deleting && !added.is_empty() {
            let detail = format!(
                "no new finalizers can be added if the object is being deleted, found new finalizers {added:?}"
            );
            return Err(ApiError::invalid(
                subject(&crd),
                name,
                vec![Cause::forbidden("metadata.finalizers", &detail)],
            ));
        }
        if out == old {
            return Ok(old);
        }
        if spec_part(&out) != spec_part(&old) {
            let g = meta(&old)
                .and_then(|m| m.get("generation"))
                .and_then(Value::as_i64)
                .unwrap_or(1);
            set_meta(&mut out, "generation", (g + 1).into());
        }
        let rv = inner.next_rv();
        set_meta(&mut out, "resourceVersion", rv.to_string().into());
        let gone = deleting && new_fin.is_empty();
        inner.record(
            &r.group,
            &r.plural,
            if gone {
                EventType::Deleted
            } else {
                EventType::Modified
            },
            &out,
        );
        if let Some(reg) = inner
            .resources
            .get_mut(&(r.group.clone(), r.plural.clone()))
        {
            if gone {
                reg.objects.remove(&key);
            } else {
                reg.objects.insert(key, out.clone());
            }
        }
        self.changed(&inner);
        Ok(out)
    }

    /// `DELETE`: with finalizers, marks the object (deletionTimestamp) and keeps it; without, removes it.
    pub(crate) fn delete(
        &self,
        r: &crate::ResourceRef,
        ns: &str,
        name: &str,
        options: Option<&Value>,
    ) -> Result<Value, ApiError> {
        let mut inner = self.lock();
        let reg = inner.registered(&r.group, &r.plural)?;
        let crd = reg.crd.clone();
        let key = (ns.to_string(), name.to_string());
        let mut obj = reg
            .objects
            .get(&key)
            .cloned()
            .ok_or_else(|| ApiError::not_found(subject(&crd), name))?;
        if let Some(pre) = options.and_then(|o| o.get("preconditions")) {
            for (field, label) in [("uid", "UID"), ("resourceVersion", "ResourceVersion")] {
                if let Some(want) = pre.get(field).and_then(Value::as_str)
                    && Some(want) != meta_str(&obj, field)
                {
                    let why = format!(
                        "Precondition failed: {label} in precondition: {want}, {label} in object meta: {}",
                        meta_str(&obj, field).unwrap_or_default()
                    );
                    return Err(ApiError::conflict(subject(&crd), name, &why));
                }
            }
        }
        if !finalizers(&obj).is_empty() {
            if meta(&obj).is_some_and(|m| m.contains_key("deletionTimestamp")) {
                return Ok(obj);
            }
            let g = meta(&obj)
                .and_then(|m| m.get("generation"))
                .and_then(Value::as_i64)
                .unwrap_or(1);
            set_meta(
                &mut obj,
                "deletionTimestamp",
                crate::clock::now_rfc3339().into(),
            );
            set_meta(&mut obj, "deletionGracePeriodSeconds", 0.into());
            set_meta(&mut obj, "generation", (g + 1).into());
            let rv = inner.next_rv();
            set_meta(&mut obj, "resourceVersion", rv.to_string().into());
            inner.record(&r.group, &r.plural, EventType::Modified, &obj);
            if let Some(reg) = inner
                .resources
                .get_mut(&(r.group.clone(), r.plural.clone()))
            {
                reg.objects.insert(key, obj.clone());
            }
        } else {
            let rv = inner.next_rv();
            set_meta(&mut obj, "resourceVersion", rv.to_string().into());
            inner.record(&r.group, &r.plural, EventType::Deleted, &obj);
            if let Some(reg) = inner
                .resources
                .get_mut(&(r.group.clone(), r.plural.clone()))
            {
                reg.objects.remove(&key);
            }
        }
        self.changed(&inner);
        Ok(obj)
    }

    /// Events after `rv` (of every resource) and the store's current resourceVersion.
    pub(crate) fn events_since(&self, rv: u64) -> Result<(Vec<StoredEvent>, u64), Expired> {
        let inner = self.lock();
        if rv < inner.compacted_rv {
            return Err(Expired {
                oldest: inner.compacted_rv,
            });
        }
        let events = inner
            .history
            .iter()
            .filter(|e| e.resource_version > rv)
            .cloned()
            .collect();
        Ok((events, inner.rv))
    }

    /// All retained events of one object, oldest first.
    pub(crate) fn object_history(
        &self,
        r: &crate::ResourceRef,
        ns: &str,
        name: &str,
    ) -> Vec<StoredEvent> {
        self.lock()
            .history
            .iter()
            .filter(|e| e.group == r.group && e.plural == r.plural && e.key() == (ns, name))
            .cloned()
            .collect()
    }

    /// Blocks until `pred` holds for the object (None = absent) or the timeout passes.
    /// `pred` runs without the store lock held, so it may call into the store or the
    /// controller; it is re-evaluated after every write.
    pub(crate) fn wait_for(
        &self,
        r: &crate::ResourceRef,
        ns: &str,
        name: &str,
        timeout: Duration,
        mut pred: impl FnMut(Option<&Value>) -> bool,
    ) -> Result<Option<Value>, Option<Value>> {
        let deadline = Instant::now() + timeout;
        loop {
            let (obj, seen) = {
                let inner = self.lock();
                let obj = inner
                    .resources
                    .get(&(r.group.clone(), r.plural.clone()))
                    .and_then(|reg| reg.objects.get(&(ns.to_string(), name.to_string())))
                    .cloned();
                (obj, inner.rv)
            };
            if pred(obj.as_ref()) {
                return Ok(obj);
            }
            let mut inner = self.lock();
            while inner.rv == seen {
                let now = Instant::now();
                if now >= deadline {
                    return Err(obj);
                }
                inner = self
                    .changed
                    .wait_timeout(inner, deadline - now)
                    .unwrap_or_else(PoisonError::into_inner)
                    .0;
            }
        }
    }
}

/// The `List` document for a collection answer.
pub(crate) fn list_document(
    crd: &Crd,
    version: &str,
    items: Vec<Value>,
    rv: u64,
    cont: Option<String>,
) -> Value {
    let mut metadata = json!({"resourceVersion": rv.to_string()});
    if let (Some(c), Some(m)) = (cont, metadata.as_object_mut()) {
        m.insert("continue".into(), c.into());
    }
    json!({
        "apiVersion": format!("{}/{}", crd.group, version),
        "kind": crd.list_kind,
        "metadata": metadata,
        "items": items,
    })
}
