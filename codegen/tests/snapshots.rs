//! The generated Rust and component.yaml for each vendored job kind's CRD, as insta
//! snapshots: a change to the generator shows up here as a reviewable diff
//! (`cargo insta review`, or `INSTA_UPDATE=always cargo test` and `git diff`).

mod common;

use codegen::{ComponentTemplate, Source};

/// The generated code of a pinned SageMaker job kind: its vendored CRD (file and sha256 as
/// `crds/lock.toml` pins them) and its template.
fn pinned(module: &str, plural: &str, sha256: &str) -> codegen::Generated {
    let root = common::repo_root();
    let file = format!("crds/sagemaker-controller/sagemaker.services.k8s.aws_{plural}.yaml");
    let yaml = std::fs::read_to_string(root.join(&file)).expect("vendored CRD");
    let lock = std::fs::read_to_string(root.join("crds/lock.toml")).expect("lock");
    assert!(
        lock.contains(&format!("sha256 = \"{sha256}\"")),
        "crds/lock.toml no longer pins {file} at {sha256}: update the snapshot test"
    );
    let template = std::fs::read_to_string(root.join(format!("component-template/{module}.yaml")))
        .expect("template");
    let mut template = ComponentTemplate::parse(&template).expect("template parses");
    // Fixed here rather than read from component-template/image.toml: a version bump is
    // not a generator change, so it does not touch the snapshot.
    template.image = "ack-sagemaker-kfp-launcher:0.1.0".to_owned();
    let source = Source {
        file,
        controller: "sagemaker-controller".to_owned(),
        release: "v1.9.1".to_owned(),
        sha256: sha256.to_owned(),
    };
    codegen::generate(&yaml, &template, &source).expect("generates")
}

fn training_job() -> codegen::Generated {
    pinned(
        "training_job",
        "trainingjobs",
        "7d27a12001d39b9de9c912ad1f94045c6557d19a2e97e6ad3c35f2e496a20490",
    )
}

fn hyper_parameter_tuning_job() -> codegen::Generated {
    pinned(
        "hyper_parameter_tuning_job",
        "hyperparametertuningjobs",
        "1a340c89cb82214daae5af82bbd8eca647de8fef832d51715256f20251eec2d5",
    )
}

fn processing_job() -> codegen::Generated {
    pinned(
        "processing_job",
        "processingjobs",
        "76f4281265a25ab44629620829c463a71cec17749eebcb458c851f78b196211d",
    )
}

fn transform_job() -> codegen::Generated {
    pinned(
        "transform_job",
        "transformjobs",
        "0f897bc4b08d722a3775fc7cbee32489ee2248fefdaf4bb2b575c1291d5aa6e7",
    )
}

#[test]
fn training_job_rust() {
    insta::assert_snapshot!("training_job.rs", training_job().rust);
}

#[test]
fn training_job_component_yaml() {
    insta::assert_snapshot!("training_job.component.yaml", training_job().component_yaml);
}

#[test]
fn hyper_parameter_tuning_job_rust() {
    insta::assert_snapshot!(
        "hyper_parameter_tuning_job.rs",
        hyper_parameter_tuning_job().rust
    );
}

#[test]
fn hyper_parameter_tuning_job_component_yaml() {
    insta::assert_snapshot!(
        "hyper_parameter_tuning_job.component.yaml",
        hyper_parameter_tuning_job().component_yaml
    );
}

#[test]
fn processing_job_rust() {
    insta::assert_snapshot!("processing_job.rs", processing_job().rust);
}

#[test]
fn processing_job_component_yaml() {
    insta::assert_snapshot!(
        "processing_job.component.yaml",
        processing_job().component_yaml
    );
}

#[test]
fn transform_job_rust() {
    insta::assert_snapshot!("transform_job.rs", transform_job().rust);
}

#[test]
fn transform_job_component_yaml() {
    insta::assert_snapshot!(
        "transform_job.component.yaml",
        transform_job().component_yaml
    );
}

#[test]
fn synthetic_widget_rust() {
    let yaml = std::fs::read_to_string(common::repo_root().join("fixtures/synthetic/widgets.yaml"))
        .expect("fixture");
    insta::assert_snapshot!("widget.rs", common::generate(&yaml).rust);
}

#[test]
fn shared_ack_types_rust() {
    insta::assert_snapshot!("ack.rs", codegen::generate_shared());
}
