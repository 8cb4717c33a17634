//! The ACK runtime's types are shared by schema, not by name: a kind's type is replaced by
//! the one in the `ack` module only where its lowered shape is the runtime's.

mod common;

use codegen::model::ResourceModel;

fn mirror_crd(release: &str) -> String {
    let path = common::repo_root().join(format!(
        "fixtures/ack-mirror/aws-controllers-k8s/sagemaker-controller/{release}/helm/crds/\
         sagemaker.services.k8s.aws_trainingjobs.yaml"
    ));
    std::fs::read_to_string(path).expect("fixture CRD")
}

/// (type name, shared) of the types at `path`.
fn at(model: &ResourceModel, path: &str) -> Vec<(String, bool)> {
    model
        .types
        .iter()
        .filter(|t| t.path.to_string() == path)
        .map(|t| (t.name.clone(), t.shared))
        .collect()
}

#[test]
fn the_current_release_uses_the_runtime_types() {
    let model = codegen::model(&mirror_crd("v1.9.1")).expect("model");
    assert_eq!(
        at(&model, "status.conditions[]"),
        [("Condition".to_owned(), true)]
    );
    assert_eq!(
        at(&model, "status.ackResourceMetadata"),
        [("AckResourceMetadata".to_owned(), true)]
    );
    let rust = common::generate(&mirror_crd("v1.9.1")).rust;
    assert!(rust.contains("use super::ack::{AckResourceMetadata, Condition};"));
    assert!(!rust.contains("pub struct Condition"));
}

#[test]
fn metadata_without_partition_stays_the_kinds_own() {
    // Before v1.8.0 the metadata had no `partition`: alike in name, not in shape.
    let model = codegen::model(&mirror_crd("v1.2.19")).expect("model");
    assert_eq!(
        at(&model, "status.ackResourceMetadata"),
        [("AckResourceMetadata".to_owned(), false)]
    );
    assert_eq!(
        at(&model, "status.conditions[]"),
        [("Condition".to_owned(), true)]
    );
    let rust = common::generate(&mirror_crd("v1.2.19")).rust;
    assert!(rust.contains("use super::ack::Condition;"));
    assert!(rust.contains("pub struct AckResourceMetadata"));
}

#[test]
fn a_required_list_that_differs_is_not_shared() {
    // The Kubernetes Condition's shape under the same property name: `reason` and
    // `message` required. Same names, different schema: the kind keeps its own type.
    let yaml = mirror_crd("v1.9.1").replacen(
        "                  required:\n                  - status\n                  - type",
        "                  required:\n                  - message\n                  - reason\n                  - status\n                  - type",
        1,
    );
    let model = codegen::model(&yaml).expect("model");
    assert_eq!(
        at(&model, "status.conditions[]"),
        [("Condition".to_owned(), false)]
    );
    assert!(
        common::generate(&yaml)
            .rust
            .contains("pub struct Condition")
    );
}

#[test]
fn the_shared_module_defines_each_runtime_type_once() {
    let shared = codegen::generate_shared();
    for name in [
        "Condition",
        "AckResourceMetadata",
        "SecretKeyReference",
        "AwsResourceReferenceWrapper",
    ] {
        assert_eq!(
            shared.matches(&format!("pub struct {name} ")).count(),
            1,
            "{name}"
        );
    }
}

#[test]
fn another_controllers_references_are_the_runtime_types() {
    let yaml = std::fs::read_to_string(common::repo_root().join(
        "fixtures/other-controllers/aws-controllers-k8s/s3-controller/v0.0.0-fixture/helm/crds/\
         s3.services.k8s.aws_buckets.yaml",
    ))
    .expect("fixture");
    let model = codegen::model(&yaml).expect("model");
    for (path, name) in [
        ("spec.policyRef", "AwsResourceReferenceWrapper"),
        ("spec.policyRef.from", "AwsResourceReference"),
        (
            "spec.encryption.rules[].applyServerSideEncryptionByDefault.kmsMasterKeyRef",
            "AwsResourceReferenceWrapper",
        ),
        ("spec.notificationSecretRef", "SecretKeyReference"),
        ("status.conditions[]", "Condition"),
        ("status.ackResourceMetadata", "AckResourceMetadata"),
    ] {
        assert_eq!(at(&model, path), [(name.to_owned(), true)], "{path}");
    }
    // A `{key, value}` tag is not a secret reference, whatever it is called.
    assert_eq!(
        at(&model, "spec.tagging.tagSet[]"),
        [("TagSet".to_owned(), false)]
    );
    let rust = common::generate(&yaml).rust;
    assert!(rust.contains(
        "use super::ack::{\n    AckResourceMetadata, AwsResourceReferenceWrapper, Condition, SecretKeyReference,\n};"
    ), "{}", &rust[..1500]);
}
