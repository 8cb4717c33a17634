//! What SageMaker holds: the resources by kind and name, the scripts by name, the faults
//! still to answer, and the log of every call. One mutex around it all: every operation
//! is a few map look-ups.

use std::collections::{BTreeMap, HashMap};
use std::time::SystemTime;

use serde_json::{Value, json};

use crate::calls::Call;
use crate::describe::{Lookup, describe};
use crate::error::AwsError;
use crate::kind::{Class, Kind, Verb};
use crate::record::Record;
use crate::script::{Fault, Script};

/// The account every ARN and the STS answer name, unless the server was started with
/// another.
pub const DEFAULT_ACCOUNT: &str = "123456789012";

#[derive(Debug)]
pub(crate) struct Store {
    pub account: String,
    pub default_script: Script,
    scripts: HashMap<String, Script>,
    faults: HashMap<String, Vec<Fault>>,
    records: BTreeMap<(Kind, String), Record>,
    pub calls: Vec<Call>,
}

impl Lookup for BTreeMap<(Kind, String), Record> {
    fn lookup(&self, kind: Kind, name: &str) -> Option<&Record> {
        self.get(&(kind, name.to_string()))
    }
}

impl Store {
    pub fn new(account: String, default_script: Script) -> Store {
        Store {
            account,
            default_script,
            scripts: HashMap::new(),
            faults: HashMap::new(),
            records: BTreeMap::new(),
            calls: Vec::new(),
        }
    }

    pub fn set_script(&mut self, name: &str, script: Script) {
        self.faults.insert(name.into(), script.faults.clone());
        self.scripts.insert(name.into(), script);
    }

    fn script(&self, name: &str) -> Script {
        self.scripts
            .get(name)
            .cloned()
            .unwrap_or_else(|| self.default_script.clone())
    }

    /// Ends the current phase of every resource named `name`; false if there is none.
    pub fn advance(&mut self, name: &str) -> bool {
        let mut found = false;
        for ((_, n), record) in &mut self.records {
            if n == name {
                record.advance();
                found = true;
            }
        }
        found
    }

    /// The Describe answer SageMaker would give now, without counting as a Describe.
    pub fn peek(&self, kind: Kind, name: &str) -> Option<Value> {
        let record = self.records.get(&(kind, name.to_string()))?;
        Some(describe(record, &self.records))
    }

    /// Creates a resource as a `Create<Kind>` would, outside the call log (a resource
    /// SageMaker already holds when a test begins).
    pub fn seed(&mut self, kind: Kind, region: &str, request: &Value) -> Result<String, AwsError> {
        self.create(kind, region, request)
    }

    /// How long the answer to `op` about the resource `request` names is held back
    /// ([`Script::slow`]).
    pub fn delay(&self, op: &str, request: &Value) -> Option<std::time::Duration> {
        let (kind, verb) = Kind::operation(op)?;
        let name = name_in(kind, request)?;
        let script = self.scripts.get(&name)?;
        script
            .slow
            .iter()
            .find(|(v, _)| *v == verb)
            .map(|(_, after)| *after)
    }

    /// Answers one operation and logs it.
    pub fn call(&mut self, op: &str, region: &str, request: Value) -> Result<Value, AwsError> {
        let operation = Kind::operation(op);
        let name = operation.and_then(|(kind, _)| name_in(kind, &request));
        let answer = match operation {
            None => Err(AwsError::new(
                400,
                "UnknownOperationException",
                format!("The operation {op} is not offered by this SageMaker API"),
            )),
            Some((kind, verb)) => self.answer(kind, verb, name.as_deref(), region, &request),
        };
        self.calls.push(Call {
            op: op.into(),
            kind: operation.map(|(k, _)| k),
            verb: operation.map(|(_, v)| v),
            name,
            region: region.into(),
            request,
            error: answer.as_ref().err().cloned(),
            at: SystemTime::now(),
        });
        answer
    }

