//! Controller upgrades against a local mirror of the release files: every TrainingJob
//! release in turn, and each way a fetch can fail leaving the tree exactly as it was.
//!
//! That each release's generated code compiles is checked by the `conformance` crate,
//! which builds the same releases with the same template.

mod common;

use common::{Fault, Mirror, training_job_only, tree};
use xtask::lock::{Lock, sha256_hex};

/// Every TrainingJob release in the mirror, oldest first.
const RELEASES: &[&str] = &[
    "v0.0.1", "v0.0.2", "v0.0.4", "v0.2.0", "v0.3.1", "v0.4.2", "v0.4.5", "v0.5.0", "v1.2.0",
    "v1.2.7", "v1.2.8", "v1.2.16", "v1.2.19", "v1.8.0", "v1.9.1",
];

#[test]
fn upgrade_step_by_step_through_every_release() {
    let mirror = Mirror::serve(Fault::None);
    let dir = tempfile::tempdir().expect("tempdir");
    let root = training_job_only(dir.path());
    let mut previous = "v1.9.1".to_owned();
    for release in RELEASES {
        let upgrade = xtask::upgrade::upgrade(&root, None, release, &mirror.url)
            .unwrap_or_else(|e| panic!("{release}: {e:#}"));
        assert_eq!(upgrade.drifts.len(), 1);
        assert_eq!(
            (
                upgrade.drifts[0].from.as_str(),
                upgrade.drifts[0].to.as_str()
            ),
            (previous.as_str(), *release)
        );

        let lock = Lock::read(&root).expect("lock");
        let pinned = &lock.crds[0];
        assert_eq!(pinned.release, *release);
        assert_eq!(
            pinned.url,
            format!(
                "https://raw.githubusercontent.com/aws-controllers-k8s/sagemaker-controller/{release}/helm/crds/sagemaker.services.k8s.aws_trainingjobs.yaml"
            )
        );
        let vendored = std::fs::read(root.join(pinned.repo_path())).expect("vendored CRD");
        let original = std::fs::read(common::repo_root().join(format!(
            "fixtures/ack-mirror/aws-controllers-k8s/sagemaker-controller/{release}/helm/crds/sagemaker.services.k8s.aws_trainingjobs.yaml"
        )))
        .expect("fixture");
        assert_eq!(vendored, original, "{release} is vendored byte for byte");
        assert_eq!(pinned.sha256, sha256_hex(&vendored));

        // What was written is what a plain `regenerate` gives from the new pin.
        let plan = xtask::regenerate::plan(&root).expect("plan from the new pin");
        assert_eq!(
            xtask::regenerate::changes(&root, &plan).expect("changes"),
            []
        );
        let rust =
            std::fs::read_to_string(root.join("generated/src/training_job.rs")).expect("rust");
        assert!(
            rust.contains(&format!("sagemaker-controller {release}")),
            "{release}"
        );
        previous = (*release).to_owned();
    }
    assert_eq!(mirror.requests.lock().expect("lock").len(), RELEASES.len());
    // Back at v1.9.1, the scratch copy is the committed tree again.
    assert_eq!(
        std::fs::read(root.join("generated/src/training_job.rs")).expect("read"),
        std::fs::read(common::repo_root().join("generated/src/training_job.rs")).expect("read")
    );
    let fresh = tempfile::tempdir().expect("tempdir");
    assert_eq!(
        std::fs::read_to_string(root.join("crds/lock.toml")).expect("read"),
        std::fs::read_to_string(training_job_only(fresh.path()).join("crds/lock.toml"))
            .expect("read")
    );
}

fn failing_upgrade(fault: Fault, release: &str) -> String {
    let mirror = Mirror::serve(fault);
    let dir = tempfile::tempdir().expect("tempdir");
    let root = training_job_only(dir.path());
    let before = tree(&root);
    let error = format!(
        "{:#}",
        xtask::upgrade::upgrade(&root, None, release, &mirror.url).unwrap_err()
    );
    assert_eq!(
        tree(&root),
        before,
        "the tree is exactly as it was after: {error}"
    );
    error
}

