//! Describe answers: the Create request echoed, plus what SageMaker fills in.
//!
//! What SageMaker fills in is limited to what the controller's own sources show it
//! receiving: its late-initialized fields (`manager.go`, which loops every 5 s until a
//! Describe carries them), the defaults its `customSetDefaults` copies back from a
//! Describe (`custom_delta.go`: it only does that because SageMaker returns them), and the
//! fields its `testdata/` answers hold that their requests did not. A field SageMaker may
//! default without such evidence is echoed as the request had it (or left out), and the
//! crate docs list it.

use serde_json::{Map, Value, json};

use crate::kind::{Class, Kind};
use crate::record::{Record, Shown};

/// Finds another resource SageMaker holds (an Endpoint's configuration and models).
pub(crate) trait Lookup {
    fn lookup(&self, kind: Kind, name: &str) -> Option<&Record>;
}

/// The whole Describe answer for `record`, as of its current phase.
pub(crate) fn describe(record: &Record, others: &dyn Lookup) -> Value {
    let shown = record.shown();
    let mut out = record.request.clone();
    out.insert(record.kind.arn_member().into(), json!(record.arn));
    if let (Some(member), Some(status)) = (record.kind.status_member(), &shown.status) {
        out.insert(member.into(), json!(status));
    }
    if let Some(reason) = &shown.failure_reason {
        out.insert("FailureReason".into(), json!(reason));
    }
    out.insert("CreationTime".into(), json!(record.created));
    if record.kind.class() != Class::Definition {
        out.insert("LastModifiedTime".into(), json!(record.modified));
    }
    match record.kind {
        Kind::TrainingJob => training_job(&mut out, record, &shown),
        Kind::HyperParameterTuningJob => tuning_job(&mut out, record, &shown),
        Kind::ProcessingJob => processing_job(&mut out, record, &shown),
        Kind::TransformJob => transform_job(&mut out, record, &shown),
        Kind::Model => model(&mut out),
        Kind::EndpointConfig => {
            default(&mut out, "EnableNetworkIsolation", json!(false));
        }
        Kind::Endpoint => endpoint(&mut out, record, &shown, others),
        Kind::MonitoringSchedule => monitoring_schedule(&mut out, others),
        Kind::ModelPackageGroup => {
            default(&mut out, "CreatedBy", json!({}));
        }
        Kind::DataQualityJobDefinition
        | Kind::ModelBiasJobDefinition
        | Kind::ModelExplainabilityJobDefinition
        | Kind::ModelQualityJobDefinition => {}
    }
    Value::Object(out)
}

/// Sets `key` unless the request had it.
fn default(obj: &mut Map<String, Value>, key: &str, value: Value) {
    if obj.get(key).is_none_or(Value::is_null) {
        obj.insert(key.into(), value);
    }
}

/// The object at `key`, if the request had one.
fn object<'a>(obj: &'a mut Map<String, Value>, key: &str) -> Option<&'a mut Map<String, Value>> {
    obj.get_mut(key).and_then(Value::as_object_mut)
}

/// The object at `key`, made empty if the request had none.
fn object_or_new<'a>(obj: &'a mut Map<String, Value>, key: &str) -> &'a mut Map<String, Value> {
    if !obj.get(key).is_some_and(Value::is_object) {
        obj.insert(key.into(), json!({}));
    }
    obj.get_mut(key)
        .and_then(Value::as_object_mut)
        .expect("just inserted")
}

/// The objects of the list at `key`.
fn items<'a>(
    obj: &'a mut Map<String, Value>,
    key: &str,
) -> impl Iterator<Item = &'a mut Map<String, Value>> {
    obj.get_mut(key)
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object_mut)
}

fn ended(shown: &Shown) -> bool {
    matches!(
        shown.status.as_deref(),
        Some("Completed" | "Failed" | "Stopped")
    )
}