    /// Logs the STS call (answered by the wire layer).
    pub fn log_sts(&mut self, region: &str) {
        self.calls.push(Call {
            op: "sts:GetCallerIdentity".into(),
            kind: None,
            verb: None,
            name: None,
            region: region.into(),
            request: Value::Null,
            error: None,
            at: SystemTime::now(),
        });
    }

    fn answer(
        &mut self,
        kind: Kind,
        verb: Verb,
        name: Option<&str>,
        region: &str,
        request: &Value,
    ) -> Result<Value, AwsError> {
        let Some(name) = name else {
            return Err(AwsError::validation(format!(
                "1 validation error detected: Value null at '{}' failed to satisfy constraint: \
                 Member must not be null",
                lower_first(kind.name_member())
            )));
        };
        if let Some(error) = self.take_fault(name, verb) {
            return Err(error);
        }
        let arn = kind.arn(region, &self.account, name);
        match verb {
            Verb::Create => self
                .create(kind, region, request)
                .map(|arn| json!({ kind.arn_member(): arn })),
            Verb::Describe => {
                let key = (kind, name.to_string());
                let Some(record) = self.records.get_mut(&key) else {
                    return Err(kind.not_found(name, &arn));
                };
                if !record.advance_timeline() {
                    self.records.remove(&key);
                    return Err(kind.not_found(name, &arn));
                }
                record.count_describe();
                let record = &self.records[&key];
                Ok(describe(record, &self.records))
            }
            Verb::Stop => {
                let record = self.live(kind, name, &arn)?;
                let status = record.shown().status.unwrap_or_default();
                if status != "InProgress" {
                    return Err(AwsError::validation(format!(
                        "The request was rejected because the {} is in status {status}.",
                        kind.api_name()
                    )));
                }
                record.stop();
                Ok(json!({}))
            }
            Verb::Delete => {
                let key = (kind, name.to_string());
                let record = self.live(kind, name, &arn)?;
                let status = record.shown().status.unwrap_or_default();
                if kind == Kind::Endpoint
                    && !matches!(status.as_str(), "InService" | "Failed" | "OutOfService")
                {
                    return Err(AwsError::validation(format!(
                        "Cannot delete endpoint \"{arn}\" in status {status}."
                    )));
                }
                if !record.delete() {
                    self.records.remove(&key);
                }
                Ok(json!({}))
            }
            Verb::Update => self.update(kind, name, &arn, request),
        }
    }

    /// The record, its timeline brought up to date; "not found" if it is gone.
    fn live(&mut self, kind: Kind, name: &str, arn: &str) -> Result<&mut Record, AwsError> {
        let key = (kind, name.to_string());
        let gone = match self.records.get_mut(&key) {
            None => return Err(kind.not_found(name, arn)),
            Some(record) => !record.advance_timeline(),
        };
        if gone {
            self.records.remove(&key);
            return Err(kind.not_found(name, arn));
        }
        Ok(self.records.get_mut(&key).expect("present"))
    }

    fn create(&mut self, kind: Kind, region: &str, request: &Value) -> Result<String, AwsError> {
        let name = name_in(kind, request).ok_or_else(|| {
            AwsError::validation(format!("Member must not be null: {}", kind.name_member()))
        })?;
        let script = self.script(&name);
        if let Some(error) = &script.refuse_create {
            return Err(error.clone());
        }
        let arn = kind.arn(region, &self.account, &name);
        if self.records.contains_key(&(kind, name.clone())) {
            return Err(kind.already_exists(&arn));
        }
        self.check_references(kind, region, request)?;
        let mut request = request.as_object().cloned().unwrap_or_default();
        request.remove("Tags");
        let record = Record::new(kind, &name, arn.clone(), request, script);
        self.records.insert((kind, name), record);
        Ok(arn)
    }

