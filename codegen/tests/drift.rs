//! Drift reports between TrainingJob releases of the fixture mirror, checked against the
//! CRD history in the reference notes.

mod common;

fn model(release: &str) -> codegen::ResourceModel {
    let path = common::repo_root().join(format!(
        "fixtures/ack-mirror/aws-controllers-k8s/sagemaker-controller/{release}/helm/crds/sagemaker.services.k8s.aws_trainingjobs.yaml"
    ));
    codegen::model(&std::fs::read_to_string(path).expect("fixture")).expect("model")
}

fn drift(from: &str, to: &str) -> codegen::drift::Drift {
    codegen::drift::compare(&model(from), &model(to), from, to)
}

#[test]
fn v0_4_5_to_v0_5_0_adds_exactly_these() {
    let drift = drift("v0.4.5", "v0.5.0");
    assert_eq!(
        drift.added(),
        [
            "spec.inputDataConfig[].dataSource.s3DataSource.instanceGroupNames",
            "spec.resourceConfig.instanceGroups",
            "spec.resourceConfig.keepAlivePeriodInSeconds",
            "spec.retryStrategy",
            "status.creationTime",
            "status.lastModifiedTime",
            "status.profilingStatus",
            "status.warmPoolStatus",
        ]
    );
    assert!(drift.removed().is_empty());
    assert!(
        !drift.is_breaking(),
        "{}",
        codegen::drift::render_text(&drift)
    );
    let nested = |path: &str| {
        drift
            .impacts
            .iter()
            .find(|i| i.path == path)
            .map(|i| i.change.clone())
    };
    use codegen::drift::PathChange::Added;
    // The reference history counts 17 added paths, nested ones included.
    assert_eq!(
        nested("spec.resourceConfig.instanceGroups"),
        Some(Added { nested: 4 })
    );
    assert_eq!(nested("spec.retryStrategy"), Some(Added { nested: 1 }));
    assert_eq!(nested("status.warmPoolStatus"), Some(Added { nested: 3 }));
    let total: usize = drift
        .impacts
        .iter()
        .map(|i| match i.change {
            Added { nested } => nested + 1,
            _ => 0,
        })
        .sum();
    assert_eq!(total, 17);
    let retry = drift
        .impacts
        .iter()
        .find(|i| i.path == "spec.retryStrategy")
        .unwrap();
    assert_eq!(retry.component, "input retry_strategy");
    assert_eq!(retry.meaning, "new optional JsonObject input");
    let warm = drift
        .impacts
        .iter()
        .find(|i| i.path == "status.warmPoolStatus")
        .unwrap();
    assert_eq!(warm.meaning, "new JsonObject output");
}

#[test]
fn v1_2_7_to_v1_2_8_adds_exactly_these() {
    let drift = drift("v1.2.7", "v1.2.8");
    assert_eq!(
        drift.added(),
        [
            "spec.infraCheckConfig",
            "spec.outputDataConfig.compressionType",
            "spec.remoteDebugConfig",
            "spec.stoppingCondition.maxPendingTimeInSeconds",
        ]
    );
    assert!(!drift.is_breaking());
}

#[test]
fn text_only_releases_report_no_schema_change() {
    for (from, to) in [
        ("v1.2.16", "v1.2.19"),
        ("v1.2.0", "v1.2.7"),
        ("v0.4.2", "v0.4.5"),
    ] {
        let drift = drift(from, to);
        assert!(
            !drift.has_schema_change(),
            "{from} -> {to}: {:?}",
            drift.impacts
        );
        let text = codegen::drift::render_text(&drift);
        assert_eq!(text.lines().count(), 1, "one line: {text}");
        assert!(text.contains("no schema change"), "{text}");
    }
    assert_eq!(drift("v1.2.16", "v1.2.19").description_only.len(), 2);
}

#[test]
fn a_downgrade_reports_removals_as_breaking() {
    let drift = drift("v0.5.0", "v0.4.5");
    assert_eq!(drift.removed().len(), 8);
    assert!(drift.added().is_empty());
    assert!(drift.is_breaking());
    let input = drift
        .impacts
        .iter()
        .find(|i| i.path == "spec.retryStrategy")
        .unwrap();
    assert!(input.breaking);
    assert_eq!(
        input.meaning,
        "input removed: pipelines that pass it no longer compile"
    );
    let nested = drift
        .impacts
        .iter()
        .find(|i| i.path == "spec.resourceConfig.keepAlivePeriodInSeconds")
        .unwrap();
    assert!(nested.breaking, "{nested:?}");
    assert_eq!(nested.component, "input resource_config");
}

#[test]
fn required_changes_are_judged_by_side() {
    // v0.0.4 made status.ackResourceMetadata and status.conditions optional.
    let drift = drift("v0.0.2", "v0.0.4");
    let metadata = drift
        .impacts
        .iter()
        .find(|i| i.path == "status.ackResourceMetadata")
        .unwrap();
    assert_eq!(
        metadata.change,
        codegen::drift::PathChange::RequiredChanged {
            now_required: false
        }
    );
    assert!(
        metadata.breaking,
        "consumers may no longer get it: {metadata:?}"
    );
}

#[test]
fn markdown_report_v1_2_19_to_v1_9_1() {
    insta::assert_snapshot!(codegen::drift::render_markdown(&drift("v1.2.19", "v1.9.1")));
}

#[test]
fn a_changed_status_enum_is_for_review_and_a_new_spec_value_is_not() {
    let yaml = std::fs::read_to_string(common::repo_root().join("fixtures/synthetic/widgets.yaml"))
        .expect("fixture");
    let changed = yaml
        .replace(
            "enum: [Pending, Running, Done]",
            "enum: [Pending, Running, Done, Failed]",
        )
        .replace("enum: [Fast, Slow, 2x]", "enum: [Fast, Slow, 2x, Turbo]");
    assert_ne!(changed, yaml);
    let old = codegen::model(&yaml).expect("model");
    let new = codegen::model(&changed).expect("model");
    let drift = codegen::drift::compare(&old, &new, "a", "b");
    let verdicts: Vec<(&str, &str)> = drift
        .impacts
        .iter()
        .map(|i| (i.path.as_str(), i.verdict()))
        .collect();
    assert_eq!(verdicts, [("spec.mode", "ok"), ("status.phase", "REVIEW")]);
    assert!(!drift.is_breaking());
    let text = codegen::drift::render_text(&drift);
    assert!(text.contains("1 to REVIEW"), "{text}");
    assert!(codegen::drift::render_markdown(&drift).contains("**review**"));
}
