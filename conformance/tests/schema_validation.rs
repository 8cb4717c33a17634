//! The generated types judged by the CRDs' own schemas, with a JSON Schema validator
//! (`jsonschema`) rather than by re-reading the generator: what the types write validates
//! against the openAPIV3Schema, and values the schema rejects (a wrong type, a missing
//! required field, an unlisted spec enum value) the types reject too.

use std::path::Path;

use conformance::other_controllers::ack::{AwsResourceReference, AwsResourceReferenceWrapper};
use conformance::other_controllers::bucket::{Acl, Bucket, BucketSpec};
use generated::training_job::TrainingJob;
use serde_json::{Value, json};

fn repo_file(path: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path))
        .unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The storage version's openAPIV3Schema of a CRD file, as a validator.
fn validator(crd_path: &str) -> jsonschema::Validator {
    let crd: Value = serde_saphyr::from_str(&repo_file(crd_path)).expect("CRD is YAML");
    let version = crd["spec"]["versions"]
        .as_array()
        .and_then(|versions| versions.iter().find(|v| v["storage"] == json!(true)))
        .expect("a storage version");
    let schema = &version["schema"]["openAPIV3Schema"];
    // The API server's structural schemas are the draft 4 subset OpenAPI 3.0 uses.
    jsonschema::draft4::new(schema).expect("the CRD's schema compiles")
}

fn errors(validator: &jsonschema::Validator, value: &Value) -> Vec<String> {
    validator
        .iter_errors(value)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

const TRAINING_JOB_CRD: &str =
    "crds/sagemaker-controller/sagemaker.services.k8s.aws_trainingjobs.yaml";

fn sample(name: &str) -> Value {
    serde_saphyr::from_str(&repo_file(&format!("fixtures/samples/{name}"))).expect("sample")
}

#[test]
fn what_the_training_job_types_write_is_valid() {
    let schema = validator(TRAINING_JOB_CRD);
    for name in ["my-training-job.yaml", "xgboost-trainingjob.yaml"] {
        let job: TrainingJob = serde_json::from_value(sample(name)).expect("sample reads");
        let written = serde_json::to_value(&job).expect("serialises");
        assert_eq!(errors(&schema, &written), Vec::<String>::new(), "{name}");
    }
}

#[test]
fn what_the_schema_rejects_the_types_reject() {
    let schema = validator(TRAINING_JOB_CRD);
    let base = sample("xgboost-trainingjob.yaml");
    type Mutation = (&'static str, fn(&mut Value));
    let mutations: [Mutation; 4] = [
        ("a string for an integer", |v| {
            v["spec"]["resourceConfig"]["instanceCount"] = json!("two");
        }),
        ("a required field left out", |v| {
            v["spec"].as_object_mut().map(|s| s.remove("roleARN"));
        }),
        ("an object for a list", |v| {
            v["spec"]["inputDataConfig"] = json!({})
        }),
        ("a number for a boolean", |v| {
            v["spec"]["enableManagedSpotTraining"] = json!(1);
        }),
    ];
    for (what, mutate) in mutations {
        let mut value = base.clone();
        mutate(&mut value);
        assert!(
            !errors(&schema, &value).is_empty(),
            "the schema accepts {what}"
        );
        assert!(
            serde_json::from_value::<TrainingJob>(value).is_err(),
            "the types accept {what}"
        );
    }
}

const BUCKET_CRD: &str = "fixtures/other-controllers/aws-controllers-k8s/s3-controller/\
                          v0.0.0-fixture/helm/crds/s3.services.k8s.aws_buckets.yaml";

#[test]
fn another_controllers_resource_with_references_is_valid() {
    let schema = validator(BUCKET_CRD);
    let spec: BucketSpec = serde_json::from_value(json!({
        "name": "my-bucket",
        "acl": "public-read",
        "policyRef": {"from": {"name": "my-policy"}},
        "notificationSecretRef": {"key": "token", "name": "s3-secrets"},
        "metricsFilters": {"all": {"team": "ml"}},
        "lifecycle": {"rules": [{"status": "Enabled", "expirationDays": "30"}, {"status": "Enabled", "expirationDays": 7}]},
    }))
    .expect("spec reads");
    assert_eq!(spec.acl, Some(Acl::PublicRead));
    assert_eq!(
        spec.policy_ref,
        Some(AwsResourceReferenceWrapper {
            from: Some(AwsResourceReference {
                name: Some("my-policy".to_owned()),
                namespace: None,
            }),
        })
    );
    let bucket = Bucket::new("my-bucket", spec);
    let written = serde_json::to_value(&bucket).expect("serialises");
    assert_eq!(errors(&schema, &written), Vec::<String>::new());

    let mut unlisted = written.clone();
    unlisted["spec"]["acl"] = json!("everyone");
    assert!(!errors(&schema, &unlisted).is_empty());
    assert!(serde_json::from_value::<Bucket>(unlisted).is_err());
}
