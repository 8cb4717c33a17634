//! Generates Rust for every CRD of the fixture mirror's full releases into one module
//! tree, so that compiling this crate compiles all of them.

use std::fmt::Write as _;
use std::path::Path;

/// The releases of which the fixture mirror holds every SageMaker CRD.
const RELEASES: &[&str] = &["v0.4.2", "v1.9.1"];

fn main() {
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let mirror = Path::new(&manifest_dir)
        .join("../fixtures/ack-mirror/aws-controllers-k8s/sagemaker-controller");
    println!("cargo::rerun-if-changed={}", mirror.display());
    // Each module tree's kinds import the ACK runtime's types from a sibling `ack`.
    let ack = format!(
        "pub mod {} {{\n{}}}\n",
        codegen::ack::MODULE,
        codegen::generate_shared()
    );
    let mut corpus = ack.clone();
    // (CRD file from the repository root, Rust path of its resource type) per module.
    let mut registry: Vec<(String, String)> = Vec::new();
    let repo_path = |file: &Path| {
        let root = Path::new(&manifest_dir).join("..");
        file.strip_prefix(&root)
            .unwrap_or(file)
            .to_string_lossy()
            .into_owned()
    };
    for release in RELEASES {
        let dir = mirror.join(release).join("helm/crds");
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|entry| entry.expect("readable directory entry").path())
            .collect();
        files.sort();
        let _ = writeln!(corpus, "pub mod {} {{", release.replace('.', "_"));
        corpus.push_str(&ack);
        for file in files {
            let yaml = std::fs::read_to_string(&file).expect("readable CRD");
            let file_name = file.file_name().unwrap_or_default().to_string_lossy();
            let (code, module_path) = module(&yaml, release, &file_name);
            let _ = writeln!(corpus, "{code}");
            registry.push((
                repo_path(&file),
                format!("{}::{module_path}", release.replace('.', "_")),
            ));
        }
        corpus.push_str("}\n");
    }
    // Every TrainingJob release, with the real component template: what
    // `regenerate --controller-version` writes for each of them.
    let template_path = Path::new(&manifest_dir).join("../component-template/training_job.yaml");
    println!("cargo::rerun-if-changed={}", template_path.display());
    let template = std::fs::read_to_string(&template_path).expect("readable template");
    let template = codegen::ComponentTemplate::parse(&template).expect("valid template");
    corpus.push_str("pub mod training_job_releases {\n");
    corpus.push_str(&ack);
    let mut releases: Vec<_> = std::fs::read_dir(&mirror)
        .expect("fixture mirror")
        .map(|entry| entry.expect("readable directory entry").file_name())
        .collect();
    releases.sort();
    for release in releases {
        let release = release.to_string_lossy();
        let file = mirror
            .join(&*release)
            .join("helm/crds/sagemaker.services.k8s.aws_trainingjobs.yaml");
        let yaml = std::fs::read_to_string(&file).expect("readable CRD");
        let source = codegen::Source {
            file: format!("fixtures/{release}/sagemaker.services.k8s.aws_trainingjobs.yaml"),
            controller: "sagemaker-controller".to_owned(),
            release: release.to_string(),
            sha256: "-".to_owned(),
        };
        let generated = codegen::generate(&yaml, &template, &source)
            .unwrap_or_else(|e| panic!("TrainingJob {release}: {e}"));
        let _ = writeln!(
            corpus,
            "pub mod {} {{\n{}}}",
            release.replace('.', "_"),
            generated.rust
        );
        let kind = codegen::model(&yaml)
            .unwrap_or_else(|e| panic!("TrainingJob {release}: {e}"))
            .kind;
        registry.push((
            repo_path(&file),
            format!(
                "training_job_releases::{}::{kind}",
                release.replace('.', "_")
            ),
        ));
    }
    corpus.push_str("}\n");

    // Other controllers' CRDs (fixtures/other-controllers: shaped like theirs).
    let others = Path::new(&manifest_dir).join("../fixtures/other-controllers/aws-controllers-k8s");
    println!("cargo::rerun-if-changed={}", others.display());
    corpus.push_str("pub mod other_controllers {\n");
    corpus.push_str(&ack);
    let mut files = Vec::new();
    for controller in std::fs::read_dir(&others).expect("fixtures/other-controllers") {
        for release in std::fs::read_dir(controller.expect("entry").path()).expect("releases") {
            let crds = release.expect("entry").path().join("helm/crds");
            for file in std::fs::read_dir(&crds).expect("crds folder") {
                files.push(file.expect("entry").path());
            }
        }
    }
    files.sort();
    for file in files {
        let yaml = std::fs::read_to_string(&file).expect("readable CRD");
        let file_name = file.file_name().unwrap_or_default().to_string_lossy();
        let (code, module_path) = module(&yaml, "other-controllers", &file_name);
        corpus.push_str(&code);
        corpus.push('\n');
        registry.push((
            repo_path(&file),
            format!("other_controllers::{module_path}"),
        ));
    }
    corpus.push_str("}\n");

    // Schema shapes and names no ACK CRD has yet.
    let synthetic = Path::new(&manifest_dir).join("../fixtures/synthetic");
    println!("cargo::rerun-if-changed={}", synthetic.display());
    let mut files: Vec<_> = std::fs::read_dir(&synthetic)
        .expect("fixtures/synthetic")
        .map(|entry| entry.expect("readable directory entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    for file in files {
        let yaml = std::fs::read_to_string(&file).expect("readable CRD");
        let file_name = file.file_name().unwrap_or_default().to_string_lossy();
        let (code, module_path) = module(&yaml, "synthetic", &file_name);
        corpus.push_str(&code);
        corpus.push('\n');
        registry.push((repo_path(&file), module_path));
    }

    corpus.push_str(
        "/// Every generated resource type, by the CRD file (from the repository root) it is\n\
         /// generated from: a function that reads a JSON value as that type and writes it back.\n\
         pub static RESOURCES: &[(&str, RoundTrip)] = &[\n",
    );
    for (file, path) in &registry {
        let _ = writeln!(corpus, "    ({file:?}, round_trip::<{path}>),");
    }
    corpus.push_str("];\n");

    let out_dir = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    std::fs::write(Path::new(&out_dir).join("corpus.rs"), corpus).expect("writable OUT_DIR");
}

/// `pub mod <kind> { <generated code> }` for one CRD, and the path of its resource type
/// from the enclosing module.
fn module(yaml: &str, release: &str, file_name: &str) -> (String, String) {
    let model = codegen::model(yaml).unwrap_or_else(|e| panic!("{file_name}: {e}"));
    let source = codegen::Source {
        file: format!("fixtures/{release}/{file_name}"),
        controller: "sagemaker-controller".to_owned(),
        release: release.to_owned(),
        sha256: "-".to_owned(),
    };
    let template = codegen::ComponentTemplate::generic(&model.kind);
    let generated =
        codegen::generate(yaml, &template, &source).unwrap_or_else(|e| panic!("{file_name}: {e}"));
    let module = codegen::naming::snake_case(&model.kind);
    (
        format!("pub mod {module} {{\n{}}}", generated.rust),
        format!("{module}::{}", model.kind),
    )
}