#[test]
fn a_missing_release_is_a_clear_error() {
    let error = failing_upgrade(Fault::None, "v9.9.9");
    assert!(
        error.contains("404 Not Found: no such release, or the file is not in it"),
        "{error}"
    );
    assert!(error.contains("/aws-controllers-k8s/sagemaker-controller/v9.9.9/helm/crds/sagemaker.services.k8s.aws_trainingjobs.yaml"), "{error}");
}

#[test]
fn a_download_cut_off_midway_changes_nothing() {
    let error = failing_upgrade(Fault::CutOffAfter(2000), "v1.8.0");
    assert!(error.contains("broke off"), "{error}");
}

#[test]
fn content_that_is_not_the_expected_crd_is_refused() {
    let endpoints = std::fs::read_to_string(common::repo_root().join(
        "fixtures/ack-mirror/aws-controllers-k8s/sagemaker-controller/v1.9.1/helm/crds/sagemaker.services.k8s.aws_endpoints.yaml",
    ))
    .expect("fixture");
    let error = failing_upgrade(Fault::Substitute(endpoints), "v1.8.0");
    assert!(error.contains("defines Endpoint"), "{error}");
    let error = failing_upgrade(
        Fault::Substitute("<html>rate limited</html>".into()),
        "v1.8.0",
    );
    assert!(
        error.contains("is not a CRD the generator can read"),
        "{error}"
    );
}

#[test]
fn an_unreachable_host_says_what_to_try() {
    // A port that was just free: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let dir = tempfile::tempdir().expect("tempdir");
    let root = training_job_only(dir.path());
    let before = tree(&root);
    let error = xtask::upgrade::upgrade(&root, None, "v1.8.0", &format!("http://127.0.0.1:{port}"))
        .unwrap_err()
        .to_string();
    assert!(error.contains("cannot reach"), "{error}");
    assert!(error.contains("--mirror URL"), "{error}");
    assert_eq!(tree(&root), before);
}

#[test]
fn a_tampered_vendored_crd_stops_the_upgrade() {
    let mirror = Mirror::serve(Fault::None);
    let dir = tempfile::tempdir().expect("tempdir");
    let root = training_job_only(dir.path());
    let crd = root.join("crds/sagemaker-controller/sagemaker.services.k8s.aws_trainingjobs.yaml");
    std::fs::write(
        &crd,
        std::fs::read_to_string(&crd).expect("read") + "\n# edited\n",
    )
    .expect("tamper");
    let before = tree(&root);
    let error = format!(
        "{:#}",
        xtask::upgrade::upgrade(&root, None, "v1.8.0", &mirror.url).unwrap_err()
    );
    assert!(error.contains("does not match crds/lock.toml"), "{error}");
    assert_eq!(tree(&root), before);
    assert!(
        mirror.requests.lock().expect("lock").is_empty(),
        "nothing was fetched"
    );
}

#[test]
fn the_command_line_fails_on_breaking_and_writes_the_report() {
    let mirror = Mirror::serve(Fault::None);
    let dir = tempfile::tempdir().expect("tempdir");
    let root = training_job_only(dir.path());
    let report = dir.path().join("drift.md");
    let run = |release: &str, fail_on_breaking: bool| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_xtask"));
        command
            .env("XTASK_PROJECT_ROOT", &root)
            .env("RUST_BACKTRACE", "0")
            .args([
                "regenerate",
                "--controller-version",
                release,
                "--mirror",
                &mirror.url,
            ])
            .arg("--report")
            .arg(&report);
        if fail_on_breaking {
            command.arg("--fail-on-breaking");
        }
        command.output().expect("xtask runs")
    };
    // A downgrade removes inputs: breaking.
    let output = run("v0.4.5", true);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(3), "{stdout}");
    assert!(stdout.contains("BREAKING  spec.retryStrategy"), "{stdout}");
    let markdown = std::fs::read_to_string(&report).expect("report");
    assert!(
        markdown.contains("| **breaking** | `spec.retryStrategy` | removed (+1 nested) |"),
        "{markdown}"
    );
    // Back up: only additions, exit 0.
    let output = run("v1.9.1", true);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // Same release again: no schema change, said in one line.
    let output = run("v1.9.1", true);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout
            .starts_with("TrainingJob v1.9.1 -> v1.9.1: 168 -> 168 schema paths; no schema change"),
        "{stdout}"
    );
}

