//! Every sample TrainingJob passes the real server's dry-run create (its schema
//! validation, pruning and defaulting), and what the server answers reads into the
//! generated types and writes back byte for byte. The server stores a whole float for an
//! integer field as an integer and refuses a fraction, as the generated types read them.

use std::path::Path;

use cluster::Cluster;
use generated::training_job::TrainingJob;
use kube::api::{Api, ApiResource, DynamicObject, PostParams};

const NS: &str = "samples";

fn training_jobs(client: kube::Client) -> Api<DynamicObject> {
    // The generated type names the group, version and plural.
    let resource = ApiResource::erase::<generated::training_job::TrainingJob>(&());
    Api::namespaced_with(client, NS, &resource)
}

#[test]
fn every_sample_passes_a_server_side_dry_run_and_round_trips_the_generated_types() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let samples_dir = root.join("fixtures/samples");
    let mut samples: Vec<_> = std::fs::read_dir(&samples_dir)
        .expect("samples")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    samples.sort();
    assert!(samples.len() >= 2, "{samples:?}");

    let cluster = Cluster::start().expect("cluster starts");
    let crd_yaml = std::fs::read_to_string(
        root.join("crds/sagemaker-controller/sagemaker.services.k8s.aws_trainingjobs.yaml"),
    )
    .expect("CRD");
    cluster
        .apply_crd(&serde_saphyr::from_str(&crd_yaml).expect("CRD YAML"))
        .expect("CRD accepted");
    cluster.create_namespace(NS).expect("namespace");
    let real = training_jobs(cluster.client());

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
    }
    // A whole float for an integer field is stored as an integer, a fraction is refused.
    let text =
        std::fs::read_to_string(samples_dir.join("xgboost-trainingjob.yaml")).expect("sample");
    let mut sample: DynamicObject = serde_saphyr::from_str(&text).expect("sample YAML");
    sample.data["spec"]["stoppingCondition"]["maxRuntimeInSeconds"] = serde_json::json!(3600.0);
    let answer = cluster
        .block_on(real.create(&dry_run, &sample))
        .expect("whole float");
    assert_eq!(
        answer.data["spec"]["stoppingCondition"]["maxRuntimeInSeconds"],
        serde_json::json!(3600)
    );
    sample.data["spec"]["stoppingCondition"]["maxRuntimeInSeconds"] = serde_json::json!(3600.5);
    let refused = cluster.block_on(real.create(&dry_run, &sample));
    assert!(
        matches!(&refused, Err(kube::Error::Api(s)) if s.code == 422 && s.reason == "Invalid"),
        "{refused:?}"
    );
    // A dry run stores nothing.
    let stored = cluster
        .block_on(real.list(&Default::default()))
        .expect("list");
    assert!(stored.items.is_empty(), "{:?}", stored.items);
}
