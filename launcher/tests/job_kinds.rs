//! The job kinds (TrainingJob, HyperParameterTuningJob, ProcessingJob, TransformJob)
//! through the real launcher binary, as KFP runs it, on the real ACK controller with our
//! SageMaker API: what SageMaker does is each job's script, the controller's answer is its
//! own. Per outcome one test, each running the four kinds at once (the controller's 30 s
//! requeues overlap), on the binary's shared stack, a namespace per test. (The controller
//! killed and restarted mid-job, and the API server restarted, are `cluster_restart.rs`'s:
//! they need a stack of their own.)

mod common;

use std::time::Duration;

use common::kfp::{Outcome, REGION, Scene, each, finalizer};
use serde_json::{Value, json};
use testbed::FaultProxy;
use testbed::ack::{AwsError, Kind, Lasts, Phase, Script, Stage, Verb, abbr, is_true};

const JOBS: [Kind; 4] = [
    Kind::TrainingJob,
    Kind::HyperParameterTuningJob,
    Kind::ProcessingJob,
    Kind::TransformJob,
];

/// The account of our SageMaker's ARNs.
const ACCOUNT: &str = "123456789012";

/// What the launcher calls the job in its log.
fn noun(kind: Kind) -> &'static str {
    match kind {
        Kind::TrainingJob => "training job",
        Kind::HyperParameterTuningJob => "tuning job",
        Kind::ProcessingJob => "processing job",
        _ => "transform job",
    }
}

/// The job's page in the SageMaker console.
fn console_page(kind: Kind) -> &'static str {
    match kind {
        Kind::TrainingJob => "jobs",
        Kind::HyperParameterTuningJob => "hyper-tuning-jobs",
        Kind::ProcessingJob => "processing-jobs",
        _ => "transform-jobs",
    }
}

/// `Create<Kind>`, `Stop<Kind>`, ...
fn op(verb: Verb, kind: Kind) -> String {
    format!("{}{}", verb.prefix(), kind.api_name())
}

fn arn(kind: Kind, name: &str) -> String {
    kind.arn(REGION, ACCOUNT, name)
}

fn console(kind: Kind, name: &str) -> String {
    format!(
        "console: https://{REGION}.console.aws.amazon.com/sagemaker/home?region={REGION}#/{}/{name}",
        console_page(kind)
    )
}

/// Kinds whose inputs can hold secrets (`environment`).
const SECRET: &str = r#"{"STAGE": "test", "API_TOKEN": "s3cr3t-value"}"#;

fn has_environment(kind: Kind) -> bool {
    matches!(kind, Kind::TrainingJob | Kind::ProcessingJob)
}

/// SageMaker's calls about `name` answered without an error.
fn answered(scene: &Scene<'_>, name: &str, op: &str) -> usize {
    scene
        .sagemaker()
        .calls_for(name)
        .iter()
        .filter(|c| c.op == op && c.error.is_none())
        .count()
}

/// The status member's value SageMaker shows for `name` now.
fn sagemaker_state(scene: &Scene<'_>, kind: Kind, name: &str) -> Option<String> {
    let member = kind.status_member()?;
    scene.sagemaker().describe(kind, name)?[member]
        .as_str()
        .map(str::to_owned)
}

fn assert_log_has_no_secret(run: &Outcome<'_, '_>) {
    run.assert_not_logged("s3cr3t-value");
}

