//! The generated types are usable without the component parts: `generated` without
//! features depends on no clap (a kube-rs user who wants only `TrainingJob`), and with
//! `component` it does (what the launcher enables). `.ci/run` also compiles it that way.

use std::process::Command;

fn normal_dependencies(features: &[&str]) -> Vec<String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .args([
            "tree",
            "-p",
            "generated",
            "-e",
            "normal",
            "--prefix",
            "none",
        ])
        .args(["--format", "{p}", "--offline"])
        .args(features)
        .output()
        .expect("cargo tree runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| line.split_whitespace().next().map(str::to_owned))
        .collect()
}

#[test]
fn the_types_alone_pull_in_no_clap() {
    let dependencies = normal_dependencies(&[]);
    assert!(
        dependencies.iter().any(|d| d == "k8s-openapi"),
        "{dependencies:?}"
    );
    for absent in ["clap", "component-runtime"] {
        assert!(
            !dependencies.iter().any(|d| d == absent),
            "{absent}: {dependencies:?}"
        );
    }
}

#[test]
fn the_component_feature_adds_the_command_line_parts() {
    let dependencies = normal_dependencies(&["--features", "component"]);
    for present in ["clap", "component-runtime"] {
        assert!(
            dependencies.iter().any(|d| d == present),
            "{present}: {dependencies:?}"
        );
    }
}
