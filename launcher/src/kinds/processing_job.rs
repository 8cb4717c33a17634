//! A ProcessingJob: done on `processingJobStatus` (Completed; Failed or Stopped fail with `failureReason`;
//! InProgress and Stopping wait). Its status has nothing else worth logging: the
//! results' location is in the spec (`processingOutputConfig.outputs[].s3Output.s3URI`).

use generated::processing_job::{
    ProcessingJob, ProcessingJobInputs, ProcessingJobOutputPaths, ProcessingJobSpec,
    ProcessingJobStatus,
};

use super::{Class, Kind, console_links, job_state_verdict};
use crate::ack::Verdict;

impl Kind for ProcessingJob {
    type Spec = ProcessingJobSpec;
    type Status = ProcessingJobStatus;
    type Inputs = ProcessingJobInputs;
    type OutputPaths = ProcessingJobOutputPaths;
    const NOUN: &'static str = "processing job";
    const NAME_MAX: usize = 63;
    const NAME_INPUT: &'static str = "processing_job_name";
    const NAME_PREFIX: &'static str = "processing-job";
    const CLASS: Class = Class::Job;
    const TIME_LIMIT: Option<std::time::Duration> = None;

    crate::kinds::generated_accessors!(ProcessingJob, processing_job_name);

    fn state_verdict(status: &Self::Status) -> Verdict {
        job_state_verdict(
            Self::NOUN,
            status.processing_job_status.as_deref(),
            status.failure_reason.as_deref(),
        )
    }

    fn facts(status: &Self::Status) -> Vec<(String, String)> {
        status
            .processing_job_status
            .iter()
            .map(|state| ("processing job status".to_owned(), state.clone()))
            .collect()
    }

    fn links(arn: &str, job_name: &str) -> Vec<(&'static str, String)> {
        console_links(
            arn,
            "processing-jobs",
            "/aws/sagemaker/ProcessingJobs",
            job_name,
        )
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::kinds::{check_job_rule, pattern_max_len, progress};

    fn job(status: serde_json::Value) -> ProcessingJob {
        serde_json::from_value(json!({"apiVersion": "sagemaker.services.k8s.aws/v1alpha1",
            "kind": "ProcessingJob", "metadata": {"name": "j"},
            "spec": {"processingJobName": "j", "roleARN": "r", "appSpecification": {}, "processingResources": {}},
            "status": status}))
        .expect("a ProcessingJob")
    }

    #[test]
    fn the_job_rule() {
        check_job_rule(job, "processingJobStatus");
    }

    #[test]
    fn the_state_is_logged() {
        let facts = progress(&job(json!({"processingJobStatus": "InProgress"})));
        assert_eq!(
            facts,
            [("processing job status".to_owned(), "InProgress".to_owned())]
        );
    }

    #[test]
    fn the_name_limit_is_the_crds() {
        let crd = include_str!(
            "../../../crds/sagemaker-controller/sagemaker.services.k8s.aws_processingjobs.yaml"
        );
        assert_eq!(
            pattern_max_len(crd, "processingJobName"),
            ProcessingJob::NAME_MAX
        );
    }

    #[test]
    fn links() {
        let links = ProcessingJob::links("arn:aws:sagemaker:us-west-2:1:processing-jobs/j", "j");
        assert!(links[0].1.ends_with("#/processing-jobs/j"), "{links:?}");
        assert!(
            links[1]
                .1
                .contains("group=/aws/sagemaker/ProcessingJobs;prefix=j"),
            "{links:?}"
        );
    }
}
