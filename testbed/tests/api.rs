//! The real kube-rs client against the API server double: every verb and error the
//! launcher relies on, with typed results.

mod common;

use std::time::Duration;

use common::{NS, api, api_error, bed, client, sample, sample_named};
use futures::{StreamExt, TryStreamExt};
use kube::api::{
    DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PostParams, WatchEvent,
    WatchParams,
};
use serde_json::{Value, json};
use testbed::{ResourceRef, Verb};

fn spec(o: &DynamicObject) -> &Value {
    &o.data["spec"]
}

#[tokio::test]
async fn discovery_and_version() {
    let bed = bed();
    let client = client(&bed).await;
    let v = client.apiserver_version().await.unwrap();
    assert_eq!((v.major.as_str(), v.minor.as_str()), ("1", "33"));
    let groups = client.list_api_groups().await.unwrap();
    assert!(
        groups
            .groups
            .iter()
            .any(|g| g.name == "sagemaker.services.k8s.aws")
    );
    let res = client
        .list_api_group_resources("sagemaker.services.k8s.aws/v1alpha1")
        .await
        .unwrap();
    let names: Vec<&str> = res.resources.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["trainingjobs", "trainingjobs/status"]);
    assert!(res.resources[0].namespaced);
    assert_eq!(bed.requests().count(Verb::Discovery), 3);
    let unknown = api_error(
        client
            .list_api_group_resources("nothing.example.com/v1")
            .await,
    );
    assert_eq!((unknown.code, unknown.reason.as_str()), (404, "NotFound"));
}

#[tokio::test]
async fn create_fills_server_fields_and_prunes_unknown_fields() {
    let bed = bed();
    let api = api(&bed).await;
    let mut obj = sample("my-training-job.yaml");
    obj.data["spec"]["inputDataConfig"][0]["RecordWrapperType"] = json!("RecordIO");
    obj.data["spec"]["notAField"] = json!(1);
    let created = api.create(&PostParams::default(), &obj).await.unwrap();
    let m = &created.metadata;
    assert_eq!(m.name.as_deref(), Some("my-training-job"));
    assert_eq!(m.namespace.as_deref(), Some(NS));
    assert_eq!(m.generation, Some(1));
    assert_eq!(m.uid.as_ref().map(String::len), Some(36));
    assert!(m.resource_version.is_some() && m.creation_timestamp.is_some());
    assert!(
        spec(&created)["inputDataConfig"][0]
            .get("RecordWrapperType")
            .is_none()
    );
    assert!(spec(&created).get("notAField").is_none());
    assert_eq!(spec(&created)["resourceConfig"]["instanceCount"], json!(1));
    // The stored object is what GET returns, and the request log saw one create with the body.
    let got = api.get("my-training-job").await.unwrap();
    assert_eq!(got.data, created.data);
    let creates: Vec<_> = bed
        .requests()
        .records()
        .into_iter()
        .filter(|r| r.verb == Verb::Create)
        .collect();
    assert_eq!(creates.len(), 1);
    assert_eq!(creates[0].status, 201);
    assert_eq!(
        creates[0].path,
        format!("/apis/sagemaker.services.k8s.aws/v1alpha1/namespaces/{NS}/trainingjobs")
    );
    assert!(creates[0].body.contains("RecordWrapperType"));
}

#[tokio::test]
async fn create_conflicts_and_get_not_found() {
    let bed = bed();
    let api = api(&bed).await;
    let obj = sample("xgboost-trainingjob.yaml");
    api.create(&PostParams::default(), &obj).await.unwrap();
    let err = api_error(api.create(&PostParams::default(), &obj).await);
    assert_eq!((err.code, err.reason.as_str()), (409, "AlreadyExists"));
    assert_eq!(
        err.message,
        "trainingjobs.sagemaker.services.k8s.aws \"xgboost-mnist-20250101\" already exists"
    );
    assert!(err.is_already_exists());
    let err = api_error(api.get("missing").await);
    assert_eq!((err.code, err.reason.as_str()), (404, "NotFound"));
    assert_eq!(
        err.message,
        "trainingjobs.sagemaker.services.k8s.aws \"missing\" not found"
    );
    assert!(api.get_opt("missing").await.unwrap().is_none());
}

