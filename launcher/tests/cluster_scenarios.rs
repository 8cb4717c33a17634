//! The launcher binary against a real kube-apiserver and etcd, as KFP runs it: with a
//! ServiceAccount token bound only to `component-template/rbac.yaml`, while the simulated
//! ACK controller reconciles through the same server (watch, finalizer, `/status`
//! patches). One cluster for the binary, one namespace per test.

mod common;

use common::cluster::{Namespace, eventually, shared};
use common::*;
use testbed::FINALIZER;

#[test]
fn a_completed_job_as_the_steps_service_account() {
    let ns = Namespace::new(shared(), "completed");
    let _controller = ns.controller(Scenario::completes());
    let run = ns.step().run(&valid_inputs("xgboost-ok"), &[]);
    assert_eq!(run.code, Some(0), "{run:?}");
    run.assert_all_outputs_written();
    assert_eq!(run.output("training_job_status"), "Completed");
    assert_eq!(
        run.json("ack_resource_metadata")["arn"],
        "arn:aws:sagemaker:us-west-2:123456789012:training-job/xgboost-ok"
    );
    assert!(
        !run.stderr.contains("s3cr3t-value"),
        "a secret reached the log:\n{}",
        run.stderr
    );
    // One resource, kept, with the launcher's annotations, the controller's finalizer and
    // the spec fields the controller late-initialised (a spec write: generation 2).
    assert_eq!(ns.names(), ["xgboost-ok"]);
    let object = ns.object("xgboost-ok").expect("kept");
    assert_eq!(
        object["metadata"]["annotations"]["services.k8s.aws/region"],
        "us-west-2"
    );
    assert!(object["metadata"]["annotations"]["ack-kfp.launcher/spec-sha256"].is_string());
    assert_eq!(object["metadata"]["finalizers"][0], FINALIZER);
    assert_eq!(object["metadata"]["generation"], 2);
    assert_eq!(
        object["spec"]["outputDataConfig"]["compressionType"],
        "GZIP"
    );
    assert_eq!(object["status"]["trainingJobStatus"], "Completed");
}

#[test]
fn a_failed_job_exits_1_with_the_reason() {
    let ns = Namespace::new(shared(), "failed");
    let _controller = ns.controller(Scenario::fails("AlgorithmError: out of memory"));
    let run = ns.step().run(&valid_inputs("xgboost-failed"), &[]);
    assert_eq!(run.code, Some(1), "{run:?}");
    run.assert_all_outputs_written();
    assert_eq!(run.output("training_job_status"), "Failed");
    assert_eq!(
        run.output("failure_reason"),
        "AlgorithmError: out of memory"
    );
    assert!(
        run.stderr
            .contains("the training job failed: AlgorithmError: out of memory"),
        "{}",
        run.stderr
    );
    assert!(run.json("ack_resource_metadata")["arn"].is_string());
}

