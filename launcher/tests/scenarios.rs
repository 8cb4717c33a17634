//! The launcher binary against the test bed's API server and simulated ACK controller: one
//! test per outcome the controller can produce, asserting the exit code, the outputs and
//! the requests made. Outcomes that need nothing from the request log (a failed job, a name
//! SageMaker knows, HTTPS with the cluster's CA) run against the real API server only
//! (`cluster_scenarios.rs`).

mod common;

use std::time::Duration;

use common::*;
use serde_json::json;

#[test]
fn success_writes_every_output_with_one_create_and_no_polling() {
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

    // One create, a watch instead of a polling loop, nothing modified or deleted.
    let requests = bed.requests();
    assert_eq!(requests.count(Verb::Create), 1);
    assert!(requests.count(Verb::Watch) >= 1);
    assert!(requests.count(Verb::Get) <= 1, "{:?}", requests.records());
    assert_eq!(
        requests.count(Verb::Patch) + requests.count(Verb::Update) + requests.count(Verb::Delete),
        0
    );

    // The resource carries the region and the spec fingerprint; the log shows progress
    // and links but never the environment's values.
    let object = object(&bed, "xgboost-ok").expect("resource kept");
    assert_eq!(
        object["metadata"]["annotations"]["services.k8s.aws/region"],
        "us-west-2"
    );
    assert!(object["metadata"]["annotations"]["ack-kfp.launcher/spec-sha256"].is_string());
    for expected in [
        "secondary status: Training",
        "training job status: Completed",
        "console: https://us-west-2.console.aws.amazon.com/sagemaker/home?region=us-west-2#/jobs/xgboost-ok",
        "succeeded",
    ] {
        assert!(
            run.stderr.contains(expected),
            "log lacks {expected:?}:\n{}",
            run.stderr
        );
    }
    assert!(
        !run.stderr.contains("s3cr3t-value"),
        "a secret reached the log:\n{}",
        run.stderr
    );
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
fn no_controller_times_out_with_a_hint() {
    let bed = bed();
    let run = Step::new(&bed).run(&valid_inputs("xgboost-alone"), &["--status-timeout", "0.3"]);
    assert_eq!(run.code, Some(5), "{run:?}");
    assert!(run.stderr.contains("wrote no status"), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("is the ACK SageMaker controller running"),
        "{}",
        run.stderr
    );
    run.assert_all_outputs_written();
    assert_eq!(run.output("training_job_status"), "");
    assert_eq!(run.json("ack_resource_metadata"), json!({}));
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
fn a_retried_step_re_attaches_and_a_foreign_resource_is_a_conflict() {
    let bed = bed();
    let _controller = controller(&bed, Scenario::completes());
    let step = Step::new(&bed);
    assert_eq!(
        step.run(&valid_inputs("xgboost-retried"), &[]).code,
        Some(0)
    );
    // The same step again (a KFP retry): same name, same inputs.
    let again = step.run(&valid_inputs("xgboost-retried"), &[]);
    assert_eq!(again.code, Some(0), "{again:?}");
    assert!(again.stderr.contains("re-attaching"), "{}", again.stderr);
    assert_eq!(again.output("training_job_status"), "Completed");
    assert_eq!(creates_201(&bed), 1);

    // Same name, other inputs: not ours.
    let mut other = valid_inputs("xgboost-retried");
    other.retain(|(k, _)| k != "hyper_parameters");
    let conflict = step.run(&other, &[]);
    assert_eq!(conflict.code, Some(6), "{conflict:?}");
    assert!(
        conflict
            .stderr
            .contains("already exists in this namespace and was not created by this step"),
        "{}",
        conflict.stderr
    );
    assert_eq!(bed.requests().count(Verb::Delete), 0);
}

#[test]
fn upper_case_names_are_lower_cased_for_kubernetes_only() {
    let bed = bed();
    let _controller = controller(&bed, Scenario::completes());
    let run = Step::new(&bed).run(&valid_inputs("XGBoost-Upper"), &[]);
    assert_eq!(run.code, Some(0), "{run:?}");
    let object = object(&bed, "xgboost-upper").expect("metadata.name is lower case");
    assert_eq!(object["spec"]["trainingJobName"], "XGBoost-Upper");
}

#[test]
fn an_empty_name_gets_a_unique_generated_one() {
    let bed = bed();
    let _controller = controller(&bed, Scenario::completes());
    let run = Step::new(&bed).run(&valid_inputs(""), &[]);
    assert_eq!(run.code, Some(0), "{run:?}");
    let arn = run.json("ack_resource_metadata")["arn"]
        .as_str()
        .expect("arn")
        .to_owned();
    let name = arn.rsplit('/').next().expect("name");
    assert!(
        name.starts_with("training-job-") && name.len() <= 63,
        "{name}"
    );
}

#[test]
fn dry_run_prints_the_resource_and_sends_nothing() {
    let bed = bed();
    let run = Step::new(&bed).run(&valid_inputs("xgboost-dry"), &["--dry-run"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    let printed: serde_json::Value = serde_saphyr::from_str(&run.stdout).expect("YAML");
    assert_eq!(printed["kind"], "TrainingJob");
    assert_eq!(printed["metadata"]["name"], "xgboost-dry");
    assert_eq!(
        printed["spec"]["stoppingCondition"]["maxRuntimeInSeconds"],
        3600
    );
    assert!(printed["spec"].get("tags").is_none(), "'[]' means absent");
    assert!(bed.requests().records().is_empty());
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

#[test]
fn sigterm_before_the_create_creates_nothing() {
    let bed = bed_with(Options {
        refuse_connections_for: Some(Duration::from_secs(3)),
        ..Options::default()
    });
    let step = Step::new(&bed);
    let child = step.spawn(&valid_inputs("xgboost-early"), &[]);
    std::thread::sleep(Duration::from_millis(500));
    send_signal(&child, "TERM");
    let run = step.finish(child.wait_with_output().expect("exits"));
    assert_eq!(run.code, Some(143), "{run:?}");
    assert_eq!(bed.requests().count(Verb::Create), 0);
    run.assert_all_outputs_written();
}

#[test]
fn the_resource_is_kept_after_success() {
    let bed = bed();
    let _controller = controller(&bed, Scenario::completes());
    let run = Step::new(&bed).run(&valid_inputs("xgboost-kept"), &[]);
    assert_eq!(run.code, Some(0));
    assert!(object(&bed, "xgboost-kept").is_some());
    assert_eq!(bed.requests().count(Verb::Delete), 0);
}

#[test]
fn sigterm_during_the_create_leaves_no_resource_behind() {
    let bed = bed();
    let _controller = controller(&bed, Scenario::runs_forever());
    bed.faults()
        .inject(Fault::delay(Duration::from_millis(600)).only(Verb::Create));
    let step = Step::new(&bed);
    let child = step.spawn(&valid_inputs("xgboost-mid-create"), &[]);
    eventually("the create to reach the server", || {
        bed.requests().count(Verb::Create) == 1
    });
    send_signal(&child, "TERM");
    let run = step.finish(child.wait_with_output().expect("exits"));
    assert_eq!(run.code, Some(143), "{run:?}");
    run.assert_all_outputs_written();
    // Whether or not the delayed create went through, nothing of this step's is left
    // running: the resource is gone or being deleted.
    std::thread::sleep(Duration::from_millis(800));
    let left = object(&bed, "xgboost-mid-create");
    assert!(
        left.as_ref()
            .is_none_or(|o| o["metadata"]["deletionTimestamp"].is_string()),
        "{left:?}\n{}",
        run.stderr
    );
}

#[test]
fn the_namespace_flag_overrides_the_kubeconfig() {
    let bed = bed();
    let _controller = controller(&bed, Scenario::completes());
    let run = Step::new(&bed).run(
        &valid_inputs("xgboost-elsewhere"),
        &["--namespace", "team-b"],
    );
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(
        bed.get(&ResourceRef::training_job(), "team-b", "xgboost-elsewhere")
            .is_some()
    );
    assert!(object(&bed, "xgboost-elsewhere").is_none());
}

const RUN_A: [&str; 4] = [
    "--kfp-run-id",
    "uid-run-a",
    "--kfp-step-id",
    "churn-x7k2p.train",
];
const RUN_B: [&str; 4] = [
    "--kfp-run-id",
    "uid-run-b",
    "--kfp-step-id",
    "churn-q9w3z.train",
];

#[test]
fn an_empty_name_is_derived_from_the_run_and_step_and_a_retry_re_attaches() {
    let bed = bed();
    let _controller = controller(&bed, Scenario::completes());
    let step = Step::new(&bed);
    let first = step.run(&valid_inputs(""), &RUN_A);
    assert_eq!(first.code, Some(0), "{first:?}");
    // The step's pod was lost and KFP runs the step again: same run, same step.
    let retry = step.run(&valid_inputs(""), &RUN_A);
    assert_eq!(retry.code, Some(0), "{retry:?}");
    assert!(retry.stderr.contains("re-attaching"), "{}", retry.stderr);
    assert_eq!(creates_201(&bed), 1, "one SageMaker job for the step");
    assert_eq!(
        first.json("ack_resource_metadata")["arn"],
        retry.json("ack_resource_metadata")["arn"]
    );
    let arn = first.json("ack_resource_metadata")["arn"]
        .as_str()
        .expect("arn")
        .to_owned();
    let name = arn.rsplit('/').next().expect("name");
    let object = object(&bed, name).expect("resource");
    assert_eq!(
        object["metadata"]["annotations"]["ack-kfp.launcher/kfp-run-step"],
        "uid-run-a/churn-x7k2p.train"
    );
    // Another step of the same run, and another run, get resources of their own.
    let other_step = step.run(
        &valid_inputs(""),
        &[
            "--kfp-run-id",
            "uid-run-a",
            "--kfp-step-id",
            "churn-x7k2p.train-2",
        ],
    );
    assert_eq!(other_step.code, Some(0), "{other_step:?}");
    let other_run = step.run(&valid_inputs(""), &RUN_B);
    assert_eq!(other_run.code, Some(0), "{other_run:?}");
    assert_eq!(creates_201(&bed), 3);
}

#[test]
fn a_later_run_with_the_same_fixed_name_and_inputs_is_refused() {
    let bed = bed();
    let _controller = controller(&bed, Scenario::completes());
    let step = Step::new(&bed);
    assert_eq!(
        step.run(&valid_inputs("xgboost-fixed"), &RUN_A).code,
        Some(0)
    );
    let later = step.run(&valid_inputs("xgboost-fixed"), &RUN_B);
    assert_eq!(later.code, Some(6), "{later:?}");
    for expected in [
        "same inputs, but another KFP run or step created it",
        "uid-run-a/churn-x7k2p.train",
        "Leave training_job_name empty",
    ] {
        assert!(
            later.stderr.contains(expected),
            "{expected}: {}",
            later.stderr
        );
    }
    // The old run's results are not reported as this run's.
    assert_eq!(later.output("training_job_status"), "");
    assert_eq!(creates_201(&bed), 1);
    assert_eq!(bed.requests().count(Verb::Delete), 0);
}

#[test]
fn a_cancelled_step_never_deletes_another_runs_resource() {
    // Run A's resource exists; run B (same name and inputs) is cancelled while its create
    // is under way, so it cannot know yet that the name is taken.
    let bed = bed();
    let step = Step::new(&bed);
    let dry = step.run(
        &valid_inputs("xgboost-taken"),
        &[&RUN_A[..], &["--dry-run"]].concat(),
    );
    let object: serde_json::Value = serde_saphyr::from_str(&dry.stdout).expect("YAML");
    bed.create(&ResourceRef::training_job(), NS, object)
        .expect("run A's resource");
    bed.faults()
        .inject(Fault::delay(Duration::from_millis(800)).only(Verb::Create));
    let child = step.spawn(&valid_inputs("xgboost-taken"), &RUN_B);
    eventually("the create to reach the server", || {
        bed.requests().count(Verb::Create) == 1
    });
    send_signal(&child, "TERM");
    let run = step.finish(child.wait_with_output().expect("exits"));
    assert_eq!(run.code, Some(143), "{run:?}");
    assert_eq!(bed.requests().count(Verb::Delete), 0, "{}", run.stderr);
    assert!(object_exists(&bed, "xgboost-taken"));
    run.assert_all_outputs_written();
}

fn object_exists(bed: &TestBed, name: &str) -> bool {
    object(bed, name).is_some_and(|o| o["metadata"]["deletionTimestamp"].is_null())
}

#[test]
fn a_resource_replaced_while_the_watch_was_down_is_not_followed() {
    let bed = bed();
    let controller = controller(&bed, Scenario::runs_forever());
    let step = Step::new(&bed);
    let dry = step.run(
        &valid_inputs("xgboost-swapped"),
        &[&RUN_A[..], &["--dry-run"]].concat(),
    );
    let object_yaml: serde_json::Value = serde_saphyr::from_str(&dry.stdout).expect("YAML");
    let child = step.spawn(&valid_inputs("xgboost-swapped"), &RUN_A);
    eventually("the job to train", || {
        object(&bed, "xgboost-swapped")
            .is_some_and(|o| o["status"]["secondaryStatus"] == "Training")
    });
    // The watch goes down; meanwhile the resource is deleted and another of the same name
    // and annotations takes its place.
    bed.faults()
        .inject(Fault::status(503).times(usize::MAX).only(Verb::Watch));
    bed.faults().expire_history();
    eventually("the launcher to be without a watch", || {
        bed.requests()
            .records()
            .iter()
            .any(|r| r.verb == Verb::Watch && r.status == 503)
    });
    bed.delete(&ResourceRef::training_job(), NS, "xgboost-swapped")
        .expect("deleted");
    eventually("the old resource to be gone", || {
        object(&bed, "xgboost-swapped").is_none()
    });
    controller.set_scenario(Scenario::completes());
    bed.create(&ResourceRef::training_job(), NS, object_yaml)
        .expect("a new resource of the same name");
    bed.faults().expire_history();
    bed.faults().clear();
    let run = step.finish(child.wait_with_output().expect("exits"));
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(
        run.stderr
            .contains("another resource of that name took its place"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_second_signal_during_clean_up_ends_the_launcher_at_once() {
    let bed = bed();
    let _controller = controller(&bed, Scenario::runs_forever());
    let step = Step::new(&bed);
    let child = step.spawn(&valid_inputs("xgboost-impatient"), &[]);
    eventually("the job to train", || {
        object(&bed, "xgboost-impatient")
            .is_some_and(|o| o["status"]["secondaryStatus"] == "Training")
    });
    // Clean-up is slow: the API takes 8 s to answer.
    bed.faults()
        .inject(Fault::delay(Duration::from_secs(8)).times(usize::MAX));
    send_signal(&child, "INT");
    std::thread::sleep(Duration::from_millis(400));
    let second = std::time::Instant::now();
    send_signal(&child, "INT");
    let run = step.finish(child.wait_with_output().expect("exits"));
    assert!(
        second.elapsed() < Duration::from_secs(3),
        "ended {:?} after the second signal:\n{}",
        second.elapsed(),
        run.stderr
    );
    assert_eq!(run.code, Some(130), "{run:?}");
    assert!(
        run.stderr.contains("during clean-up: ending now"),
        "{}",
        run.stderr
    );
    run.assert_all_outputs_written();
}

#[test]
fn a_signal_right_after_start_still_writes_the_outputs() {
    // Before the inputs are read or a client exists: the handlers are the first thing.
    let bed = bed();
    let step = Step::new(&bed);
    let child = step.spawn(&valid_inputs("xgboost-at-once"), &[]);
    std::thread::sleep(Duration::from_millis(30));
    send_signal(&child, "TERM");
    let run = step.finish(child.wait_with_output().expect("exits"));
    assert_eq!(run.code, Some(143), "{run:?}");
    run.assert_all_outputs_written();
}

#[test]
fn clean_up_fits_its_budget_and_says_what_it_could_not_do() {
    let bed = bed();
    let _controller = controller(&bed, Scenario::runs_forever());
    let step = Step::new(&bed);
    let child = step.spawn(&valid_inputs("xgboost-stuck"), &[]);
    eventually("the job to train", || {
        object(&bed, "xgboost-stuck").is_some_and(|o| o["status"]["secondaryStatus"] == "Training")
    });
    bed.faults().inject(Fault::status(503).times(usize::MAX));
    let signalled = std::time::Instant::now();
    send_signal(&child, "TERM");
    let run = step.finish(child.wait_with_output().expect("exits"));
    let took = signalled.elapsed();
    assert_eq!(run.code, Some(143), "{run:?}");
    // Inside Kubernetes' default 30 s grace period, with time to spare.
    assert!(took < Duration::from_secs(25), "{took:?}");
    assert!(
        run.stderr.contains("could not delete xgboost-stuck")
            && run.stderr.contains("the SageMaker job keeps running"),
        "{}",
        run.stderr
    );
    run.assert_all_outputs_written();
}