#[tokio::test]
async fn create_rejects_schema_violations_with_field_causes() {
    let bed = bed();
    let api = api(&bed).await;
    let mut obj = sample("xgboost-trainingjob.yaml");
    obj.data["spec"].as_object_mut().unwrap().remove("roleARN");
    obj.data["spec"]["resourceConfig"]["instanceCount"] = json!("one");
    obj.data["spec"]["hyperParameters"]["eta"] = json!(0.2);
    let err = api_error(api.create(&PostParams::default(), &obj).await);
    assert_eq!((err.code, err.reason.as_str()), (422, "Invalid"));
    assert!(err.is_invalid());
    let causes: Vec<(String, String)> = err
        .details
        .as_ref()
        .unwrap()
        .causes
        .iter()
        .map(|c| (c.field.clone(), c.reason.clone()))
        .collect();
    assert_eq!(
        causes,
        [
            (
                "spec.hyperParameters.eta".to_string(),
                "FieldValueTypeInvalid".to_string()
            ),
            (
                "spec.resourceConfig.instanceCount".into(),
                "FieldValueTypeInvalid".into()
            ),
            ("spec.roleARN".into(), "FieldValueRequired".into()),
        ]
    );
    assert_eq!(
        err.message,
        "TrainingJob.sagemaker.services.k8s.aws \"xgboost-mnist-20250101\" is invalid: [spec.hyperParameters.eta: Invalid value: \"number\": spec.hyperParameters.eta in body must be of type string: \"number\", spec.resourceConfig.instanceCount: Invalid value: \"string\": spec.resourceConfig.instanceCount in body must be of type integer: \"string\", spec.roleARN: Required value]"
    );
    // Nothing was stored, and a bad name is refused too.
    assert!(
        api.get_opt("xgboost-mnist-20250101")
            .await
            .unwrap()
            .is_none()
    );
    let mut bad_name = sample("xgboost-trainingjob.yaml");
    bad_name.metadata.name = Some("Upper_Case".into());
    let err = api_error(api.create(&PostParams::default(), &bad_name).await);
    assert_eq!(err.code, 422);
    assert_eq!(err.details.unwrap().causes[0].field, "metadata.name");
}

#[tokio::test]
async fn whole_floats_are_integers_and_dry_run_stores_nothing() {
    let bed = bed();
    let api = api(&bed).await;
    let mut obj = sample("xgboost-trainingjob.yaml");
    obj.data["spec"]["stoppingCondition"]["maxRuntimeInSeconds"] = json!(3600.0);
    let dry = api
        .create(
            &PostParams {
                dry_run: true,
                ..Default::default()
            },
            &obj,
        )
        .await
        .unwrap();
    assert_eq!(
        spec(&dry)["stoppingCondition"]["maxRuntimeInSeconds"],
        json!(3600)
    );
    assert!(
        api.get_opt("xgboost-mnist-20250101")
            .await
            .unwrap()
            .is_none()
    );
    obj.data["spec"]["stoppingCondition"]["maxRuntimeInSeconds"] = json!(3600.5);
    assert_eq!(
        api_error(api.create(&PostParams::default(), &obj).await).code,
        422
    );
}

