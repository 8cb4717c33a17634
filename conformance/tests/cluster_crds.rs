//! The real kube-apiserver accepts every CRD we vendor or mirror, release after release,
//! as `kubectl apply` of each newer release would install it.

use std::path::{Path, PathBuf};

use cluster::{Cluster, established};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::Api;

fn crd_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            crd_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "yaml")
            && std::fs::read_to_string(&path)
                .expect("readable")
                .contains("kind: CustomResourceDefinition")
        {
            out.push(path);
        }
    }
}

/// `v1.9.1` in a path, as numbers, so releases sort as versions (v0.10 after v0.9).
fn release(path: &Path) -> Vec<u64> {
    path.components()
        .find_map(|c| {
            let s = c.as_os_str().to_str()?.strip_prefix('v')?;
            let parts: Option<Vec<u64>> = s.split('.').map(|p| p.parse().ok()).collect();
            parts.filter(|p| p.len() == 3)
        })
        .unwrap_or_default()
}

#[test]
fn every_vendored_and_mirrored_crd_is_accepted_and_established() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut mirrored = Vec::new();
    crd_files(&root.join("fixtures/ack-mirror"), &mut mirrored);
    mirrored.sort_by_key(|p| (release(p), p.clone()));
    let mut vendored = Vec::new();
    crd_files(&root.join("crds"), &mut vendored);
    assert!(mirrored.len() >= 50, "{mirrored:?}");
    assert!(!vendored.is_empty());

    let cluster = Cluster::start().expect("cluster starts");
    let api: Api<CustomResourceDefinition> = Api::all(cluster.client());
    // Oldest release first, the vendored ones last: each file creates its CRD or replaces
    // the previous release's.
    let files: Vec<&PathBuf> = mirrored.iter().chain(&vendored).collect();
    for path in &files {
        let text = std::fs::read_to_string(path).expect("readable");
        let crd: CustomResourceDefinition =
            serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        cluster
            .apply_crd(&crd)
            .unwrap_or_else(|e| panic!("{} refused: {e}", path.display()));
        let name = crd.metadata.name.as_deref().expect("named");
        let served = cluster.block_on(api.get(name)).expect("served");
        assert!(established(&served), "{}", path.display());
        assert_eq!(
            served
                .status
                .and_then(|s| s.accepted_names)
                .map(|n| n.plural),
            Some(crd.spec.names.plural.clone()),
            "{}",
            path.display()
        );
    }
    let distinct: std::collections::BTreeSet<String> = cluster
        .block_on(api.list(&Default::default()))
        .expect("list")
        .items
        .into_iter()
        .filter_map(|c| c.metadata.name)
        .collect();
    assert!(
        distinct.contains("trainingjobs.sagemaker.services.k8s.aws"),
        "{distinct:?}"
    );
    assert!(distinct.len() > 20, "{distinct:?}");
}
