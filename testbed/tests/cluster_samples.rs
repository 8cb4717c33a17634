//! Every sample TrainingJob passes the real server's dry-run create (its schema
//! validation, pruning and defaulting); what the server answers reads into the generated
//! types and writes back byte for byte; and the API double answers the same.

use std::collections::BTreeSet;
use std::path::Path;

use generated::training_job::TrainingJob;
use kube::api::{Api, ApiResource, DynamicObject, PostParams};
use serde_json::Value;
use testbed::TestBed;
use testbed::cluster::Cluster;

const NS: &str = "samples";

/// Metadata the real server adds to a created object that the double does not.
const ONLY_REAL_METADATA: [&str; 1] = ["managedFields"];

fn training_jobs(client: kube::Client) -> Api<DynamicObject> {
    let resource = ApiResource {
        group: "sagemaker.services.k8s.aws".into(),
        version: "v1alpha1".into(),
        api_version: "sagemaker.services.k8s.aws/v1alpha1".into(),
        kind: "TrainingJob".into(),
        plural: "trainingjobs".into(),
    };
    Api::namespaced_with(client, NS, &resource)
}

async fn client_of(kubeconfig: &str) -> kube::Client {
    let kubeconfig = kube::config::Kubeconfig::from_yaml(kubeconfig).expect("kubeconfig");
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default())
        .await
        .expect("config");
    kube::Client::try_from(config).expect("client")
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

#[test]
fn every_sample_passes_a_server_side_dry_run_and_round_trips_the_generated_types() {
    let samples_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/samples");
    let mut samples: Vec<_> = std::fs::read_dir(&samples_dir)
        .expect("samples")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    samples.sort();
    assert!(samples.len() >= 2, "{samples:?}");

    let cluster = Cluster::start().expect("cluster starts");
    let crd_yaml = std::fs::read_to_string(testbed::training_job_crd_path()).expect("CRD");
    cluster
        .apply_crd(&serde_saphyr::from_str(&crd_yaml).expect("CRD YAML"))
        .expect("CRD accepted");
    cluster.create_namespace(NS).expect("namespace");
    let real = training_jobs(cluster.client());

    let bed = TestBed::start_for_training_jobs().expect("double starts");
    let double = training_jobs(cluster.block_on(client_of(&bed.kubeconfig_yaml(NS))));

    let dry_run = PostParams {
        dry_run: true,
        ..PostParams::default()
    };
    for path in &samples {
        let text = std::fs::read_to_string(path).expect("sample");
        let sample: DynamicObject = serde_saphyr::from_str(&text).expect("sample YAML");
        let answer = cluster
            .block_on(real.create(&dry_run, &sample))
            .unwrap_or_else(|e| panic!("{}: refused: {e}", path.display()));
        let answer = serde_json::to_value(&answer).expect("JSON");
        let sent = serde_json::to_value(&sample).expect("JSON");

        // Valid samples: nothing pruned, nothing defaulted (the CRD has no defaults).
        assert_eq!(answer["spec"], sent["spec"], "{}", path.display());
        for field in ["uid", "creationTimestamp", "generation"] {
            assert!(
                !answer["metadata"][field].is_null(),
                "{}: {field}",
                path.display()
            );
        }
        // What the server answers reads into the generated types and writes back unchanged.
        let typed: TrainingJob = serde_json::from_value(answer.clone())
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(
            serde_json::to_value(&typed).expect("JSON"),
            answer,
            "{}",
            path.display()
        );

        // The double agrees on the body and on the metadata it sets.
        let from_double = cluster
            .block_on(double.create(&dry_run, &sample))
            .unwrap_or_else(|e| panic!("{}: the double refused: {e}", path.display()));
        let from_double = serde_json::to_value(&from_double).expect("JSON");
        assert_eq!(from_double["spec"], answer["spec"], "{}", path.display());
        let only_real: Vec<String> = keys(&answer["metadata"])
            .difference(&keys(&from_double["metadata"]))
            .cloned()
            .collect();
        let only_double: Vec<String> = keys(&from_double["metadata"])
            .difference(&keys(&answer["metadata"]))
            .cloned()
            .collect();
        assert_eq!(only_real, ONLY_REAL_METADATA, "{}", path.display());
        assert!(only_double.is_empty(), "{only_double:?}");
    }
    // As the double does it: a whole float for an integer field is stored as an integer,
    // a fraction is refused.
    let text =
        std::fs::read_to_string(samples_dir.join("xgboost-trainingjob.yaml")).expect("sample");
    let mut sample: DynamicObject = serde_saphyr::from_str(&text).expect("sample YAML");
    sample.data["spec"]["stoppingCondition"]["maxRuntimeInSeconds"] = serde_json::json!(3600.0);
    for api in [&real, &double] {
        let answer = cluster
            .block_on(api.create(&dry_run, &sample))
            .expect("whole float");
        assert_eq!(
            answer.data["spec"]["stoppingCondition"]["maxRuntimeInSeconds"],
            serde_json::json!(3600)
        );
    }
    sample.data["spec"]["stoppingCondition"]["maxRuntimeInSeconds"] = serde_json::json!(3600.5);
    for api in [&real, &double] {
        let refused = cluster.block_on(api.create(&dry_run, &sample));
        assert!(
            matches!(&refused, Err(kube::Error::Api(s)) if s.code == 422 && s.reason == "Invalid"),
            "{refused:?}"
        );
    }
    // A dry run stores nothing.
    let stored = cluster
        .block_on(real.list(&Default::default()))
        .expect("list");
    assert!(stored.items.is_empty(), "{:?}", stored.items);
}
