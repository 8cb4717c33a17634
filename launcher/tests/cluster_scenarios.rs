//! The launcher binary against a real kube-apiserver and etcd, as KFP runs it: with a
//! ServiceAccount token bound only to `component-template/rbac.yaml`. How the launcher uses
//! the API while the real ACK controller runs its job, seen in the request log of a
//! [`testbed::FaultProxy`] (which injects nothing here): one create, one watch, nothing
//! else; re-attaching and names; nothing sent before the inputs are read; a Role that is
//! exactly sufficient. (The outcomes of each job kind on the real controller are
//! `job_kinds.rs`'s.) A cluster where nothing reconciles, and one with the real ACK
//! controller, one namespace per test.

mod common;

use std::time::Duration;

use common::cluster::{Namespace, eventually, shared, with_controller};
use common::*;
use serde_json::json;
use testbed::FaultProxy;

/// Each verb of the Role is needed: without it, some scenario ends with exit 4, refused by
/// the real server's authorizer. (`list`, needed only to resume after `410 Gone`, is
/// checked with the API server restart in `cluster_restart.rs`.)
mod the_role_is_minimal {
    use super::*;

    fn without(verb: &str) -> Namespace<'static> {
        Namespace::with_role(shared(), &format!("without-{verb}"), |role| {
            for rule in role.rules.iter_mut().flatten() {
                rule.verbs.retain(|v| v != verb);
            }
        })
    }

    fn assert_refused(run: &Run, what: &str) {
        assert_eq!(run.code, Some(4), "{run:?}");
        assert!(
            run.stderr.contains(&format!("refused to {what}")),
            "{}",
            run.stderr
        );
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
        assert_refused(&run, "create the resource");
        assert!(ns.names().is_empty());
    }

    #[test]
    fn watch() {
        let ns = without("watch");
        assert_refused(&ns.step().run(&valid_inputs("xgboost"), &[]), "watch");
    }

    #[test]
    fn get() {
        // A retried step finds its resource (created by the first attempt) and must read it.
        let ns = Namespace::with_role(&with_controller().cluster, "without-get", |role| {
            for rule in role.rules.iter_mut().flatten() {
                rule.verbs.retain(|v| v != "get");
            }
        });
        let first = ns.admin_step().run(&valid_inputs("xgboost"), &[]);
        assert_eq!(first.code, Some(0), "{first:?}");
        assert_refused(
            &ns.step().run(&valid_inputs("xgboost"), &[]),
            "read the existing resource",
        );
    }

    #[test]
    fn delete() {
        // A cancelled step must delete its resource, or the SageMaker job keeps running.
        let ns = without("delete");
        let (proxy, step) = ns.proxied_step();
        let child = step.spawn(&valid_inputs("xgboost"), &[]);
        eventually("the launcher to watch", || {
            proxy.requests().count_answered(Verb::Watch, 200) >= 1
        });
        send_signal(&child, "TERM");
        let run = step.finish(child.wait_with_output().expect("exits"));
        assert_refused(&run, "delete the resource");
        assert!(
            run.stderr.contains("the SageMaker job keeps running"),
            "{}",
            run.stderr
        );
        assert!(ns.object("xgboost").is_some());
    }
}

fn creates_201(proxy: &FaultProxy) -> usize {
    proxy.requests().count_answered(Verb::Create, 201)
}

/// A namespace where the real ACK controller runs the jobs (they complete at once).
fn controlled(name: &str) -> Namespace<'static> {
    Namespace::new(&with_controller().cluster, name)
}

/// The SageMaker jobs the real controller created for `name`.
fn sagemaker_jobs(name: &str) -> usize {
    with_controller().sagemaker.count(name, "CreateTrainingJob")
}

