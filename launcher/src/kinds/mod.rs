//! What each kind contributes to the launcher: its completion rule and what is worth
//! logging. Everything else (the ACK conditions, the follow loop, the time limits) is
//! the same for every kind and written once.
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
//! is in [`crate::training_job`].)

use component_runtime::{InputErrors, OutputValue, ResourceInputs};
use generated::ack::Condition;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::ack::{self, Verdict};

/// The [`Kind`] items that only pass through to what the generator wrote for every kind
/// alike (constructor, reader, output values, status, conditions, ARN), so that a kind's
/// module holds only what differs: its name field here, its rule and logging beside it.
macro_rules! generated_accessors {
    ($kind:ident, $name_field:ident) => {
        fn new(name: &str, spec: Self::Spec) -> Self {
            $kind::new(name, spec)
        }

        fn read(
            inputs: &Self::Inputs,
            name_if_absent: String,
        ) -> Result<component_runtime::ResourceInputs<Self::Spec>, component_runtime::InputErrors> {
            inputs.read(name_if_absent)
        }

        fn given(inputs: &Self::Inputs) -> (Option<&str>, Option<&str>) {
            (inputs.region.as_deref(), inputs.$name_field.as_deref())
        }

        fn job_name(spec: &Self::Spec) -> &str {
            &spec.$name_field
        }

        fn set_job_name(spec: &mut Self::Spec, name: String) {
            spec.$name_field = name;
        }

        fn outputs<'a>(
            paths: &'a Self::OutputPaths,
            resource: Option<&Self>,
        ) -> Vec<component_runtime::OutputValue<'a>> {
            paths.values(resource).into()
        }

        fn spec(&self) -> &Self::Spec {
            &self.spec
        }

        fn status(&self) -> Option<&Self::Status> {
            self.status.as_ref()
        }

        fn conditions(status: &Self::Status) -> &[generated::ack::Condition] {
            status.conditions.as_deref().unwrap_or_default()
        }

        fn arn(status: &Self::Status) -> Option<&str> {
            status.ack_resource_metadata.as_ref()?.arn.as_deref()
        }

        const UPDATABLE: &'static [&'static str] = &$kind::UPDATABLE_FIELDS;
    };
}
pub(crate) use generated_accessors;

pub mod definitions;
pub mod endpoint;
pub mod hyper_parameter_tuning_job;
pub mod model_package_group;
pub mod monitoring_schedule;
pub mod processing_job;
pub mod transform_job;

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

/// The facts of a resource from which [`Kind::update_taken`] tells that the controller
/// has acted on an update, by name; recorded on the resource when it is patched.
pub type Marks = std::collections::BTreeMap<String, String>;

/// One kind of resource, implemented on its generated type: everything the launcher's
/// kind-independent parts (reading inputs, create-or-re-attach, following, cancelling,
/// writing outputs) need to know about it.
pub trait Kind:
    kube::Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
    + k8s_openapi::Resource
    + Clone
    + std::fmt::Debug
    + Serialize
    + DeserializeOwned
    + Send
    + Sync
    + 'static
{
    type Spec: Serialize;
    type Status: Clone;
    /// The generated clap flags of the component's inputs.
    type Inputs;
    /// The generated clap flags of the component's output files.
    type OutputPaths;
    /// What the job is called in messages: `processing job`.
    const NOUN: &'static str;
    /// The longest name SageMaker accepts for it (the `Regex Pattern` of the name field's
    /// description in the CRD).
    const NAME_MAX: usize;
    /// The input with the SageMaker job's name (filled by the launcher when empty).
    const NAME_INPUT: &'static str;
    /// The start of the names the launcher makes: `processing-job`.
    const NAME_PREFIX: &'static str;
    const CLASS: Class;
    /// How long the launcher waits for the resource to be done unless `--time-limit` says
    /// otherwise; `None` for the jobs, which SageMaker's own stopping conditions bound.
    const TIME_LIMIT: Option<std::time::Duration>;
    /// The top-level spec fields the controller updates on an existing resource (the
    /// generated `UPDATABLE_FIELDS`, from the template); empty: it cannot update the kind.
    const UPDATABLE: &'static [&'static str];

    fn new(name: &str, spec: Self::Spec) -> Self;
    /// Reads the inputs into a spec; `name_if_absent` names the job when the input is empty.
    fn read(
        inputs: &Self::Inputs,
        name_if_absent: String,
    ) -> Result<ResourceInputs<Self::Spec>, InputErrors>;
    /// The `region` and name inputs as given, for the checks the reader cannot make.
    fn given(inputs: &Self::Inputs) -> (Option<&str>, Option<&str>);
    fn job_name(spec: &Self::Spec) -> &str;
    fn set_job_name(spec: &mut Self::Spec, name: String);
    /// Each output's file and value, from the resource as last seen.
    fn outputs<'a>(paths: &'a Self::OutputPaths, resource: Option<&Self>) -> Vec<OutputValue<'a>>;

    fn spec(&self) -> &Self::Spec;
    fn status(&self) -> Option<&Self::Status>;
    fn conditions(status: &Self::Status) -> &[Condition];
    fn arn(status: &Self::Status) -> Option<&str>;
    /// The kind's own rule, applied after the ACK conditions ([`crate::ack::mechanics`]).
    fn state_verdict(status: &Self::Status) -> Verdict;
    /// The facts worth a log line when they change, by name.
    fn facts(status: &Self::Status) -> Vec<(String, String)>;
    /// The SageMaker console page and the logs of the job with this ARN and name.
    fn links(arn: &str, job_name: &str) -> Vec<(&'static str, String)>;

    /// What [`Self::update_taken`] compares against, read just before the launcher patches.
    fn update_marks(_resource: &Self) -> Marks {
        Marks::new()
    }

    /// Whether the controller has acted on the update patched onto a resource that showed
    /// `before`: the controller's and SageMaker's own markers of an update, never a status
    /// that merely changed (conditions get new timestamps on every resync). Only kinds
    /// with [`Self::UPDATABLE`] fields are ever asked.
    fn update_taken(_before: &Marks, _now: &Self) -> bool {
        false
    }
}

