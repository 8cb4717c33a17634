//! The launcher binary against the API double and its simulated ACK controller: one test
//! per outcome the controller can produce, asserting the exit code and the outputs. These
//! move onto the real ACK controller (issue 19); how the launcher uses the API (the request
//! pattern, names and re-attaching, faults, cancels under faults) is tested against the
//! real API server: `cluster_scenarios.rs`, `api_faults.rs`.

mod common;

use common::*;
use serde_json::json;

#[test]
fn success_writes_every_output() {
    let bed = bed();
    let _controller = controller(&bed, Scenario::completes());
    let step = Step::new(&bed);
    let run = step.run(&valid_inputs("xgboost-ok"), &[]);
    assert_eq!(run.code, Some(0), "{run:?}");
    run.assert_all_outputs_written();
    assert_eq!(run.output("training_job_status"), "Completed");
    assert_eq!(run.output("secondary_status"), "Completed");
    assert_eq!(run.output("failure_reason"), "");
    let metadata = run.json("ack_resource_metadata");
    assert_eq!(
        metadata["arn"],
        "arn:aws:sagemaker:us-west-2:123456789012:training-job/xgboost-ok"
    );
    assert_eq!(metadata["region"], "us-west-2");
    let artifacts = run.json("model_artifacts");
    let s3 = artifacts["s3ModelArtifacts"].as_str().expect("artifacts");
    assert!(
        s3.starts_with("s3://ack-sagemaker-data/output/xgboost-ok"),
        "{s3}"
    );
    let conditions = run.json("conditions");
    assert!(
        conditions
            .as_array()
            .expect("array")
            .iter()
            .any(|c| c["type"] == "ACK.ResourceSynced" && c["status"] == "True")
    );
    assert_eq!(run.json("debug_rule_evaluation_statuses"), json!([]));
}

#[test]
fn stopped_job_exits_1() {
    let bed = bed();
    let _controller = controller(&bed, Scenario::stopped());
    let run = Step::new(&bed).run(&valid_inputs("xgboost-stopped"), &[]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert_eq!(run.output("training_job_status"), "Stopped");
    assert!(
        run.stderr.contains("the training job was stopped"),
        "{}",
        run.stderr
    );
}

#[test]
fn validation_exceptions_fail_fast_in_both_sdk_formats() {
    for sdk in [SdkVersion::V1, SdkVersion::V2] {
        let bed = bed();
        let error =
            AwsError::validation("Instance type ml.m5.xlarge is not supported").with_sdk(sdk);
        let _controller = controller(&bed, Scenario::create_fails(error));
        let run = Step::new(&bed).run(&valid_inputs("xgboost-invalid"), &[]);
        assert_eq!(run.code, Some(1), "{sdk:?}: {run:?}");
        assert!(
            run.stderr.contains("SageMaker rejected the job"),
            "{sdk:?}: {}",
            run.stderr
        );
        assert!(
            run.stderr
                .contains("Instance type ml.m5.xlarge is not supported"),
            "{}",
            run.stderr
        );
        run.assert_all_outputs_written();
    }
}

#[test]
fn a_recoverable_error_that_clears_is_waited_out() {
    let bed = bed();
    let errors = vec![
        AwsError::new("ThrottlingException", "Rate exceeded"),
        AwsError::new("ThrottlingException", "Rate exceeded"),
    ];
    let _controller = controller(&bed, Scenario::create_fails_then_completes(errors));
    let run = Step::new(&bed).run(&valid_inputs("xgboost-throttled"), &[]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(
        run.stderr
            .contains("recoverable error: api error ThrottlingException: Rate exceeded"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_recoverable_error_past_the_limit_times_out() {
    let bed = bed();
    let error = AwsError::new(
        "ResourceLimitExceeded",
        "The account-level service limit for ml.m5.xlarge is 0 Instances",
    );
    let _controller = controller(&bed, Scenario::create_fails(error));
    let run = Step::new(&bed).run(
        &valid_inputs("xgboost-quota"),
        &["--recoverable-timeout", "0.5"],
    );
    assert_eq!(run.code, Some(5), "{run:?}");
    assert!(
        run.stderr.contains("kept reporting a recoverable error"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("service limit"), "{}", run.stderr);
    run.assert_all_outputs_written();
}

#[test]
fn a_debug_rule_with_issues_fails_and_a_profiler_rule_only_warns() {
    let bed = bed();
    let _controller = controller(
        &bed,
        Scenario::completes().with_debug_rule("VanishingGradient", "IssuesFound"),
    );
    let run = Step::new(&bed).run(&valid_inputs("xgboost-debug"), &[]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(
        run.stderr.contains("VanishingGradient IssuesFound"),
        "{}",
        run.stderr
    );
    assert_eq!(
        run.json("debug_rule_evaluation_statuses")[0]["ruleEvaluationStatus"],
        "IssuesFound"
    );

    let bed = common::bed();
    let _controller = controller(
        &bed,
        Scenario::completes().with_profiler_rule("ProfilerReport", "IssuesFound"),
    );
    let run = Step::new(&bed).run(&valid_inputs("xgboost-profiler"), &[]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(
        run.stderr
            .contains("warning: profiler rule ProfilerReport IssuesFound"),
        "{}",
        run.stderr
    );
}

#[test]
fn sigterm_while_following_deletes_the_resource_and_stops_the_job() {
    let bed = bed();
    let controller = controller(&bed, Scenario::runs_forever());
    let step = Step::new(&bed);
    let child = step.spawn(&valid_inputs("xgboost-cancelled"), &[]);
    eventually("the job to train", || {
        object(&bed, "xgboost-cancelled")
            .is_some_and(|o| o["status"]["secondaryStatus"] == "Training")
    });
    send_signal(&child, "TERM");
    let run = step.finish(child.wait_with_output().expect("exits"));
    assert_eq!(run.code, Some(143), "{run:?}");
    run.assert_all_outputs_written();
    assert_eq!(run.output("training_job_status"), "InProgress");
    assert_eq!(bed.requests().count(Verb::Delete), 1);
    eventually("the controller to stop the job", || {
        controller
            .aws_calls()
            .iter()
            .any(|c| c.operation == "StopTrainingJob")
    });
}
