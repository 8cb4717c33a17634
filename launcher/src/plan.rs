//! From the inputs read to the resource a step will create: its name (the one given, or
//! one derived from the KFP run and step, or one drawn at random without them), its
//! annotations (region and [`Fingerprint`]) and its size. A pure function of its
//! arguments, so that tests can call it; nothing here reaches the cluster.

use component_runtime::ResourceInputs;

use crate::exit::{Failure, InvalidInput};
use crate::identity::{Fingerprint, Identity, SpecHash};
use crate::kinds::Kind;
use crate::naming;

/// The largest object etcd stores by default (1.5 MiB); a larger create would fail only
/// after reaching the API server. `--max-object-bytes` changes it for other clusters.
pub const MAX_OBJECT_BYTES: usize = 1536 * 1024;

/// The run and step the backend substituted (`--kfp-run-id`, `--kfp-step-id`).
#[derive(Clone, Copy, Debug, Default)]
pub struct RunIds<'a> {
    pub run: Option<&'a str>,
    pub step: Option<&'a str>,
}

/// The resource a step creates, and what it is known by.
#[derive(Debug)]
pub struct Planned<K> {
    /// With its name, `apiVersion`, `kind` and annotations.
    pub resource: K,
    /// The Kubernetes name: the SageMaker name in lower case.
    pub name: String,
    /// The SageMaker name, as the spec holds it.
    pub job_name: String,
    pub region: String,
    pub fingerprint: Fingerprint,
}

/// Plans the resource for `read`. `draw` makes a unique name from a prefix, for a step
/// with neither a name nor a run identity ([`naming::generate`]): a retried attempt of
/// such a step cannot find this one's resource.
pub fn plan<K: Kind>(
    read: ResourceInputs<K::Spec>,
    ids: RunIds<'_>,
    max_object_bytes: usize,
    draw: impl FnOnce(&str) -> String,
) -> Result<Planned<K>, Failure> {
    let ResourceInputs { region, mut spec } = read;
    // The digest of what was asked for; a derived name is not part of it.
    let hash = SpecHash::of(&region, &spec);
    let identity = Identity::from_backend(ids.run, ids.step, &hash);
    if K::name(&spec).is_empty() {
        let derived = match &identity {
            Some(identity) => identity.job_name(K::NAME_PREFIX, &hash),
            None => draw(K::NAME_PREFIX),
        };
        K::set_name(&mut spec, derived);
    }
    let job_name = K::name(&spec).to_owned();
    let name = naming::job_name(&job_name, K::NAME_MAX).map_err(|problem| {
        Failure::InvalidInput(InvalidInput::Problems(vec![format!(
            "input `{}`: {problem}",
            K::NAME_INPUT
        )]))
    })?;
    let fingerprint = Fingerprint { hash, identity };
    let mut resource = K::new(&name, spec);
    resource.meta_mut().annotations = Some(fingerprint.annotations(&region));
    let bytes = serde_json::to_vec(&resource).map_or(0, |json| json.len());
    if bytes > max_object_bytes {
        return Err(Failure::InvalidInput(InvalidInput::TooLarge {
            bytes,
            limit: max_object_bytes,
        }));
    }
    Ok(Planned {
        resource,
        name,
        job_name,
        region,
        fingerprint,
    })
}

#[cfg(test)]
mod tests {
    use generated::processing_job::ProcessingJob;
    use generated::training_job::{TrainingJob, TrainingJobSpec};

    use super::*;
    use crate::identity::{IDENTITY_ANNOTATION, REGION_ANNOTATION, annotation};

    fn inputs(name: &str) -> ResourceInputs<TrainingJobSpec> {
        ResourceInputs {
            region: "us-west-2".to_owned(),
            spec: serde_json::from_value(serde_json::json!({"trainingJobName": name,
                "roleARN": "arn:aws:iam::1:role/r", "algorithmSpecification": {},
                "outputDataConfig": {}, "resourceConfig": {}, "stoppingCondition": {}}))
            .expect("a spec"),
        }
    }

    fn never(_: &str) -> String {
        panic!("no name is drawn")
    }

    const IDS: RunIds<'static> = RunIds {
        run: Some("uid-1"),
        step: Some("pipeline.train(2)"),
    };

    #[test]
    fn a_given_name_is_kept_as_sagemaker_has_it_and_lower_cased_for_kubernetes() {
        let planned: Planned<TrainingJob> =
            plan(inputs("XGBoost-1"), IDS, MAX_OBJECT_BYTES, never).expect("planned");
        assert_eq!(planned.job_name, "XGBoost-1");
        assert_eq!(planned.name, "xgboost-1");
        assert_eq!(planned.resource.spec.training_job_name, "XGBoost-1");
        assert_eq!(
            annotation(&planned.resource, REGION_ANNOTATION),
            Some("us-west-2")
        );
        assert_eq!(
            annotation(&planned.resource, IDENTITY_ANNOTATION),
            Some("uid-1/pipeline.train")
        );
        assert!(planned.fingerprint.compare(&planned.resource).ours());
    }

    #[test]
    fn without_a_name_every_attempt_of_a_step_plans_the_same_one() {
        let first: Planned<TrainingJob> =
            plan(inputs(""), IDS, MAX_OBJECT_BYTES, never).expect("planned");
        let retry_ids = RunIds {
            step: Some("pipeline.train(3)"),
            ..IDS
        };
        let retry: Planned<TrainingJob> =
            plan(inputs(""), retry_ids, MAX_OBJECT_BYTES, never).expect("planned");
        assert_eq!(first.name, retry.name);
        assert!(first.name.starts_with("training-job-"), "{}", first.name);
        assert_eq!(first.resource, retry.resource);
        // The derived name is not part of the digest: the inputs are what was asked for.
        assert_eq!(
            first.fingerprint.hash,
            SpecHash::of("us-west-2", &inputs("").spec)
        );
    }

    #[test]
    fn without_a_name_or_an_identity_one_is_drawn() {
        let planned: Planned<TrainingJob> =
            plan(inputs(""), RunIds::default(), MAX_OBJECT_BYTES, |prefix| {
                format!("{prefix}-drawn")
            })
            .expect("planned");
        assert_eq!(planned.job_name, "training-job-drawn");
        assert_eq!(planned.fingerprint.identity, None);
    }

    #[test]
    fn a_name_too_long_for_the_kind_or_a_resource_too_large_is_refused() {
        let too_long: Result<Planned<TrainingJob>, _> =
            plan(inputs(&"a".repeat(64)), IDS, MAX_OBJECT_BYTES, never);
        let Err(Failure::InvalidInput(problem)) = too_long else {
            panic!("refused")
        };
        assert!(
            problem
                .to_string()
                .starts_with("input `training_job_name`: "),
            "{problem}"
        );
        let too_large: Result<Planned<TrainingJob>, _> = plan(inputs(""), IDS, 100, never);
        assert!(matches!(
            too_large,
            Err(Failure::InvalidInput(InvalidInput::TooLarge {
                limit: 100,
                ..
            }))
        ));
        // A processing job's spec is another kind's: the kind decides the prefix.
        let spec = serde_json::from_value(serde_json::json!({"processingJobName": "",
            "roleARN": "r", "appSpecification": {}, "processingResources": {}}))
        .expect("a spec");
        let planned: Planned<ProcessingJob> = plan(
            ResourceInputs {
                region: "us-west-2".to_owned(),
                spec,
            },
            IDS,
            MAX_OBJECT_BYTES,
            never,
        )
        .expect("planned");
        assert!(
            planned.name.starts_with("processing-job-"),
            "{}",
            planned.name
        );
    }
}
