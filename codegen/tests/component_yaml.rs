//! The committed TrainingJob component.yaml, read as YAML: the exact inputs and outputs a
//! pipeline written for the earlier Python component relies on, KFP's rules for defaults,
//! and placeholders that all name a declared input or output.

mod common;

use std::collections::BTreeSet;

use serde_json::Value;

fn component() -> Value {
    let path = common::repo_root().join("generated/components/training_job/component.yaml");
    let text = std::fs::read_to_string(path).expect("committed component.yaml");
    serde_saphyr::from_str(&text).expect("component.yaml is YAML")
}

fn entries<'a>(component: &'a Value, key: &str) -> Vec<&'a serde_json::Map<String, Value>> {
    component[key]
        .as_array()
        .unwrap_or_else(|| panic!("{key} is a list"))
        .iter()
        .map(|v| v.as_object().expect("an input or output is a mapping"))
        .collect()
}

fn str_of<'a>(entry: &'a serde_json::Map<String, Value>, key: &str) -> &'a str {
    entry
        .get(key)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("{key} in {entry:?}"))
}

/// Inputs and outputs of the earlier Python component, with their types.
const EARLIER_INPUTS: &[(&str, &str)] = &[
    ("region", "String"),
    ("algorithm_specification", "JsonObject"),
    ("checkpoint_config", "JsonObject"),
    ("debug_hook_config", "JsonObject"),
    ("debug_rule_configurations", "JsonArray"),
    ("enable_inter_container_traffic_encryption", "Bool"),
    ("enable_managed_spot_training", "Bool"),
    ("enable_network_isolation", "Bool"),
    ("environment", "JsonObject"),
    ("experiment_config", "JsonObject"),
    ("hyper_parameters", "JsonObject"),
    ("input_data_config", "JsonArray"),
    ("output_data_config", "JsonObject"),
    ("profiler_config", "JsonObject"),
    ("profiler_rule_configurations", "JsonArray"),
    ("resource_config", "JsonObject"),
    ("retry_strategy", "JsonObject"),
    ("role_arn", "String"),
    ("stopping_condition", "JsonObject"),
    ("tags", "JsonArray"),
    ("tensor_board_output_config", "JsonObject"),
    ("training_job_name", "String"),
    ("vpc_config", "JsonObject"),
];

const EARLIER_OUTPUTS: &[(&str, &str)] = &[
    ("ack_resource_metadata", "JsonObject"),
    ("conditions", "JsonArray"),
    ("creation_time", "String"),
    ("debug_rule_evaluation_statuses", "JsonArray"),
    ("failure_reason", "String"),
    ("last_modified_time", "String"),
    ("model_artifacts", "JsonObject"),
    ("profiler_rule_evaluation_statuses", "JsonArray"),
    ("profiling_status", "String"),
    ("secondary_status", "String"),
    ("training_job_status", "String"),
    ("warm_pool_status", "JsonObject"),
];

#[test]
fn inputs_are_the_earlier_components_plus_newer_fields() {
    let component = component();
    let inputs: Vec<(String, String)> = entries(&component, "inputs")
        .iter()
        .map(|i| (str_of(i, "name").to_owned(), str_of(i, "type").to_owned()))
        .collect();
    assert_eq!(inputs[0].0, "region", "region comes first");
    for (name, ty) in EARLIER_INPUTS {
        assert!(
            inputs.contains(&((*name).to_owned(), (*ty).to_owned())),
            "input {name}: {ty} missing from {inputs:?}"
        );
    }
    // Added by CRD releases after the earlier component was written.
    let newer: Vec<&str> = inputs
        .iter()
        .map(|(n, _)| n.as_str())
        .filter(|n| !EARLIER_INPUTS.iter().any(|(e, _)| e == n))
        .collect();
    assert_eq!(newer, ["infra_check_config", "remote_debug_config"]);
}

#[test]
fn outputs_are_the_earlier_components() {
    let component = component();
    let outputs: Vec<(&str, &str)> = entries(&component, "outputs")
        .iter()
        .map(|o| (str_of(o, "name"), str_of(o, "type")))
        .collect();
    assert_eq!(outputs, EARLIER_OUTPUTS);
}

#[test]
fn defaults_follow_the_kfp_rules() {
    let component = component();
    let required_by_crd = [
        "region",
        "algorithm_specification",
        "output_data_config",
        "resource_config",
        "role_arn",
        "stopping_condition",
    ];
    for input in entries(&component, "inputs") {
        let name = str_of(input, "name");
        let ty = str_of(input, "type");
        let default = input.get("default");
        if required_by_crd.contains(&name) {
            assert_eq!(default, None, "{name} is required and has no default");
            continue;
        }
        // Always a YAML string, and the neutral value of its type.
        let default = default
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("{name} default"));
        let neutral = match ty {
            "JsonObject" => "{}",
            "JsonArray" => "[]",
            "Bool" => "False",
            "String" => "",
            other => panic!("{name}: no neutral default for {other}"),
        };
        assert_eq!(default, neutral, "{name}");
        assert!(
            !str_of(input, "description").is_empty(),
            "{name} has a description"
        );
    }
}

