//! Compiled KFP v1 pipelines, run for real: kfp 1.8.22 compiles them into Argo
//! Workflows, which Argo v3.7.18 runs on a real node ([`cluster::Stack`]) with the
//! launcher image from the stack's registry in the steps' pods, as the `pipeline-runner`
//! ServiceAccount bound only to `component-template/rbac.yaml` (and Argo's executor
//! Role). One stack for the whole binary, a namespace per test.

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use cluster::Stack;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, DynamicObject, ListParams, LogParams};
use sagemaker_emulator::Script;
use serde_json::Value;
use xtask::pipeline::{self, CompileOptions, Node, Run};

#[path = "pipelines/sagemaker.rs"]
mod sagemaker;
use sagemaker::SageMakerSide;

/// Everything a test needs: the stack, the components naming the pushed image, kfp 1.8.
struct Rig {
    sagemaker: SageMakerSide,
    stack: Stack,
    components: PathBuf,
    python: PathBuf,
    scratch: tempfile::TempDir,
    reference: String,
}

/// The shared rig (a `static`: the stack's watchdog tears it down when the binary exits).
fn rig() -> &'static Rig {
    static RIG: OnceLock<Rig> = OnceLock::new();
    RIG.get_or_init(|| {
        let root = common::repo_root();
        let started = Instant::now();
        let stack = Stack::start().expect("the stack starts");
        eprintln!("stack up in {:.1} s", started.elapsed().as_secs_f64());
        let reference =
            pipeline::push_launcher(&root, &stack.registry().host()).expect("push the launcher");
        let scratch = tempfile::tempdir().expect("tempdir");
        let components =
            pipeline::components_for(&root, scratch.path(), &reference).expect("components");
        let python = pipeline::kfp1_python(&root).expect("kfp 1.8 venv");
        let sagemaker = SageMakerSide::start(&stack);
        Rig {
            sagemaker,
            stack,
            components,
            python,
            scratch,
            reference,
        }
    })
}

impl Rig {
    fn cluster(&self) -> &cluster::Cluster {
        self.stack.cluster()
    }

    /// A namespace ready for pipelines (KFP's profile: pipeline-runner, its Roles, the
    /// artifact Secret); the SageMaker side.
    fn namespace(&self, name: &str) -> &SageMakerSide {
        let rbac =
            std::fs::read_to_string(common::repo_root().join("component-template/rbac.yaml"))
                .expect("rbac.yaml");
        self.stack
            .prepare_namespace(name, &rbac)
            .expect("namespace");
        &self.sagemaker
    }

    fn compile(&self, name: &str, options: &CompileOptions) -> Value {
        static COUNT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = COUNT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let out = self.scratch.path().join(format!("{name}-{n}.yaml"));
        pipeline::compile(
            &common::repo_root(),
            &self.python,
            name,
            &self.components,
            &out,
            options,
        )
        .expect("compile")
    }

    fn submit(&self, namespace: &str, workflow: &Value) -> Run {
        self.cluster()
            .block_on(pipeline::submit(
                self.cluster().client(),
                namespace,
                workflow,
            ))
            .expect("submit")
    }

    fn wait(&self, run: &Run) -> Value {
        self.cluster()
            .block_on(pipeline::wait(
                self.cluster().client(),
                run,
                Duration::from_secs(300),
                |_| {},
            ))
            .unwrap_or_else(|e| {
                panic!(
                    "{e:#}\nArgo's log ends with:\n{}\nthe ACK controller about {}:\n{}",
                    self.argo_log_tail(),
                    run.namespace,
                    self.sagemaker.controller.log_for(&run.namespace)
                )
            })
    }

