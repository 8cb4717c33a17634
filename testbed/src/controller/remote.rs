//! The simulated controller as a client of a real API server: it lists and watches the
//! resource in one namespace with kube-rs (re-listing after `410 Gone` or a lost server,
//! resuming the watch from the last resourceVersion otherwise) and writes with JSON merge
//! patches of the object and of `/status`, as the ACK runtime's controller-runtime client
//! does. The reconcile logic is the in-process controller's, unchanged.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt as _;
use kube::api::{Api, ApiResource, DynamicObject, ListParams, Patch, PatchParams, WatchParams};
use kube::core::WatchEvent;
use serde_json::Value;
use tokio::runtime::Handle;
use tokio::sync::Notify;

use super::{Controller, ControllerOptions, Key, Objects, Shared, Unavailable, worker};
use crate::ResourceRef;
use crate::store::Subresource;

/// The field manager of the simulated controller's writes.
const FIELD_MANAGER: &str = "ack-sagemaker-controller";

/// A [`Controller`] reconciling one namespace of a real API server. Unlike the in-process
/// one it stops when dropped, since the cluster may outlive the test that started it.
#[derive(Debug)]
pub struct ClusterController {
    controller: Controller,
}

impl std::ops::Deref for ClusterController {
    type Target = Controller;
    fn deref(&self) -> &Controller {
        &self.controller
    }
}

impl Drop for ClusterController {
    fn drop(&mut self) {
        self.controller.stop();
    }
}

impl ClusterController {
    /// Starts reconciling `namespace` with `client` (its connections live on `handle`'s
    /// runtime, which must be a multi-threaded one).
    pub fn start(
        client: kube::Client,
        handle: &Handle,
        namespace: &str,
        options: ControllerOptions,
    ) -> ClusterController {
        let shared = Controller::new_shared(options);
        let objects: Arc<dyn Objects> = Arc::new(KubeObjects {
            client: client.clone(),
            handle: handle.clone(),
        });
        let task = handle.spawn(watch_loop(
            shared.clone(),
            objects,
            api(&client, &shared.options.resource, namespace),
        ));
        shared.track(task.abort_handle());
        ClusterController {
            controller: Controller { shared },
        }
    }
}

fn api(client: &kube::Client, r: &ResourceRef, ns: &str) -> Api<DynamicObject> {
    let resource = ApiResource {
        group: r.group.clone(),
        version: r.version.clone(),
        api_version: format!("{}/{}", r.group, r.version),
        kind: String::new(), // Only URLs are built from it here.
        plural: r.plural.clone(),
    };
    Api::namespaced_with(client.clone(), ns, &resource)
}

struct KubeObjects {
    client: kube::Client,
    handle: Handle,
}

impl Objects for KubeObjects {
    fn fetch(&self, r: &ResourceRef, ns: &str, name: &str) -> Result<Option<Value>, Unavailable> {
        match self.handle.block_on(api(&self.client, r, ns).get_opt(name)) {
            Ok(object) => Ok(object.and_then(|o| serde_json::to_value(o).ok())),
            Err(_) => Err(Unavailable),
        }
    }

    fn merge_patch(
        &self,
        r: &ResourceRef,
        ns: &str,
        name: &str,
        sub: Subresource,
        patch: Value,
    ) -> Option<Value> {
        let api = api(&self.client, r, ns);
        let params = PatchParams {
            field_manager: Some(FIELD_MANAGER.into()),
            ..PatchParams::default()
        };
        let patch = Patch::Merge(&patch);
        let written = self.handle.block_on(async {
            match sub {
                Subresource::Main => api.patch(name, &params, &patch).await,
                Subresource::Status => api.patch_status(name, &params, &patch).await,
            }
        });
        serde_json::to_value(written.ok()?).ok()
    }
}

fn key_and_generation(o: &DynamicObject) -> (Key, i64) {
    let m = &o.metadata;
    (
        (
            m.namespace.clone().unwrap_or_default(),
            m.name.clone().unwrap_or_default(),
        ),
        m.generation.unwrap_or(0),
    )
}

/// An informer of one namespace feeding the per-object workers through the
/// `GenerationChanged` predicate, like the in-process event loop.
async fn watch_loop(shared: Arc<Shared>, objects: Arc<dyn Objects>, api: Api<DynamicObject>) {
    let mut workers: HashMap<Key, Arc<Notify>> = HashMap::new();
    let mut generations: HashMap<Key, i64> = HashMap::new();
    let enqueue = |k: Key, workers: &mut HashMap<Key, Arc<Notify>>| {
        let notify = workers.entry(k.clone()).or_insert_with(|| {
            let n = Arc::new(Notify::new());
            let task = tokio::spawn(worker(shared.clone(), objects.clone(), true, k, n.clone()));
            shared.track(task.abort_handle());
            n
        });
        notify.notify_one();
    };
    let retry = Duration::from_millis(100);
    loop {
        let list = match api.list(&ListParams::default()).await {
            Ok(list) => list,
            Err(_) => {
                tokio::time::sleep(retry).await; // The server is down or restarting.
                continue;
            }
        };
        for o in &list.items {
            let (k, g) = key_and_generation(o);
            if generations.insert(k.clone(), g) != Some(g) {
                enqueue(k, &mut workers);
            }
        }
        let mut rv = list.metadata.resource_version.unwrap_or_default();
        'watch: loop {
            let params = WatchParams::default().timeout(60).disable_bookmarks();
            let Ok(stream) = api.watch(&params, &rv).await else {
                tokio::time::sleep(retry).await;
                break 'watch;
            };
            let mut stream = std::pin::pin!(stream);
            while let Some(event) = stream.next().await {
                match event {
                    Ok(WatchEvent::Added(o) | WatchEvent::Modified(o)) => {
                        rv = o.metadata.resource_version.clone().unwrap_or(rv);
                        let (k, g) = key_and_generation(&o);
                        if generations.insert(k.clone(), g) != Some(g) {
                            enqueue(k, &mut workers);
                        }
                    }
                    Ok(WatchEvent::Deleted(o)) => {
                        rv = o.metadata.resource_version.clone().unwrap_or(rv);
                        let (k, _) = key_and_generation(&o);
                        generations.remove(&k);
                        if let Some(n) = workers.remove(&k) {
                            n.notify_one(); // The worker finds it gone and ends.
                        }
                    }
                    Ok(WatchEvent::Bookmark(b)) => rv = b.metadata.resource_version,
                    // 410 Gone (or any error event): start again from a list.
                    Ok(WatchEvent::Error(_)) => break 'watch,
                    // A broken stream: resume from the last resourceVersion.
                    Err(_) => continue 'watch,
                }
            }
        }
    }
}
