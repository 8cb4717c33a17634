//! The real launcher binary as KFP runs it, against the real ACK controller and our
//! SageMaker API ([`AckStack`]), for any of the 13 kinds.
//!
//! - [`Scene`]: a namespace per test on a stack (the binary's shared one, or a test's own),
//!   with the step's ServiceAccount bound only to `component-template/rbac.yaml`; the
//!   launcher runs with that ServiceAccount's token.
//! - [`Scene::prepare`]: a SageMaker name unique to the test, its [`Script`], and what the
//!   kind's sample refers to seeded in SageMaker (a TransformJob's model, ...).
//! - [`Scene::launch`]: one step of the kind's component: the argv KFP 1.8 makes from the
//!   component's `component.yaml` (`command` then `args`, `{inputValue}` from the inputs
//!   given or the input's default, `{outputPath}` a file in the step's folder,
//!   `{{workflow.uid}}` and `{{node.name}}` the run and step,
//!   `{if: {cond: {isPresent}}}` expanded), with the inputs of the kind's realistic sample
//!   ([`samples::spec`], one input per top-level spec field). [`Launch::input`] changes
//!   one, [`Launch::identity`] the run and step, [`Launch::flag`] adds a launcher option,
//!   [`Launch::through`] runs it through a [`testbed::FaultProxy`].
//! - [`Outcome`]: the exit code, the log, every output file read back, and every version
//!   of the resource the API server held while the step ran (an administrator's watch);
//!   [`Outcome::assert_outputs_match`] says each output is exactly what the controller
//!   wrote in one of them. Every assertion helper panics with [`Outcome::context`]: the
//!   launcher's log, the resource as the API server holds it, the controller's log lines
//!   about the namespace and SageMaker's calls about the name.
//! - [`each`]: a check for several kinds (or cases) at once, one thread each, so that the
//!   controller's 30 s requeues overlap.
//!
//! ```ignore
//! let scene = Scene::shared("tj-ok");
//! let name = scene.prepare(Kind::TrainingJob, "job", Script::completes());
//! let run = scene.launch(Kind::TrainingJob, &name).run();
//! run.assert_code(0);
//! run.assert_outputs_match();
//! assert_eq!(scene.sagemaker().count(&name, "CreateTrainingJob"), 1, "{}", run.context());
//! ```

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use testbed::ack::{AckStack, Kind, Namespace, SageMaker, Script, samples};

use super::cluster::{SERVICE_ACCOUNT, rbac_yaml};

/// The region the steps ask for unless a test gives another.
pub const REGION: &str = "us-west-2";

/// The launcher's own time limits, as short as the tests allow: the real controller
/// answers within seconds, a missing status or a lingering Recoverable error should fail
/// a test quickly (a test that needs more passes its own flag).
const FLAGS: [(&str, &str); 3] = [
    ("--status-timeout", "60"),
    ("--recoverable-timeout", "60"),
    ("--api-timeout", "30"),
];

/// A test's namespace on a stack with the real controller, and the step's identity in it.
#[derive(Debug)]
pub struct Scene<'s> {
    /// The namespace (admin access, waits, reports).
    pub ns: Namespace<'s>,
    /// The kubeconfig of the step's ServiceAccount, bound only to `rbac.yaml`.
    pub kubeconfig: String,
}

impl Scene<'static> {
    /// A namespace on the test binary's shared stack ([`AckStack::shared`]).
    pub fn shared(name: &str) -> Scene<'static> {
        Scene::on(AckStack::shared(), name)
    }
}