    /// What SageMaker refuses to create because a resource it names does not exist.
    fn check_references(&self, kind: Kind, region: &str, request: &Value) -> Result<(), AwsError> {
        let missing = |of: Kind, name: &str| {
            let arn = of.arn(region, &self.account, name);
            match of {
                Kind::EndpointConfig => AwsError::validation(format!(
                    "Could not find endpoint configuration \"{arn}\"."
                )),
                Kind::Model => AwsError::validation(format!("Could not find model \"{arn}\".")),
                _ => AwsError::validation(format!("Could not find job definition \"{arn}\".")),
            }
        };
        let has = |of: Kind, name: &str| self.records.contains_key(&(of, name.to_string()));
        let text = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).map(str::to_string);
        match kind {
            Kind::Endpoint => {
                if let Some(config) = text(request, "EndpointConfigName")
                    && !has(Kind::EndpointConfig, &config)
                {
                    return Err(missing(Kind::EndpointConfig, &config));
                }
            }
            Kind::EndpointConfig => {
                let variants = request.get("ProductionVariants").and_then(Value::as_array);
                for model in variants
                    .into_iter()
                    .flatten()
                    .filter_map(|v| text(v, "ModelName"))
                {
                    if !has(Kind::Model, &model) {
                        return Err(missing(Kind::Model, &model));
                    }
                }
            }
            Kind::TransformJob => {
                if let Some(model) = text(request, "ModelName")
                    && !has(Kind::Model, &model)
                {
                    return Err(missing(Kind::Model, &model));
                }
            }
            Kind::MonitoringSchedule => {
                let config = request
                    .get("MonitoringScheduleConfig")
                    .cloned()
                    .unwrap_or_default();
                if let Some(definition) = text(&config, "MonitoringJobDefinitionName") {
                    let known = [
                        Kind::DataQualityJobDefinition,
                        Kind::ModelBiasJobDefinition,
                        Kind::ModelExplainabilityJobDefinition,
                        Kind::ModelQualityJobDefinition,
                    ]
                    .iter()
                    .any(|k| has(*k, &definition));
                    if !known {
                        return Err(missing(Kind::DataQualityJobDefinition, &definition));
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn update(
        &mut self,
        kind: Kind,
        name: &str,
        arn: &str,
        request: &Value,
    ) -> Result<Value, AwsError> {
        let mut update = request.as_object().cloned().unwrap_or_default();
        update.remove(kind.name_member());
        if kind == Kind::Endpoint {
            update.remove("RetainAllVariantProperties");
            update.remove("RetainDeploymentConfig");
            update.remove("ExcludeRetainedVariantProperties");
            let region = arn.split(':').nth(3).unwrap_or_default().to_string();
            self.check_references(kind, &region, request)?;
        }
        let record = self.live(kind, name, arn)?;
        let status = record.shown().status.unwrap_or_default();
        match kind.class() {
            Class::Endpoint if status != "InService" => Err(AwsError::validation(format!(
                "Cannot update in-progress endpoint \"{arn}\"."
            ))),
            Class::Schedule if status == "Pending" => Err(AwsError::validation(format!(
                "Cannot update monitoring schedule \"{arn}\" in status Pending."
            ))),
            Class::Endpoint | Class::Schedule => {
                record.update(update);
                Ok(json!({ kind.arn_member(): arn }))
            }
            // UpdateTrainingJob (warm pool, profiler): taken at once.
            _ => {
                for (key, value) in update {
                    if let (Some(Value::Object(old)), Value::Object(new)) =
                        (record.request.get_mut(&key), &value)
                    {
                        old.extend(new.clone());
                    } else {
                        record.request.insert(key, value);
                    }
                }
                Ok(json!({ kind.arn_member(): arn }))
            }
        }
    }

    fn take_fault(&mut self, name: &str, verb: Verb) -> Option<AwsError> {
        let faults = self.faults.get_mut(name)?;
        let fault = faults
            .iter_mut()
            .find(|f| f.times > 0 && f.verb.is_none_or(|v| v == verb))?;
        fault.times -= 1;
        Some(fault.error.clone())
    }

    /// Every resource SageMaker holds, as (kind, name).
    pub fn resources(&self) -> Vec<(Kind, String)> {
        self.records.keys().cloned().collect()
    }
}

/// The resource name a request gives (a ModelPackageGroup may be named by its ARN).
fn name_in(kind: Kind, request: &Value) -> Option<String> {
    let name = request.get(kind.name_member())?.as_str()?;
    Some(match name.strip_prefix("arn:") {
        Some(arn) => arn.rsplit('/').next().unwrap_or(arn).to_string(),
        None => name.to_string(),
    })
}

fn lower_first(member: &str) -> String {
    let mut chars = member.chars();
    chars
        .next()
        .map(|c| c.to_ascii_lowercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> Store {
        Store::new(DEFAULT_ACCOUNT.into(), Script::completes())
    }

    #[test]
    fn describe_echoes_create_with_arn_status_and_filled_in_defaults() {
        let mut s = store();
        let request = json!({
            "TrainingJobName": "Train-1",
            "AlgorithmSpecification": {"TrainingImage": "img", "TrainingInputMode": "File"},
            "OutputDataConfig": {"S3OutputPath": "s3://b/out/"},
            "ResourceConfig": {"InstanceType": "ml.m5.large", "VolumeSizeInGB": 5},
            "InputDataConfig": [{"ChannelName": "train"}],
            "StoppingCondition": {"MaxRuntimeInSeconds": 60},
            "HyperParameters": {"a": "1"},
            "Tags": [{"Key": "k", "Value": "v"}],
        });
        let created = s.call("CreateTrainingJob", "us-west-2", request).unwrap();
        assert_eq!(
            created,
            json!({"TrainingJobArn": "arn:aws:sagemaker:us-west-2:123456789012:training-job/train-1"})
        );
        let d = s
            .call(
                "DescribeTrainingJob",
                "us-west-2",
                json!({"TrainingJobName": "Train-1"}),
            )
            .unwrap();
        assert_eq!(d["TrainingJobStatus"], "Completed");
        assert_eq!(d["SecondaryStatus"], "Completed");
        assert_eq!(d["HyperParameters"], json!({"a": "1"}));
        assert_eq!(d["StoppingCondition"], json!({"MaxRuntimeInSeconds": 60}));
        assert_eq!(
            d["AlgorithmSpecification"]["EnableSageMakerMetricsTimeSeries"],
            false
        );
        assert_eq!(d["OutputDataConfig"]["CompressionType"], "GZIP");
        assert_eq!(d["OutputDataConfig"]["KmsKeyId"], "");
        assert_eq!(d["ResourceConfig"]["InstanceCount"], 1);
        assert_eq!(d["InputDataConfig"][0]["RecordWrapperType"], "None");
        assert_eq!(d["EnableNetworkIsolation"], false);
        assert_eq!(
            d["ModelArtifacts"]["S3ModelArtifacts"],
            "s3://b/out/Train-1/output/model.tar.gz"
        );
        assert!(
            d["CreationTime"].is_f64(),
            "epoch seconds: {}",
            d["CreationTime"]
        );
        assert!(d.get("Tags").is_none());
    }

    #[test]
    fn each_kind_answers_its_own_not_found_and_duplicate_errors() {
        let mut s = store();
        let e = s
            .call(
                "DescribeProcessingJob",
                "us-east-1",
                json!({"ProcessingJobName": "p"}),
            )
            .unwrap_err();
        assert_eq!(e.code, "ValidationException");
        assert!(e.message.starts_with("Could not find requested job"), "{e}");
        let e = s
            .call(
                "DescribeMonitoringSchedule",
                "us-east-1",
                json!({"MonitoringScheduleName": "m"}),
            )
            .unwrap_err();
        assert_eq!(e.code, "ResourceNotFound");
        let e = s
            .call(
                "DescribeModelPackageGroup",
                "us-east-1",
                json!({"ModelPackageGroupName": "g"}),
            )
            .unwrap_err();
        assert!(e.message.ends_with("does not exist."), "{e}");

        s.call(
            "CreateProcessingJob",
            "us-east-1",
            json!({"ProcessingJobName": "p"}),
        )
        .unwrap();
        let e = s
            .call(
                "CreateProcessingJob",
                "us-east-1",
                json!({"ProcessingJobName": "p"}),
            )
            .unwrap_err();
        assert_eq!(e.code, "ResourceInUse");
        s.call("CreateModel", "us-east-1", json!({"ModelName": "m"}))
            .unwrap();
        let e = s
            .call("CreateModel", "us-east-1", json!({"ModelName": "m"}))
            .unwrap_err();
        assert_eq!(e.code, "ValidationException");
        assert!(
            e.message
                .starts_with("Cannot create already existing model"),
            "{e}"
        );
    }

    #[test]
    fn an_endpoint_needs_its_configuration_and_shows_its_variants() {
        let mut s = store();
        let e = s
            .call(
                "CreateEndpoint",
                "us-east-1",
                json!({"EndpointName": "e", "EndpointConfigName": "c"}),
            )
            .unwrap_err();
        assert!(
            e.message
                .starts_with("Could not find endpoint configuration"),
            "{e}"
        );
        s.call(
            "CreateModel",
            "us-east-1",
            json!({"ModelName": "m", "PrimaryContainer": {"Image": "repo/img:1"}}),
        )
        .unwrap();
        s.call(
            "CreateEndpointConfig",
            "us-east-1",
            json!({"EndpointConfigName": "c", "ProductionVariants": [
                {"VariantName": "v", "ModelName": "m", "InitialInstanceCount": 2}]}),
        )
        .unwrap();
        s.call(
            "CreateEndpoint",
            "us-east-1",
            json!({"EndpointName": "e", "EndpointConfigName": "c"}),
        )
        .unwrap();
        let d = s
            .call(
                "DescribeEndpoint",
                "us-east-1",
                json!({"EndpointName": "e"}),
            )
            .unwrap();
        assert_eq!(d["EndpointStatus"], "InService");
        let variant = &d["ProductionVariants"][0];
        assert_eq!(variant["VariantName"], "v");
        assert_eq!(variant["CurrentInstanceCount"], 2);
        assert_eq!(variant["DeployedImages"][0]["SpecifiedImage"], "repo/img:1");
        assert!(
            variant["DeployedImages"][0]["ResolvedImage"]
                .as_str()
                .unwrap()
                .starts_with("repo/img@sha256:")
        );
    }

    #[test]
    fn faults_come_first_and_are_used_up() {
        let mut s = store();
        s.set_script(
            "t",
            Script::completes().fault(Some(Verb::Describe), AwsError::throttling(), 2),
        );
        let describe = |s: &mut Store| {
            s.call(
                "DescribeTransformJob",
                "us-east-1",
                json!({"TransformJobName": "t"}),
            )
            .unwrap_err()
            .code
        };
        assert_eq!(describe(&mut s), "ThrottlingException");
        assert_eq!(describe(&mut s), "ThrottlingException");
        assert_eq!(describe(&mut s), "ValidationException");
        assert_eq!(s.calls.len(), 3);
    }

    #[test]
    fn stop_is_refused_unless_the_job_runs() {
        let mut s = store();
        s.call(
            "CreateTrainingJob",
            "us-east-1",
            json!({"TrainingJobName": "t"}),
        )
        .unwrap();
        let e = s
            .call(
                "StopTrainingJob",
                "us-east-1",
                json!({"TrainingJobName": "t"}),
            )
            .unwrap_err();
        assert_eq!(e.code, "ValidationException");
    }
}