#[test]
fn every_placeholder_names_a_declared_input_or_output_and_all_are_passed() {
    let component = component();
    let inputs: BTreeSet<&str> = entries(&component, "inputs")
        .iter()
        .map(|i| str_of(i, "name"))
        .collect();
    let outputs: BTreeSet<&str> = entries(&component, "outputs")
        .iter()
        .map(|o| str_of(o, "name"))
        .collect();
    let args = component["implementation"]["container"]["args"]
        .as_array()
        .expect("args");
    let mut passed_inputs = BTreeSet::new();
    let mut passed_outputs = BTreeSet::new();
    let mut flags = Vec::new();
    for arg in args {
        match arg {
            Value::String(flag) => flags.push(flag.clone()),
            Value::Object(placeholder) => {
                if let Some(name) = placeholder.get("inputValue").and_then(Value::as_str) {
                    assert!(inputs.contains(name), "inputValue {name} is not an input");
                    assert_eq!(
                        flags.last().map(String::as_str),
                        Some(format!("--{name}").as_str())
                    );
                    passed_inputs.insert(name);
                } else if let Some(name) = placeholder.get("outputPath").and_then(Value::as_str) {
                    assert!(outputs.contains(name), "outputPath {name} is not an output");
                    assert_eq!(
                        flags.last().map(String::as_str),
                        Some(format!("--{name}_output_path").as_str())
                    );
                    passed_outputs.insert(name);
                } else {
                    panic!("unexpected placeholder {placeholder:?}");
                }
            }
            other => panic!("unexpected argument {other:?}"),
        }
    }
    assert_eq!(passed_inputs, inputs);
    assert_eq!(passed_outputs, outputs);
}

#[test]
fn the_file_says_where_it_came_from() {
    let path = common::repo_root().join("generated/components/training_job/component.yaml");
    let text = std::fs::read_to_string(path).expect("committed component.yaml");
    let header: Vec<&str> = text.lines().take_while(|l| l.starts_with('#')).collect();
    let header = header.join("\n");
    assert!(
        header.contains("Generated by `cargo xtask regenerate`"),
        "{header}"
    );
    assert!(header.contains("sagemaker-controller v1.9.1"), "{header}");
    assert!(
        header.contains("7d27a12001d39b9de9c912ad1f94045c6557d19a2e97e6ad3c35f2e496a20490"),
        "{header}"
    );
    let top: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with(' ') && !l.starts_with('-'))
        .map(|l| l.split(':').next().unwrap_or_default())
        .collect();
    assert_eq!(
        top,
        ["name", "description", "inputs", "outputs", "implementation"]
    );
}

#[test]
fn optional_numbers_are_passed_only_when_present() {
    // The synthetic CRD has an optional `number` (ratio): no value of it can mean "not
    // set", so it is optional with no default and passed through an isPresent condition.
    let yaml = std::fs::read_to_string(common::repo_root().join("fixtures/synthetic/widgets.yaml"))
        .expect("fixture");
    let component: Value =
        serde_saphyr::from_str(&common::generate(&yaml).component_yaml).expect("YAML");
    let ratio = entries(&component, "inputs")
        .into_iter()
        .find(|i| str_of(i, "name") == "ratio")
        .expect("ratio input");
    assert_eq!(ratio.get("optional"), Some(&Value::Bool(true)));
    assert_eq!(ratio.get("default"), None);
    assert_eq!(str_of(ratio, "type"), "Float");
    let args = component["implementation"]["container"]["args"]
        .as_array()
        .expect("args");
    let conditional = args
        .iter()
        .find(|a| a.get("if").is_some())
        .expect("an if placeholder");
    assert_eq!(
        conditional["if"],
        serde_json::json!({"cond": {"isPresent": "ratio"}, "then": ["--ratio", {"inputValue": "ratio"}]})
    );
    // The required integer has no default and is passed always.
    let replicas = entries(&component, "inputs")
        .into_iter()
        .find(|i| str_of(i, "name") == "replicas")
        .expect("replicas input");
    assert_eq!(
        (replicas.get("default"), replicas.get("optional")),
        (None, None)
    );
    assert!(
        args.iter()
            .any(|a| a == &serde_json::json!({"inputValue": "replicas"}))
    );
}

#[test]
fn names_that_cannot_be_inputs_are_prefixed_with_their_side() {
    let yaml =
        std::fs::read_to_string(common::repo_root().join("fixtures/synthetic/awkwards.yaml"))
            .expect("fixture");
    let generated = common::generate(&yaml);
    let inputs: Vec<&str> = generated
        .component
        .inputs
        .iter()
        .map(|i| i.name.as_str())
        .collect();
    assert_eq!(
        inputs,
        [
            "region",
            "spec_3d",
            "spec_class",
            "spec_dry_run",
            "spec_namespace",
            "spec_region",
            "spec_status_timeout",
            "x_amz_target",
        ]
    );
    let outputs: Vec<&str> = generated
        .component
        .outputs
        .iter()
        .map(|o| o.name.as_str())
        .collect();
    assert_eq!(outputs, ["status_2xx", "dry_run", "namespace"]);
}

#[test]
fn a_name_with_nothing_to_build_from_is_refused_with_its_path() {
    let yaml =
        std::fs::read_to_string(common::repo_root().join("fixtures/synthetic/awkwards.yaml"))
            .expect("fixture");
    for (name, quoted) in [("日本", "\"日本\""), ("-", "\"-\""), ("", "\"\"")] {
        let broken = yaml.replace(
            "              x-amz-target:",
            &format!("              {quoted}:"),
        );
        assert_ne!(broken, yaml);
        let error = codegen::model(&broken).expect_err(name).to_string();
        assert_eq!(
            error,
            format!(
                "schema path `spec.{name}`: property name {name:?} has no ASCII letter or digit \
                 to make a Rust name from"
            )
        );
    }
}
