//! The simulated controller of the job kinds that finish on their state field: the status
//! sequence of each kind, and the stop pattern on delete.

use std::time::Duration;

use serde_json::{Value, json};
use testbed::{JobControllerOptions, JobKind, JobOutcome, TestBed};

const NS: &str = "jobs";

fn bed_with(kind: &JobKind, outcome: JobOutcome) -> (TestBed, testbed::JobController) {
    let bed = TestBed::start().expect("test bed");
    bed.register_crd_yaml(&kind.crd_yaml().expect("CRD"))
        .expect("CRD registered");
    let controller = bed.start_job_controller(JobControllerOptions {
        time_scale: Duration::from_millis(1),
        ..JobControllerOptions::new(kind.clone(), outcome)
    });
    (bed, controller)
}

fn create(bed: &TestBed, kind: &JobKind, spec: Value) {
    bed.create(
        &kind.resource(),
        NS,
        json!({"apiVersion": "sagemaker.services.k8s.aws/v1alpha1", "kind": kind.kind,
            "metadata": {"name": "job-1"}, "spec": spec}),
    )
    .expect("created");
}

fn state(object: Option<&Value>, kind: &JobKind) -> Option<String> {
    object?
        .pointer(&format!("/status/{}", kind.state_field))?
        .as_str()
        .map(str::to_owned)
}

fn conditions(object: &Value) -> Vec<(String, String, String)> {
    object["status"]["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            let s = |k: &str| c[k].as_str().unwrap_or_default().to_owned();
            (s("type"), s("status"), s("message"))
        })
        .collect()
}

fn wait_state(bed: &TestBed, kind: &JobKind, want: &str) -> Value {
    bed.wait_for(
        &kind.resource(),
        NS,
        "job-1",
        Duration::from_secs(10),
        |o| state(o, kind).as_deref() == Some(want),
    )
    .unwrap_or_else(|e| panic!("never {want}: {:?}", e.last))
    .expect("there")
}

#[test]
fn each_kind_runs_in_progress_then_completed() {
    let specs = [
        (
            JobKind::hyper_parameter_tuning_job(),
            json!({"hyperParameterTuningJobName": "Tune-1", "hyperParameterTuningJobConfig": {}}),
        ),
        (
            JobKind::processing_job(),
            json!({"processingJobName": "prep-1", "roleARN": "r", "appSpecification": {"imageURI": "i"},
                "processingResources": {}}),
        ),
        (
            JobKind::transform_job(),
            json!({"transformJobName": "batch-1", "modelName": "m", "transformInput": {}, "transformOutput": {},
                "transformResources": {}}),
        ),
    ];
    for (kind, spec) in specs {
        let (bed, _controller) = bed_with(&kind, JobOutcome::Completes);
        create(&bed, &kind, spec);
        let running = wait_state(&bed, &kind, "InProgress");
        let first = &conditions(&running)[0];
        assert_eq!(
            (first.0.as_str(), first.1.as_str()),
            ("ACK.ResourceSynced", "False")
        );
        assert_eq!(first.2, format!("{} is in InProgress status.", kind.kind));
        assert_eq!(
            running["metadata"]["finalizers"][0],
            json!(kind.finalizer())
        );
        assert!(
            running["status"]["ackResourceMetadata"]["arn"]
                .as_str()
                .is_some_and(|a| a.contains(kind.arn_type)),
            "{running}"
        );
        let done = wait_state(&bed, &kind, "Completed");
        assert!(
            conditions(&done)
                .iter()
                .all(|(_, status, _)| status == "True"),
            "{done}"
        );
        assert_eq!(
            done["status"]["bestTrainingJob"].is_object(),
            kind.kind == "HyperParameterTuningJob"
        );
    }
}

#[test]
fn a_failed_job_has_its_reason_and_no_terminal() {
    let kind = JobKind::processing_job();
    let (bed, _controller) = bed_with(&kind, JobOutcome::Fails("AlgorithmError: exit 1".into()));
    create(
        &bed,
        &kind,
        json!({"processingJobName": "p", "roleARN": "r", "appSpecification": {}, "processingResources": {}}),
    );
    let failed = wait_state(&bed, &kind, "Failed");
    assert_eq!(failed["status"]["failureReason"], "AlgorithmError: exit 1");
    assert!(
        !conditions(&failed)
            .iter()
            .any(|(kind, _, _)| kind == "ACK.Terminal")
    );
}

#[test]
fn a_delete_stops_an_in_progress_job_then_releases_it() {
    let kind = JobKind::transform_job();
    let (bed, _controller) = bed_with(&kind, JobOutcome::Completes);
    create(
        &bed,
        &kind,
        json!({"transformJobName": "t", "modelName": "m", "transformInput": {}, "transformOutput": {},
            "transformResources": {}}),
    );
    wait_state(&bed, &kind, "InProgress");
    bed.delete(&kind.resource(), NS, "job-1").expect("deleted");
    let stopping = wait_state(&bed, &kind, "Stopping");
    assert!(
        conditions(&stopping).contains(&(
            "ACK.Recoverable".into(),
            "True".into(),
            "TransformJob is Stopping.".into()
        )),
        "{stopping}"
    );
    bed.wait_for(
        &kind.resource(),
        NS,
        "job-1",
        Duration::from_secs(10),
        |o| o.is_none(),
    )
    .expect("gone once stopped");
}
