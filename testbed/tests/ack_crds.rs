//! The CRDs the real controller is started with come from its source
//! (`config/crd/bases`, `config/crd/common/bases`); the project generates from its vendored
//! copies of the release's `helm/crds`. They must be the same resources.

use serde_json::Value;

/// The CRD without its descriptions: the two copies of the release were rendered by
/// different tools and differ in how descriptions' lists are marked (`-` or `*`).
fn without_descriptions(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(k, _)| *k != "description")
                .map(|(k, v)| (k.clone(), without_descriptions(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_descriptions).collect()),
        other => other.clone(),
    }
}

/// Compares every CRD of `dir` with the controller's of the same file name; returns how
/// many were compared, and fails unless every YAML file of `dir` was.
fn compare_with(
    dir: &std::path::Path,
    crds: &[(std::path::PathBuf, k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition)],
) -> usize {
    let mut compared = 0;
    for (file, crd) in crds {
        let name = file.file_name().expect("file name");
        let Ok(text) = std::fs::read_to_string(dir.join(name)) else {
            continue;
        };
        let ours: Value = serde_saphyr::from_str(&text).expect("vendored CRD");
        let theirs = serde_json::to_value(crd).expect("JSON");
        assert!(
            without_descriptions(&ours) == without_descriptions(&theirs),
            "{}: {} differs from the controller's",
            dir.display(),
            name.to_string_lossy()
        );
        compared += 1;
    }
    let files = std::fs::read_dir(dir)
        .expect("a CRD folder")
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "yaml"))
        })
        .count();
    assert_eq!(
        compared,
        files,
        "{}: every file is one of the release's",
        dir.display()
    );
    compared
}

#[test]
fn the_controllers_crds_are_the_vendored_and_mirrored_ones_and_the_common_ones() {
    let crds = cluster::release_crds().expect("the controller's CRDs");
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    assert_eq!(
        compare_with(&root.join("crds/sagemaker-controller"), &crds),
        13
    );
    let mirror =
        root.join("fixtures/ack-mirror/aws-controllers-k8s/sagemaker-controller/v1.9.1/helm/crds");
    assert_eq!(compare_with(&mirror, &crds), 26);
    let names: Vec<String> = crds
        .iter()
        .filter_map(|(_, crd)| crd.metadata.name.clone())
        .collect();
    assert_eq!(crds.len(), 28, "{names:?}");
    for common in [
        "fieldexports.services.k8s.aws",
        "iamroleselectors.services.k8s.aws",
    ] {
        assert!(names.iter().any(|n| n == common), "{names:?}");
    }
}
