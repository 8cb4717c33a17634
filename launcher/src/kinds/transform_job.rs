//! A TransformJob: done on `transformJobStatus` (Completed; Failed or Stopped fail with `failureReason`;
//! InProgress and Stopping wait). Its status has nothing else worth logging: the
//! results' location is in the spec (`transformOutput.s3OutputPath`).

use generated::transform_job::{
    TransformJob, TransformJobInputs, TransformJobOutputPaths, TransformJobSpec, TransformJobStatus,
};

use super::{Class, Kind, console_links, job_state_verdict};
use crate::ack::Verdict;

impl Kind for TransformJob {
    type Spec = TransformJobSpec;
    type Status = TransformJobStatus;
    type Inputs = TransformJobInputs;
    type OutputPaths = TransformJobOutputPaths;
    const NOUN: &'static str = "transform job";
    const NAME_MAX: usize = 63;
    const NAME_INPUT: &'static str = "transform_job_name";
    const NAME_PREFIX: &'static str = "transform-job";
    const CLASS: Class = Class::Job;
    const TIME_LIMIT: Option<std::time::Duration> = None;

    crate::kinds::generated_accessors!(TransformJob, transform_job_name);

    fn state_verdict(status: &Self::Status) -> Verdict {
        job_state_verdict(
            Self::NOUN,
            status.transform_job_status.as_deref(),
            status.failure_reason.as_deref(),
        )
    }

    fn facts(status: &Self::Status) -> Vec<(String, String)> {
        status
            .transform_job_status
            .iter()
            .map(|state| ("transform job status".to_owned(), state.clone()))
            .collect()
    }

    fn links(arn: &str, job_name: &str) -> Vec<(&'static str, String)> {
        console_links(
            arn,
            "transform-jobs",
            "/aws/sagemaker/TransformJobs",
            job_name,
        )
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::kinds::{check_job_rule, pattern_max_len, progress};

    fn job(status: serde_json::Value) -> TransformJob {
        serde_json::from_value(json!({"apiVersion": "sagemaker.services.k8s.aws/v1alpha1",
            "kind": "TransformJob", "metadata": {"name": "j"},
            "spec": {"transformJobName": "j", "modelName": "m", "transformInput": {}, "transformOutput": {}, "transformResources": {}},
            "status": status}))
        .expect("a TransformJob")
    }

    #[test]
    fn the_job_rule() {
        check_job_rule(job, "transformJobStatus");
    }

    #[test]
    fn the_state_is_logged() {
        let facts = progress(&job(json!({"transformJobStatus": "InProgress"})));
        assert_eq!(
            facts,
            [("transform job status".to_owned(), "InProgress".to_owned())]
        );
    }

    #[test]
    fn the_name_limit_is_the_crds() {
        let crd = include_str!(
            "../../../crds/sagemaker-controller/sagemaker.services.k8s.aws_transformjobs.yaml"
        );
        assert_eq!(
            pattern_max_len(crd, "transformJobName"),
            TransformJob::NAME_MAX
        );
    }

    #[test]
    fn links() {
        let links = TransformJob::links("arn:aws:sagemaker:us-west-2:1:transform-jobs/j", "j");
        assert!(links[0].1.ends_with("#/transform-jobs/j"), "{links:?}");
        assert!(
            links[1]
                .1
                .contains("group=/aws/sagemaker/TransformJobs;prefix=j"),
            "{links:?}"
        );
    }
}