#[tokio::test]
async fn list_with_selectors_and_paging() {
    let bed = bed();
    let api = api(&bed).await;
    for name in ["job-a", "job-b", "job-c"] {
        let mut v = sample_named("xgboost-trainingjob.yaml", name);
        v["metadata"]["labels"] = json!({"team": if name == "job-b" { "b" } else { "ml" }});
        api.create(&PostParams::default(), &serde_json::from_value(v).unwrap())
            .await
            .unwrap();
    }
    let all = api.list(&ListParams::default()).await.unwrap();
    assert_eq!(all.items.len(), 3);
    let rv: u64 = all.metadata.resource_version.unwrap().parse().unwrap();
    assert!(rv > 100);
    let one = api
        .list(&ListParams::default().fields("metadata.name=job-b"))
        .await
        .unwrap();
    assert_eq!(one.items.len(), 1);
    assert_eq!(one.items[0].metadata.name.as_deref(), Some("job-b"));
    let ml = api
        .list(&ListParams::default().labels("team=ml"))
        .await
        .unwrap();
    assert_eq!(
        ml.items
            .iter()
            .map(|o| o.metadata.name.clone().unwrap())
            .collect::<Vec<_>>(),
        ["job-a", "job-c"]
    );
    let page1 = api.list(&ListParams::default().limit(2)).await.unwrap();
    assert_eq!(page1.items.len(), 2);
    let token = page1.metadata.continue_.clone().unwrap();
    let page2 = api
        .list(&ListParams::default().limit(2).continue_token(&token))
        .await
        .unwrap();
    assert_eq!(page2.items.len(), 1);
    assert_eq!(page2.items[0].metadata.name.as_deref(), Some("job-c"));
    let err = api_error(
        api.list(&ListParams::default().fields("spec.trainingJobName=x"))
            .await,
    );
    assert_eq!((err.code, err.reason.as_str()), (400, "BadRequest"));
    // Items are typed objects with apiVersion and kind.
    assert_eq!(all.items[0].types.as_ref().unwrap().kind, "TrainingJob");
}

#[tokio::test]
async fn merge_and_json_patches_on_object_and_status() {
    let bed = bed();
    let api = api(&bed).await;
    let created = api
        .create(&PostParams::default(), &sample("my-training-job.yaml"))
        .await
        .unwrap();
    let pp = PatchParams::default();
    // A status write through the main resource is ignored; no generation bump for labels.
    let p = api
        .patch("my-training-job", &pp, &Patch::Merge(json!({"metadata": {"labels": {"a": "b"}}, "status": {"trainingJobStatus": "Completed"}})))
        .await
        .unwrap();
    assert_eq!(p.metadata.generation, Some(1));
    assert!(p.data.get("status").is_none());
    assert_ne!(
        p.metadata.resource_version,
        created.metadata.resource_version
    );
    // A spec change bumps the generation.
    let p = api
        .patch(
            "my-training-job",
            &pp,
            &Patch::Merge(json!({"spec": {"enableNetworkIsolation": true}})),
        )
        .await
        .unwrap();
    assert_eq!(p.metadata.generation, Some(2));
    // /status writes change only status, without a generation bump.
    let s = api
        .patch_status(
            "my-training-job",
            &pp,
            &Patch::Merge(
                json!({"spec": {"roleARN": "x"}, "status": {"trainingJobStatus": "InProgress"}}),
            ),
        )
        .await
        .unwrap();
    assert_eq!(s.data["status"]["trainingJobStatus"], "InProgress");
    assert_eq!(s.metadata.generation, Some(2));
    assert_eq!(spec(&s)["roleARN"], spec(&created)["roleARN"]);
    // JSON patch, including a failing test operation.
    let ops: json_patch::Patch = serde_json::from_value(json!([
        {"op": "add", "path": "/metadata/finalizers", "value": ["example.com/keep"]},
        {"op": "replace", "path": "/spec/resourceConfig/volumeSizeInGB", "value": 10}
    ]))
    .unwrap();
    let j = api
        .patch("my-training-job", &pp, &Patch::Json::<()>(ops))
        .await
        .unwrap();
    assert_eq!(
        j.metadata.finalizers.as_deref(),
        Some(&["example.com/keep".to_string()][..])
    );
    assert_eq!(spec(&j)["resourceConfig"]["volumeSizeInGB"], 10);
    assert_eq!(j.metadata.generation, Some(3));
    let bad: json_patch::Patch =
        serde_json::from_value(json!([{"op": "test", "path": "/spec/roleARN", "value": "nope"}]))
            .unwrap();
    assert_eq!(
        api_error(
            api.patch("my-training-job", &pp, &Patch::Json::<()>(bad))
                .await
        )
        .code,
        422
    );
    // A no-op patch does not change the resourceVersion.
    let again = api
        .patch(
            "my-training-job",
            &pp,
            &Patch::Merge(json!({"spec": {"enableNetworkIsolation": true}})),
        )
        .await
        .unwrap();
    assert_eq!(again.metadata.resource_version, j.metadata.resource_version);
    // Schema violations in patches are 422, patches of missing objects 404.
    let err = api_error(
        api.patch(
            "my-training-job",
            &pp,
            &Patch::Merge(json!({"spec": {"enableNetworkIsolation": "yes"}})),
        )
        .await,
    );
    assert_eq!((err.code, err.reason.as_str()), (422, "Invalid"));
    assert_eq!(
        api_error(api.patch("nope", &pp, &Patch::Merge(json!({}))).await).code,
        404
    );
    // Strategic merge is refused for custom resources.
    let err = api_error(
        api.patch("my-training-job", &pp, &Patch::Strategic(json!({})))
            .await,
    );
    assert_eq!(err.code, 415);
}

