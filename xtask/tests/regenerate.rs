//! `regenerate` in scratch copies of the repository: same bytes wherever and however often
//! it runs, a tampered CRD stops it, and `--check` sees every stale file.

mod common;

use common::{repo_root, scratch_copy};
use xtask::regenerate::{self, Change};

#[test]
fn committed_files_are_current() {
    let plan = regenerate::plan(&repo_root()).expect("plan");
    let changes = regenerate::changes(&repo_root(), &plan).expect("changes");
    assert!(
        changes.is_empty(),
        "stale: {changes:?}; run `cargo xtask regenerate`\n{}",
        regenerate::stale_diff(&repo_root(), &plan, &changes)
    );
}

#[test]
fn output_is_the_same_bytes_in_any_folder_and_on_every_run() {
    let a = tempfile::tempdir().expect("tempdir");
    let b = tempfile::Builder::new()
        .prefix("another path")
        .tempdir()
        .expect("tempdir");
    let first = regenerate::plan(&scratch_copy(a.path())).expect("plan a");
    let second = regenerate::plan(&scratch_copy(b.path())).expect("plan b");
    let again = regenerate::plan(&scratch_copy(a.path())).expect("plan a again");
    assert_eq!(first, second);
    assert_eq!(first, again);
    for (path, content) in &first.files {
        assert!(
            !content.contains(&*a.path().to_string_lossy()),
            "{path} names the folder"
        );
    }
}

#[test]
fn a_tampered_crd_is_refused_and_nothing_is_written() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = scratch_copy(dir.path());
    let crd = root.join("crds/sagemaker-controller/sagemaker.services.k8s.aws_trainingjobs.yaml");
    let text = std::fs::read_to_string(&crd).expect("crd");
    std::fs::write(&crd, text.replace("type: integer", "type: string")).expect("tamper");
    let before = std::fs::read(root.join("generated/src/training_job.rs")).expect("generated");

    let error = format!("{:#}", regenerate::plan(&root).unwrap_err());
    assert!(error.contains("does not match crds/lock.toml"), "{error}");
    assert!(
        error.contains("sagemaker.services.k8s.aws_trainingjobs.yaml"),
        "{error}"
    );
    assert!(error.contains("7d27a12001d39b9de9c912ad1f94045c6557d19a2e97e6ad3c35f2e496a20490"));
    assert_eq!(
        std::fs::read(root.join("generated/src/training_job.rs")).expect("read"),
        before
    );
}

#[test]
fn stale_files_are_found_diffed_and_fixed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = scratch_copy(dir.path());
    let rust = root.join("generated/src/training_job.rs");
    let text = std::fs::read_to_string(&rust).expect("generated");
    std::fs::write(
        &rust,
        text.replace("pub struct Tag {", "pub struct Label {"),
    )
    .expect("edit");
    std::fs::write(
        root.join("generated/src/leftover.rs"),
        "// from a removed CRD\n",
    )
    .expect("add");
    std::fs::remove_file(root.join("generated/components/training_job/component.yaml"))
        .expect("remove");

    let plan = regenerate::plan(&root).expect("plan");
    let changes = regenerate::changes(&root, &plan).expect("changes");
    assert_eq!(
        changes,
        [
            (
                "generated/components/training_job/component.yaml".to_owned(),
                Change::Added
            ),
            ("generated/src/leftover.rs".to_owned(), Change::Removed),
            ("generated/src/training_job.rs".to_owned(), Change::Modified),
        ]
    );
    let diff = regenerate::stale_diff(&root, &plan, &changes);
    assert!(diff.contains("-pub struct Label {"), "{diff}");
    assert!(diff.contains("+pub struct Tag {"), "{diff}");
    assert!(diff.contains("--- a/generated/src/leftover.rs"), "{diff}");

    assert_eq!(regenerate::apply(&root, &plan).expect("apply"), changes);
    assert_eq!(regenerate::changes(&root, &plan).expect("changes"), []);
    assert_eq!(
        std::fs::read_to_string(&rust).expect("generated"),
        std::fs::read_to_string(repo_root().join("generated/src/training_job.rs")).expect("ref")
    );
}