/// What the resource's status means: the ACK conditions first, then the kind's rule.
pub fn verdict<K: Kind>(resource: &K) -> Verdict {
    let Some(status) = resource.status() else {
        return Verdict::Waiting { recoverable: None };
    };
    if ack::not_managed(K::conditions(status)) {
        return Verdict::Failed(format!(
            "SageMaker already has a {noun} named {name} that this step did not create \
             (the ACK controller's Terminal condition: {}); the status the controller copied \
             from it is not this step's and is not reported. Choose another {input}, or \
             leave it empty for a name of this run and step",
            ack::NOT_MANAGED,
            noun = K::NOUN,
            name = K::job_name(resource.spec()),
            input = K::NAME_INPUT,
        ));
    }
    let recoverable = match ack::mechanics(K::conditions(status)) {
        // The controller's own Terminal for a failed state (`Endpoint status reached
        // terminal state: Failed. Check the FailureReason.`) says less than the kind's
        // rule, which gives the reason; any other Terminal stands as it is.
        Err(failure) => {
            return match K::state_verdict(status) {
                Verdict::Failed(state) if failure.contains("status reached terminal state") => {
                    Verdict::Failed(state)
                }
                _ => Verdict::Failed(failure),
            };
        }
        Ok(recoverable) => recoverable,
    };
    match K::state_verdict(status) {
        Verdict::Waiting { recoverable: None } => Verdict::Waiting { recoverable },
        other => other,
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
    let Some(status) = resource.filter(|r| foreign(*r)).and_then(Kind::status) else {
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
pub fn progress<K: Kind>(resource: &K) -> Vec<(String, String)> {
    let Some(status) = resource.status().filter(|_| !foreign(resource)) else {
        return Vec::new();
    };
    let mut facts = K::facts(status);
    if let Some(recoverable) = ack::condition(K::conditions(status), "ACK.Recoverable") {
        facts.push(("recoverable error".into(), ack::condition_text(recoverable)));
    }
    facts
}

/// The job's ARN, once the controller has created it (never a [`foreign`] status's).
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

/// A status timestamp as an update mark ([`Marks`]): empty while it is absent.
pub fn time_mark(time: Option<&k8s_openapi::apimachinery::pkg::apis::meta::v1::Time>) -> String {
    time.map(|t| t.0.to_string()).unwrap_or_default()
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

/// The rule of the definition kinds (Model, EndpointConfig, the job definitions): done
/// once the ARN is set and `ACK.ResourceSynced` is True (the ACK conditions, Terminal
/// first, are read before this).
pub fn definition_verdict(conditions: &[Condition], arn: Option<&str>) -> Verdict {
    if arn.is_some_and(|a| !a.is_empty()) && ack::synced(conditions) {
        Verdict::Succeeded {
            warnings: Vec::new(),
        }
    } else {
        Verdict::Waiting { recoverable: None }
    }
}

/// The console page `#/<page>/<name>` of a resource with this ARN.
pub fn console_page(arn: &str, page: &str, name: &str) -> Vec<(&'static str, String)> {
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
pub fn console_links(
    arn: &str,
    page: &str,
    group: &str,
    job_name: &str,
) -> Vec<(&'static str, String)> {
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

/// The longest name the `Regex Pattern: `^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,N}$`` line of a
/// CRD's description allows (N + 1), for the tests that check each kind's
/// [`Kind::NAME_MAX`] against its vendored CRD.
#[cfg(test)]
pub fn pattern_max_len(crd: &str, field: &str) -> usize {
    let after = crd
        .split(&format!("{field}:"))
        .nth(1)
        .expect("the field in the CRD");
    let pattern = after
        .split("Regex Pattern: `^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,")
        .nth(1)
        .expect("a name pattern in its description");
    let n: usize = pattern
        .split('}')
        .next()
        .and_then(|n| n.parse().ok())
        .expect("a repeat count");
    n + 1
}

/// The checks every job kind's rule must pass, run by each kind's tests on its own
/// generated type: `resource` builds one with this status.
#[cfg(test)]
pub fn check_job_rule<K: Kind>(resource: impl Fn(serde_json::Value) -> K, state_field: &str) {
    use serde_json::json;
    let with = |state: Option<&str>, conditions: serde_json::Value| {
        let mut status = json!({"conditions": conditions, "failureReason": "ClientError: no data"});
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
    assert_eq!(verdict(&resource(serde_json::Value::Null)), waiting);
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
    let drift = json!([{"type": "ACK.Terminal", "status": "True", "message": "not implemented"}]);
    assert!(matches!(
        verdict(&with(Some("InProgress"), drift)),
        Verdict::Failed(_)
    ));
    // A validation error never clears; anything else Recoverable is waited out.
    let recoverable =
        |message: &str| json!([{"type": "ACK.Recoverable", "status": "True", "message": message}]);
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
    let stopping = format!(
        "{} is Stopping.",
        std::any::type_name::<K>().rsplit("::").next().unwrap_or("")
    );
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
}
