//! The job kinds that end on their own state field (the rule in the [`super`] docs):
//! HyperParameterTuningJob, ProcessingJob and TransformJob. A cancelled step deletes
//! the resource, which stops the job; SageMaker's stopping conditions bound how long one
//! runs, so the launcher sets no time limit of its own.
//!
//! Worth logging besides the state: a tuning job's best training job so far and its
//! objective metric, as SageMaker reports them. A processing or transform job's results
//! are where its spec says (`processingOutputConfig.outputs[].s3Output.s3URI`,
//! `transformOutput.s3OutputPath`): nothing else in its status is worth a line.

use generated::hyper_parameter_tuning_job::{
    HyperParameterTuningJob, HyperParameterTuningJobStatus,
};
use generated::processing_job::{ProcessingJob, ProcessingJobStatus};
use generated::transform_job::{TransformJob, TransformJobStatus};

use super::{Class, Fact, Kind, Link, console_links, job_state_verdict};
use crate::ack::Verdict;

impl Kind for HyperParameterTuningJob {
    const NOUN: &'static str = "tuning job";
    const NAME_MAX: usize = 32;
    const NAME_PREFIX: &'static str = "tuning-job";
    const CLASS: Class = Class::Job;
    const TIME_LIMIT: Option<std::time::Duration> = None;

    fn state_verdict(status: &HyperParameterTuningJobStatus) -> Verdict {
        job_state_verdict(
            Self::NOUN,
            status.hyper_parameter_tuning_job_status.as_deref(),
            status.failure_reason.as_deref(),
        )
    }

    fn facts(status: &HyperParameterTuningJobStatus) -> Vec<Fact> {
        let mut facts = state_fact(
            "tuning job status",
            &status.hyper_parameter_tuning_job_status,
        );
        if let Some(best) = &status.best_training_job
            && let Some(name) = &best.training_job_name
        {
            let mut text = name.clone();
            if let Some(metric) = &best.final_hyper_parameter_tuning_job_objective_metric
                && let Some(value) = metric.value
            {
                let metric_name = metric.metric_name.as_deref().unwrap_or("objective");
                text.push_str(&format!(" ({metric_name} = {value})"));
            }
            facts.push(("best training job".to_owned(), text));
        }
        facts
    }

    fn links(arn: &str, job_name: &str) -> Vec<Link> {
        // The tuning job's training jobs are named `<tuning job>-<number>-<suffix>` and log
        // where training jobs log.
        console_links(
            arn,
            "hyper-tuning-jobs",
            "/aws/sagemaker/TrainingJobs",
            job_name,
        )
    }
}

impl Kind for ProcessingJob {
    const NOUN: &'static str = "processing job";
    const NAME_MAX: usize = 63;
    const NAME_PREFIX: &'static str = "processing-job";
    const CLASS: Class = Class::Job;
    const TIME_LIMIT: Option<std::time::Duration> = None;

    fn state_verdict(status: &ProcessingJobStatus) -> Verdict {
        job_state_verdict(
            Self::NOUN,
            status.processing_job_status.as_deref(),
            status.failure_reason.as_deref(),
        )
    }

    fn facts(status: &ProcessingJobStatus) -> Vec<Fact> {
        state_fact("processing job status", &status.processing_job_status)
    }

    fn links(arn: &str, job_name: &str) -> Vec<Link> {
        console_links(
            arn,
            "processing-jobs",
            "/aws/sagemaker/ProcessingJobs",
            job_name,
        )
    }
}

impl Kind for TransformJob {
    const NOUN: &'static str = "transform job";
    const NAME_MAX: usize = 63;
    const NAME_PREFIX: &'static str = "transform-job";
    const CLASS: Class = Class::Job;
    const TIME_LIMIT: Option<std::time::Duration> = None;

    fn state_verdict(status: &TransformJobStatus) -> Verdict {
        job_state_verdict(
            Self::NOUN,
            status.transform_job_status.as_deref(),
            status.failure_reason.as_deref(),
        )
    }

    fn facts(status: &TransformJobStatus) -> Vec<Fact> {
        state_fact("transform job status", &status.transform_job_status)
    }

    fn links(arn: &str, job_name: &str) -> Vec<Link> {
        console_links(
            arn,
            "transform-jobs",
            "/aws/sagemaker/TransformJobs",
            job_name,
        )
    }
}

/// The job's state, once it has one.
fn state_fact(label: &str, state: &Option<String>) -> Vec<Fact> {
    state
        .iter()
        .map(|state| (label.to_owned(), state.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::kinds::progress;
    use crate::kinds::testing::{check_job_rule, resource};

    fn tuning_job(status: Value) -> HyperParameterTuningJob {
        let spec = json!({"hyperParameterTuningJobName": "h", "hyperParameterTuningJobConfig": {}});
        resource(spec, status)
    }

    fn processing_job(status: Value) -> ProcessingJob {
        let spec = json!({"processingJobName": "j", "roleARN": "r", "appSpecification": {},
            "processingResources": {}});
        resource(spec, status)
    }

    fn transform_job(status: Value) -> TransformJob {
        let spec = json!({"transformJobName": "j", "modelName": "m", "transformInput": {},
            "transformOutput": {}, "transformResources": {}});
        resource(spec, status)
    }

    #[test]
    fn the_job_rule() {
        check_job_rule(tuning_job, "hyperParameterTuningJobStatus");
        check_job_rule(processing_job, "processingJobStatus");
        check_job_rule(transform_job, "transformJobStatus");
    }

    #[test]
    fn the_state_is_logged() {
        let facts = progress(&processing_job(
            json!({"processingJobStatus": "InProgress"}),
        ));
        assert_eq!(
            facts,
            [("processing job status".to_owned(), "InProgress".to_owned())]
        );
        let facts = progress(&transform_job(json!({"transformJobStatus": "InProgress"})));
        assert_eq!(
            facts,
            [("transform job status".to_owned(), "InProgress".to_owned())]
        );
    }

    #[test]
    fn the_best_training_job_is_logged() {
        let facts = progress(&tuning_job(
            json!({"hyperParameterTuningJobStatus": "InProgress",
            "bestTrainingJob": {"trainingJobName": "h-003-abcd",
                "finalHyperParameterTuningJobObjectiveMetric": {"metricName": "validation:auc", "value": 0.91}}}),
        ));
        assert_eq!(
            facts,
            [
                ("tuning job status".to_owned(), "InProgress".to_owned()),
                (
                    "best training job".to_owned(),
                    "h-003-abcd (validation:auc = 0.91)".to_owned()
                ),
            ]
        );
    }

    #[test]
    fn links() {
        let links = HyperParameterTuningJob::links(
            "arn:aws:sagemaker:us-west-2:1:hyper-parameter-tuning-job/h",
            "h",
        );
        assert!(links[0].1.ends_with("#/hyper-tuning-jobs/h"), "{links:?}");
        let links = ProcessingJob::links("arn:aws:sagemaker:us-west-2:1:processing-jobs/j", "j");
        assert!(links[0].1.ends_with("#/processing-jobs/j"), "{links:?}");
        assert!(
            links[1]
                .1
                .contains("group=/aws/sagemaker/ProcessingJobs;prefix=j"),
            "{links:?}"
        );
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