#[tokio::test]
async fn replace_checks_resource_version() {
    let bed = bed();
    let api = api(&bed).await;
    let created = api
        .create(&PostParams::default(), &sample("my-training-job.yaml"))
        .await
        .unwrap();
    let mut changed = created.clone();
    changed.data["spec"]["resourceConfig"]["volumeSizeInGB"] = json!(50);
    let replaced = api
        .replace("my-training-job", &PostParams::default(), &changed)
        .await
        .unwrap();
    assert_eq!(replaced.metadata.generation, Some(2));
    // The old resourceVersion is now stale.
    let err = api_error(
        api.replace("my-training-job", &PostParams::default(), &changed)
            .await,
    );
    assert_eq!((err.code, err.reason.as_str()), (409, "Conflict"));
    let mut with_status = replaced.clone();
    with_status.data["status"] = json!({"failureReason": "x"});
    let s = api
        .replace_status("my-training-job", &PostParams::default(), &with_status)
        .await
        .unwrap();
    assert_eq!(s.data["status"]["failureReason"], "x");
}

#[tokio::test]
async fn delete_with_and_without_finalizers() {
    let bed = bed();
    let api = api(&bed).await;
    let mut obj = sample("my-training-job.yaml");
    obj.metadata.finalizers = Some(vec!["example.com/hold".into()]);
    api.create(&PostParams::default(), &obj).await.unwrap();
    let marked = api
        .delete("my-training-job", &DeleteParams::default())
        .await
        .unwrap()
        .left()
        .unwrap();
    assert!(marked.metadata.deletion_timestamp.is_some());
    assert_eq!(marked.metadata.generation, Some(2));
    let still = api.get("my-training-job").await.unwrap();
    assert!(still.metadata.deletion_timestamp.is_some());
    // No new finalizers while deleting.
    let add = json!({"metadata": {"finalizers": ["example.com/hold", "example.com/other"]}});
    assert_eq!(
        api_error(
            api.patch(
                "my-training-job",
                &PatchParams::default(),
                &Patch::Merge(add)
            )
            .await
        )
        .code,
        422
    );
    // Removing the last finalizer deletes it.
    api.patch(
        "my-training-job",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"finalizers": null}})),
    )
    .await
    .unwrap();
    assert!(api.get_opt("my-training-job").await.unwrap().is_none());
    // Without finalizers: gone at once; deleting again is 404.
    api.create(&PostParams::default(), &sample("xgboost-trainingjob.yaml"))
        .await
        .unwrap();
    api.delete("xgboost-mnist-20250101", &DeleteParams::default())
        .await
        .unwrap();
    assert!(
        api.get_opt("xgboost-mnist-20250101")
            .await
            .unwrap()
            .is_none()
    );
    let err = api_error(
        api.delete("xgboost-mnist-20250101", &DeleteParams::default())
            .await,
    );
    assert_eq!((err.code, err.reason.as_str()), (404, "NotFound"));
    let events: Vec<&str> = bed
        .history(&ResourceRef::training_job(), NS, "my-training-job")
        .iter()
        .map(|e| e.event_type.as_str())
        .collect();
    assert_eq!(events, ["ADDED", "MODIFIED", "DELETED"]);
}