#[test]
fn each_job_succeeds_with_the_outputs_the_controller_wrote() {
    let scene = Scene::shared("jobs-ok");
    each(&JOBS, |&kind| {
        let name = scene.prepare(kind, abbr(kind), Script::completes());
        let mut launch = scene.launch(kind, &name);
        if has_environment(kind) {
            launch = launch.input("environment", SECRET);
        }
        let run = launch.run();
        run.assert_code(0);
        run.assert_outputs_written();
        run.assert_outputs_match();
        assert_eq!(run.state(), "Completed", "{}", run.context());
        assert_eq!(run.output("failure_reason"), "", "{}", run.context());
        assert_eq!(
            run.json("ack_resource_metadata")["arn"],
            arn(kind, &name).as_str(),
            "{}",
            run.context()
        );
        let synced = run.json("conditions");
        assert!(
            synced.as_array().is_some_and(|c| c
                .iter()
                .any(|c| c["type"] == "ACK.ResourceSynced" && c["status"] == "True")),
            "{}",
            run.context()
        );
        for line in [
            format!("{} status: Completed", noun(kind)),
            format!("SageMaker {} {}", noun(kind), arn(kind, &name)),
            console(kind, &name),
            "succeeded".to_owned(),
        ] {
            run.assert_logged(&line);
        }
        assert_log_has_no_secret(&run);

        // One SageMaker job. The resource is kept, with the launcher's annotations and
        // the controller's finalizer.
        assert_eq!(
            scene.sagemaker().count(&name, &op(Verb::Create, kind)),
            1,
            "{}",
            run.context()
        );
        assert_eq!(scene.names(kind), [name.as_str()], "{}", run.context());
        let resource = scene.get(kind, &name).expect("kept");
        let annotations = &resource["metadata"]["annotations"];
        assert_eq!(annotations["services.k8s.aws/region"], REGION, "{resource}");
        assert!(annotations["ack-kfp.launcher/spec-sha256"].is_string());
        assert_eq!(
            annotations["ack-kfp.launcher/kfp-run-step"],
            format!(
                "uid-jobs-ok/jobs-ok.{}",
                common::kfp::snake_case(kind.api_name())
            ),
        );
        assert_eq!(resource["metadata"]["finalizers"], json!([finalizer(kind)]));

        match kind {
            Kind::TrainingJob => {
                // The fields the controller late-initialised (a spec write: generation 2).
                assert_eq!(resource["metadata"]["generation"], 2, "{resource}");
                assert_eq!(
                    resource["spec"]["outputDataConfig"]["compressionType"],
                    "GZIP"
                );
                assert_eq!(run.output("secondary_status"), "Completed");
                run.assert_logged("secondary status: Completed");
                let artifacts = run.json("model_artifacts");
                assert_eq!(
                    artifacts["s3ModelArtifacts"],
                    format!("s3://ack-kfp-testbed/churn/models/{name}/output/model.tar.gz"),
                    "{}",
                    run.context()
                );
                assert_eq!(run.json("debug_rule_evaluation_statuses"), json!([]));
            }
            Kind::HyperParameterTuningJob => {
                let best = run.json("best_training_job");
                let best_name = best["trainingJobName"].as_str().unwrap_or_else(|| {
                    run.fail("no best training job");
                });
                assert!(best_name.starts_with(&format!("{name}-002-")), "{best}");
                run.assert_logged(&format!(
                    "best training job: {best_name} (validation:error = 0.125)"
                ));
            }
            _ => {}
        }
    });
}

#[test]
fn each_job_fails_with_sagemakers_reason() {
    let scene = Scene::shared("jobs-failed");
    each(&JOBS, |&kind| {
        let reason = "AlgorithmError: the container exited with code 1 (out of memory)";
        let name = scene.prepare(kind, abbr(kind), Script::fails(reason));
        let run = scene.launch(kind, &name).run();
        run.assert_code(1);
        run.assert_outputs_written();
        run.assert_outputs_match();
        assert_eq!(run.state(), "Failed", "{}", run.context());
        assert_eq!(run.output("failure_reason"), reason, "{}", run.context());
        run.assert_logged(&format!("failed: the {} failed: {reason}", noun(kind)));
        // The job ran: it is this step's, with its ARN and links.
        assert_eq!(
            run.json("ack_resource_metadata")["arn"],
            arn(kind, &name).as_str(),
            "{}",
            run.context()
        );
        run.assert_logged(&console(kind, &name));
        assert_eq!(scene.sagemaker().count(&name, &op(Verb::Create, kind)), 1);
    });
}

#[test]
fn a_stopped_job_fails() {
    let scene = Scene::shared("jobs-stopped");
    each(&JOBS, |&kind| {
        // Stopped by someone else (the console, a stopping condition): SageMaker's state.
        let stopped = Stage::Status {
            status: "Stopped".into(),
            failure_reason: None,
        };
        let script = Script::timeline(vec![Phase::new(stopped, Lasts::Forever)]);
        let name = scene.prepare(kind, abbr(kind), script);
        let run = scene.launch(kind, &name).run();
        run.assert_code(1);
        run.assert_outputs_match();
        assert_eq!(run.state(), "Stopped", "{}", run.context());
        run.assert_logged(&format!("failed: the {} was stopped", noun(kind)));
    });
}

