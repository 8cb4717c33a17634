//! Fixtures shared by the generator's integration tests.

#![allow(dead_code)] // Each test binary uses a different part.

use std::path::{Path, PathBuf};

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Every CRD file of the fixture mirror (all releases), of the other controllers'
/// fixtures and the synthetic CRDs, by a
/// readable name, in a stable order.
pub fn fixture_crds() -> Vec<(String, String)> {
    let root = repo_root();
    let mirror = root.join("fixtures/ack-mirror/aws-controllers-k8s/sagemaker-controller");
    let mut files = Vec::new();
    for release in std::fs::read_dir(&mirror).expect("fixture mirror") {
        let crds = release.expect("entry").path().join("helm/crds");
        for file in std::fs::read_dir(&crds).expect("crds folder") {
            files.push(file.expect("entry").path());
        }
    }
    let others = root.join("fixtures/other-controllers/aws-controllers-k8s");
    for controller in std::fs::read_dir(&others).expect("fixtures/other-controllers") {
        for release in std::fs::read_dir(controller.expect("entry").path()).expect("releases") {
            let crds = release.expect("entry").path().join("helm/crds");
            for file in std::fs::read_dir(&crds).expect("crds folder") {
                files.push(file.expect("entry").path());
            }
        }
    }
    for file in std::fs::read_dir(root.join("fixtures/synthetic")).expect("synthetic CRDs") {
        let path = file.expect("entry").path();
        if path.extension().is_some_and(|e| e == "yaml") {
            files.push(path);
        }
    }
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let name = path
                .strip_prefix(&root)
                .unwrap_or(&path)
                .display()
                .to_string();
            let yaml = std::fs::read_to_string(&path).expect("readable fixture");
            (name, yaml)
        })
        .collect()
}

/// Generates with the generic template (no hand-written parts).
pub fn generate(yaml: &str) -> codegen::Generated {
    let model = codegen::model(yaml).expect("model");
    let template = codegen::ComponentTemplate::generic(&model.kind);
    let source = codegen::Source {
        file: "fixture.yaml".to_owned(),
        controller: "sagemaker-controller".to_owned(),
        release: "v0.0.0".to_owned(),
        sha256: "-".to_owned(),
    };
    codegen::generate(yaml, &template, &source).expect("generates")
}