/// The seven late-initialized fields, `RecordWrapperType` per channel, and the status
/// members the controller copies.
fn training_job(out: &mut Map<String, Value>, record: &Record, shown: &Shown) {
    if let Some(algorithm) = object(out, "AlgorithmSpecification") {
        default(algorithm, "EnableSageMakerMetricsTimeSeries", json!(false));
    }
    for flag in [
        "EnableInterContainerTrafficEncryption",
        "EnableManagedSpotTraining",
        "EnableNetworkIsolation",
    ] {
        default(out, flag, json!(false));
    }
    let output_path = object(out, "OutputDataConfig").map(|o| {
        default(o, "CompressionType", json!("GZIP"));
        default(o, "KmsKeyId", json!(""));
        o.get("S3OutputPath")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .trim_end_matches('/')
            .to_string()
    });
    if let Some(resources) = object(out, "ResourceConfig") {
        default(resources, "InstanceCount", json!(1));
    }
    for channel in items(out, "InputDataConfig") {
        default(channel, "RecordWrapperType", json!("None"));
    }
    if let Some(secondary) = &shown.secondary_status {
        out.insert("SecondaryStatus".into(), json!(secondary));
    }
    let profiling = out
        .get("ProfilerConfig")
        .is_some_and(|p| p.get("DisableProfiler") != Some(&json!(true)));
    out.insert(
        "ProfilingStatus".into(),
        json!(if profiling { "Enabled" } else { "Disabled" }),
    );
    out.insert("TrainingStartTime".into(), json!(record.created));
    let status = shown.status.as_deref().unwrap_or_default();
    if ended(shown) {
        out.insert("TrainingEndTime".into(), json!(record.entered));
        // Integers (int32 in the API): a JSON number with a fraction fails to decode.
        let seconds = (record.entered - record.created).max(1.0).round() as i64;
        out.insert("TrainingTimeInSeconds".into(), json!(seconds));
        out.insert("BillableTimeInSeconds".into(), json!(seconds));
    }
    if status == "Completed" {
        let path = output_path.unwrap_or_default();
        out.insert(
            "ModelArtifacts".into(),
            json!({"S3ModelArtifacts": format!("{path}/{}/output/model.tar.gz", record.name)}),
        );
        let warm_pool = out
            .get("ResourceConfig")
            .and_then(|r| r.get("KeepAlivePeriodInSeconds"))
            .is_some();
        if warm_pool {
            out.insert(
                "WarmPoolStatus".into(),
                json!({"Status": "Available", "ResourceRetainedBillableTimeInSeconds": 0}),
            );
        }
    }
    let rule_status = match status {
        "InProgress" | "Stopping" => "InProgress",
        "Completed" => record.script.rules_end.as_str(),
        _ => "Stopped",
    };
    for (config, statuses, job) in [
        (
            "DebugRuleConfigurations",
            "DebugRuleEvaluationStatuses",
            "debug",
        ),
        (
            "ProfilerRuleConfigurations",
            "ProfilerRuleEvaluationStatuses",
            "profiler",
        ),
    ] {
        if job == "profiler" && !profiling {
            continue;
        }
        let rules: Vec<Value> = out
            .get(config)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|rule| rule.get("RuleConfigurationName").and_then(Value::as_str))
            .map(|rule| {
                json!({
                    "RuleConfigurationName": rule,
                    "RuleEvaluationJobArn": rule_job_arn(&record.arn, &record.name, rule),
                    "RuleEvaluationStatus": rule_status,
                    "LastModifiedTime": record.modified,
                })
            })
            .collect();
        if !rules.is_empty() {
            out.insert(statuses.into(), Value::Array(rules));
        }
    }
}

/// A rule's evaluation runs as a processing job named after the training job and rule.
fn rule_job_arn(job_arn: &str, job: &str, rule: &str) -> String {
    let prefix = job_arn.split(":training-job/").next().unwrap_or_default();
    format!(
        "{prefix}:processing-job/{}-{}-{:08x}",
        job.to_ascii_lowercase(),
        rule.to_ascii_lowercase(),
        short_hash(&format!("{job}/{rule}"))
    )
}