/// The README's offline rehearsal: every pinned kind to v0.4.2, the one earlier release the
/// fixture mirror holds whole, from the mirror as a folder. Endpoint's `deploymentConfig`
/// came after v0.4.2: it is left out of what the launcher updates, and said so.
#[test]
fn the_offline_rehearsal_moves_every_pinned_kind_to_v0_4_2_from_a_mirror_folder() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = common::scratch_copy(dir.path());
    let mirror = common::repo_root().join("fixtures/ack-mirror");
    let upgrade =
        xtask::upgrade::upgrade(&root, None, "v0.4.2", mirror.to_str().expect("UTF-8 path"))
            .unwrap_or_else(|e| panic!("{e:#}"));
    assert_eq!(upgrade.drifts.len(), 13, "every pinned kind");
    assert!(
        upgrade
            .drifts
            .iter()
            .all(|d| d.to == "v0.4.2" && d.from == "v1.9.1")
    );
    assert_eq!(
        upgrade.notes,
        [
            "Endpoint of sagemaker-controller v0.4.2 has no spec field `deploymentConfig`, which \
          component-template/endpoint.yaml lists as `updatable`: left out of what the launcher \
          updates (Endpoint::UPDATABLE_FIELDS)"
        ]
    );
    let lock = Lock::read(&root).expect("lock");
    assert!(lock.crds.iter().all(|c| c.release == "v0.4.2"));
    let endpoint = std::fs::read_to_string(root.join("generated/src/endpoint.rs")).expect("rust");
    assert!(
        endpoint.contains(r#"UPDATABLE_FIELDS: &'static [&'static str] = &["endpointConfigName"]"#),
        "only the field v0.4.2 has"
    );
    // A plain regenerate of the new pin gives the same files and the same note, so that
    // `regenerate --check` holds after the upgrade.
    let plan = xtask::regenerate::plan(&root).expect("plan");
    assert_eq!(
        xtask::regenerate::changes(&root, &plan).expect("changes"),
        []
    );
    assert_eq!(plan.notes, upgrade.notes);
    // The controller of v0.4.2 still updates an endpoint's configuration: patch stays.
    assert!(
        plan.grants
            .iter()
            .any(|g| g.plural == "endpoints" && g.updatable)
    );
}

/// A field the component cannot be generated without (here a spec output) that the chosen
/// release lacks stops the upgrade, naming the field, the kind, the release and the
/// template file; nothing is written.
#[test]
fn a_template_key_the_release_cannot_satisfy_stops_the_upgrade_naming_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = training_job_only(dir.path());
    let template = root.join("component-template/training_job.yaml");
    let text = std::fs::read_to_string(&template).expect("template");
    // `remoteDebugConfig` is in v1.9.1's TrainingJob, not in v0.4.2's.
    std::fs::write(
        &template,
        format!("{text}spec_outputs:\n  remote_debug: remoteDebugConfig\n"),
    )
    .expect("write template");
    xtask::regenerate::apply(
        &root,
        &xtask::regenerate::plan(&root).expect("plan at v1.9.1"),
    )
    .expect("regenerate");
    let before = tree(&root);
    let mirror = common::repo_root().join("fixtures/ack-mirror");
    let error = format!(
        "{:#}",
        xtask::upgrade::upgrade(&root, None, "v0.4.2", mirror.to_str().expect("UTF-8"))
            .unwrap_err()
    );
    for named in [
        "component-template/training_job.yaml",
        "`spec_outputs` names `remoteDebugConfig`",
        "TrainingJob of sagemaker-controller v0.4.2",
    ] {
        assert!(error.contains(named), "{named}: {error}");
    }
    assert_eq!(tree(&root), before, "nothing written");
}

#[test]
fn a_release_missing_from_a_mirror_folder_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = training_job_only(dir.path());
    let before = tree(&root);
    let mirror = common::repo_root().join("fixtures/ack-mirror");
    let error = format!(
        "{:#}",
        xtask::upgrade::upgrade(&root, None, "v9.9.9", mirror.to_str().expect("UTF-8"))
            .unwrap_err()
    );
    assert!(
        error.contains("v9.9.9/helm/crds/sagemaker.services.k8s.aws_trainingjobs.yaml: no such file in the mirror folder"),
        "{error}"
    );
    assert_eq!(tree(&root), before);
}
