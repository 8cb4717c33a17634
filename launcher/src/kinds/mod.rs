//! What a person decides about each kind: when it is done or failed, what an update looks
//! like, what is worth logging, what it is called, how long it may take and what a cancel
//! may delete. Everything the generator knows (inputs, outputs, the name field, the
//! conditions, the ARN, the updatable fields) is the generated
//! [`component_runtime::Component`] impl; everything else (the ACK conditions, the follow
//! loop, the time limits) is the same for every kind and written once.
//!
//! The job kinds finish on their own state field (controller v1.9.1, section 3 of the
//! semantics notes): `Completed` succeeds; `Failed` fails with `failureReason`;
//! `Stopped` fails; anything else (no status yet, `InProgress`, `Stopping`) waits.
//! `ACK.ResourceSynced` alone never finishes a job: the controller sets it True for
//! Failed and Stopped too, and it says nothing before the first Describe.
//!
//! | kind | state field | success | failure | links |
//! |---|---|---|---|---|
//! | HyperParameterTuningJob | `hyperParameterTuningJobStatus` | Completed | Failed, Stopped | console `#/hyper-tuning-jobs/<name>`, training job logs `<name>-*` |
//! | ProcessingJob | `processingJobStatus` | Completed | Failed, Stopped | console `#/processing-jobs/<name>`, logs `/aws/sagemaker/ProcessingJobs` |
//! | TransformJob | `transformJobStatus` | Completed | Failed, Stopped | console `#/transform-jobs/<name>`, logs `/aws/sagemaker/TransformJobs` |
//!
//! (TrainingJob's rule, which also reads `ACK.ResourceSynced` and the debugger rules,
//! is in [`training_job`].)

use std::time::Duration;

use component_runtime::{Component, OutputValue};
use generated::ack::Condition;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::ack::{self, AckFailure, AckState, Verdict};

mod definitions;
mod endpoint;
mod jobs;
mod model_package_group;
mod monitoring_schedule;
mod training_job;

/// Every kind the launcher runs, each once, in the order `--help` lists them: `visit`
/// meets each (a subcommand per kind is built, and the one asked for is run, this way).
pub fn for_each(visit: &mut impl Visit) {
    use generated::{
        data_quality_job_definition::DataQualityJobDefinition, endpoint::Endpoint,
        endpoint_config::EndpointConfig, hyper_parameter_tuning_job::HyperParameterTuningJob,
        model::Model, model_bias_job_definition::ModelBiasJobDefinition,
        model_explainability_job_definition::ModelExplainabilityJobDefinition,
        model_package_group::ModelPackageGroup,
        model_quality_job_definition::ModelQualityJobDefinition,
        monitoring_schedule::MonitoringSchedule, processing_job::ProcessingJob,
        training_job::TrainingJob, transform_job::TransformJob,
    };
    visit.kind::<TrainingJob>();
    visit.kind::<HyperParameterTuningJob>();
    visit.kind::<ProcessingJob>();
    visit.kind::<TransformJob>();
    visit.kind::<Model>();
    visit.kind::<EndpointConfig>();
    visit.kind::<Endpoint>();
    visit.kind::<MonitoringSchedule>();
    visit.kind::<DataQualityJobDefinition>();
    visit.kind::<ModelBiasJobDefinition>();
    visit.kind::<ModelExplainabilityJobDefinition>();
    visit.kind::<ModelQualityJobDefinition>();
    visit.kind::<ModelPackageGroup>();
}

/// Something done with each kind ([`for_each`]).
pub trait Visit {
    fn kind<K: Kind>(&mut self);
}

/// What a resource of a kind is: how it ends, and what a cancelled step may delete.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    /// Runs and ends (TrainingJob, ProcessingJob...): a cancelled step deletes it, which
    /// makes the controller stop the SageMaker job.
    Job,
    /// Done once SageMaker has it (Model, EndpointConfig, the job definitions).
    Definition,
    /// Long-lived, done once ready (Endpoint, MonitoringSchedule, ModelPackageGroup). It
    /// outlives its step: a cancel deletes it only while it is still being created.
    Service,
}

