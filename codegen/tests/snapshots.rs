//! What a reviewer should read when the generator or a CRD changes, as insta snapshots:
//! each pinned component's interface (its inputs and outputs with their types, what is
//! required and the defaults, what the launcher fills and what the controller updates),
//! and the generated Rust for the synthetic CRD of unusual schema shapes. The generated
//! files themselves are not copied here: `generated/`, checked by `cargo xtask regenerate
//! --check`, is their one golden copy. (`cargo insta review`, or `INSTA_UPDATE=always cargo
//! test` and `git diff`.)

mod common;

use std::fmt::Write as _;
use std::path::Path;

use codegen::component::{InputSource, OutputSource, Presence};
use codegen::{ComponentModel, ComponentTemplate};

/// Every YAML file under `dir`, recursively.
fn yaml_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable folder") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            yaml_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "yaml") {
            out.push(path);
        }
    }
}

/// Each component with a template, by its template's (and module's) name, generated from
/// its vendored CRD.
fn pinned_components() -> Vec<(String, ComponentModel)> {
    let root = common::repo_root();
    let mut crds = Vec::new();
    yaml_files(&root.join("crds"), &mut crds);
    let models: Vec<codegen::ResourceModel> = crds
        .iter()
        .map(|path| codegen::model(&std::fs::read_to_string(path).expect("CRD")).expect("model"))
        .collect();
    let mut templates = Vec::new();
    yaml_files(&root.join("component-template"), &mut templates);
    templates.sort();
    let mut components = Vec::new();
    for path in templates {
        let Ok(template) =
            ComponentTemplate::parse(&std::fs::read_to_string(&path).expect("template"))
        else {
            continue; // Not a component template (rbac.yaml).
        };
        let module = path
            .file_stem()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        let model = match models
            .iter()
            .filter(|m| m.kind == template.kind)
            .collect::<Vec<_>>()[..]
        {
            [model] => model.clone(),
            ref found => panic!("{module}: {} CRDs of kind {}", found.len(), template.kind),
        };
        let component = codegen::component::build(&model, &template).expect("component");
        components.push((module, component));
    }
    assert!(components.len() >= 13, "{}", components.len());
    components
}

/// A component's interface as a reviewer reads it.
fn interface(component: &ComponentModel) -> String {
    let template = &component.template;
    let mut out = format!(
        "{} ({}): {}\n\ninputs:\n",
        template.name,
        template.kind,
        template.command.join(" ")
    );
    let width = (component.inputs.iter().map(|i| i.name.len()))
        .chain(component.outputs.iter().map(|o| o.name.len()))
        .max()
        .unwrap_or_default();
    for input in &component.inputs {
        let source = match &input.source {
            InputSource::Region => "annotation services.k8s.aws/region".to_owned(),
            InputSource::SpecField { json_name, .. } => format!("spec.{json_name}"),
        };
        let presence = match input.presence {
            Presence::Required => "required".to_owned(),
            Presence::NeutralDefault(default) => format!("default {default:?}"),
            Presence::IfPresent => "optional, passed when present".to_owned(),
            Presence::FilledByLauncher => "default \"\", filled by the launcher".to_owned(),
        };
        let _ = writeln!(
            out,
            "  {:width$}  {:10}  {source}  ({presence})",
            input.name,
            input.kfp_type.name(),
        );
    }
    out.push_str("\noutputs:\n");
    for output in &component.outputs {
        let source = match &output.source {
            OutputSource::Status => format!("status.{}", output.json_name),
            OutputSource::Spec { .. } => format!("spec.{}", output.json_name),
        };
        let _ = writeln!(
            out,
            "  {:width$}  {:10}  {source}",
            output.name,
            output.kfp_type.name(),
        );
    }
    let updatable = if template.updatable.is_empty() {
        "none".to_owned()
    } else {
        template.updatable.join(", ")
    };
    let _ = writeln!(out, "\nupdatable: {updatable}");
    out
}

#[test]
fn each_pinned_components_interface() {
    for (module, component) in pinned_components() {
        insta::assert_snapshot!(format!("interface_{module}"), interface(&component));
    }
}

#[test]
fn synthetic_widget_rust() {
    let yaml = std::fs::read_to_string(common::repo_root().join("fixtures/synthetic/widgets.yaml"))
        .expect("fixture");
    insta::assert_snapshot!("widget.rs", common::generate(&yaml).rust);
}
