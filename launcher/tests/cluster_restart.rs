//! Real outages in the middle of a job, on the real ACK controller with our SageMaker API:
//! kube-apiserver killed and started again on the same etcd, and the controller killed and
//! started again. The launcher (and the controller) ride them out and each job ends with
//! one resource and one SageMaker job. Each test has a stack of its own: the restart would
//! disturb other tests.

mod common;

use std::time::Duration;

use common::kfp::{Running, Scene};
use k8s_openapi::api::core::v1::ConfigMap;
use testbed::ack::{AckStack, Kind, Script, abbr, state_field};

/// Waits until SageMaker works on `name` of `kind` as the controller reports it.
fn wait_running(scene: &Scene<'_>, kind: Kind, name: &str) {
    let field = state_field(kind).expect("a state field");
    let working = kind.working_status().expect("a working state");
    scene.eventually(
        kind,
        name,
        "SageMaker to work on it",
        Duration::from_secs(60),
        || {
            scene
                .get(kind, name)
                .is_some_and(|r| r["status"][&field] == working)
        },
    );
}

/// Starts a TrainingJob step whose job runs until advanced, waits until it runs, then:
/// kills the controller, writes another object (so the last resourceVersion the launcher
/// saw is older than the cluster's: the restarted server's watch cache, which starts at the
/// current one, answers the launcher's resumed watch with 410 Gone), stops kube-apiserver
/// for `outage`, starts it again, lets SageMaker finish the job and starts the controller
/// again (whose first reconcile sees the end at once). Returns the step and the resource's
/// uid before the outage.
fn through_a_restart<'a, 's>(
    scene: &'a Scene<'s>,
    name: &str,
    outage: Duration,
) -> (Running<'a, 's>, String) {
    let stack = scene.stack();
    let kind = Kind::TrainingJob;
    let running = scene
        .launch(kind, name)
        .flag("--api-timeout", "120")
        .spawn();
    wait_running(scene, kind, name);
    let uid = scene.get(kind, name).expect("created")["metadata"]["uid"]
        .as_str()
        .expect("uid")
        .to_owned();
    stack.controller.kill();
    let config_maps: kube::Api<ConfigMap> =
        kube::Api::namespaced(stack.cluster.client(), &scene.ns.name);
    let marker = ConfigMap {
        metadata: kube::api::ObjectMeta {
            name: Some("etcd-moves-on".into()),
            ..Default::default()
        },
        ..Default::default()
    };
    stack
        .cluster
        .block_on(config_maps.create(&Default::default(), &marker))
        .expect("config map");
    stack.cluster.stop_apiserver();
    std::thread::sleep(outage);
    stack
        .cluster
        .start_apiserver()
        .expect("API server starts again");
    assert!(stack.sagemaker.advance(name), "SageMaker has the job");
    stack
        .controller
        .start_again()
        .expect("controller starts again");
    (running, uid)
}

#[test]
fn the_launcher_resumes_after_an_api_server_restart_and_the_role_needs_list() {
    let stack = AckStack::start().expect("a stack of its own");
    let kind = Kind::TrainingJob;

    let scene = Scene::on(&stack, "restart");
    let name = scene.prepare(kind, "tj", Script::works_until_advanced());
    let (running, uid) = through_a_restart(&scene, &name, Duration::from_secs(2));
    let run = running.wait();
    run.assert_code(0);
    run.assert_outputs_match();
    assert_eq!(run.state(), "Completed", "{}", run.context());
    // One resource, the same one: the launcher re-watched, it did not create again.
    assert_eq!(scene.names(kind), [name.as_str()], "{}", run.context());
    assert_eq!(
        scene.get(kind, &name).expect("kept")["metadata"]["uid"],
        uid.as_str()
    );
    assert_eq!(stack.sagemaker.count(&name, "CreateTrainingJob"), 1);
    // The restarted server's watch cache starts at its current resourceVersion, older
    // ones are 410 Gone: the launcher lists again (the Role's `list`).
    run.assert_logged("410 Gone");

    // Without `list` in the Role, that re-list is refused: exit 4.
    let scene = Scene::with_role(&stack, "restart-without-list", |role| {
        for rule in role.rules.iter_mut().flatten() {
            rule.verbs.retain(|v| v != "list");
        }
    });
    let name = scene.prepare(kind, "tj", Script::works_until_advanced());
    let (running, _) = through_a_restart(&scene, &name, Duration::from_secs(1));
    let run = running.wait();
    run.assert_code(4);
    run.assert_logged("refused to list");
    run.assert_outputs_written();
}

/// Every kind SageMaker works on for a while, with a state the controller reports: the
/// four job kinds, an Endpoint being created, a MonitoringSchedule pending, a
/// ModelPackageGroup in progress.
#[test]
fn every_kind_with_a_state_rides_out_the_controller_killed_and_started_again() {
    let stack = AckStack::start().expect("a stack of its own");
    let scene = Scene::on(&stack, "controller-restart");
    let kinds = [
        Kind::TrainingJob,
        Kind::HyperParameterTuningJob,
        Kind::ProcessingJob,
        Kind::TransformJob,
        Kind::Endpoint,
        Kind::MonitoringSchedule,
        Kind::ModelPackageGroup,
    ];
    let names: Vec<String> = kinds
        .iter()
        .map(|&kind| scene.prepare(kind, abbr(kind), Script::works_until_advanced()))
        .collect();
    let steps: Vec<(Kind, &String, Running<'_, '_>)> = kinds
        .iter()
        .zip(&names)
        .map(|(&kind, name)| (kind, name, scene.launch(kind, name).spawn()))
        .collect();
    for (kind, name, _) in &steps {
        wait_running(&scene, *kind, name);
    }
    // The controller dies while SageMaker works on each; SageMaker finishes them meanwhile.
    stack.controller.kill();
    for name in &names {
        assert!(stack.sagemaker.advance(name), "SageMaker has {name}");
    }
    std::thread::sleep(Duration::from_secs(2));
    stack
        .controller
        .start_again()
        .expect("controller starts again");
    for (kind, name, running) in steps {
        let run = running.wait();
        run.assert_code(0);
        run.assert_outputs_match();
        assert_eq!(Some(run.state()), kind.done_status(), "{}", run.context());
        let create = format!("Create{}", kind.api_name());
        assert_eq!(stack.sagemaker.count(name, &create), 1, "{}", run.context());
    }
}
