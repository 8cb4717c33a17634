//! Watch streams: synthetic ADDED events for the current state (no or `0` resourceVersion,
//! or `sendInitialEvents=true`), then every change from the history, BOOKMARKs when allowed,
//! and an `ERROR` 410 event when the requested resourceVersion is older than the history.

use std::time::Duration;

use hyper::body::Bytes;
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::Ctx;
use super::query::Params;
use crate::ResourceRef;
use crate::api_error::ApiError;
use crate::crd::Crd;
use crate::selector::Selector;

/// A watch without `timeoutSeconds` lasts this long (the apiserver picks 30-60 minutes).
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1800);

fn line(event_type: &str, object: &Value) -> Bytes {
    let mut v =
        serde_json::to_vec(&json!({"type": event_type, "object": object})).unwrap_or_default();
    v.push(b'\n');
    Bytes::from(v)
}

fn bookmark(crd: &Crd, version: &str, rv: u64, initial_end: bool) -> Bytes {
    let mut metadata = json!({"resourceVersion": rv.to_string()});
    if initial_end && let Some(m) = metadata.as_object_mut() {
        m.insert(
            "annotations".into(),
            json!({"k8s.io/initial-events-end": "true"}),
        );
    }
    line(
        "BOOKMARK",
        &json!({"apiVersion": format!("{}/{version}", crd.group), "kind": crd.kind, "metadata": metadata}),
    )
}

/// Validates the parameters and starts the stream task; the receiver is the response body.
pub(crate) fn start(
    ctx: &Ctx,
    r: ResourceRef,
    crd: Crd,
    ns: Option<String>,
    params: &Params,
) -> Result<mpsc::Receiver<Bytes>, ApiError> {
    let selector = Selector::parse(params.get("fieldSelector"), params.get("labelSelector"))?;
    let from = match params
        .get("resourceVersion")
        .filter(|v| !v.is_empty() && *v != "0")
    {
        None => None,
        Some(v) => Some(
            v.parse::<u64>()
                .map_err(|_| ApiError::bad_request(format!("invalid resource version: {v:?}")))?,
        ),
    };
    let timeout = match params.get("timeoutSeconds") {
        Some(t) => Duration::from_secs(
            t.parse::<u64>()
                .map_err(|_| ApiError::bad_request(format!("invalid timeoutSeconds: {t:?}")))?,
        ),
        None => DEFAULT_TIMEOUT,
    };
    let spec = Spec {
        r,
        crd,
        ns,
        selector,
        from: if params.flag("sendInitialEvents") {
            None
        } else {
            from
        },
        bookmarks: params.flag("allowWatchBookmarks"),
        initial_end_bookmark: params.flag("sendInitialEvents")
            && params.flag("allowWatchBookmarks"),
        deadline: Instant::now() + timeout,
    };
    let (tx, rx) = mpsc::channel(256);
    tokio::spawn(run(ctx.clone(), spec, tx));
    Ok(rx)
}

#[derive(Debug)]
struct Spec {
    r: ResourceRef,
    crd: Crd,
    ns: Option<String>,
    selector: Selector,
    from: Option<u64>,
    bookmarks: bool,
    initial_end_bookmark: bool,
    deadline: Instant,
}

async fn run(ctx: Ctx, spec: Spec, tx: mpsc::Sender<Bytes>) {
    let store = &ctx.store;
    let mut changes = store.subscribe();
    let mut cursor = match spec.from {
        Some(rv) => rv,
        None => {
            let Ok((items, rv)) = store.list(&spec.r, spec.ns.as_deref(), &spec.selector) else {
                return;
            };
            for item in items {
                if tx.send(line("ADDED", &item)).await.is_err() {
                    return;
                }
            }
            if spec.initial_end_bookmark
                && tx
                    .send(bookmark(&spec.crd, &spec.r.version, rv, true))
                    .await
                    .is_err()
            {
                return;
            }
            rv
        }
    };
    let mut ticker = ctx
        .bookmark_interval
        .map(|d| tokio::time::interval_at(Instant::now() + d, d));
    loop {
        match store.events_since(cursor) {
            Err(expired) => {
                let _ = tx
                    .send(line(
                        "ERROR",
                        &ApiError::expired(cursor, expired.oldest).to_status(),
                    ))
                    .await;
                return;
            }
            Ok((events, now)) => {
                for e in events {
                    cursor = e.resource_version;
                    let ns_ok = spec.ns.as_deref().is_none_or(|ns| e.key().0 == ns);
                    if e.group != spec.r.group
                        || e.plural != spec.r.plural
                        || !ns_ok
                        || !spec.selector.matches(&e.object)
                    {
                        continue;
                    }
                    if tx
                        .send(line(e.event_type.as_str(), &e.object))
                        .await
                        .is_err()
                    {
                        return;
                    }
                }
                cursor = cursor.max(now);
            }
        }
        let tick = async {
            match ticker.as_mut() {
                Some(t) if spec.bookmarks => {
                    t.tick().await;
                }
                _ => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            changed = changes.changed() => if changed.is_err() { return },
            () = tokio::time::sleep_until(spec.deadline) => return,
            () = tick => {
                if tx.send(bookmark(&spec.crd, &spec.r.version, cursor, false)).await.is_err() {
                    return;
                }
            }
            () = tx.closed() => return,
        }
    }
}