/// What a resource showed just before the launcher patched it: what
/// [`Kind::update_taken`] compares against. Recorded on the resource with the patch.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Marks {
    /// SageMaker's `lastModifiedTime`.
    pub last_modified_time: Option<Time>,
    /// Nothing of an earlier change was under way: the kind's steady state, synced.
    pub settled: bool,
}

/// A fact worth a log line when it changes: its label and value.
pub type Fact = (String, String);

/// A link worth logging once the resource has an ARN: its label and address.
pub type Link = (&'static str, String);

/// One kind of resource, implemented on its generated type: what a person decides about
/// it. The launcher's kind-independent parts (reading inputs, create-or-re-attach,
/// following, cancelling, writing outputs) read the rest from [`Component`].
pub trait Kind:
    Component<Condition = Condition, Spec: Serialize, Inputs: clap::Args, OutputPaths: clap::Args>
    + kube::Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
    + k8s_openapi::Resource
    + Clone
    + std::fmt::Debug
    + Serialize
    + DeserializeOwned
    + Send
    + Sync
    + 'static
{
    /// What the resource is called in messages: `processing job`.
    const NOUN: &'static str;
    /// The longest name SageMaker accepts for it (the `Regex Pattern` of the name field's
    /// description in the CRD).
    const NAME_MAX: usize;
    /// The start of the names the launcher makes: `processing-job`.
    const NAME_PREFIX: &'static str;
    const CLASS: Class;
    /// How long the launcher waits for the resource to be done unless `--time-limit` says
    /// otherwise; `None` for the jobs, which SageMaker's own stopping conditions bound.
    const TIME_LIMIT: Option<Duration>;

    /// The kind's own rule, applied after the ACK conditions ([`crate::ack::state`]).
    fn state_verdict(status: &Self::Status) -> Verdict;

    /// The facts worth a log line when they change.
    fn facts(_status: &Self::Status) -> Vec<Fact> {
        Vec::new()
    }

    /// The SageMaker console page and the logs of the resource with this ARN and name.
    fn links(_arn: &str, _name: &str) -> Vec<Link> {
        Vec::new()
    }

    /// What [`Self::update_taken`] compares against, read just before the launcher patches.
    fn update_marks(&self) -> Marks {
        Marks::default()
    }

    /// Whether the controller has acted on the update patched onto a resource that showed
    /// `before`: the controller's and SageMaker's own markers of an update, never a status
    /// that merely changed (conditions get new timestamps on every resync). Only kinds
    /// with [`Component::UPDATABLE_FIELDS`] are ever asked.
    fn update_taken(_before: &Marks, _now: &Self) -> bool {
        false
    }
}

/// What the resource's status means: the ACK conditions first, then the kind's rule.
pub fn verdict<K: Kind>(resource: &K) -> Verdict {
    let Some(status) = resource.status() else {
        return Verdict::Waiting { recoverable: None };
    };
    match ack::state(K::conditions(status)) {
        AckState::Failed(AckFailure::NotManaged(terminal)) => Verdict::Failed(format!(
            "SageMaker already has a {noun} named {name} that this step did not create \
             (the ACK controller's Terminal condition: {terminal}); the status the controller \
             copied from it is not this step's and is not reported. Choose another {input}, \
             or leave it empty for a name of this run and step",
            noun = K::NOUN,
            name = K::name(resource.spec()),
            input = K::NAME_INPUT,
        )),
        // The controller's Terminal for a failed state says less than the kind's rule,
        // which gives the reason; any other Terminal stands as it is.
        AckState::Failed(failure @ AckFailure::TerminalState(_)) => {
            match K::state_verdict(status) {
                Verdict::Failed(reason) => Verdict::Failed(reason),
                _ => Verdict::Failed(failure.to_string()),
            }
        }
        AckState::Failed(failure) => Verdict::Failed(failure.to_string()),
        AckState::Waiting(recoverable) => match K::state_verdict(status) {
            Verdict::Waiting { recoverable: None } => Verdict::Waiting { recoverable },
            other => other,
        },
    }
}

/// Whether the resource's status, besides its conditions, is another SageMaker
/// resource's ([`ack::not_managed`]): nothing of it is logged or handed on as this step's.
pub fn foreign<K: Kind>(resource: &K) -> bool {
    resource
        .status()
        .is_some_and(|status| ack::not_managed(K::conditions(status)))
}

/// The outputs of the resource as last seen; of a [`foreign`] status only the conditions,
/// which are this resource's own.
pub fn outputs<'a, K: Kind>(
    paths: &'a K::OutputPaths,
    resource: Option<&K>,
) -> Vec<OutputValue<'a>> {
    let Some(status) = resource.filter(|r| foreign(*r)).and_then(|r| r.status()) else {
        return K::outputs(paths, resource);
    };
    let conditions = serde_json::to_value(K::conditions(status)).ok();
    let mut outputs = K::outputs(paths, None);
    for output in &mut outputs {
        if output.name == "conditions" {
            output.value.clone_from(&conditions);
        }
    }
    outputs
}

