//! The generated Rust and component.yaml for the vendored TrainingJob CRD, as insta
//! snapshots: a change to the generator shows up here as a reviewable diff
//! (`cargo insta review`, or `INSTA_UPDATE=always cargo test` and `git diff`).

mod common;

use codegen::{ComponentTemplate, Source};

fn training_job() -> codegen::Generated {
    let root = common::repo_root();
    let file = "crds/sagemaker-controller/sagemaker.services.k8s.aws_trainingjobs.yaml";
    let yaml = std::fs::read_to_string(root.join(file)).expect("vendored CRD");
    let template = std::fs::read_to_string(root.join("component-template/training_job.yaml"))
        .expect("template");
    let mut template = ComponentTemplate::parse(&template).expect("template parses");
    // Fixed here rather than read from component-template/image.toml: a version bump is
    // not a generator change, so it does not touch the snapshot.
    template.image = "ack-sagemaker-kfp-launcher:0.1.0".to_owned();
    let source = Source {
        file: file.to_owned(),
        controller: "sagemaker-controller".to_owned(),
        release: "v1.9.1".to_owned(),
        sha256: "7d27a12001d39b9de9c912ad1f94045c6557d19a2e97e6ad3c35f2e496a20490".to_owned(),
    };
    codegen::generate(&yaml, &template, &source).expect("generates")
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
fn synthetic_widget_rust() {
    let yaml = std::fs::read_to_string(common::repo_root().join("fixtures/synthetic/widgets.yaml"))
        .expect("fixture");
    insta::assert_snapshot!("widget.rs", common::generate(&yaml).rust);
}

#[test]
fn shared_ack_types_rust() {
    insta::assert_snapshot!("ack.rs", codegen::generate_shared());
}