#[test]
fn a_step_makes_one_create_and_one_watch_and_keeps_the_resource() {
    let ns = controlled("requests");
    let (proxy, step) = ns.proxied_step();
    let run = step.run(&valid_inputs("xgboost-ok"), &[]);
    assert_eq!(run.code, Some(0), "{run:?}");
    run.assert_all_outputs_written();
    assert_eq!(run.output("training_job_status"), "Completed");

    // One create, a watch instead of a polling loop, nothing modified or deleted.
    let requests = proxy.requests();
    assert_eq!(requests.count(Verb::Create), 1);
    assert!(requests.count(Verb::Watch) >= 1);
    assert!(requests.count(Verb::Get) <= 1, "{:?}", requests.records());
    assert_eq!(
        requests.count(Verb::Patch) + requests.count(Verb::Update) + requests.count(Verb::Delete),
        0
    );

    // One SageMaker job. The resource is kept and carries the region and the spec
    // fingerprint; the log shows the status and links but never the environment's values.
    assert_eq!(sagemaker_jobs("xgboost-ok"), 1);
    assert_eq!(ns.names(), ["xgboost-ok"]);
    let object = ns.object("xgboost-ok").expect("resource kept");
    assert_eq!(
        object["metadata"]["annotations"]["services.k8s.aws/region"],
        "us-west-2"
    );
    assert!(object["metadata"]["annotations"]["ack-kfp.launcher/spec-sha256"].is_string());
    for expected in [
        "secondary status: Completed",
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
fn a_retried_step_re_attaches_and_a_foreign_resource_is_exit_6() {
    let ns = controlled("retried");
    let (proxy, step) = ns.proxied_step();
    let first = step.run(&valid_inputs("xgboost-retried"), &[]);
    assert_eq!(first.code, Some(0), "{first:?}");
    // The same step again (a KFP retry): same name, same inputs.
    let again = step.run(&valid_inputs("xgboost-retried"), &[]);
    assert_eq!(again.code, Some(0), "{again:?}");
    assert!(again.stderr.contains("re-attaching"), "{}", again.stderr);
    assert_eq!(again.output("training_job_status"), "Completed");
    assert_eq!(creates_201(&proxy), 1);
    assert_eq!(ns.names(), ["xgboost-retried"]);
    assert_eq!(sagemaker_jobs("xgboost-retried"), 1);

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
    assert_eq!(proxy.requests().count(Verb::Delete), 0);
    assert_eq!(ns.names(), ["xgboost-retried"]);
}

#[test]
fn upper_case_names_are_lower_cased_for_kubernetes_only() {
    let ns = controlled("upper-case");
    let run = ns.step().run(&valid_inputs("XGBoost-Upper"), &[]);
    assert_eq!(run.code, Some(0), "{run:?}");
    let object = ns
        .object("xgboost-upper")
        .expect("metadata.name is lower case");
    assert_eq!(object["spec"]["trainingJobName"], "XGBoost-Upper");
    assert_eq!(
        sagemaker_jobs("XGBoost-Upper"),
        1,
        "SageMaker has the name as given"
    );
}

#[test]
fn an_empty_name_gets_a_unique_generated_one() {
    let ns = controlled("generated-name");
    let run = ns.step().run(&valid_inputs(""), &[]);
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
    assert_eq!(ns.names(), [name]);
}

#[test]
fn an_empty_name_is_derived_from_the_run_and_step_and_a_retry_re_attaches() {
    let ns = controlled("derived-name");
    let (proxy, step) = ns.proxied_step();
    let first = step.run(&valid_inputs(""), &RUN_A);
    assert_eq!(first.code, Some(0), "{first:?}");
    // The step's pod was lost and KFP runs the step again: same run, same step.
    let retry = step.run(&valid_inputs(""), &RUN_A);
    assert_eq!(retry.code, Some(0), "{retry:?}");
    assert!(retry.stderr.contains("re-attaching"), "{}", retry.stderr);
    assert_eq!(creates_201(&proxy), 1, "one SageMaker job for the step");
    assert_eq!(
        first.json("ack_resource_metadata")["arn"],
        retry.json("ack_resource_metadata")["arn"]
    );
    let names = ns.names();
    let [name] = names.as_slice() else {
        panic!("one resource: {names:?}");
    };
    let object = ns.object(name).expect("resource");
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
    assert_eq!(creates_201(&proxy), 3);
    assert_eq!(ns.names().len(), 3);
    for name in ns.names() {
        assert_eq!(sagemaker_jobs(&name), 1, "{name}");
    }
}

#[test]
fn a_later_run_with_the_same_fixed_name_and_inputs_is_refused() {
    let ns = controlled("fixed-name");
    let (proxy, step) = ns.proxied_step();
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
    assert_eq!(creates_201(&proxy), 1);
    assert_eq!(proxy.requests().count(Verb::Delete), 0);
    assert_eq!(sagemaker_jobs("xgboost-fixed"), 1);
}

#[test]
fn the_namespace_flag_overrides_the_kubeconfig() {
    // As the administrator: the step's Role is per namespace, and this is about the flag.
    let here = controlled("namespace-flag-a");
    let there = controlled("namespace-flag-b");
    let run = here.admin_step().run(
        &valid_inputs("xgboost-elsewhere"),
        &["--namespace", "namespace-flag-b"],
    );
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(there.names(), ["xgboost-elsewhere"]);
    assert!(here.names().is_empty());
}

#[test]
fn dry_run_prints_the_resource_and_sends_nothing() {
    let ns = Namespace::new(shared(), "dry-run");
    let (proxy, step) = ns.proxied_step();
    let run = step.run(&valid_inputs("xgboost-dry"), &["--dry-run"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    let printed: serde_json::Value = serde_saphyr::from_str(&run.stdout).expect("YAML");
    assert_eq!(printed["kind"], "TrainingJob");
    assert_eq!(printed["metadata"]["name"], "xgboost-dry");
    assert_eq!(
        printed["spec"]["stoppingCondition"]["maxRuntimeInSeconds"],
        3600
    );
    assert!(printed["spec"].get("tags").is_none(), "'[]' means absent");
    assert!(proxy.requests().records().is_empty());
    assert!(ns.names().is_empty());
}

#[test]
fn no_status_within_the_limit_times_out_with_a_hint() {
    // No controller writes a status.
    let ns = Namespace::new(shared(), "no-controller");
    let run = ns
        .step()
        .run(&valid_inputs("xgboost-alone"), &["--status-timeout", "0.3"]);
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
fn a_signal_right_after_start_still_writes_the_outputs() {
    // Before the inputs are read or a client exists: the handlers are the first thing.
    let ns = Namespace::new(shared(), "signal-at-once");
    let step = ns.step();
    let child = step.spawn(&valid_inputs("xgboost-at-once"), &[]);
    std::thread::sleep(Duration::from_millis(30));
    send_signal(&child, "TERM");
    let run = step.finish(child.wait_with_output().expect("exits"));
    assert_eq!(run.code, Some(143), "{run:?}");
    run.assert_all_outputs_written();
}