impl<'s> Scene<'s> {
    /// A namespace `name` on `stack` (a test's own, to kill the controller), with the step's
    /// Role bound to its ServiceAccount.
    pub fn on(stack: &'s AckStack, name: &str) -> Scene<'s> {
        Scene::with_role(stack, name, |_| {})
    }

    /// [`Scene::on`] with the step's Role changed by `edit_role` first (a verb dropped).
    pub fn with_role(
        stack: &'s AckStack,
        name: &str,
        edit_role: impl FnOnce(&mut k8s_openapi::api::rbac::v1::Role),
    ) -> Scene<'s> {
        let ns = stack.namespace(name);
        let cluster = &stack.cluster;
        cluster
            .apply_role_yaml(&rbac_yaml(), name, SERVICE_ACCOUNT, edit_role)
            .expect("RBAC applied");
        let kubeconfig = cluster
            .service_account_kubeconfig(name, SERVICE_ACCOUNT)
            .expect("a token");
        Scene { ns, kubeconfig }
    }

    /// The stack's SageMaker API: scripts and the call log.
    pub fn sagemaker(&self) -> &'s SageMaker {
        &self.ns.stack.sagemaker
    }

    /// The stack.
    pub fn stack(&self) -> &'s AckStack {
        self.ns.stack
    }

    /// A SageMaker name unique to this test (`<namespace>-<base>`, tests share SageMaker),
    /// given `script`, with what `kind`'s sample refers to seeded in SageMaker. Call it
    /// once per name (a retried step launches the same name again without it).
    pub fn prepare(&self, kind: Kind, base: &str, script: Script) -> String {
        let name = self.ns.sagemaker_name(base);
        self.ns.prepare_sample(kind, &name, script);
        name
    }

    /// A step of `kind`'s component naming its SageMaker resource `name`, with the
    /// inputs of the kind's sample, run and step ids of its own.
    pub fn launch(&self, kind: Kind, name: &str) -> Launch<'_, 's> {
        let component = Component::of(kind);
        let spec = samples::spec(kind, name, &format!("{name}-uses"));
        let mut inputs = BTreeMap::from([("region".to_owned(), REGION.to_owned())]);
        for (field, value) in spec.as_object().expect("a spec object") {
            let input = snake_case(field);
            assert!(
                component.has_input(&input),
                "{kind}'s component has no input {input} for the sample's spec field {field}"
            );
            inputs.insert(input, input_text(value));
        }
        Launch {
            scene: self,
            component,
            name: name.to_owned(),
            inputs,
            run_id: format!("uid-{}", self.ns.name),
            step_id: format!("{}.{}", self.ns.name, snake_case(kind.api_name())),
            flags: FLAGS
                .iter()
                .map(|(flag, value)| ((*flag).to_owned(), (*value).to_owned()))
                .collect(),
            kubeconfig: self.kubeconfig.clone(),
        }
    }

    /// The resource named `name` (lower-cased, as the launcher names it) as the API server
    /// holds it.
    pub fn get(&self, kind: Kind, name: &str) -> Option<Value> {
        self.ns.get(kind, &name.to_ascii_lowercase())
    }

    /// The names of every `kind` resource in the namespace.
    pub fn names(&self, kind: Kind) -> Vec<String> {
        self.stack()
            .cluster
            .block_on(self.ns.api(kind).list(&Default::default()))
            .expect("list")
            .items
            .into_iter()
            .filter_map(|o| o.metadata.name)
            .collect()
    }

    /// What a failed assertion about `name` shows: the resource, the controller's log about
    /// the namespace, SageMaker's calls about the name.
    pub fn report(&self, kind: Kind, name: &str) -> String {
        let k8s_name = name.to_ascii_lowercase();
        let report = self
            .ns
            .report(kind, &k8s_name, self.ns.get(kind, &k8s_name).as_ref());
        if k8s_name == name {
            return report;
        }
        let calls: Vec<String> = self
            .sagemaker()
            .calls_for(name)
            .iter()
            .map(testbed::ack::Call::summary)
            .collect();
        format!(
            "{report}\n--- SageMaker calls about {name} ---\n{}",
            calls.join("\n")
        )
    }

    /// Waits up to `timeout` until `check` holds; panics with the report about `name`.
    pub fn eventually(
        &self,
        kind: Kind,
        name: &str,
        what: &str,
        timeout: Duration,
        mut check: impl FnMut() -> bool,
    ) {
        let deadline = Instant::now() + timeout;
        while !check() {
            assert!(
                Instant::now() < deadline,
                "timed out after {timeout:?} waiting for {what}\n{}",
                self.report(kind, name)
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// A kind's component: what `component.yaml` and its template say.
#[derive(Debug, Clone)]
pub struct Component {
    pub kind: Kind,
    /// `component.yaml`, parsed.
    yaml: Value,
    /// Outputs of a spec field (`sagemaker_resource_name` -> `endpointName`), from the
    /// template.
    spec_outputs: BTreeMap<String, String>,
}

impl Component {
    /// The generated component of `kind`.
    pub fn of(kind: Kind) -> Component {
        let module = snake_case(kind.api_name());
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
        let read =
            |path: String| std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let yaml: Value = serde_saphyr::from_str(&read(format!(
            "{root}/generated/components/{module}/component.yaml"
        )))
        .expect("component.yaml");
        let template: Value =
            serde_saphyr::from_str(&read(format!("{root}/component-template/{module}.yaml")))
                .expect("the template");
        let spec_outputs = template["spec_outputs"]
            .as_object()
            .into_iter()
            .flatten()
            .filter_map(|(output, field)| Some((output.clone(), field.as_str()?.to_owned())))
            .collect();
        Component {
            kind,
            yaml,
            spec_outputs,
        }
    }

    fn has_input(&self, name: &str) -> bool {
        self.yaml["inputs"]
            .as_array()
            .is_some_and(|inputs| inputs.iter().any(|i| i["name"] == name))
    }

    /// The outputs' names and KFP types, in component.yaml's order.
    pub fn outputs(&self) -> Vec<(String, String)> {
        self.yaml["outputs"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|o| {
                (
                    o["name"].as_str().unwrap_or_default().to_owned(),
                    o["type"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect()
    }

    /// The state output (`training_job_status`), if the kind has a state.
    pub fn state_output(&self) -> Option<String> {
        testbed::ack::state_field(self.kind).map(|field| snake_case(&field))
    }

    /// The argv KFP 1.8 makes: `command` then `args` with the placeholders filled
    /// (`{if: {cond: {isPresent: x}, then: [...], else: [...]}}` as KFP expands it: `then`
    /// when the input was given an argument).
    fn argv(
        &self,
        inputs: &BTreeMap<String, String>,
        outputs: &std::path::Path,
        ids: [&str; 2],
    ) -> Vec<String> {
        let container = &self.yaml["implementation"]["container"];
        let mut argv = Vec::new();
        for item in container["command"]
            .as_array()
            .into_iter()
            .chain(container["args"].as_array())
            .flatten()
        {
            self.expand(item, inputs, outputs, ids, &mut argv);
        }
        argv
    }

    fn expand(
        &self,
        item: &Value,
        inputs: &BTreeMap<String, String>,
        outputs: &std::path::Path,
        ids: [&str; 2],
        argv: &mut Vec<String>,
    ) {
        let default = |name: &str| {
            self.yaml["inputs"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|i| i["name"] == name)
                .and_then(|i| i["default"].as_str())
                .map(str::to_owned)
        };
        match item {
            Value::String(text) => argv.push(
                text.replace("{{workflow.uid}}", ids[0])
                    .replace("{{node.name}}", ids[1]),
            ),
            Value::Object(placeholder) => {
                if let Some(name) = placeholder.get("inputValue").and_then(Value::as_str) {
                    let value = inputs.get(name).cloned().or_else(|| default(name));
                    argv.push(value.unwrap_or_else(|| {
                        panic!(
                            "{}: input {name} is required (no default) and not given",
                            self.kind
                        )
                    }));
                } else if let Some(name) = placeholder.get("outputPath").and_then(Value::as_str) {
                    argv.push(outputs.join(name).join("data").display().to_string());
                } else if let Some(branch) = placeholder.get("if") {
                    let input = branch["cond"]["isPresent"]
                        .as_str()
                        .unwrap_or_else(|| panic!("component.yaml: an unknown condition {branch}"));
                    let taken = if inputs.contains_key(input) {
                        &branch["then"]
                    } else {
                        &branch["else"]
                    };
                    for item in taken.as_array().into_iter().flatten() {
                        self.expand(item, inputs, outputs, ids, argv);
                    }
                } else {
                    panic!("component.yaml: an unknown placeholder {item}")
                }
            }
            other => panic!("component.yaml: an unexpected argument {other}"),
        }
    }
}

/// One step to run (or run again: each run has its own output folder, as each attempt of a
/// KFP step has its own pod).
#[derive(Debug, Clone)]
pub struct Launch<'a, 's> {
    pub scene: &'a Scene<'s>,
    pub component: Component,
    /// The SageMaker name the inputs give (may be empty: the launcher derives one).
    pub name: String,
    inputs: BTreeMap<String, String>,
    run_id: String,
    step_id: String,
    flags: BTreeMap<String, String>,
    kubeconfig: String,
}

impl<'a, 's> Launch<'a, 's> {
    /// Sets an input (its component.yaml name) to `value`, as KFP passes it.
    pub fn input(mut self, name: &str, value: &str) -> Self {
        assert!(
            self.component.has_input(name),
            "{}'s component has no input {name}",
            self.component.kind
        );
        self.inputs.insert(name.to_owned(), value.to_owned());
        self
    }

    /// Leaves an input at its default in component.yaml.
    pub fn default_input(mut self, name: &str) -> Self {
        self.inputs.remove(name);
        self
    }

    /// The KFP run and step the backend substitutes (`{{workflow.uid}}`,
    /// `{{node.name}}`).
    pub fn identity(mut self, run_id: &str, step_id: &str) -> Self {
        run_id.clone_into(&mut self.run_id);
        step_id.clone_into(&mut self.step_id);
        self
    }

    /// A launcher option that component.yaml does not set (`--time-limit`, or one of the
    /// kit's short limits with another value).
    pub fn flag(mut self, flag: &str, value: &str) -> Self {
        self.flags.insert(flag.to_owned(), value.to_owned());
        self
    }

    /// Runs through `proxy` (its request log, its faults), still as the step's
    /// ServiceAccount.
    pub fn through(mut self, proxy: &testbed::FaultProxy) -> Self {
        self.kubeconfig = proxy.kubeconfig_yaml(&self.kubeconfig, &self.scene.stack().cluster);
        self
    }

    /// Runs as another identity (e.g. the administrator, `scene.ns.admin_kubeconfig()`).
    pub fn kubeconfig(mut self, yaml: String) -> Self {
        self.kubeconfig = yaml;
        self
    }

    /// The kind.
    pub fn kind(&self) -> Kind {
        self.component.kind
    }

    fn command(&self, dir: &std::path::Path) -> Command {
        let kubeconfig = dir.join("kubeconfig");
        std::fs::write(&kubeconfig, &self.kubeconfig).expect("kubeconfig");
        let argv = self.component.argv(
            &self.inputs,
            &dir.join("outputs"),
            [&self.run_id, &self.step_id],
        );
        assert_eq!(argv[0], "ack-kfp-launcher", "component.yaml's command");
        let mut command = Command::new(env!("CARGO_BIN_EXE_ack-kfp-launcher"));
        command
            .args(&argv[1..])
            .env("KUBECONFIG", &kubeconfig)
            .env("RUST_BACKTRACE", "0")
            .env_remove("KUBERNETES_SERVICE_HOST");
        for (flag, value) in &self.flags {
            command.args([flag, value]);
        }
        command
    }

    /// Runs the step to its end.
    pub fn run(&self) -> Outcome<'a, 's> {
        self.spawn().wait()
    }

    /// Starts the step (to signal it, or to act while it runs).
    pub fn spawn(&self) -> Running<'a, 's> {
        let dir = tempfile::tempdir().expect("a step folder");
        let history = History::watch(self.scene, self.kind(), &self.name);
        let child = self
            .command(dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the launcher starts");
        Running {
            launch: self.clone(),
            dir,
            child,
            history,
            started: Instant::now(),
        }
    }
}

/// A step that runs.
#[derive(Debug)]
pub struct Running<'a, 's> {
    pub launch: Launch<'a, 's>,
    dir: tempfile::TempDir,
    child: Child,
    history: History,
    started: Instant,
}

impl<'a, 's> Running<'a, 's> {
    /// Sends `signal` (`TERM`, `INT`, `KILL`) to the launcher.
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -{signal}");
    }

    /// Waits for the step's end and reads its outputs.
    pub fn wait(self) -> Outcome<'a, 's> {
        let output = self.child.wait_with_output().expect("the launcher ends");
        let took = self.started.elapsed();
        let mut outcome = Outcome::read(self.launch, &self.dir, &output, took);
        outcome.versions = self.history.versions();
        outcome
    }
}

/// How a step ended: exit code, log, outputs.
#[derive(Debug)]
pub struct Outcome<'a, 's> {
    pub launch: Launch<'a, 's>,
    pub code: Option<i32>,
    pub stderr: String,
    pub stdout: String,
    /// Every output file the step wrote, by output name.
    pub outputs: BTreeMap<String, String>,
    /// From start to exit.
    pub took: Duration,
    /// Every version of the resource the API server held while the step ran, in order.
    pub versions: Vec<Value>,
}

impl<'a, 's> Outcome<'a, 's> {
    fn read(
        launch: Launch<'a, 's>,
        dir: &tempfile::TempDir,
        output: &Output,
        took: Duration,
    ) -> Self {
        let outputs = launch
            .component
            .outputs()
            .into_iter()
            .filter_map(|(name, _)| {
                let path: PathBuf = dir.path().join("outputs").join(&name).join("data");
                let text = std::fs::read_to_string(path).ok()?;
                Some((name, text))
            })
            .collect();
        Outcome {
            launch,
            code: output.status.code(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            outputs,
            took,
            versions: Vec::new(),
        }
    }

    fn kind(&self) -> Kind {
        self.launch.kind()
    }

    /// The launcher's log, then the report about the resource (see [`Scene::report`]).
    pub fn context(&self) -> String {
        format!(
            "--- the launcher ({} {}): exit {:?} after {:.1}s ---\n{}\n{}",
            self.kind(),
            self.launch.name,
            self.code,
            self.took.as_secs_f64(),
            self.stderr,
            self.launch.scene.report(self.kind(), &self.launch.name)
        )
    }

    /// Panics with `what` and the context.
    pub fn fail(&self, what: &str) -> ! {
        panic!("{what}\n{}", self.context())
    }

    pub fn assert_code(&self, code: i32) {
        if self.code != Some(code) {
            self.fail(&format!("expected exit {code}, got {:?}", self.code));
        }
    }

    /// The log holds `text`.
    pub fn assert_logged(&self, text: &str) {
        if !self.stderr.contains(text) {
            self.fail(&format!("the log lacks {text:?}"));
        }
    }

    /// The log does not hold `text`.
    pub fn assert_not_logged(&self, text: &str) {
        if self.stderr.contains(text) {
            self.fail(&format!("the log holds {text:?}"));
        }
    }

    /// An output file's text.
    pub fn output(&self, name: &str) -> &str {
        self.outputs.get(name).map_or_else(
            || self.fail(&format!("output {name} not written")),
            String::as_str,
        )
    }

    /// An output file as JSON.
    pub fn json(&self, name: &str) -> Value {
        serde_json::from_str(self.output(name))
            .unwrap_or_else(|e| self.fail(&format!("output {name} is not JSON: {e}")))
    }

    /// The state output (`training_job_status`, ...).
    pub fn state(&self) -> &str {
        let name = self
            .launch
            .component
            .state_output()
            .unwrap_or_else(|| self.fail("the kind has no state output"));
        self.output(&name)
    }

    /// Every output component.yaml declares was written and reads as its type.
    pub fn assert_outputs_written(&self) {
        for (name, ty) in self.launch.component.outputs() {
            let text = self.output(&name);
            let parses = match ty.as_str() {
                "JsonObject" => serde_json::from_str::<Value>(text).is_ok_and(|v| v.is_object()),
                "JsonArray" => serde_json::from_str::<Value>(text).is_ok_and(|v| v.is_array()),
                "Integer" => text.parse::<i64>().is_ok(),
                "Float" => text.parse::<f64>().is_ok(),
                "Bool" => matches!(text, "true" | "false"),
                _ => true,
            };
            if !parses {
                self.fail(&format!("output {name} ({ty}) reads {text:?}"));
            }
        }
    }

    /// Every output is exactly what the controller wrote: a status field (or, for the
    /// template's spec outputs, a spec field) of one version of the resource the API server
    /// held while the step ran (the controller keeps writing after the step has what it
    /// waited for: conditions are renewed on each reconcile); absent fields are written as
    /// their type's empty value.
    pub fn assert_outputs_match(&self) {
        let mut candidates = self.versions.clone();
        candidates.extend(self.launch.scene.get(self.kind(), &self.launch.name));
        if candidates.is_empty() {
            self.fail("no version of the resource was seen");
        }
        let mismatches: Vec<Option<String>> = candidates
            .iter()
            .rev()
            .map(|version| self.mismatch(version))
            .collect();
        if let Some(Some(last)) = mismatches.first()
            && mismatches.iter().all(Option::is_some)
        {
            self.fail(&format!(
                "the outputs are no version of the resource ({} seen); against the last: {last}",
                candidates.len()
            ));
        }
    }

    /// The first output that differs from what `resource` holds, if any.
    fn mismatch(&self, resource: &Value) -> Option<String> {
        let status: BTreeMap<String, &Value> = resource["status"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(field, value)| (snake_case(field), value))
            .collect();
        self.launch
            .component
            .outputs()
            .into_iter()
            .find_map(|(name, ty)| {
                let expected = match self.launch.component.spec_outputs.get(&name) {
                    Some(field) => resource["spec"].get(field),
                    None => status.get(&name).copied(),
                };
                self.output_differs(&name, &ty, expected)
            })
    }

    /// The output `name` of KFP type `ty` holds `expected` (`None`: absent).
    pub fn assert_output_is(&self, name: &str, ty: &str, expected: Option<&Value>) {
        if let Some(mismatch) = self.output_differs(name, ty, expected) {
            self.fail(&mismatch);
        }
    }

    fn output_differs(&self, name: &str, ty: &str, expected: Option<&Value>) -> Option<String> {
        let text = self.output(name);
        let expected = expected.filter(|v| !v.is_null());
        let same = match ty {
            "JsonObject" | "JsonArray" => {
                let empty = if ty == "JsonObject" { "{}" } else { "[]" };
                let written = serde_json::from_str::<Value>(text).ok();
                let expected = expected
                    .cloned()
                    .unwrap_or_else(|| serde_json::from_str(empty).expect("JSON"));
                written.is_some_and(|written| same_json(&written, &expected))
            }
            "String" => text == expected.map_or(String::new(), plain_text),
            "Integer" | "Float" => {
                text.parse::<f64>().ok() == Some(expected.and_then(Value::as_f64).unwrap_or(0.0))
            }
            "Bool" => {
                text == expected
                    .and_then(Value::as_bool)
                    .unwrap_or(false)
                    .to_string()
            }
            other => return Some(format!("output {name}: unknown type {other}")),
        };
        (!same).then(|| {
            format!(
                "output {name} ({ty}) reads {text:?}; the resource holds {}",
                expected.map_or("nothing".into(), Value::to_string)
            )
        })
    }
}

/// Every version of one resource, from a watch the administrator opens before the step
/// starts (a watch delivers each write, none coalesced).
#[derive(Debug)]
struct History {
    seen: std::sync::Arc<std::sync::Mutex<Vec<Value>>>,
    task: tokio::task::AbortHandle,
}

impl History {
    fn watch(scene: &Scene<'_>, kind: Kind, name: &str) -> History {
        use futures::StreamExt as _;
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let api = scene.ns.api(kind);
        let params = kube::api::WatchParams::default()
            .fields(&format!("metadata.name={}", name.to_ascii_lowercase()));
        let (opened, open) = std::sync::mpsc::channel();
        let sink = seen.clone();
        let task = scene.stack().cluster.handle().spawn(async move {
            let Ok(stream) = api.watch(&params, "0").await else {
                let _ = opened.send(());
                return;
            };
            let _ = opened.send(());
            let mut stream = std::pin::pin!(stream);
            while let Some(Ok(event)) = stream.next().await {
                if let kube::api::WatchEvent::Added(object)
                | kube::api::WatchEvent::Modified(object) = event
                    && let Ok(value) = serde_json::to_value(object)
                {
                    sink.lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .push(value);
                }
            }
        });
        let _ = open.recv_timeout(Duration::from_secs(10));
        History {
            seen,
            task: task.abort_handle(),
        }
    }

    fn versions(&self) -> Vec<Value> {
        self.seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

impl Drop for History {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The controller's finalizer on a resource of `kind`.
pub fn finalizer(kind: Kind) -> String {
    format!("finalizers.sagemaker.services.k8s.aws/{}", kind.api_name())
}

/// Whether two JSON values are the same document: numbers by value (JSON has one number
/// type: the controller writes a weight as `1`, the launcher's typed output `1.0`).
fn same_json(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(a, b)| same_json(a, b))
        }
        (Value::Object(a), Value::Object(b)) => {
            a.len() == b.len()
                && a.iter()
                    .all(|(key, a)| b.get(key).is_some_and(|b| same_json(a, b)))
        }
        _ => a == b,
    }
}

/// A JSON value as a String output holds it: a string's text, anything else as JSON.
fn plain_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// An input's text as KFP passes a value: strings as they are, objects and arrays as JSON,
/// booleans as Python prints them.
fn input_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        other => other.to_string(),
    }
}

/// `trainingJobName` -> `training_job_name`, `roleARN` -> `role_arn`,
/// `HyperParameterTuningJob` -> `hyper_parameter_tuning_job`: the component's names of the
/// top-level spec and status fields (acronyms kept whole, as the generator names them).
pub fn snake_case(name: &str) -> String {
    let mut out = String::new();
    let mut previous: Option<char> = None;
    for c in name.chars() {
        if c.is_ascii_uppercase()
            && previous.is_some_and(|p| p.is_ascii_lowercase() || p.is_ascii_digit())
        {
            out.push('_');
        }
        out.push(c.to_ascii_lowercase());
        previous = Some(c);
    }
    out
}

/// Runs `check` for each item at once, each in its own thread (the controller's 30 s
/// requeues then overlap), and fails naming every item that failed, with its message.
pub fn each<T: std::fmt::Debug + Sync>(items: &[T], check: impl Fn(&T) + Sync) {
    let failures: Vec<String> = std::thread::scope(|scope| {
        let running: Vec<_> = items
            .iter()
            .map(|item| {
                let check = &check;
                (item, scope.spawn(move || check(item)))
            })
            .collect();
        running
            .into_iter()
            .filter_map(|(item, handle)| {
                handle.join().err().map(|panic| {
                    let text = panic
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                        .unwrap_or_default();
                    format!("=== {item:?} ===\n{text}")
                })
            })
            .collect()
    });
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