/// The facts worth logging, with the Recoverable error the controller reports, if any
/// (nothing of a [`foreign`] status).
pub fn progress<K: Kind>(resource: &K) -> Vec<Fact> {
    let Some(status) = resource.status().filter(|_| !foreign(resource)) else {
        return Vec::new();
    };
    let mut facts = K::facts(status);
    if let Some(recoverable) = ack::condition(K::conditions(status), "ACK.Recoverable") {
        facts.push(("recoverable error".into(), ack::condition_text(recoverable)));
    }
    facts
}

/// The resource's ARN, once the controller has created it (never a [`foreign`] status's).
pub fn arn<K: Kind>(resource: &K) -> Option<&str> {
    if foreign(resource) {
        return None;
    }
    K::arn(resource.status()?).filter(|a| !a.is_empty())
}

/// SageMaker's `failureReason`, or a sentence saying it gave none.
pub fn reason(failure_reason: Option<&str>) -> &str {
    failure_reason
        .filter(|r| !r.is_empty())
        .unwrap_or("SageMaker gave no reason")
}

/// The rule every job kind but TrainingJob follows, on its state field.
pub fn job_state_verdict(noun: &str, state: Option<&str>, failure_reason: Option<&str>) -> Verdict {
    match state {
        Some("Completed") => Verdict::Succeeded {
            warnings: Vec::new(),
        },
        Some("Failed") => Verdict::Failed(format!("the {noun} failed: {}", reason(failure_reason))),
        Some("Stopped") => Verdict::Failed(match failure_reason.filter(|r| !r.is_empty()) {
            Some(reason) => format!("the {noun} was stopped: {reason}"),
            None => format!("the {noun} was stopped"),
        }),
        _ => Verdict::Waiting { recoverable: None },
    }
}

/// The console page `#/<page>/<name>` of a resource with this ARN.
pub fn console_page(arn: &str, page: &str, name: &str) -> Vec<Link> {
    ack::console_host(arn)
        .map(|(host, region)| {
            vec![(
                "console",
                format!("https://{host}/sagemaker/home?region={region}#/{page}/{name}"),
            )]
        })
        .unwrap_or_default()
}

/// The console page (`#/<page>/<name>`) and the CloudWatch log streams with the job's
/// name as prefix in `group`.
pub fn console_links(arn: &str, page: &str, group: &str, job_name: &str) -> Vec<Link> {
    let Some((host, region)) = ack::console_host(arn) else {
        return Vec::new();
    };
    let mut links = console_page(arn, page, job_name);
    links.push((
        "logs",
        format!(
            "https://{host}/cloudwatch/home?region={region}#logStream:group={group};prefix={job_name};streamFilter=typeLogStreamPrefix"
        ),
    ));
    links
}

/// Test helpers shared by every kind's tests.
#[cfg(test)]
pub mod testing {
    use serde_json::{Value, json};

    use super::*;

    /// A resource of kind `K` named `r` with this spec and status, as the API serves it.
    pub fn resource<K: Kind>(spec: Value, status: Value) -> K {
        serde_json::from_value(json!({"apiVersion": K::API_VERSION, "kind": K::KIND,
            "metadata": {"name": "r"}, "spec": spec, "status": status}))
        .unwrap_or_else(|e| panic!("a {}: {e}", K::KIND))
    }

