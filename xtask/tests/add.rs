//! `cargo xtask add` pins a CRD of another controller beside the SageMaker TrainingJob;
//! each controller then stays pinned at its own release.

mod common;

use common::{Fault, Mirror, scratch_copy};
use xtask::lock::Lock;

fn other_controllers() -> Mirror {
    Mirror::serve_dir(
        common::repo_root().join("fixtures/other-controllers"),
        Fault::None,
    )
}

#[test]
fn release_file_names_follow_acks_layout() {
    use xtask::add::release_file_name;
    assert_eq!(
        release_file_name("s3-controller", "Bucket"),
        "s3.services.k8s.aws_buckets.yaml"
    );
    assert_eq!(
        release_file_name("sagemaker-controller", "TrainingJob"),
        "sagemaker.services.k8s.aws_trainingjobs.yaml"
    );
    assert_eq!(
        release_file_name("iam-controller", "Policy"),
        "iam.services.k8s.aws_policies.yaml"
    );
    assert_eq!(
        release_file_name("ec2-controller", "Address"),
        "ec2.services.k8s.aws_addresses.yaml"
    );
    assert_eq!(
        release_file_name("apigatewayv2-controller", "Gateway"),
        "apigatewayv2.services.k8s.aws_gateways.yaml"
    );
}

#[test]
fn add_pins_another_controllers_crd_and_each_upgrades_alone() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = scratch_copy(dir.path());
    let mirror = other_controllers();
    let added = xtask::add::add(
        &root,
        "s3-controller",
        "Bucket",
        "v0.0.0-fixture",
        &mirror.url,
        None,
    )
    .expect("adds");
    assert_eq!(added.module, "bucket");
    assert_eq!(
        added.template.as_deref(),
        Some("component-template/bucket.yaml")
    );

    let lock = Lock::read(&root).expect("lock");
    let pins: Vec<(&str, &str)> = lock
        .crds
        .iter()
        .map(|c| (c.controller.as_str(), c.release.as_str()))
        .collect();
    assert_eq!(
        pins,
        [
            ("sagemaker-controller", "v1.9.1"),
            ("s3-controller", "v0.0.0-fixture")
        ]
    );
    assert_eq!(
        lock.crds[1].url,
        "https://raw.githubusercontent.com/aws-controllers-k8s/s3-controller/v0.0.0-fixture/helm/crds/s3.services.k8s.aws_buckets.yaml"
    );
    let lib = std::fs::read_to_string(root.join("generated/src/lib.rs")).expect("lib.rs");
    assert!(
        lib.contains("pub mod bucket;") && lib.contains("pub mod training_job;"),
        "{lib}"
    );
    let bucket = std::fs::read_to_string(root.join("generated/src/bucket.rs")).expect("bucket.rs");
    assert!(
        bucket.contains("s3-controller v0.0.0-fixture"),
        "{}",
        &bucket[..300]
    );
    assert!(
        root.join("generated/components/bucket/component.yaml")
            .exists()
    );
    // What was written is what a plain `regenerate` gives.
    let plan = xtask::regenerate::plan(&root).expect("plan");
    assert_eq!(
        xtask::regenerate::changes(&root, &plan).expect("changes"),
        []
    );

    // Adding it again is refused; an upgrade must name its controller now.
    let again = xtask::add::add(
        &root,
        "s3-controller",
        "Bucket",
        "v0.0.0-fixture",
        &mirror.url,
        None,
    )
    .unwrap_err();
    assert!(format!("{again:#}").contains("already pins"), "{again:#}");
    let sagemaker = Mirror::serve(Fault::None);
    let unnamed = xtask::upgrade::upgrade(&root, None, "v1.8.0", &sagemaker.url).unwrap_err();
    assert!(
        format!("{unnamed:#}")
            .contains("several controllers (s3-controller, sagemaker-controller)"),
        "{unnamed:#}"
    );

    // Upgrading SageMaker leaves the s3 controller's pin alone.
    let upgrade = xtask::upgrade::upgrade(
        &root,
        Some("sagemaker-controller"),
        "v1.8.0",
        &sagemaker.url,
    )
    .expect("upgrades");
    assert_eq!(upgrade.drifts.len(), 1);
    let lock = Lock::read(&root).expect("lock");
    let pins: Vec<(&str, &str)> = lock
        .crds
        .iter()
        .map(|c| (c.controller.as_str(), c.release.as_str()))
        .collect();
    assert_eq!(
        pins,
        [
            ("sagemaker-controller", "v1.8.0"),
            ("s3-controller", "v0.0.0-fixture")
        ]
    );
}