#[test]
fn a_validation_error_from_create_fails_without_waiting_out_the_recoverable_limit() {
    let scene = Scene::shared("jobs-invalid");
    let message = "1 validation error detected: Value 'ml.m5.huge' at 'instanceType' failed to \
                   satisfy constraint: Member must satisfy enum value set";
    each(&JOBS, |&kind| {
        let script = Script::completes().refuse_create(AwsError::validation(message));
        let name = scene.prepare(kind, abbr(kind), script);
        // A limit far longer than the test may take: exit 1, not 5, shows it was not
        // waited out.
        let run = scene
            .launch(kind, &name)
            .flag("--recoverable-timeout", "3600")
            .run();
        run.assert_code(1);
        run.assert_outputs_written();
        run.assert_logged("failed: SageMaker rejected the job: ");
        run.assert_logged(&format!("api error ValidationException: {message}"));
        run.assert_outputs_match();
        assert_eq!(run.state(), "", "{}", run.context());
        // The controller records the account and region, never an ARN: no job.
        let metadata = run.json("ack_resource_metadata");
        assert_eq!(metadata["region"], REGION, "{}", run.context());
        assert!(metadata.get("arn").is_none(), "{}", run.context());
        let conditions = run.json("conditions");
        assert!(
            conditions.as_array().is_some_and(|c| c
                .iter()
                .any(|c| c["type"] == "ACK.Recoverable" && c["status"] == "True")),
            "{}",
            run.context()
        );
        // Nothing was created in SageMaker; the step left the resource (a retry of the
        // step finds it); the controller drops its finalizer after a failed Create (it
        // adds it again before each retry, so look until it is gone).
        assert_eq!(answered(&scene, &name, &op(Verb::Create, kind)), 0);
        assert!(scene.sagemaker().describe(kind, &name).is_none());
        scene.eventually(
            kind,
            &name,
            "the finalizer to go",
            Duration::from_secs(30),
            || {
                scene
                    .get(kind, &name)
                    .is_some_and(|r| r["metadata"]["finalizers"].is_null())
            },
        );
    });
}

#[test]
fn a_terminal_error_from_create_fails_at_once() {
    let scene = Scene::shared("jobs-terminal");
    let reason = "The role arn:aws:iam::123456789012:role/x cannot be assumed by SageMaker";
    each(&JOBS, |&kind| {
        let script =
            Script::completes().refuse_create(AwsError::terminal("InvalidParameterValue", reason));
        let name = scene.prepare(kind, abbr(kind), script);
        let run = scene
            .launch(kind, &name)
            .flag("--recoverable-timeout", "3600")
            .run();
        run.assert_code(1);
        run.assert_outputs_match();
        run.assert_logged(&format!(
            "failed: the ACK controller gave up: api error InvalidParameterValue: {reason}"
        ));
        assert_eq!(run.state(), "", "{}", run.context());
        // Terminal: the controller does not try again.
        assert_eq!(scene.sagemaker().count(&name, &op(Verb::Create, kind)), 1);
    });
}

#[test]
fn a_name_sagemaker_already_knows_fails_and_its_job_is_not_reported_as_the_steps() {
    let scene = Scene::shared("jobs-known");
    each(&JOBS, |&kind| {
        // Another job of that name ran in SageMaker before (job names are never freed).
        let name = scene.prepare(kind, abbr(kind), Script::completes());
        let mut other = json!({});
        other[kind.name_member()] = json!(name);
        if kind == Kind::TransformJob {
            other["ModelName"] = json!(format!("{name}-uses"));
        }
        scene
            .sagemaker()
            .seed(kind, REGION, &other)
            .expect("the other job");
        let run = scene.launch(kind, &name).run();
        run.assert_code(1);
        run.assert_outputs_written();
        run.assert_logged("Resource already exists");
        // The controller copied the other job's ARN and status into the resource beside
        // its Terminal condition ...
        let resource = scene.get(kind, &name).expect("kept");
        let field = testbed::ack::state_field(kind).expect("a state");
        assert_eq!(resource["status"][&field], "Completed", "{resource}");
        assert_eq!(
            resource["status"]["ackResourceMetadata"]["arn"],
            arn(kind, &name).as_str()
        );
        assert!(is_true(&resource, "ACK.Terminal"), "{resource}");
        // ... which the step neither logs as its own nor hands on: only the conditions,
        // which are the resource's.
        run.assert_not_logged(&arn(kind, &name));
        run.assert_not_logged("console: ");
        run.assert_not_logged(&format!("{} status: Completed", noun(kind)));
        for (output, ty) in run.launch.component.outputs() {
            let expected = (output == "conditions").then(|| &resource["status"]["conditions"]);
            run.assert_output_is(&output, &ty, expected);
        }
        // No second job: the controller never created one.
        assert_eq!(scene.sagemaker().count(&name, &op(Verb::Create, kind)), 0);
    });
}

