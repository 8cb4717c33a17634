//! Real resources through the committed generated types: the samples deserialize and
//! serialize back to the same JSON, a typo in a spec is an error that names it, and a
//! status from a newer controller still reads.

use std::path::Path;

use generated::training_job::{TrainingJob, TrainingJobSpec, TrainingJobStatus};
use serde_json::{Value, json};

fn sample(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/samples")
        .join(name);
    let text = std::fs::read_to_string(&path).expect("sample");
    serde_saphyr::from_str(&text).expect("sample is YAML")
}

#[test]
fn samples_round_trip_exactly() {
    for name in ["my-training-job.yaml", "xgboost-trainingjob.yaml"] {
        let original = sample(name);
        let job: TrainingJob =
            serde_json::from_value(original.clone()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(job.spec.resource_config.instance_count, Some(1), "{name}");
        let back = serde_json::to_value(&job).expect("serializes");
        assert_eq!(back, original, "{name}");
    }
}

#[test]
fn absent_and_empty_stay_distinct() {
    let mut original = sample("xgboost-trainingjob.yaml");
    original["spec"]["tags"] = json!([]);
    let job: TrainingJob = serde_json::from_value(original.clone()).expect("deserializes");
    assert_eq!(job.spec.tags, Some(vec![]));
    assert_eq!(job.spec.vpc_config, None);
    assert_eq!(serde_json::to_value(&job).expect("serializes"), original);
}

#[test]
fn unknown_spec_field_is_an_error_naming_it() {
    let mut original = sample("xgboost-trainingjob.yaml");
    original["spec"]["inputDataConfig"][0]["dataSource"]["s3DataSource"]["RecordWrapperType"] =
        json!("None");
    let error = serde_json::from_value::<TrainingJob>(original)
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("unknown field `RecordWrapperType`"),
        "{error}"
    );
    assert!(
        error.contains("`s3DataType`"),
        "the error lists the valid names: {error}"
    );

    let typo = json!({"trainingJobName": "x", "roleARN": "r", "roleArn": "r",
        "algorithmSpecification": {}, "outputDataConfig": {}, "resourceConfig": {},
        "stoppingCondition": {}});
    let error = serde_json::from_value::<TrainingJobSpec>(typo)
        .unwrap_err()
        .to_string();
    assert!(error.contains("unknown field `roleArn`"), "{error}");
}

#[test]
fn missing_required_spec_field_is_an_error() {
    let mut original = sample("xgboost-trainingjob.yaml");
    original["spec"]
        .as_object_mut()
        .expect("spec")
        .remove("roleARN");
    let error = serde_json::from_value::<TrainingJob>(original)
        .unwrap_err()
        .to_string();
    assert!(error.contains("missing field `roleARN`"), "{error}");
}

#[test]
fn status_from_a_newer_controller_reads() {
    let status = json!({
        "ackResourceMetadata": {
            "arn": "arn:aws:sagemaker:us-west-2:123456789012:training-job/xgboost-training-job",
            "ownerAccountID": "123456789012",
            "region": "us-west-2",
            "aFieldFromTheFuture": true
        },
        "conditions": [
            {"type": "ACK.ResourceSynced", "status": "True",
             "message": "TrainingJob is in Completed status."},
            {"type": "ACK.Terminal", "status": "True", "reason": "r"},
            {"type": "Ready", "status": "True", "lastTransitionTime": "2026-11-28T16:00:00Z"}
        ],
        "trainingJobStatus": "Completed",
        "secondaryStatus": "Completed",
        "creationTime": "2026-11-28T15:00:00Z",
        "modelArtifacts": {"s3ModelArtifacts": "s3://b/model.tar.gz"},
        "newTopLevelField": {"x": 1}
    });
    let parsed: TrainingJobStatus = serde_json::from_value(status).expect("a newer status reads");
    let conditions = parsed.conditions.as_deref().expect("conditions");
    assert_eq!(conditions.len(), 3);
    assert_eq!(conditions[0].last_transition_time, None);
    assert_eq!(conditions[0].reason, None);
    assert_eq!(
        conditions[0].message.as_deref(),
        Some("TrainingJob is in Completed status.")
    );
    assert_eq!(parsed.training_job_status.as_deref(), Some("Completed"));
    assert_eq!(
        parsed
            .ack_resource_metadata
            .expect("metadata")
            .owner_account_id,
        "123456789012"
    );
}

#[test]
fn resource_identity_matches_the_crd() {
    use k8s_openapi::Resource;
    assert_eq!(
        TrainingJob::API_VERSION,
        "sagemaker.services.k8s.aws/v1alpha1"
    );
    assert_eq!(TrainingJob::KIND, "TrainingJob");
    assert_eq!(TrainingJob::URL_PATH_SEGMENT, "trainingjobs");
    let job = TrainingJob::new(
        "job",
        serde_json::from_value(sample("xgboost-trainingjob.yaml")["spec"].clone()).expect("spec"),
    );
    let value = serde_json::to_value(&job).expect("serializes");
    assert_eq!(value["apiVersion"], "sagemaker.services.k8s.aws/v1alpha1");
    assert_eq!(value["kind"], "TrainingJob");
    assert_eq!(value["metadata"]["name"], "job");
    assert!(value.get("status").is_none());
}

#[test]
fn synthetic_shapes_round_trip() {
    let widget = json!({
        "apiVersion": "example.com/v1beta1",
        "kind": "Widget",
        "metadata": {"name": "w"},
        "spec": {
            "mode": "2x",
            "replicas": 3,
            "port": "http",
            "extra": {"anything": [1, "two", null]},
            "type": "t",
            "self": true,
            "startAt": "2026-11-28T16:00:00Z",
            "matrix": [[{"value": 1}], []],
            "sidecars": {"log": {"image": "busybox", "config": {"level": 2}}},
            "labels": {"a": "b"}
        },
        "status": {"phase": "Running", "somethingNew": 1}
    });
    let parsed: conformance::widget::Widget =
        serde_json::from_value(widget.clone()).expect("deserializes");
    assert_eq!(parsed.spec.mode, conformance::widget::Mode::V2x);
    let mut expected = widget;
    // Status types accept unknown fields but do not keep them.
    expected["status"]
        .as_object_mut()
        .expect("status")
        .remove("somethingNew");
    assert_eq!(serde_json::to_value(&parsed).expect("serializes"), expected);
    let bad_enum = json!({"mode": "Medium", "replicas": 1});
    let error = serde_json::from_value::<conformance::widget::WidgetSpec>(bad_enum)
        .unwrap_err()
        .to_string();
    assert!(error.contains("unknown variant `Medium`"), "{error}");
}
