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

/// Two snapshot tests per pinned kind: `<module>.rs` and `<module>.component.yaml`.
macro_rules! pinned_snapshots {
    ($($module:ident: $plural:literal, $sha256:literal;)*) => {
        $(
            mod $module {
                #[test]
                fn rust() {
                    let generated = super::pinned(stringify!($module), $plural, $sha256);
                    insta::assert_snapshot!(concat!(stringify!($module), ".rs"), generated.rust);
                }

                #[test]
                fn component_yaml() {
                    let generated = super::pinned(stringify!($module), $plural, $sha256);
                    insta::assert_snapshot!(
                        concat!(stringify!($module), ".component.yaml"),
                        generated.component_yaml
                    );
                }
            }
        )*
    };
}

pinned_snapshots! {
    training_job: "trainingjobs", "7d27a12001d39b9de9c912ad1f94045c6557d19a2e97e6ad3c35f2e496a20490";
    hyper_parameter_tuning_job: "hyperparametertuningjobs", "1a340c89cb82214daae5af82bbd8eca647de8fef832d51715256f20251eec2d5";
    processing_job: "processingjobs", "76f4281265a25ab44629620829c463a71cec17749eebcb458c851f78b196211d";
    transform_job: "transformjobs", "0f897bc4b08d722a3775fc7cbee32489ee2248fefdaf4bb2b575c1291d5aa6e7";
    model: "models", "ebecf1193627b896cd44de7e60c489896c52dbad24b6ce87ec9b29f9d8a628bc";
    endpoint_config: "endpointconfigs", "ff95bb69e72671cd760420c9aa16a0d6e2955d8785fa028aaf15329d4d8e3a06";
    endpoint: "endpoints", "09a1f882cbdbd3b506e72e2ef64c5617bf8c6693f24d2e526deb793464bd4605";
    monitoring_schedule: "monitoringschedules", "2c2739d56401ab6d0349440b9107a57da1f54519619550e34015d76e595dda39";
    data_quality_job_definition: "dataqualityjobdefinitions", "42135d920981f1c7c504e8226111e39e46028f5a5ff4eae92e035d9dd99e061c";
    model_bias_job_definition: "modelbiasjobdefinitions", "40e4f0c7d197715acee313f4999b6a13f5aeb01d6c9d94f8e591d88e7d99ab89";
    model_explainability_job_definition: "modelexplainabilityjobdefinitions", "a1cbbef4b2dbf6fde2c1b9b99f14788273c9f66426242b10b6dc9d75f46cf1d9";
    model_quality_job_definition: "modelqualityjobdefinitions", "87d555d12c9150db3296478027d924d8d6ff848299bba2c9be2ab715d9afcb5b";
    model_package_group: "modelpackagegroups", "6c96f6566fc1d612ef32771386eb27e6780f2a232f489472a4ccb41ca17669c6";
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