    /// The checks every job kind's rule must pass, run by each kind's tests on its own
    /// generated type: `resource` builds one with this status.
    pub fn check_job_rule<K: Kind>(resource: impl Fn(Value) -> K, state_field: &str) {
        let with = |state: Option<&str>, conditions: Value| {
            let mut status =
                json!({"conditions": conditions, "failureReason": "ClientError: no data"});
            if let Some(state) = state {
                status[state_field] = json!(state);
            }
            resource(status)
        };
        let synced = |value: &str| json!([{"type": "ACK.ResourceSynced", "status": value}]);
        let noun = K::NOUN;

        assert_eq!(
            verdict(&with(Some("Completed"), synced("True"))),
            Verdict::Succeeded { warnings: vec![] }
        );
        assert_eq!(
            verdict(&with(Some("Failed"), synced("True"))),
            Verdict::Failed(format!("the {noun} failed: ClientError: no data"))
        );
        assert!(
            matches!(verdict(&with(Some("Stopped"), synced("True"))), Verdict::Failed(m) if m.starts_with(&format!("the {noun} was stopped"))),
        );
        let waiting = Verdict::Waiting { recoverable: None };
        // Synced True alone (no state yet, or a state that is not an end) is never an end.
        for state in [None, Some("InProgress"), Some("Stopping")] {
            assert_eq!(verdict(&with(state, synced("True"))), waiting, "{state:?}");
            assert_eq!(verdict(&with(state, synced("False"))), waiting, "{state:?}");
        }
        assert_eq!(verdict(&resource(Value::Null)), waiting);
        // Terminal fails whatever the state says: the name-exists Terminal carries the old
        // job's Completed status.
        let terminal = json!([{"type": "ACK.ResourceSynced", "status": "True"},
            {"type": "ACK.Terminal", "status": "True", "message": "Resource already exists",
             "reason": "This resource already exists but is not managed by ACK."}]);
        let Verdict::Failed(message) = verdict(&with(Some("Completed"), terminal.clone())) else {
            panic!("a Terminal {noun} must fail")
        };
        assert!(message.contains("Resource already exists"), "{message}");
        assert!(message.contains("not this step's"), "{message}");
        // ... whose status is not this step's: no facts, no ARN, only the conditions handed on.
        let taken = resource(json!({
            state_field: "Completed",
            "conditions": terminal,
            "ackResourceMetadata": {"arn": "arn:aws:sagemaker:us-west-2:1:job/j",
                "ownerAccountID": "1", "region": "us-west-2"},
        }));
        assert!(foreign(&taken));
        assert_eq!(progress(&taken), Vec::new());
        assert_eq!(arn(&taken), None);
        let drift =
            json!([{"type": "ACK.Terminal", "status": "True", "message": "not implemented"}]);
        assert!(matches!(
            verdict(&with(Some("InProgress"), drift)),
            Verdict::Failed(_)
        ));
        // A validation error never clears; anything else Recoverable is waited out.
        let recoverable = |message: &str| json!([{"type": "ACK.Recoverable", "status": "True", "message": message}]);
        for message in [
            "api error ValidationException: Could not access model data",
            "ValidationException: Could not access model data\n\tstatus code: 400, request id: x",
        ] {
            assert!(
                matches!(
                    verdict(&with(None, recoverable(message))),
                    Verdict::Failed(_)
                ),
                "{message}"
            );
        }
        let stopping = format!("{} is Stopping.", K::KIND);
        assert_eq!(
            verdict(&with(Some("Stopping"), recoverable(&stopping))),
            Verdict::Waiting {
                recoverable: Some(stopping.clone())
            }
        );
        let facts = progress(&with(Some("InProgress"), recoverable(&stopping)));
        assert!(
            facts.contains(&("recoverable error".to_owned(), stopping)),
            "{facts:?}"
        );
        // The ARN, once the controller has created the job.
        let created = resource(json!({"ackResourceMetadata": {
            "arn": "arn:aws:sagemaker:us-west-2:1:job/j", "ownerAccountID": "1", "region": "us-west-2"}}));
        assert_eq!(arn(&created), Some("arn:aws:sagemaker:us-west-2:1:job/j"));
        let not_yet = resource(json!({"ackResourceMetadata": {
            "arn": "", "ownerAccountID": "1", "region": "us-west-2"}}));
        assert_eq!(arn(&not_yet), None);
        assert_eq!(arn(&resource(json!({}))), None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_job_rule_on_the_state_field() {
        let success = Verdict::Succeeded { warnings: vec![] };
        assert_eq!(job_state_verdict("x job", Some("Completed"), None), success);
        assert_eq!(
            job_state_verdict("x job", Some("Failed"), Some("AlgorithmError: boom")),
            Verdict::Failed("the x job failed: AlgorithmError: boom".into())
        );
        assert_eq!(
            job_state_verdict("x job", Some("Failed"), None),
            Verdict::Failed("the x job failed: SageMaker gave no reason".into())
        );
        assert_eq!(
            job_state_verdict("x job", Some("Stopped"), None),
            Verdict::Failed("the x job was stopped".into())
        );
        for waiting in [None, Some("InProgress"), Some("Stopping"), Some("Deleting")] {
            assert_eq!(
                job_state_verdict("x job", waiting, None),
                Verdict::Waiting { recoverable: None },
                "{waiting:?}"
            );
        }
    }

    #[test]
    fn links_from_the_arn() {
        let links = console_links(
            "arn:aws:sagemaker:eu-west-1:1:processing-job/p",
            "processing-jobs",
            "/aws/sagemaker/ProcessingJobs",
            "p",
        );
        assert_eq!(
            links[0].1,
            "https://eu-west-1.console.aws.amazon.com/sagemaker/home?region=eu-west-1#/processing-jobs/p"
        );
        assert!(
            links[1]
                .1
                .contains("group=/aws/sagemaker/ProcessingJobs;prefix=p"),
            "{links:?}"
        );
    }

    /// The longest name the `Regex Pattern: `^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,N}$`` line of
    /// the name field's description in a CRD allows (N + 1), if the pattern has a bound
    /// (Model's has none).
    fn pattern_max_len(crd: &str, field: &str) -> Option<usize> {
        let after = crd
            .split(&format!("{field}:"))
            .nth(1)
            .expect("the field in the CRD");
        let description = after.split("type:").next().unwrap_or_default();
        let pattern = description
            .split("Regex Pattern: `^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,")
            .nth(1)?;
        let n: usize = pattern
            .split('}')
            .next()
            .and_then(|n| n.parse().ok())
            .expect("a repeat count");
        Some(n + 1)
    }

    /// Each kind's name limit is its vendored CRD's, and a name the launcher derives fits.
    #[test]
    fn every_kinds_name_limit_is_its_crds() {
        struct Check(Vec<&'static str>);
        impl Visit for Check {
            fn kind<K: Kind>(&mut self) {
                let path = format!(
                    "{}/../crds/sagemaker-controller/sagemaker.services.k8s.aws_{}.yaml",
                    env!("CARGO_MANIFEST_DIR"),
                    K::URL_PATH_SEGMENT
                );
                let crd = std::fs::read_to_string(&path).expect("the vendored CRD");
                // The name input's field: `hyper_parameter_tuning_job_name` ->
                // `hyperParameterTuningJobName`.
                let field: String = K::NAME_INPUT
                    .split('_')
                    .enumerate()
                    .map(|(i, word)| match i {
                        0 => word.to_owned(),
                        _ => word[..1].to_uppercase() + &word[1..],
                    })
                    .collect();
                // Without a bound in the CRD, SageMaker's 63 (that of a Kubernetes name).
                let max = pattern_max_len(&crd, &field).unwrap_or(63);
                assert_eq!(max, K::NAME_MAX, "{}", K::KIND);
                // `<prefix>-<20 hex digits>`, the name of a run's step.
                assert!(
                    K::NAME_PREFIX.len() + 21 <= K::NAME_MAX,
                    "{}: derived names fit",
                    K::KIND
                );
                self.0.push(K::KIND);
            }
        }
        let mut check = Check(Vec::new());
        for_each(&mut check);
        assert_eq!(check.0.len(), 13, "{:?}", check.0);
    }
}
