//! What the launcher reads of a kind (the generated `component_runtime::Component` impl) is
//! taken from the model and the template, and a template the launcher cannot run is refused
//! with what to fix.

mod common;

use codegen::ComponentTemplate;

fn crd(file: &str) -> String {
    std::fs::read_to_string(common::repo_root().join(file)).expect("CRD")
}

fn template(module: &str) -> ComponentTemplate {
    let path = common::repo_root().join(format!("component-template/{module}.yaml"));
    ComponentTemplate::parse(&std::fs::read_to_string(path).expect("template")).expect("parses")
}

fn build(yaml: &str, template: &ComponentTemplate) -> Result<codegen::ComponentModel, String> {
    let model = codegen::model(yaml).expect("model");
    codegen::component::build(&model, template).map_err(|e| e.to_string())
}

const ENDPOINTS: &str = "crds/sagemaker-controller/sagemaker.services.k8s.aws_endpoints.yaml";

#[test]
fn the_launched_fields_come_from_the_model_and_the_template() {
    let component = build(&crd(ENDPOINTS), &template("endpoint")).expect("component");
    let launched = component.launched.expect("the launcher runs endpoints");
    assert_eq!(launched.subcommand, "endpoint");
    assert_eq!(component.inputs[launched.name_input].name, "endpoint_name");
    assert_eq!(
        (
            launched.name_field.rust_name.as_str(),
            launched.name_field.required
        ),
        ("endpoint_name", true)
    );
    assert_eq!(
        (
            launched.conditions.rust_name.as_str(),
            launched.conditions.required
        ),
        ("conditions", false)
    );
    assert_eq!(launched.arn.rust_name, "arn");
    let rust = codegen::generate(&crd(ENDPOINTS), &template("endpoint"), &source())
        .expect("generates")
        .rust;
    for line in [
        "impl component_runtime::Component for Endpoint {",
        "const SUBCOMMAND: &'static str = \"endpoint\";",
        "const NAME_INPUT: &'static str = \"endpoint_name\";",
        "status.ack_resource_metadata.as_ref()?.arn.as_deref()",
    ] {
        assert!(rust.contains(line), "{line}");
    }
    // A CRD the generic template describes: types and inputs, no launcher.
    let generic = ComponentTemplate::generic("Endpoint");
    assert_eq!(
        build(&crd(ENDPOINTS), &generic)
            .expect("component")
            .launched,
        None
    );
}

fn source() -> codegen::Source {
    codegen::Source {
        file: ENDPOINTS.to_owned(),
        controller: "sagemaker-controller".to_owned(),
        release: "v1.9.1".to_owned(),
        sha256: "-".to_owned(),
    }
}

#[test]
fn a_template_the_launcher_cannot_run_is_refused_with_what_to_fix() {
    let endpoints = crd(ENDPOINTS);
    let mut no_subcommand = template("endpoint");
    no_subcommand.command = vec!["ack-kfp-launcher".to_owned()];
    let error = build(&endpoints, &no_subcommand).expect_err("refused");
    assert!(
        error.contains("`command` must run the launcher's subcommand"),
        "{error}"
    );

    let mut two_filled = template("endpoint");
    two_filled
        .filled_by_launcher
        .insert("endpointConfigName".to_owned(), "Filled too.".to_owned());
    let error = build(&endpoints, &two_filled).expect_err("refused");
    assert!(error.contains("more than one field"), "{error}");

    let mut updatable_alone = template("endpoint");
    updatable_alone.filled_by_launcher.clear();
    let error = build(&endpoints, &updatable_alone).expect_err("refused");
    assert!(
        error.contains("`updatable` needs the field the launcher fills"),
        "{error}"
    );

    let mut not_a_name = template("endpoint");
    not_a_name.filled_by_launcher = [("deploymentConfig".to_owned(), "x".to_owned())].into();
    let error = build(&endpoints, &not_a_name).expect_err("refused");
    assert!(
        error.contains("`deploymentConfig`, which is not a string"),
        "{error}"
    );

    // A kind whose status has no ACK resource metadata: no ARN for the launcher to read.
    let widgets = crd("fixtures/synthetic/widgets.yaml");
    let mut widget = ComponentTemplate::generic("Widget");
    widget.command.push("widget".to_owned());
    widget.filled_by_launcher = [("type".to_owned(), "x".to_owned())].into();
    let error = build(&widgets, &widget).expect_err("refused");
    assert_eq!(
        error,
        "component for Widget: the launcher reads `status.ackResourceMetadata`, which the CRD \
         does not have"
    );
}