#[test]
fn a_name_sagemaker_already_knows_is_terminal_not_success() {
    let ns = Namespace::new(shared(), "name-known");
    let controller = ns.controller(Scenario::completes());
    controller.add_existing_job(
        "xgboost-old",
        JobState::new(JobStatus::Completed, "Completed"),
    );
    let run = ns.step().run(&valid_inputs("xgboost-old"), &[]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(
        run.stderr.contains("Resource already exists"),
        "{}",
        run.stderr
    );
    assert_eq!(run.output("training_job_status"), "Completed");
}

#[test]
fn a_validation_error_fails_fast() {
    let ns = Namespace::new(shared(), "validation");
    let error = AwsError::validation("Instance type ml.m5.xlarge is not supported");
    let controller = ns.controller(Scenario::create_fails(error));
    let run = ns.step().run(&valid_inputs("xgboost-invalid"), &[]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(
        run.stderr.contains("SageMaker rejected the job"),
        "{}",
        run.stderr
    );
    run.assert_all_outputs_written();
    // The controller removed its finalizer again when the create failed. (Its retries add
    // and remove it again, visibly on a real server: look after the last reconcile.)
    controller.stop();
    let object = ns.object("xgboost-invalid").expect("kept");
    assert!(object["metadata"]["finalizers"].is_null(), "{object}");
}

#[test]
fn a_retried_step_re_attaches_and_a_foreign_resource_is_exit_6() {
    let ns = Namespace::new(shared(), "retried");
    let _controller = ns.controller(Scenario::completes());
    let step = ns.step();
    let first = step.run(&valid_inputs("xgboost-retried"), &[]);
    assert_eq!(first.code, Some(0), "{first:?}");
    let again = step.run(&valid_inputs("xgboost-retried"), &[]);
    assert_eq!(again.code, Some(0), "{again:?}");
    assert!(again.stderr.contains("re-attaching"), "{}", again.stderr);
    assert_eq!(again.output("training_job_status"), "Completed");
    assert_eq!(ns.names(), ["xgboost-retried"]);

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
    assert_eq!(ns.names(), ["xgboost-retried"]);
}

#[test]
fn sigterm_deletes_the_resource_and_the_controller_removes_its_finalizer() {
    let ns = Namespace::new(shared(), "cancelled");
    let controller = ns.controller(Scenario::runs_forever());
    let step = ns.step();
    let child = step.spawn(&valid_inputs("xgboost-cancelled"), &[]);
    eventually("the job to train", || {
        ns.object("xgboost-cancelled")
            .is_some_and(|o| o["status"]["secondaryStatus"] == "Training")
    });
    send_signal(&child, "TERM");
    let run = step.finish(child.wait_with_output().expect("exits"));
    assert_eq!(run.code, Some(143), "{run:?}");
    run.assert_all_outputs_written();
    assert_eq!(run.output("training_job_status"), "InProgress");
    // The real server keeps the object while the finalizer is there; the controller sees
    // the deletionTimestamp, stops the job and then removes its finalizer.
    eventually("the controller to stop the job", || {
        controller
            .aws_calls()
            .iter()
            .any(|c| c.operation == "StopTrainingJob")
    });
    eventually("the resource to be gone", || {
        ns.object("xgboost-cancelled").is_none()
    });
}

/// Each verb of the Role is needed: without it, some scenario ends with exit 4. (`list`,
/// needed only to resume after `410 Gone`, is checked with the API server restart in
/// `cluster_restart.rs`.)
mod the_role_is_minimal {
    use super::*;

    fn without(verb: &str) -> Namespace<'static> {
        Namespace::with_role(shared(), &format!("without-{verb}"), |role| {
            for rule in role.rules.iter_mut().flatten() {
                rule.verbs.retain(|v| v != verb);
            }
        })
    }

    fn assert_refused(run: &Run) {
        assert_eq!(run.code, Some(4), "{run:?}");
        assert!(run.stderr.contains("refused"), "{}", run.stderr);
        assert!(
            run.stderr
                .contains("needs get, list, watch, create and delete"),
            "{}",
            run.stderr
        );
        run.assert_all_outputs_written();
    }

    #[test]
    fn create() {
        let ns = without("create");
        let run = ns.step().run(&valid_inputs("xgboost"), &[]);
        assert_refused(&run);
        assert!(ns.names().is_empty());
    }

    #[test]
    fn watch() {
        let ns = without("watch");
        let _controller = ns.controller(Scenario::completes());
        assert_refused(&ns.step().run(&valid_inputs("xgboost"), &[]));
    }

    #[test]
    fn get() {
        // A retried step finds its resource (created by the first attempt) and must read it.
        let ns = without("get");
        let _controller = ns.controller(Scenario::completes());
        let first = ns.admin_step().run(&valid_inputs("xgboost"), &[]);
        assert_eq!(first.code, Some(0), "{first:?}");
        assert_refused(&ns.step().run(&valid_inputs("xgboost"), &[]));
    }

    #[test]
    fn delete() {
        // A cancelled step must delete its resource, or the SageMaker job keeps running.
        let ns = without("delete");
        let _controller = ns.controller(Scenario::runs_forever());
        let step = ns.step();
        let child = step.spawn(&valid_inputs("xgboost"), &[]);
        eventually("the job to train", || {
            ns.object("xgboost")
                .is_some_and(|o| o["status"]["secondaryStatus"] == "Training")
        });
        send_signal(&child, "TERM");
        let run = step.finish(child.wait_with_output().expect("exits"));
        assert_refused(&run);
        assert!(
            run.stderr.contains("the SageMaker job keeps running"),
            "{}",
            run.stderr
        );
        assert!(ns.object("xgboost").is_some());
    }
}