#[test]
fn sigterm_while_running_stops_the_job_and_the_finalizer_goes() {
    let scene = Scene::shared("jobs-cancel");
    each(&JOBS, |&kind| {
        let name = scene.prepare(kind, abbr(kind), Script::works_until_advanced());
        let proxy = FaultProxy::start(&scene.stack().cluster).expect("proxy");
        let running = scene.launch(kind, &name).through(&proxy).spawn();
        let field = testbed::ack::state_field(kind).expect("a state");
        scene.eventually(
            kind,
            &name,
            "the job to run",
            Duration::from_secs(60),
            || {
                scene
                    .get(kind, &name)
                    .is_some_and(|r| r["status"][&field] == "InProgress")
            },
        );
        running.signal("TERM");
        let run = running.wait();
        run.assert_code(143);
        run.assert_outputs_written();
        assert_eq!(run.state(), "InProgress", "{}", run.context());
        run.assert_logged(&format!(
            "deleted {name}; the controller stops the SageMaker job"
        ));
        assert_eq!(proxy.requests().count(testbed::Verb::Delete), 1);
        // The controller stops the SageMaker job, and removes its finalizer once SageMaker
        // says Stopped (after its 30 s requeue).
        scene.ns.wait_gone(kind, &name);
        assert_eq!(
            scene.sagemaker().count(&name, &op(Verb::Stop, kind)),
            1,
            "{}",
            run.context()
        );
        assert_eq!(
            sagemaker_state(&scene, kind, &name).as_deref(),
            Some("Stopped"),
            "{}",
            run.context()
        );
        assert_eq!(scene.sagemaker().count(&name, &op(Verb::Create, kind)), 1);
    });
}

#[test]
fn a_retried_step_re_attaches_to_its_job() {
    let scene = Scene::shared("jobs-retry");
    each(&JOBS, |&kind| {
        let name = scene.prepare(kind, abbr(kind), Script::works_until_advanced());
        let launch = scene.launch(kind, &name);
        // The first attempt's pod dies mid-job (an OOM kill: no clean-up).
        let first = launch.spawn();
        let field = testbed::ack::state_field(kind).expect("a state");
        scene.eventually(
            kind,
            &name,
            "the job to run",
            Duration::from_secs(60),
            || {
                scene
                    .get(kind, &name)
                    .is_some_and(|r| r["status"][&field] == "InProgress")
            },
        );
        let uid = scene.get(kind, &name).expect("created")["metadata"]["uid"].clone();
        first.signal("KILL");
        assert_eq!(first.wait().code, None, "killed");
        // The retry, the same step of the same run, follows the same job to its end.
        let retry = launch.spawn();
        assert!(scene.sagemaker().advance(&name), "SageMaker has the job");
        let run = retry.wait();
        run.assert_code(0);
        run.assert_logged("re-attaching");
        run.assert_outputs_match();
        assert_eq!(run.state(), "Completed", "{}", run.context());
        assert_eq!(
            scene.get(kind, &name).expect("kept")["metadata"]["uid"],
            uid
        );
        assert_eq!(
            scene.sagemaker().count(&name, &op(Verb::Create, kind)),
            1,
            "{}",
            run.context()
        );
    });
}

#[test]
fn a_recoverable_error_that_clears_is_waited_out() {
    let scene = Scene::shared("jobs-throttled");
    each(&JOBS, |&kind| {
        // Three throttled attempts: one Create call of the controller's SDK fails.
        let script = Script::completes().fault(Some(Verb::Create), AwsError::throttling(), 3);
        let name = scene.prepare(kind, abbr(kind), script);
        let run = scene.launch(kind, &name).run();
        run.assert_code(0);
        run.assert_logged("recoverable error: api error ThrottlingException: Rate exceeded");
        assert_eq!(run.state(), "Completed", "{}", run.context());
        assert_eq!(answered(&scene, &name, &op(Verb::Create, kind)), 1);
    });
}