#[tokio::test]
async fn delete_preconditions_conflict() {
    let bed = bed();
    let api = api(&bed).await;
    api.create(&PostParams::default(), &sample("my-training-job.yaml"))
        .await
        .unwrap();
    let dp = DeleteParams {
        preconditions: Some(kube::api::Preconditions {
            uid: Some("wrong".into()),
            resource_version: None,
        }),
        ..Default::default()
    };
    let err = api_error(api.delete("my-training-job", &dp).await);
    assert_eq!((err.code, err.reason.as_str()), (409, "Conflict"));
    assert!(api.get_opt("my-training-job").await.unwrap().is_some());
}

async fn next_event(
    stream: &mut (impl futures::Stream<Item = Result<WatchEvent<DynamicObject>, kube::Error>> + Unpin),
) -> WatchEvent<DynamicObject> {
    tokio::time::timeout(Duration::from_secs(10), stream.try_next())
        .await
        .expect("event in time")
        .unwrap()
        .expect("stream open")
}

#[tokio::test]
async fn watch_from_zero_then_changes_with_name_selector() {
    let bed = bed();
    let api = api(&bed).await;
    api.create(&PostParams::default(), &sample("my-training-job.yaml"))
        .await
        .unwrap();
    api.create(&PostParams::default(), &sample("xgboost-trainingjob.yaml"))
        .await
        .unwrap();
    let wp = WatchParams::default()
        .fields("metadata.name=my-training-job")
        .timeout(30);
    let mut stream = api.watch(&wp, "0").await.unwrap().boxed();
    let WatchEvent::Added(o) = next_event(&mut stream).await else {
        panic!("expected ADDED")
    };
    assert_eq!(o.metadata.name.as_deref(), Some("my-training-job"));
    let pp = PatchParams::default();
    api.patch(
        "xgboost-mnist-20250101",
        &pp,
        &Patch::Merge(json!({"metadata": {"labels": {"x": "y"}}})),
    )
    .await
    .unwrap();
    api.patch_status(
        "my-training-job",
        &pp,
        &Patch::Merge(json!({"status": {"secondaryStatus": "Training"}})),
    )
    .await
    .unwrap();
    let WatchEvent::Modified(o) = next_event(&mut stream).await else {
        panic!("expected MODIFIED")
    };
    assert_eq!(o.data["status"]["secondaryStatus"], "Training");
    api.delete("my-training-job", &DeleteParams::default())
        .await
        .unwrap();
    let WatchEvent::Deleted(o) = next_event(&mut stream).await else {
        panic!("expected DELETED")
    };
    assert_eq!(o.metadata.name.as_deref(), Some("my-training-job"));
    let watch = bed
        .requests()
        .records()
        .into_iter()
        .find(|r| r.verb == Verb::Watch)
        .unwrap();
    assert_eq!(
        watch.param("fieldSelector").as_deref(),
        Some("metadata.name=my-training-job")
    );
    assert_eq!(watch.param("allowWatchBookmarks").as_deref(), Some("true"));
}

#[tokio::test]
async fn watch_resumes_from_resource_version_and_gets_bookmarks() {
    let bed = bed();
    let api = api(&bed).await;
    let created = api
        .create(&PostParams::default(), &sample("my-training-job.yaml"))
        .await
        .unwrap();
    let rv = created.metadata.resource_version.clone().unwrap();
    let pp = PatchParams::default();
    api.patch_status(
        "my-training-job",
        &pp,
        &Patch::Merge(json!({"status": {"secondaryStatus": "Starting"}})),
    )
    .await
    .unwrap();
    // Resuming from the create's resourceVersion replays the status change (no synthetic ADDED).
    let mut stream = api
        .watch(&WatchParams::default().timeout(30), &rv)
        .await
        .unwrap()
        .boxed();
    let WatchEvent::Modified(o) = next_event(&mut stream).await else {
        panic!("expected MODIFIED")
    };
    assert_eq!(o.data["status"]["secondaryStatus"], "Starting");
    // Bookmarks arrive periodically (default interval 1 s) with the current resourceVersion.
    let WatchEvent::Bookmark(b) = next_event(&mut stream).await else {
        panic!("expected BOOKMARK")
    };
    assert_eq!(
        b.metadata.resource_version,
        o.metadata.resource_version.unwrap()
    );
}

