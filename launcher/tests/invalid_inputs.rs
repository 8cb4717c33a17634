//! Inputs that do not describe a valid TrainingJob: each exits 2 with a message naming the
//! input, the place inside it and what was expected, and sends no request at all: the step
//! reaches the real API server through a [`testbed::FaultProxy`] whose request log stays
//! empty.

mod common;

use std::os::unix::ffi::OsStrExt;

use common::cluster::{Namespace, shared};
use common::*;
use testbed::FaultProxy;

/// A namespace of its own and a step whose every request the proxy would log.
fn scene(name: &str) -> (FaultProxy, Step) {
    Namespace::new(shared(), name).proxied_step()
}

fn assert_nothing_sent(proxy: &FaultProxy) {
    assert!(
        proxy.requests().records().is_empty(),
        "requests were sent: {:?}",
        proxy.requests().records()
    );
}

/// (what is wrong, input, value or None to leave it out, expected fragment of the message)
const CASES: &[(&str, &str, Option<&str>, &str)] = &[
    (
        "bad JSON",
        "algorithm_specification",
        Some(r#"{"trainingImage": "#),
        "input `algorithm_specification`: expected a JsonObject as JSON or YAML",
    ),
    (
        "bad YAML",
        "resource_config",
        Some("instanceCount: [1"),
        "input `resource_config`: expected a JsonObject as JSON or YAML",
    ),
    (
        "array for an object",
        "output_data_config",
        Some("[1, 2]"),
        "input `output_data_config`: expected a JsonObject, got an array",
    ),
    (
        "object for an array",
        "input_data_config",
        Some(r#"{"channelName": "train"}"#),
        "input `input_data_config`: expected a JsonArray, got an object",
    ),
    (
        "string for an object",
        "environment",
        Some("A=1"),
        "input `environment`: expected a JsonObject, got a string",
    ),
    (
        "number for an array",
        "tags",
        Some("3"),
        "input `tags`: expected a JsonArray, got a number",
    ),
    (
        "typo in a field",
        "resource_config",
        Some(r#"{"instanceCount": 1, "instanceTyp": "ml.m5.xlarge"}"#),
        "input `resource_config` at `instanceTyp`: unknown field `instanceTyp`",
    ),
    (
        "typo suggestion",
        "resource_config",
        Some(r#"{"instanceCount": 1, "instanceTyp": "ml.m5.xlarge"}"#),
        "did you mean `instanceType`?",
    ),
    (
        "RecordWrapperType in a channel",
        "input_data_config",
        Some(r#"[{"channelName": "train", "RecordWrapperType": "None"}]"#),
        "input `input_data_config` at `[0].RecordWrapperType`: unknown field `RecordWrapperType`",
    ),
    (
        "RecordWrapperType suggestion",
        "input_data_config",
        Some(r#"[{"channelName": "train", "RecordWrapperType": "None"}]"#),
        "did you mean `recordWrapperType`?",
    ),
    (
        "InputMode in a channel",
        "input_data_config",
        Some(r#"[{"channelName": "train", "InputMode": "File"}]"#),
        "did you mean `inputMode`?",
    ),
    (
        "unknown field deep inside",
        "input_data_config",
        Some(r#"[{"dataSource": {"s3DataSource": {"s3Uri": "s3://b"}}}]"#),
        "at `[0].dataSource.s3DataSource.s3Uri`: unknown field `s3Uri`",
    ),
    (
        "string for an integer",
        "resource_config",
        Some(r#"{"instanceCount": "one"}"#),
        "input `resource_config` at `instanceCount`: invalid type: string \"one\", expected i64",
    ),
    (
        "fraction for an integer",
        "resource_config",
        Some(r#"{"volumeSizeInGB": 5.5}"#),
        "at `volumeSizeInGB`: invalid type: floating point `5.5`, expected i64",
    ),
    (
        "string for a number of seconds",
        "stopping_condition",
        Some(r#"{"maxRuntimeInSeconds": "an hour"}"#),
        "at `maxRuntimeInSeconds`: invalid type: string \"an hour\"",
    ),
    (
        "number in a string map",
        "hyper_parameters",
        Some(r#"{"eta": 0.2}"#),
        "input `hyper_parameters` at `eta`: invalid type: floating point `0.2`, expected a string",
    ),
    (
        "number for a string deep inside",
        "tags",
        Some(r#"[{"key": 1, "value": "v"}]"#),
        "input `tags` at `[0].key`: invalid type: integer `1`, expected a string",
    ),
    (
        "typo in a tag",
        "tags",
        Some(r#"[{"key": "k", "val": "v"}]"#),
        "did you mean `value`?",
    ),
    (
        "string for a list",
        "vpc_config",
        Some(r#"{"securityGroupIDs": "sg-1", "subnets": ["s"]}"#),
        "input `vpc_config` at `securityGroupIDs`: invalid type: string \"sg-1\", expected a sequence",
    ),
    (
        "number for an object in a list",
        "debug_rule_configurations",
        Some("[1]"),
        "input `debug_rule_configurations` at `[0]`: invalid type: integer `1`",
    ),
    (
        "bool for a string",
        "algorithm_specification",
        Some(r#"{"trainingImage": true}"#),
        "at `trainingImage`: invalid type: boolean `true`, expected a string",
    ),
    (
        "not a Bool",
        "enable_network_isolation",
        Some("yes"),
        "input `enable_network_isolation`: expected a Bool (True, False, true or false), got `yes`",
    ),
    (
        "1 is not a Bool",
        "enable_managed_spot_training",
        Some("1"),
        "input `enable_managed_spot_training`: expected a Bool",
    ),
    (
        "missing role_arn",
        "role_arn",
        None,
        "input `role_arn`: is required: expected a non-empty String",
    ),
    (
        "empty role_arn",
        "role_arn",
        Some(""),
        "input `role_arn`: is required: expected a non-empty String",
    ),
    (
        "missing algorithm_specification",
        "algorithm_specification",
        None,
        "input `algorithm_specification`: is required: expected a non-empty JsonObject",
    ),
    (
        "empty algorithm_specification",
        "algorithm_specification",
        Some("{}"),
        "input `algorithm_specification`: is required",
    ),
    (
        "missing output_data_config",
        "output_data_config",
        None,
        "input `output_data_config`: is required",
    ),
    (
        "missing resource_config",
        "resource_config",
        None,
        "input `resource_config`: is required",
    ),
    (
        "missing stopping_condition",
        "stopping_condition",
        None,
        "input `stopping_condition`: is required",
    ),
    (
        "missing region",
        "region",
        None,
        "input `region`: is required: expected a non-empty String",
    ),
    (
        "region with spaces",
        "region",
        Some("us east 1"),
        "input `region`: expected an AWS region such as `us-west-2`",
    ),
    (
        "upper-case region",
        "region",
        Some("US-EAST-1"),
        "regions are lower case: `us-east-1`?",
    ),
    (
        "blank region",
        "region",
        Some("   "),
        "input `region`: expected an AWS region",
    ),
    (
        "underscore in the name",
        "training_job_name",
        Some("my_job"),
        "input `training_job_name`: `my_job` is not a valid job name",
    ),
    (
        "hyphen first",
        "training_job_name",
        Some("-job"),
        "`-job` is not a valid job name",
    ),
    (
        "dot in the name",
        "training_job_name",
        Some("job.v1"),
        "`job.v1` is not a valid job name",
    ),
    (
        "name too long",
        "training_job_name",
        Some("a123456789b123456789c123456789d123456789e123456789f123456789g1234"),
        "is not a valid job name: expected 1 to 63",
    ),
];

fn inputs_with(input: &str, value: Option<&str>) -> Vec<(String, String)> {
    let mut inputs = valid_inputs("invalid-inputs");
    inputs.retain(|(name, _)| name != input);
    if let Some(value) = value {
        inputs.push((input.to_owned(), value.to_owned()));
    }
    inputs
}

#[test]
fn each_invalid_input_exits_2_with_a_precise_message_and_no_request() {
    let (proxy, step) = scene("invalid-each");
    let mut failures = Vec::new();
    for (what, input, value, expected) in CASES {
        let run = step.run(&inputs_with(input, *value), &[]);
        if run.code != Some(2) || !run.stderr.contains(expected) {
            failures.push(format!(
                "{what}: exit {:?}, expected {expected:?} in:\n{}",
                run.code, run.stderr
            ));
        }
    }
    assert!(CASES.len() >= 30);
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert_nothing_sent(&proxy);
}

#[test]
fn every_problem_is_reported_at_once() {
    let (proxy, step) = scene("invalid-all-at-once");
    let mut inputs = inputs_with("role_arn", None);
    inputs.retain(|(name, _)| name != "resource_config" && name != "enable_network_isolation");
    inputs.push((
        "resource_config".into(),
        r#"{"instanceCount": "two"}"#.into(),
    ));
    inputs.push(("enable_network_isolation".into(), "maybe".into()));
    let run = step.run(&inputs, &[]);
    assert_eq!(run.code, Some(2), "{run:?}");
    let lines: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.starts_with("input `"))
        .collect();
    assert_eq!(lines.len(), 3, "{}", run.stderr);
    assert_nothing_sent(&proxy);
}

#[test]
fn every_problem_inside_one_object_is_reported_at_once() {
    // The earlier component's sample pipeline passes its channel with PascalCase keys.
    let (proxy, step) = scene("invalid-one-object");
    let inputs = inputs_with(
        "input_data_config",
        Some(
            r#"[{"ChannelName": "train", "RecordWrapperType": "None", "InputMode": "File",
                 "dataSource": {"s3DataSource": {"s3DataType": "S3Prefix", "s3URI": "s3://b/train"}}}]"#,
        ),
    );
    let run = step.run(&inputs, &[]);
    assert_eq!(run.code, Some(2), "{run:?}");
    for expected in [
        "input `input_data_config` at `[0].ChannelName`: unknown field `ChannelName`",
        "did you mean `channelName`?",
        "input `input_data_config` at `[0].RecordWrapperType`: unknown field `RecordWrapperType`",
        "did you mean `recordWrapperType`?",
        "input `input_data_config` at `[0].InputMode`: unknown field `InputMode`",
        "did you mean `inputMode`?",
    ] {
        assert!(run.stderr.contains(expected), "{expected}:\n{}", run.stderr);
    }
    assert_nothing_sent(&proxy);
}

#[test]
fn an_oversized_resource_is_refused_before_sending() {
    let (proxy, step) = scene("invalid-oversized");
    // One argument can hold at most 128 KiB on Linux, so the limit is lowered to show the
    // check; the default is etcd's 1.5 MiB.
    let huge = format!(r#"{{"payload": "{}"}}"#, "x".repeat(100 * 1024));
    let run = step.run(
        &inputs_with("hyper_parameters", Some(&huge)),
        &["--max-object-bytes", "65536"],
    );
    assert_eq!(
        run.code,
        Some(2),
        "{}",
        &run.stderr[..run.stderr.len().min(500)]
    );
    assert!(
        run.stderr.contains("too large"),
        "{}",
        &run.stderr[..run.stderr.len().min(500)]
    );
    assert_nothing_sent(&proxy);
}

#[test]
fn command_line_mistakes_exit_2_without_requests() {
    let (proxy, step) = scene("invalid-command-line");
    // A flag spelled with hyphens: clap suggests the real one.
    let mut command = step.command(&valid_inputs("cli-mistakes"), &["--role-arn", "x"]);
    let output = command.output().expect("runs");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--role_arn"));
    // A value that is not UTF-8.
    let mut command = step.command(&inputs_with("environment", None), &[]);
    command
        .arg("--environment")
        .arg(std::ffi::OsStr::from_bytes(b"{\"A\": \"\xff\"}"));
    let output = command.output().expect("runs");
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("UTF-8"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_nothing_sent(&proxy);
}

#[test]
fn a_well_formed_region_no_partition_lists_is_only_warned_about() {
    let (proxy, step) = scene("invalid-region");
    let mut inputs = inputs_with("region", Some("xx-moon-1"));
    inputs.retain(|(name, _)| name != "training_job_name");
    inputs.push(("training_job_name".into(), "xgboost-moon".into()));
    let run = step.run(&inputs, &["--dry-run"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(
        run.stderr
            .contains("warning: input `region`: `xx-moon-1` is not a region this launcher knows"),
        "{}",
        run.stderr
    );
    let printed: serde_json::Value = serde_saphyr::from_str(&run.stdout).expect("YAML");
    assert_eq!(
        printed["metadata"]["annotations"]["services.k8s.aws/region"],
        "xx-moon-1"
    );
    assert_nothing_sent(&proxy);
}