#[test]
fn a_recoverable_error_past_the_limit_times_out() {
    let scene = Scene::shared("jobs-quota");
    let message = "The account-level service limit 'ml.m5.xlarge for training job usage' is 0 \
                   Instances, with current utilization of 0 Instances";
    each(&JOBS, |&kind| {
        let error = AwsError::new(400, "ResourceLimitExceeded", message);
        let name = scene.prepare(kind, abbr(kind), Script::completes().refuse_create(error));
        let run = scene
            .launch(kind, &name)
            .flag("--recoverable-timeout", "2")
            .run();
        run.assert_code(5);
        run.assert_outputs_written();
        run.assert_logged("kept reporting a recoverable error for 2s");
        run.assert_logged(message);
        assert_eq!(answered(&scene, &name, &op(Verb::Create, kind)), 0);
    });
}

#[test]
fn a_debug_rule_with_issues_fails_and_a_profiler_rule_only_warns() {
    let scene = Scene::shared("jobs-rules");
    let kind = Kind::TrainingJob;
    let rule = |name: &str, rule: &str| {
        json!([{"ruleConfigurationName": name,
                "ruleEvaluatorImage": "895741380848.dkr.ecr.us-west-2.amazonaws.com/sagemaker-debugger-rules:latest",
                "ruleParameters": {"rule_to_invoke": rule}}])
        .to_string()
    };
    let debug = scene.prepare(
        kind,
        "debug",
        Script::completes().debug_rules_end("IssuesFound"),
    );
    let profiler = scene.prepare(
        kind,
        "profiler",
        Script::completes().debug_rules_end("IssuesFound"),
    );
    let runs = [
        (
            debug.clone(),
            "debug_rule_configurations",
            rule("VanishingGradient", "VanishingGradient"),
        ),
        (
            profiler.clone(),
            "profiler_rule_configurations",
            rule("ProfilerReport", "ProfilerReport"),
        ),
    ];
    each(&runs, |(name, input, rules)| {
        let mut launch = scene.launch(kind, name).input(input, rules);
        if input.starts_with("profiler") {
            launch = launch.input(
                "profiler_config",
                r#"{"s3OutputPath": "s3://ack-kfp-testbed/profiler"}"#,
            );
        }
        let run = launch.run();
        run.assert_outputs_match();
        if *name == debug {
            run.assert_code(1);
            run.assert_logged("VanishingGradient IssuesFound");
            assert_eq!(
                run.json("debug_rule_evaluation_statuses")[0]["ruleEvaluationStatus"],
                "IssuesFound",
                "{}",
                run.context()
            );
        } else {
            run.assert_code(0);
            run.assert_logged("warning: profiler rule ProfilerReport IssuesFound");
        }
    });
}

#[test]
fn an_empty_name_is_the_launchers_own_and_a_tuning_job_name_over_32_characters_is_refused() {
    let scene = Scene::shared("jobs-names");
    // Too long for a tuning job: refused before anything is sent.
    let kind = Kind::HyperParameterTuningJob;
    let long = "t".repeat(33);
    let proxy = FaultProxy::start(&scene.stack().cluster).expect("proxy");
    let run = scene.launch(kind, &long).through(&proxy).run();
    run.assert_code(2);
    assert!(proxy.requests().records().is_empty(), "{}", run.context());
    run.assert_logged("input `hyper_parameter_tuning_job_name`");
    run.assert_logged("at most 32 characters");
    assert!(scene.get(kind, &long).is_none());
    assert!(scene.sagemaker().calls_for(&long).is_empty());
    // Left empty, the launcher names each kind's job after the run and step, within its
    // limit.
    let model = scene.prepare(Kind::TransformJob, "tfj", Script::completes());
    each(&JOBS, |&kind| {
        let mut launch = scene.launch(kind, "");
        if kind == Kind::TransformJob {
            launch = launch.input("model_name", &format!("{model}-uses"));
        }
        let run = launch.run();
        run.assert_code(0);
        let arn: Value = run.json("ack_resource_metadata")["arn"].clone();
        let arn = arn.as_str().unwrap_or_else(|| run.fail("no ARN"));
        let name = arn.rsplit('/').next().expect("a name");
        let prefix = match kind {
            Kind::HyperParameterTuningJob => "tuning-job-",
            Kind::TrainingJob => "training-job-",
            Kind::ProcessingJob => "processing-job-",
            _ => "transform-job-",
        };
        assert!(name.starts_with(prefix), "{name}");
        let limit = if kind == Kind::HyperParameterTuningJob {
            32
        } else {
            63
        };
        assert!(name.len() <= limit, "{name}");
        assert!(scene.get(kind, name).is_some(), "{name}");
        assert_eq!(scene.sagemaker().count(name, &op(Verb::Create, kind)), 1);
    });
}