/// A stable 32-bit hash (FNV-1a) for made-up job names and image digests.
fn short_hash(text: &str) -> u32 {
    text.bytes().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

/// A tuning job's training definitions get the defaults a training job gets, the
/// objective as `_tuning_objective_metric` among the static hyperparameters and an
/// `ObjectiveMetric` metric definition (both from the testdata); once Completed, a best
/// training job.
fn tuning_job(out: &mut Map<String, Value>, record: &Record, shown: &Shown) {
    let objective = out
        .get("HyperParameterTuningJobConfig")
        .and_then(|c| c.get("HyperParameterTuningJobObjective"))
        .cloned()
        .unwrap_or(json!({}));
    let metric = objective
        .get("MetricName")
        .and_then(Value::as_str)
        .unwrap_or("objective")
        .to_string();
    let fill = |definition: &mut Map<String, Value>| {
        if let Some(algorithm) = object(definition, "AlgorithmSpecification") {
            default(
                algorithm,
                "MetricDefinitions",
                json!([{"Name": "ObjectiveMetric", "Regex": format!(".*{metric}=([-+]?[0-9]*\\.?[0-9]+).*")}]),
            );
        }
        for flag in [
            "EnableInterContainerTrafficEncryption",
            "EnableManagedSpotTraining",
            "EnableNetworkIsolation",
        ] {
            default(definition, flag, json!(false));
        }
        if let Some(resources) = object(definition, "ResourceConfig") {
            default(resources, "InstanceCount", json!(1));
        }
        object_or_new(definition, "StaticHyperParameters")
            .insert("_tuning_objective_metric".into(), json!(metric));
    };
    if let Some(definition) = object(out, "TrainingJobDefinition") {
        fill(definition);
    }
    for definition in items(out, "TrainingJobDefinitions") {
        fill(definition);
    }
    let completed = shown.status.as_deref() == Some("Completed");
    let count = |n: u32| if completed { n } else { 0 };
    out.insert(
        "TrainingJobStatusCounters".into(),
        json!({"Completed": count(2), "InProgress": 0, "NonRetryableError": 0, "RetryableError": 0, "Stopped": 0}),
    );
    out.insert(
        "ObjectiveStatusCounters".into(),
        json!({"Failed": 0, "Pending": 0, "Succeeded": count(2)}),
    );
    if ended(shown) {
        out.insert("HyperParameterTuningEndTime".into(), json!(record.entered));
    }
    if completed {
        let name = format!("{}-002-{:08x}", record.name, short_hash(&record.name));
        let region_account = record
            .arn
            .split(":hyper-parameter-tuning-job/")
            .next()
            .unwrap_or_default();
        let tuned: Map<String, Value> = out
            .get("HyperParameterTuningJobConfig")
            .and_then(|c| c.get("ParameterRanges"))
            .and_then(Value::as_object)
            .into_iter()
            .flat_map(|ranges| ranges.values())
            .filter_map(Value::as_array)
            .flatten()
            .filter_map(|range| {
                let name = range.get("Name")?.as_str()?;
                let value = range
                    .get("MinValue")
                    .or_else(|| range.get("Values").and_then(|v| v.get(0)))?;
                Some((name.to_string(), value.clone()))
            })
            .collect();
        out.insert(
            "BestTrainingJob".into(),
            json!({
                "TrainingJobName": name,
                "TrainingJobArn": format!("{region_account}:training-job/{}", name.to_ascii_lowercase()),
                "TrainingJobStatus": "Completed",
                "ObjectiveStatus": "Succeeded",
                "FinalHyperParameterTuningJobObjectiveMetric": {
                    "MetricName": metric,
                    "Type": objective.get("Type").cloned().unwrap_or(json!("Minimize")),
                    "Value": 0.125,
                },
                "TunedHyperParameters": tuned,
                "CreationTime": record.created,
                "TrainingStartTime": record.created,
                "TrainingEndTime": record.entered,
            }),
        );
    }
}

/// Defaults its `customSetDefaults` copies back (they are also in its testdata).
fn processing_job(out: &mut Map<String, Value>, record: &Record, shown: &Shown) {
    for input in items(out, "ProcessingInputs") {
        default(input, "AppManaged", json!(false));
        if let Some(s3) = object(input, "S3Input") {
            default(s3, "S3DataDistributionType", json!("FullyReplicated"));
        }
    }
    if let Some(config) = object(out, "ProcessingOutputConfig") {
        for output in items(config, "Outputs") {
            default(output, "AppManaged", json!(false));
        }
    }
    default(
        object_or_new(out, "StoppingCondition"),
        "MaxRuntimeInSeconds",
        json!(86400),
    );
    out.insert("ProcessingStartTime".into(), json!(record.created));
    if ended(shown) {
        out.insert("ProcessingEndTime".into(), json!(record.entered));
    }
}

/// The two late-initialized fields and the defaults its `customSetDefaults` copies back
/// (all in its testdata).
fn transform_job(out: &mut Map<String, Value>, record: &Record, shown: &Shown) {
    let processing = object_or_new(out, "DataProcessing");
    default(processing, "InputFilter", json!("$"));
    default(processing, "JoinSource", json!("None"));
    default(processing, "OutputFilter", json!("$"));
    if let Some(input) = object(out, "TransformInput") {
        default(input, "CompressionType", json!("None"));
        default(input, "SplitType", json!("None"));
    }
    if let Some(output) = object(out, "TransformOutput") {
        default(output, "AssembleWith", json!("None"));
        default(output, "KmsKeyId", json!(""));
    }
    out.insert("TransformStartTime".into(), json!(record.created));
    if ended(shown) {
        out.insert("TransformEndTime".into(), json!(record.entered));
    }
}

/// The late-initialized `EnableNetworkIsolation` and the containers' `Mode` (its
/// `customSetDefaults`; in its testdata).
fn model(out: &mut Map<String, Value>) {
    default(out, "EnableNetworkIsolation", json!(false));
    if let Some(container) = object(out, "PrimaryContainer") {
        default(container, "Mode", json!("SingleModel"));
    }
    for container in items(out, "Containers") {
        default(container, "Mode", json!("SingleModel"));
    }
}

/// `DeploymentConfig` is answered as `LastDeploymentConfig`; the variants as deployed
/// from the configuration (instance counts and weights, the model's image resolved to a
/// digest); while an update is pending, its configuration's name and a
/// `PendingDeploymentSummary`.
fn endpoint(out: &mut Map<String, Value>, record: &Record, shown: &Shown, others: &dyn Lookup) {
    if let Some(config) = out.remove("DeploymentConfig") {
        out.insert("LastDeploymentConfig".into(), config);
    }
    let status = shown.status.as_deref().unwrap_or_default();
    let config_name = |request: &Map<String, Value>| {
        request
            .get("EndpointConfigName")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    if !matches!(status, "Creating" | "Failed") {
        let variants = deployed_variants(&config_name(&record.request), record, others, true);
        out.insert("ProductionVariants".into(), Value::Array(variants));
    }
    if let Some(pending) = &record.pending
        && status == "Updating"
    {
        let name = config_name(pending);
        out.insert("EndpointConfigName".into(), json!(name));
        if let Some(config) = pending.get("DeploymentConfig") {
            out.insert("LastDeploymentConfig".into(), config.clone());
        }
        out.insert(
            "PendingDeploymentSummary".into(),
            json!({
                "EndpointConfigName": name,
                "ProductionVariants": deployed_variants(&name, record, others, false),
                "StartTime": record.pending_since,
            }),
        );
    }
}

/// The variants of `config` as an Endpoint's Describe shows them.
fn deployed_variants(config: &str, record: &Record, others: &dyn Lookup, live: bool) -> Vec<Value> {
    let Some(config) = others.lookup(Kind::EndpointConfig, config) else {
        return Vec::new();
    };
    config
        .request
        .get("ProductionVariants")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|variant| {
            let count = variant
                .get("InitialInstanceCount")
                .cloned()
                .unwrap_or(json!(1));
            let weight = variant
                .get("InitialVariantWeight")
                .cloned()
                .unwrap_or(json!(1.0));
            let image = variant
                .get("ModelName")
                .and_then(Value::as_str)
                .and_then(|model| others.lookup(Kind::Model, model))
                .and_then(|model| {
                    model
                        .request
                        .get("PrimaryContainer")
                        .or_else(|| model.request.get("Containers").and_then(|c| c.get(0)))
                        .and_then(|c| c.get("Image"))
                        .and_then(Value::as_str)
                        .map(str::to_string)
                });
            let mut shown = json!({
                "VariantName": variant.get("VariantName").cloned().unwrap_or(Value::Null),
                "CurrentInstanceCount": if live { count.clone() } else { json!(0) },
                "DesiredInstanceCount": count,
                "CurrentWeight": if live { weight.clone() } else { json!(0.0) },
                "DesiredWeight": weight,
            });
            if let Some(image) = image {
                let repository = image.split(':').next().unwrap_or(&image);
                shown["DeployedImages"] = json!([{
                    "SpecifiedImage": image,
                    "ResolvedImage": format!("{repository}@sha256:{}", digest(&image)),
                    "ResolutionTime": record.created,
                }]);
            }
            shown
        })
        .collect()
}

/// A made-up image digest, stable per image.
fn digest(image: &str) -> String {
    (0..8)
        .map(|i| format!("{:08x}", short_hash(&format!("{i}{image}"))))
        .collect()
}

/// The monitoring type and endpoint, from the schedule's config or the job definition it
/// names.
fn monitoring_schedule(out: &mut Map<String, Value>, others: &dyn Lookup) {
    let config = out
        .get("MonitoringScheduleConfig")
        .cloned()
        .unwrap_or(json!({}));
    let named = config
        .get("MonitoringJobDefinitionName")
        .and_then(Value::as_str);
    let definition = named.and_then(|name| {
        DEFINITIONS
            .iter()
            .find_map(|(kind, type_)| Some((others.lookup(*kind, name)?, *type_)))
    });
    let monitoring_type = config
        .get("MonitoringType")
        .and_then(Value::as_str)
        .or(definition.map(|(_, t)| t))
        .unwrap_or("DataQuality");
    out.insert("MonitoringType".into(), json!(monitoring_type));
    let endpoint = definition
        .map(|(d, _)| Value::Object(d.request.clone()))
        .or_else(|| config.get("MonitoringJobDefinition").cloned())
        .and_then(|d| find_endpoint_name(&d));
    if let Some(endpoint) = endpoint {
        out.insert("EndpointName".into(), json!(endpoint));
    }
}

const DEFINITIONS: [(Kind, &str); 4] = [
    (Kind::DataQualityJobDefinition, "DataQuality"),
    (Kind::ModelQualityJobDefinition, "ModelQuality"),
    (Kind::ModelBiasJobDefinition, "ModelBias"),
    (
        Kind::ModelExplainabilityJobDefinition,
        "ModelExplainability",
    ),
];

/// The first `EndpointInput.EndpointName` anywhere in a job definition.
fn find_endpoint_name(value: &Value) -> Option<String> {
    match value {
        Value::Object(map) => map
            .get("EndpointInput")
            .and_then(|e| e.get("EndpointName"))
            .and_then(Value::as_str)
            .map(str::to_string)
            .or_else(|| map.values().find_map(find_endpoint_name)),
        Value::Array(items) => items.iter().find_map(find_endpoint_name),
        _ => None,
    }
}