#[tokio::test]
async fn watch_with_initial_events_ends_them_with_a_bookmark() {
    let bed = bed();
    let api = api(&bed).await;
    api.create(&PostParams::default(), &sample("my-training-job.yaml"))
        .await
        .unwrap();
    let wp = WatchParams::default().initial_events().timeout(30);
    let mut stream = api.watch(&wp, "").await.unwrap().boxed();
    assert!(matches!(
        next_event(&mut stream).await,
        WatchEvent::Added(_)
    ));
    let WatchEvent::Bookmark(b) = next_event(&mut stream).await else {
        panic!("expected BOOKMARK")
    };
    assert_eq!(
        b.metadata
            .annotations
            .get("k8s.io/initial-events-end")
            .map(String::as_str),
        Some("true")
    );
}

#[tokio::test]
async fn watch_timeout_ends_the_stream() {
    let bed = bed();
    let api = api(&bed).await;
    let wp = WatchParams::default().timeout(1).disable_bookmarks();
    let mut stream = api.watch(&wp, "0").await.unwrap().boxed();
    let end = tokio::time::timeout(Duration::from_secs(10), stream.try_next())
        .await
        .expect("ends in time")
        .unwrap();
    assert!(end.is_none());
}

#[tokio::test]
async fn watch_from_expired_resource_version_gets_410() {
    let bed = bed();
    let api = api(&bed).await;
    let created = api
        .create(&PostParams::default(), &sample("my-training-job.yaml"))
        .await
        .unwrap();
    bed.faults().expire_history();
    let rv = created.metadata.resource_version.unwrap();
    let mut stream = api
        .watch(&WatchParams::default(), &rv)
        .await
        .unwrap()
        .boxed();
    let WatchEvent::Error(e) = next_event(&mut stream).await else {
        panic!("expected ERROR")
    };
    assert_eq!((e.code, e.reason.as_str()), (410, "Expired"));
    // Re-listing and watching from the list's resourceVersion works again.
    let list = api.list(&ListParams::default()).await.unwrap();
    let mut stream = api
        .watch(
            &WatchParams::default().timeout(30),
            &list.metadata.resource_version.unwrap(),
        )
        .await
        .unwrap()
        .boxed();
    api.delete("my-training-job", &DeleteParams::default())
        .await
        .unwrap();
    assert!(matches!(
        next_event(&mut stream).await,
        WatchEvent::Deleted(_)
    ));
}

#[test]
fn in_process_helpers_and_kubeconfig_work_without_a_client() {
    let bed = bed();
    let yaml = bed.kubeconfig_yaml("team-a");
    assert!(yaml.contains(&format!("server: {}", bed.base_url())));
    assert!(yaml.contains("namespace: team-a") && yaml.contains(testbed::TOKEN));
    let r = ResourceRef::training_job();
    let created = bed
        .create(&r, "team-a", sample_named("my-training-job.yaml", "local"))
        .unwrap();
    assert_eq!(created["metadata"]["generation"], 1);
    let got = bed
        .wait_for(&r, "team-a", "local", Duration::from_secs(1), |o| {
            o.is_some()
        })
        .unwrap();
    assert_eq!(got.unwrap()["metadata"]["uid"], created["metadata"]["uid"]);
    let err = bed
        .create(&r, "team-a", sample_named("my-training-job.yaml", "local"))
        .unwrap_err();
    assert_eq!((err.code, err.reason), (409, "AlreadyExists"));
    bed.delete(&r, "team-a", "local").unwrap();
    assert!(bed.get(&r, "team-a", "local").is_none());
    assert!(
        bed.wait_for(&r, "team-a", "local", Duration::from_millis(50), |o| o
            .is_some())
            .is_err()
    );
}
