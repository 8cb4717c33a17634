//! The real ACK controller killed mid-job and started again, with our SageMaker API: what
//! happened meanwhile in SageMaker or to the resources is picked up at its restart. Its
//! own stack: the other test binaries share one controller that must not go away.

use testbed::ack::{AckStack, Kind, Script, is_true, state_field};

#[test]
fn a_controller_killed_mid_job_picks_up_what_happened_while_it_was_down() {
    let stack = AckStack::start().expect("the ACK stack starts");
    let ns = stack.namespace("restart");
    let finished = "restart-finished";
    let cancelled = "restart-cancelled";
    let endpoint = "restart-endpoint";
    for (kind, name) in [
        (Kind::TrainingJob, finished),
        (Kind::ProcessingJob, cancelled),
        (Kind::Endpoint, endpoint),
    ] {
        ns.create_sample(kind, name, Script::works_until_advanced());
    }
    for (kind, name, working) in [
        (Kind::TrainingJob, finished, "InProgress"),
        (Kind::ProcessingJob, cancelled, "InProgress"),
        (Kind::Endpoint, endpoint, "Creating"),
    ] {
        let field = state_field(kind).expect("state");
        ns.wait(kind, name, working, |r| r["status"][&field] == working);
    }

    stack.controller.kill();
    assert!(!stack.controller.is_running());
    // While it is down: the training job and the endpoint finish in SageMaker, the
    // processing job's resource is deleted (a cancelled step).
    stack.sagemaker.advance(finished);
    stack.sagemaker.advance(endpoint);
    ns.delete(Kind::ProcessingJob, cancelled);
    std::thread::sleep(std::time::Duration::from_secs(1));
    assert!(
        ns.get(Kind::ProcessingJob, cancelled).is_some(),
        "nothing removes the finalizer while the controller is down"
    );
    assert_eq!(stack.sagemaker.count(cancelled, "StopProcessingJob"), 0);

    stack
        .controller
        .start_again()
        .expect("the controller starts again");
    let job = ns.wait(Kind::TrainingJob, finished, "Completed", |r| {
        r["status"]["trainingJobStatus"] == "Completed" && is_true(r, "ACK.ResourceSynced")
    });
    assert_eq!(job["status"]["secondaryStatus"], "Completed");
    ns.wait(Kind::Endpoint, endpoint, "InService", |r| {
        r["status"]["endpointStatus"] == "InService" && is_true(r, "ACK.ResourceSynced")
    });
    ns.wait_gone(Kind::ProcessingJob, cancelled);
    assert_eq!(stack.sagemaker.count(cancelled, "StopProcessingJob"), 1);
    for (name, create) in [
        (finished, "CreateTrainingJob"),
        (cancelled, "CreateProcessingJob"),
        (endpoint, "CreateEndpoint"),
    ] {
        assert_eq!(
            stack.sagemaker.count(name, create),
            1,
            "{:?}",
            stack.sagemaker.ops(name)
        );
    }
    assert!(
        stack
            .controller
            .log()
            .contains("=== testbed: controller start 2 ===")
    );
}
