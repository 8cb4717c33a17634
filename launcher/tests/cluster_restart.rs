//! A real fault: kube-apiserver killed in the middle of a job and started again on the same
//! etcd. The launcher (and the controller) ride it out and the job ends with one resource.
//! A cluster of its own: the restart would disturb other tests.

mod common;

use std::time::Duration;

use common::cluster::{Namespace, eventually, start};
use common::*;

fn slow_job(ns: &Namespace<'_>) -> testbed::ClusterController {
    testbed::ClusterController::start(
        ns.cluster.client(),
        ns.cluster.handle(),
        &ns.name,
        ControllerOptions {
            // 30 simulated seconds between reconciles are 300 ms: 20 of them train.
            time_scale: Duration::from_millis(10),
            scenario: Scenario::completes_after(20),
            ..ControllerOptions::default()
        },
    )
}

/// Starts the launcher, waits for training, kills the API server for `outage`, starts it
/// again and returns the launcher's run and the resource's uid before the outage.
///
/// Before the kill, the controller pauses and another object is written, so the last
/// resourceVersion the launcher saw is older than the cluster's: the restarted server's
/// watch cache, which starts at the current one, answers the launcher's resumed watch
/// with 410 Gone (without the write that happens only when etcd moved on meanwhile).
fn run_through_a_restart(
    ns: &Namespace<'_>,
    controller: &testbed::Controller,
    outage: Duration,
) -> (Run, String) {
    let step = ns.step();
    let child = step.spawn(&valid_inputs("xgboost-restart"), &["--api-timeout", "120"]);
    eventually("the job to train", || {
        ns.object("xgboost-restart")
            .is_some_and(|o| o["status"]["secondaryStatus"] == "Training")
    });
    let uid = ns.object("xgboost-restart").expect("created")["metadata"]["uid"]
        .as_str()
        .expect("uid")
        .to_owned();
    controller.set_paused(true);
    let config_maps: kube::Api<k8s_openapi::api::core::v1::ConfigMap> =
        kube::Api::namespaced(ns.cluster.client(), &ns.name);
    let marker = k8s_openapi::api::core::v1::ConfigMap {
        metadata: kube::api::ObjectMeta {
            name: Some("etcd-moves-on".into()),
            ..Default::default()
        },
        ..Default::default()
    };
    ns.cluster
        .block_on(config_maps.create(&Default::default(), &marker))
        .expect("config map");
    ns.cluster.stop_apiserver();
    std::thread::sleep(outage);
    ns.cluster
        .start_apiserver()
        .expect("API server starts again");
    controller.set_paused(false);
    (step.finish(child.wait_with_output().expect("exits")), uid)
}

#[test]
fn the_launcher_resumes_after_an_api_server_restart_and_the_role_needs_list() {
    let cluster = start();

    let ns = Namespace::new(&cluster, "restart");
    let controller = slow_job(&ns);
    let (run, uid) = run_through_a_restart(&ns, &controller, Duration::from_secs(2));
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(run.output("training_job_status"), "Completed");
    // One resource, the same one: the launcher re-watched, it did not create again.
    assert_eq!(ns.names(), ["xgboost-restart"]);
    let object = ns.object("xgboost-restart").expect("kept");
    assert_eq!(object["metadata"]["uid"], uid.as_str());
    assert_eq!(
        controller
            .aws_calls()
            .iter()
            .filter(|c| c.operation == "CreateTrainingJob")
            .count(),
        1
    );
    // The restarted server's watch cache starts at its current resourceVersion, older
    // ones are 410 Gone: the launcher lists again (the Role's `list`).
    assert!(
        run.stderr.contains("410 Gone"),
        "expected a re-list after the restart:\n{}",
        run.stderr
    );
    drop(controller);

    // Without `list` in the Role, that re-list is refused: exit 4.
    let ns = Namespace::with_role(&cluster, "restart-without-list", |role| {
        for rule in role.rules.iter_mut().flatten() {
            rule.verbs.retain(|v| v != "list");
        }
    });
    let controller = slow_job(&ns);
    let (run, _) = run_through_a_restart(&ns, &controller, Duration::from_secs(1));
    assert_eq!(run.code, Some(4), "{run:?}");
    assert!(run.stderr.contains("refused to list"), "{}", run.stderr);
    run.assert_all_outputs_written();
}
