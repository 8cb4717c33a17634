//! A HyperParameterTuningJob: done on `hyperParameterTuningJobStatus` (Completed; Failed
//! or Stopped fail with `failureReason`). Worth logging besides the state: the best
//! training job so far and its objective metric, as SageMaker reports them.

use generated::hyper_parameter_tuning_job::{
    HyperParameterTuningJob, HyperParameterTuningJobInputs, HyperParameterTuningJobOutputPaths,
    HyperParameterTuningJobSpec, HyperParameterTuningJobStatus,
};

use super::{Class, Kind, console_links, job_state_verdict};
use crate::ack::Verdict;

impl Kind for HyperParameterTuningJob {
    type Spec = HyperParameterTuningJobSpec;
    type Status = HyperParameterTuningJobStatus;
    type Inputs = HyperParameterTuningJobInputs;
    type OutputPaths = HyperParameterTuningJobOutputPaths;
    const NOUN: &'static str = "tuning job";
    const NAME_MAX: usize = 32;
    const NAME_INPUT: &'static str = "hyper_parameter_tuning_job_name";
    const NAME_PREFIX: &'static str = "tuning-job";
    const CLASS: Class = Class::Job;
    const TIME_LIMIT: Option<std::time::Duration> = None;

    crate::kinds::generated_accessors!(HyperParameterTuningJob, hyper_parameter_tuning_job_name);

    fn state_verdict(status: &Self::Status) -> Verdict {
        job_state_verdict(
            Self::NOUN,
            status.hyper_parameter_tuning_job_status.as_deref(),
            status.failure_reason.as_deref(),
        )
    }

    fn facts(status: &Self::Status) -> Vec<(String, String)> {
        let mut facts = Vec::new();
        if let Some(state) = &status.hyper_parameter_tuning_job_status {
            facts.push(("tuning job status".to_owned(), state.clone()));
        }
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

    fn links(arn: &str, job_name: &str) -> Vec<(&'static str, String)> {
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::kinds::{check_job_rule, pattern_max_len, progress};

    fn job(status: serde_json::Value) -> HyperParameterTuningJob {
        serde_json::from_value(json!({"apiVersion": "sagemaker.services.k8s.aws/v1alpha1",
            "kind": "HyperParameterTuningJob", "metadata": {"name": "h"},
            "spec": {"hyperParameterTuningJobName": "h", "hyperParameterTuningJobConfig": {}},
            "status": status}))
        .expect("a HyperParameterTuningJob")
    }

    #[test]
    fn the_job_rule() {
        check_job_rule(job, "hyperParameterTuningJobStatus");
    }

    #[test]
    fn the_best_training_job_is_logged() {
        let facts = progress(&job(json!({"hyperParameterTuningJobStatus": "InProgress",
            "bestTrainingJob": {"trainingJobName": "h-003-abcd",
                "finalHyperParameterTuningJobObjectiveMetric": {"metricName": "validation:auc", "value": 0.91}}})));
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
    fn the_name_limit_is_the_crds() {
        let crd = include_str!(
            "../../../crds/sagemaker-controller/sagemaker.services.k8s.aws_hyperparametertuningjobs.yaml"
        );
        assert_eq!(
            pattern_max_len(crd, "hyperParameterTuningJobName"),
            HyperParameterTuningJob::NAME_MAX
        );
    }

    #[test]
    fn links() {
        let links = HyperParameterTuningJob::links(
            "arn:aws:sagemaker:us-west-2:1:hyper-parameter-tuning-job/h",
            "h",
        );
        assert!(links[0].1.ends_with("#/hyper-tuning-jobs/h"), "{links:?}");
    }
}