    fn argo_log_tail(&self) -> String {
        let text = std::fs::read_to_string(self.stack.argo_log()).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    /// Pushes the stand-in for `python:3.11-slim` (KFP's lightweight Python components'
    /// image) to the registry the node pulls Docker Hub's images from; once.
    fn python_image(&self) {
        static PUSHED: OnceLock<()> = OnceLock::new();
        PUSHED.get_or_init(|| {
            let layout = cluster::images::python().expect("the Python image");
            self.stack
                .registry()
                .push(
                    &layout.dir,
                    &layout.tag,
                    &format!("{}:{}", layout.name, layout.tag),
                )
                .expect("push the Python image");
        });
    }

    /// The resources of `plural` in a namespace, by name.
    fn resources(&self, namespace: &str, kind: &str) -> BTreeMap<String, DynamicObject> {
        let gvk = kube::api::GroupVersionKind::gvk("sagemaker.services.k8s.aws", "v1alpha1", kind);
        let api: Api<DynamicObject> = Api::namespaced_with(
            self.cluster().client(),
            namespace,
            &kube::api::ApiResource::from_gvk(&gvk),
        );
        self.cluster()
            .block_on(api.list(&ListParams::default()))
            .unwrap_or_else(|e| panic!("list {kind}: {e}"))
            .items
            .into_iter()
            .map(|o| (o.metadata.name.clone().unwrap_or_default(), o))
            .collect()
    }

    /// The TrainingJobs of a namespace, by name, as the API server has them.
    fn training_jobs(&self, namespace: &str) -> BTreeMap<String, DynamicObject> {
        let api = sagemaker::training_jobs(self.cluster().client(), namespace);
        self.cluster()
            .block_on(api.list(&ListParams::default()))
            .expect("list TrainingJobs")
            .items
            .into_iter()
            .map(|o| (o.metadata.name.clone().unwrap_or_default(), o))
            .collect()
    }

    /// The files a step's outputs hold, read back from the artifact store.
    fn artifact_outputs(&self, node: &Node) -> BTreeMap<String, String> {
        node.artifacts
            .iter()
            .filter(|(name, _)| name.as_str() != "main-logs")
            .map(|(name, key)| {
                let value = self
                    .stack
                    .s3()
                    .read_artifact(key)
                    .expect("read the artifact");
                (name.clone(), value)
            })
            .collect()
    }

    /// The pod of a Pod node (Argo names it in the pod's `node-name` annotation).
    fn pod(&self, run: &Run, node: &Node) -> Pod {
        let pods: Api<Pod> = Api::namespaced(self.cluster().client(), &run.namespace);
        let selector = format!("workflows.argoproj.io/workflow={}", run.name);
        self.cluster()
            .block_on(pods.list(&ListParams::default().labels(&selector)))
            .expect("list pods")
            .items
            .into_iter()
            .find(|p| {
                p.metadata
                    .annotations
                    .as_ref()
                    .and_then(|a| a.get("workflows.argoproj.io/node-name"))
                    == Some(&node.name)
            })
            .unwrap_or_else(|| panic!("no pod for {}", node.name))
    }

    /// [`Rig::step_log`] once, `None` if the pod or its log is not there (yet).
    fn try_step_log(&self, run: &Run, node: &Node) -> Option<String> {
        let pods: Api<Pod> = Api::namespaced(self.cluster().client(), &run.namespace);
        let selector = format!("workflows.argoproj.io/workflow={}", run.name);
        let pod = self
            .cluster()
            .block_on(pods.list(&ListParams::default().labels(&selector)))
            .ok()?
            .items
            .into_iter()
            .find(|p| {
                p.metadata
                    .annotations
                    .as_ref()
                    .and_then(|a| a.get("workflows.argoproj.io/node-name"))
                    == Some(&node.name)
            })?;
        let params = LogParams {
            container: Some("main".into()),
            ..LogParams::default()
        };
        self.cluster()
            .block_on(pods.logs(pod.metadata.name.as_deref()?, &params))
            .ok()
    }

    /// The launcher's log in a step's pod (its `main` container), through the API server
    /// and the kubelet, as `kubectl logs` reads it.
    fn step_log(&self, run: &Run, node: &Node) -> String {
        let pod = self.pod(run, node);
        let pods: Api<Pod> = Api::namespaced(self.cluster().client(), &run.namespace);
        let params = LogParams {
            container: Some("main".into()),
            ..LogParams::default()
        };
        let name = pod.metadata.name.clone().unwrap_or_default();
        // Right after a container exits the kubelet may not find its log for a moment.
        let mut last_error = None;
        for _ in 0..20 {
            match self.cluster().block_on(pods.logs(&name, &params)) {
                Ok(log) if !log.starts_with("unable to retrieve container logs") => return log,
                Ok(log) => last_error = Some(log),
                Err(e) => last_error = Some(e.to_string()),
            }
            std::thread::sleep(Duration::from_millis(500));
        }
        panic!(
            "the log of {name}: {last_error:?}\n{:#?}",
            self.pod(run, node).status
        );
    }

    /// Follows the launcher's log in a step's pod from now until the container exits (for
    /// a step whose pod may be deleted right after, as Argo does after a terminate).
    fn follow_log(&self, run: &Run, node: &Node) -> tokio::task::JoinHandle<String> {
        use futures::AsyncReadExt as _;
        // The kubelet serves the log once the pod's status says the container runs (it
        // may lag behind the process by a moment).
        let pod = self.eventually("the main container to run", || {
            let pod = self.pod(run, node);
            let running = pod
                .status
                .as_ref()?
                .container_statuses
                .as_ref()?
                .iter()
                .any(|c| c.name == "main" && c.state.as_ref().is_some_and(|s| s.running.is_some()));
            running.then_some(pod)
        });
        let pods: Api<Pod> = Api::namespaced(self.cluster().client(), &run.namespace);
        let params = LogParams {
            container: Some("main".into()),
            follow: true,
            ..LogParams::default()
        };
        let name = pod.metadata.name.clone().unwrap_or_default();
        // Opened before this returns, so that a pod deleted right after is still followed.
        let opened = self.cluster().block_on(pods.log_stream(&name, &params));
        self.cluster().handle().spawn(async move {
            let mut bytes = Vec::new();
            let mut ending = String::new();
            match opened {
                Ok(mut stream) => {
                    let mut buf = [0u8; 4096];
                    loop {
                        match stream.read(&mut buf).await {
                            Ok(0) => break,
                            Ok(n) => bytes.extend_from_slice(&buf[..n]),
                            Err(e) => {
                                ending = format!("\n(log stream ended: {e})");
                                break;
                            }
                        }
                    }
                }
                Err(e) => ending = format!("(no log stream: {e})"),
            }
            String::from_utf8_lossy(&bytes).into_owned() + &ending
        })
    }

    /// The exit code of the launcher (the `main` container) in a step's pod.
    fn exit_code(&self, run: &Run, node: &Node) -> Option<i32> {
        let pod = self.pod(run, node);
        pod.status?
            .container_statuses?
            .into_iter()
            .find(|c| c.name == "main")?
            .state?
            .terminated
            .map(|t| t.exit_code)
    }

    /// Waits until `f` returns something.
    fn eventually<T>(&self, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if let Some(v) = f() {
                return v;
            }
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

/// The Pod nodes of a run, in the order their names sort (attempt `(0)` before `(1)`).
fn pod_nodes(status: &Value) -> Vec<Node> {
    pipeline::nodes(status)
        .into_values()
        .filter(|n| n.kind == "Pod")
        .collect()
}

/// The run and step the launcher recorded on the resource.
fn run_step(job: &DynamicObject) -> String {
    job.metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get("ack-kfp.launcher/kfp-run-step"))
        .cloned()
        .unwrap_or_default()
}

/// SIGKILL of the step's launcher process, as the kernel's OOM killer or a crash would
/// end it: no signal handler runs, nothing is cleaned up.
fn kill_launcher(run: &Run) -> u32 {
    for entry in std::fs::read_dir("/proc").expect("/proc").flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        let args: Vec<String> = cmdline
            .split(|b| *b == 0)
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        let is_launcher = args
            .first()
            .is_some_and(|a| a.ends_with("ack-kfp-launcher"));
        if is_launcher && args.iter().any(|a| a == &run.uid) {
            let status = std::process::Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status()
                .expect("kill");
            assert!(status.success());
            return pid;
        }
    }
    panic!("no launcher process of run {} found", run.uid);
}

#[test]
fn a_training_step_runs_in_a_pod_and_its_outputs_are_sagemakers_answers() {
    let rig = rig();
    let ns = "training";
    let sagemaker = rig.namespace(ns);
    let run = rig.submit(ns, &rig.compile("training", &CompileOptions::default()));
    let status = rig.wait(&run);
    assert_eq!(status["phase"], "Succeeded", "{status:#}");

    // The step ran the pushed image as pipeline-runner.
    let pods: Api<Pod> = Api::namespaced(rig.cluster().client(), ns);
    let pods = rig
        .cluster()
        .block_on(pods.list(&ListParams::default()))
        .expect("pods")
        .items;
    assert_eq!(pods.len(), 1, "one attempt, one pod");
    let spec = pods[0].spec.as_ref().expect("spec");
    assert_eq!(
        spec.service_account_name.as_deref(),
        Some("pipeline-runner")
    );
    let main = spec
        .containers
        .iter()
        .find(|c| c.name == "main")
        .expect("main");
    assert_eq!(main.image.as_deref(), Some(rig.reference.as_str()));

    // One resource, one job; Argo filled the run and the step.
    let jobs = rig.training_jobs(ns);
    assert_eq!(jobs.len(), 1, "{:?}", jobs.keys());
    let (name, job) = jobs.iter().next().expect("a TrainingJob");
    assert_eq!(
        run_step(job),
        format!("{}/{}.sagemaker-trainingjob", run.uid, run.name),
        "README: {{{{workflow.uid}}}} is the workflow's uid, {{{{node.name}}}} the step's node"
    );
    assert_eq!(sagemaker.creates(name), 1);

    // Every output is what SageMaker answered, as the controller put it in the status.
    let nodes = pod_nodes(&status);
    assert_eq!(nodes.len(), 1);
    let outputs = rig.artifact_outputs(&nodes[0]);
    assert_eq!(outputs.len(), 12, "{:?}", outputs.keys());
    let output = |name: &str| outputs[&format!("sagemaker-trainingjob-{name}")].clone();
    let job_status = &job.data["status"];
    assert_eq!(output("training_job_status"), "Completed");
    assert_eq!(
        output("training_job_status"),
        job_status["trainingJobStatus"].as_str().unwrap()
    );
    assert_eq!(
        output("secondary_status"),
        job_status["secondaryStatus"].as_str().unwrap()
    );
    let artifacts: Value = serde_json::from_str(&output("model_artifacts")).expect("JSON");
    assert_eq!(artifacts, job_status["modelArtifacts"]);
    assert!(
        artifacts["s3ModelArtifacts"]
            .as_str()
            .is_some_and(|uri| uri.starts_with("s3://my-bucket/churn/models/")),
        "{artifacts}"
    );
    let metadata: Value = serde_json::from_str(&output("ack_resource_metadata")).expect("JSON");
    assert_eq!(metadata["arn"], job_status["ackResourceMetadata"]["arn"]);
    // ... and what SageMaker answered the controller.
    let answer = sagemaker
        .sagemaker
        .describe(sagemaker_emulator::Kind::TrainingJob, name)
        .expect("SageMaker knows the job");
    assert_eq!(
        artifacts["s3ModelArtifacts"],
        answer["ModelArtifacts"]["S3ModelArtifacts"]
    );
    assert_eq!(metadata["arn"], answer["TrainingJobArn"]);
    assert_eq!(
        output("training_job_status"),
        answer["TrainingJobStatus"].as_str().unwrap()
    );
    assert_eq!(output("failure_reason"), "");
}

#[test]
fn a_killed_step_is_retried_and_reattaches_to_its_job() {
    let rig = rig();
    let ns = "killed";
    let sagemaker = rig.namespace(ns);
    // A name given, so that SageMaker's script for it is set before the run.
    let name = "killed-step-job";
    sagemaker
        .sagemaker
        .script(name, Script::works_until_advanced());
    let options = CompileOptions {
        retry: Some(2),
        job_name: Some(name.into()),
        ..CompileOptions::default()
    };
    let run = rig.submit(ns, &rig.compile("training", &options));
    rig.eventually("the job to be training", || {
        let jobs = rig.training_jobs(ns);
        (jobs.get(name)?.data["status"]["trainingJobStatus"] == "InProgress").then_some(())
    });
    kill_launcher(&run);
    // Argo retries the step (after its back-off); the new attempt finds the job.
    rig.eventually("the retry to re-attach", || {
        let running = rig.cluster().block_on(async {
            let api = pipeline::workflows(rig.cluster().client(), ns);
            api.get(&run.name)
                .await
                .ok()
                .map(|w| w.data["status"].clone())
        })?;
        let nodes = pod_nodes(&running);
        let second = nodes.get(1)?;
        rig.try_step_log(&run, second)
            .filter(|log| log.contains("re-attaching"))
            .map(|_| ())
    });
    assert!(
        sagemaker.sagemaker.advance(name),
        "SageMaker finishes the job"
    );
    let status = rig.wait(&run);
    assert_eq!(status["phase"], "Succeeded", "{status:#}");
    let nodes = pod_nodes(&status);
    let attempts: Vec<(&str, &str)> = nodes
        .iter()
        .map(|n| (n.display_name.as_str(), n.phase.as_str()))
        .collect();
    assert_eq!(
        attempts,
        [
            ("sagemaker-trainingjob(0)", "Failed"),
            ("sagemaker-trainingjob(1)", "Succeeded")
        ]
    );
    assert_eq!(rig.exit_code(&run, &nodes[0]), Some(137), "killed");
    assert!(
        rig.step_log(&run, &nodes[1]).contains("re-attaching"),
        "the second attempt re-attached"
    );
    assert_eq!(
        sagemaker.creates(name),
        1,
        "SageMaker saw one CreateTrainingJob"
    );
    assert_eq!(rig.training_jobs(ns).len(), 1);
}

#[test]
fn a_terminated_run_stops_its_job() {
    let rig = rig();
    let ns = "terminated";
    let sagemaker = rig.namespace(ns);
    let name = "terminated-run-job".to_string();
    sagemaker
        .sagemaker
        .script(&name, Script::works_until_advanced());
    let options = CompileOptions {
        job_name: Some(name.clone()),
        ..CompileOptions::default()
    };
    let run = rig.submit(ns, &rig.compile("training", &options));
    rig.eventually("the job to be training", || {
        let jobs = rig.training_jobs(ns);
        (jobs.get(&name)?.data["status"]["trainingJobStatus"] == "InProgress").then_some(())
    });
    let running = rig.cluster().block_on(async {
        let api = pipeline::workflows(rig.cluster().client(), ns);
        api.get(&run.name).await.expect("the workflow").data["status"].clone()
    });
    let log = rig.follow_log(&run, &pod_nodes(&running)[0]);
    rig.cluster()
        .block_on(pipeline::shutdown(
            rig.cluster().client(),
            &run,
            "Terminate",
        ))
        .expect("terminate");
    let status = rig.wait(&run);
    assert_eq!(status["phase"], "Failed", "{status:#}");
    assert_eq!(status["message"], "Stopped with strategy 'Terminate'");
    let nodes = pod_nodes(&status);
    assert_eq!(nodes.len(), 1);
    // Argo's words for the cancelled step depend on whether the pod's result reached the
    // controller before it marked the run's nodes.
    assert_eq!(nodes[0].phase, "Failed");
    assert!(
        [
            "workflow shutdown with strategy:  Terminate",
            "main: Error (exit code 143)"
        ]
        .contains(&nodes[0].message.as_str()),
        "{}",
        nodes[0].message
    );
    // Argo signals the step's main container (`argoexec kill 15 1` through pods/exec) and
    // records the run as finished without waiting for the step; the launcher deletes its
    // resource and exits (143: its log's last line).
    let log = rig.cluster().block_on(log).expect("the log");
    assert!(log.contains("SIGTERM"), "{log}");
    assert!(log.contains(&format!("deleted {name}")), "{log}");
    assert!(log.contains("failed: cancelled by SIGTERM"), "{log}");
    rig.eventually("the resource to be gone", || {
        (!rig.training_jobs(ns).contains_key(&name)).then_some(())
    });
    rig.eventually("SageMaker to stop the job", || {
        (sagemaker.stops(&name) == 1).then_some(())
    });
    assert_eq!(sagemaker.creates(&name), 1);
}

#[test]
fn two_runs_and_two_steps_with_the_same_inputs_get_their_own_jobs() {
    let rig = rig();
    let ns = "separate";
    let sagemaker = rig.namespace(ns);
    let training = rig.compile("training", &CompileOptions::default());
    let two_steps = rig.compile("two-steps", &CompileOptions::default());
    let runs = [
        rig.submit(ns, &training),
        rig.submit(ns, &training),
        rig.submit(ns, &two_steps),
    ];
    for run in &runs {
        let status = rig.wait(run);
        assert_eq!(status["phase"], "Succeeded", "{}: {status:#}", run.name);
    }
    let jobs = rig.training_jobs(ns);
    let identities: Vec<String> = jobs.values().map(run_step).collect();
    let mut expected = vec![
        format!("{}/{}.sagemaker-trainingjob", runs[0].uid, runs[0].name),
        format!("{}/{}.sagemaker-trainingjob", runs[1].uid, runs[1].name),
        format!("{}/{}.sagemaker-trainingjob", runs[2].uid, runs[2].name),
        format!("{}/{}.sagemaker-trainingjob-2", runs[2].uid, runs[2].name),
    ];
    expected.sort();
    let mut identities_sorted = identities.clone();
    identities_sorted.sort();
    assert_eq!(identities_sorted, expected, "four steps, four jobs");
    for name in jobs.keys() {
        assert_eq!(sagemaker.creates(name), 1, "{name}");
    }
}

#[test]
fn a_rerun_with_a_fixed_name_is_refused() {
    let rig = rig();
    let ns = "fixed-name";
    let sagemaker = rig.namespace(ns);
    let options = CompileOptions {
        job_name: Some("xgboost-churn-fixed".into()),
        ..CompileOptions::default()
    };
    let workflow = rig.compile("training", &options);
    let first = rig.submit(ns, &workflow);
    assert_eq!(rig.wait(&first)["phase"], "Succeeded");
    let second = rig.submit(ns, &workflow);
    let status = rig.wait(&second);
    assert_eq!(status["phase"], "Failed", "{status:#}");
    let nodes = pod_nodes(&status);
    assert_eq!(
        rig.exit_code(&second, &nodes[0]),
        Some(6),
        "README: refused with exit 6"
    );
    let log = rig.step_log(&second, &nodes[0]);
    assert!(log.contains("xgboost-churn-fixed"), "{log}");
    assert_eq!(sagemaker.creates("xgboost-churn-fixed"), 1);
    let jobs = rig.training_jobs(ns);
    assert_eq!(
        run_step(&jobs["xgboost-churn-fixed"]),
        format!("{}/{}.sagemaker-trainingjob", first.uid, first.name),
        "the first run's job, untouched"
    );
}

/// The one resource of `kind` a run made.
fn only(resources: BTreeMap<String, DynamicObject>, kind: &str) -> (String, Value) {
    assert_eq!(resources.len(), 1, "{kind}: {:?}", resources.keys());
    let (name, object) = resources.into_iter().next().expect("one");
    (name, object.data)
}

#[test]
fn the_readme_chain_hands_each_steps_outputs_to_the_next_through_argo() {
    let rig = rig();
    let ns = "chain";
    let sagemaker = rig.namespace(ns);
    rig.python_image();
    let run = rig.submit(ns, &rig.compile("chain", &CompileOptions::default()));
    let status = rig.wait(&run);
    assert_eq!(status["phase"], "Succeeded", "{status:#}");

    // Every edge: what the consumer received is what the producer wrote. KFP v1 names
    // both ends `<producer task>-<output>`.
    let nodes = pod_nodes(&status);
    assert_eq!(
        nodes.len(),
        10,
        "{:?}",
        nodes.iter().map(|n| &n.display_name).collect::<Vec<_>>()
    );
    let produced: BTreeMap<&String, &String> =
        nodes.iter().flat_map(|n| n.parameters.iter()).collect();
    let mut edges = 0;
    for node in &nodes {
        for (input, value) in &node.inputs {
            if let Some(written) = produced.get(input) {
                assert_eq!(value, *written, "{} <- {input}", node.display_name);
                edges += 1;
            }
        }
    }
    assert_eq!(edges, 9, "the chain's nine edges");

    // And they reached SageMaker: each resource names the one before it.
    let (_, training) = only(rig.training_jobs(ns), "TrainingJob");
    let (model_name, model) = only(rig.resources(ns, "Model"), "Model");
    let (config_name, config) = only(rig.resources(ns, "EndpointConfig"), "EndpointConfig");
    let (endpoint_name, endpoint) = only(rig.resources(ns, "Endpoint"), "Endpoint");
    let (definition_name, definition) = only(
        rig.resources(ns, "DataQualityJobDefinition"),
        "DataQualityJobDefinition",
    );
    let (schedule_name, schedule) = only(
        rig.resources(ns, "MonitoringSchedule"),
        "MonitoringSchedule",
    );
    assert_eq!(
        model["spec"]["primaryContainer"]["modelDataURL"],
        training["status"]["modelArtifacts"]["s3ModelArtifacts"]
    );
    assert_eq!(
        config["spec"]["productionVariants"][0]["modelName"],
        model_name.as_str()
    );
    assert_eq!(endpoint["spec"]["endpointConfigName"], config_name.as_str());
    assert_eq!(
        definition["spec"]["dataQualityJobInput"]["endpointInput"]["endpointName"],
        endpoint_name.as_str()
    );
    assert_eq!(
        schedule["spec"]["monitoringScheduleConfig"]["monitoringJobDefinitionName"],
        definition_name.as_str()
    );
    for (name, op) in [
        (&model_name, "CreateModel"),
        (&config_name, "CreateEndpointConfig"),
        (&endpoint_name, "CreateEndpoint"),
        (&definition_name, "CreateDataQualityJobDefinition"),
        (&schedule_name, "CreateMonitoringSchedule"),
    ] {
        assert_eq!(sagemaker.sagemaker.count(name, op), 1, "{op} {name}");
    }
}

/// What a pod deleted under a running step leads to (not a crash: the kubelet still sends
/// SIGTERM, with a grace period of at least 2 s, which the launcher takes for a cancel).
#[test]
fn a_deleted_pod_cancels_its_attempt_and_leaves_no_job_running() {
    let rig = rig();
    let ns = "deleted-pod";
    let sagemaker = rig.namespace(ns);
    let name = "deleted-pod-job";
    sagemaker
        .sagemaker
        .script(name, Script::works_until_advanced());
    let options = CompileOptions {
        retry: Some(2),
        job_name: Some(name.into()),
        ..CompileOptions::default()
    };
    let run = rig.submit(ns, &rig.compile("training", &options));
    rig.eventually("the job to be training", || {
        let jobs = rig.training_jobs(ns);
        (jobs.get(name)?.data["status"]["trainingJobStatus"] == "InProgress").then_some(())
    });
    let running = rig.cluster().block_on(async {
        let api = pipeline::workflows(rig.cluster().client(), ns);
        api.get(&run.name).await.expect("the workflow").data["status"].clone()
    });
    let first = pod_nodes(&running)[0].clone();
    let log = rig.follow_log(&run, &first);
    let pod = rig.pod(&run, &first);
    let pods: Api<Pod> = Api::namespaced(rig.cluster().client(), ns);
    rig.cluster()
        .block_on(pods.delete(
            pod.metadata.name.as_deref().unwrap_or_default(),
            &kube::api::DeleteParams {
                grace_period_seconds: Some(0),
                ..kube::api::DeleteParams::default()
            },
        ))
        .expect("delete the pod");
    let log = rig.cluster().block_on(log).expect("the log");
    assert!(log.contains("SIGTERM"), "{log}");
    assert!(log.contains(&format!("deleted {name}")), "{log}");
    rig.eventually("SageMaker to stop the job", || {
        (sagemaker.stops(name) == 1).then_some(())
    });
    let status = rig.wait(&run);
    assert_eq!(status["phase"], "Failed", "{status:#}");
    let nodes = pipeline::nodes(&status);
    let retry = &nodes[&format!("{}.sagemaker-trainingjob", run.name)];
    assert_eq!(
        (retry.phase.as_str(), retry.message.as_str()),
        ("Failed", "No more retries left")
    );
    // Argo starts the step again (first a new pod for the same attempt, then its
    // retries); SageMaker keeps a stopped job's name, which the controller finds before
    // it would create one, so each new attempt fails on it.
    let attempts = pod_nodes(&status);
    assert_eq!(attempts.len(), 3, "{attempts:#?}");
    let last = attempts.last().expect("an attempt");
    assert_eq!(rig.exit_code(&run, last), Some(1));
    let last_log = rig.step_log(&run, last);
    assert!(last_log.contains("already exists"), "{last_log}");
    assert_eq!(
        sagemaker.creates(name),
        1,
        "{:?}",
        sagemaker.sagemaker.ops(name)
    );
    let job = sagemaker
        .sagemaker
        .describe(sagemaker_emulator::Kind::TrainingJob, name)
        .expect("SageMaker knows the job");
    assert_eq!(
        job["TrainingJobStatus"], "Stopped",
        "no job is left running"
    );
}
