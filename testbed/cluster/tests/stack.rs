//! The stack with a node: two side by side start, each node runs pods pulled from its own
//! registry, reaches its API server through the `kubernetes` Service, runs an Argo
//! Workflow whose log lands in its S3 server, and nothing is left behind when a stack is
//! dropped: no process, cgroup, network device, mount or file.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use cluster::Stack;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, LogParams, PostParams};

/// `component-template/rbac.yaml`: the step's Role.
fn rbac_yaml() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../component-template/rbac.yaml");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn workflows(stack: &Stack, namespace: &str) -> Api<DynamicObject> {
    let gvk = GroupVersionKind::gvk("argoproj.io", "v1alpha1", "Workflow");
    Api::namespaced_with(
        stack.cluster().client(),
        namespace,
        &ApiResource::from_gvk(&gvk),
    )
}

fn eventually<T>(what: &str, timeout: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// A pod of the executor image that prints Argo's version and exits, its log read back
/// through the API server (which reaches the kubelet on the node's address).
fn run_version_pod(stack: &Stack, namespace: &str) -> String {
    let pods: Api<Pod> = Api::namespaced(stack.cluster().client(), namespace);
    let pod: Pod = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "version"},
        "spec": {
            "restartPolicy": "Never",
            "containers": [{
                "name": "main",
                "image": stack.executor_image(),
                "command": ["argoexec", "version"],
            }],
        },
    }))
    .unwrap();
    stack
        .cluster()
        .block_on(pods.create(&PostParams::default(), &pod))
        .expect("create the pod");
    let phase = eventually("the pod to finish", Duration::from_secs(120), || {
        let pod = stack.cluster().block_on(pods.get("version")).ok()?;
        let phase = pod.status?.phase?;
        matches!(phase.as_str(), "Succeeded" | "Failed").then_some(phase)
    });
    assert_eq!(phase, "Succeeded");
    // Right after a container exits the kubelet may answer for a moment that it cannot
    // retrieve its log (its runtime's status call failed); ask again.
    let mut log = String::new();
    for _ in 0..20 {
        log = stack
            .cluster()
            .block_on(pods.logs("version", &LogParams::default()))
            .expect("the pod's log through the API server");
        if !log.starts_with("unable to retrieve container logs") {
            break;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    log
}

/// Every trace a stack could leave on the host.
fn leftovers(dir: &Path, cgroup: &str, veth: &str) -> Vec<String> {
    let mut found = Vec::new();
    if dir.exists() {
        found.push(format!("directory {}", dir.display()));
    }
    for entry in std::fs::read_dir("/sys/fs/cgroup").unwrap().flatten() {
        let path: PathBuf = entry.path().join(cgroup);
        if path.exists() {
            found.push(format!("cgroup {}", path.display()));
        }
    }
    if Path::new("/sys/class/net").join(veth).exists() {
        found.push(format!("network device {veth}"));
    }
    let dir_text = dir.display().to_string();
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    found.extend(
        mounts
            .lines()
            .filter(|l| l.contains(&dir_text))
            .map(|l| format!("mount {l}")),
    );
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        if cmdline.contains(&dir_text) {
            found.push(format!(
                "process {}: {cmdline}",
                entry.file_name().to_string_lossy()
            ));
        }
    }
    found
}

#[test]
fn two_stacks_side_by_side_run_pods_and_workflows_and_leave_nothing_behind() {
    let started = Instant::now();
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(Stack::start);
        let b = s.spawn(Stack::start);
        (
            a.join().unwrap().expect("stack A starts"),
            b.join().unwrap().expect("stack B starts"),
        )
    });
    eprintln!("two stacks up in {:.1} s", started.elapsed().as_secs_f64());
    assert_ne!(
        a.registry().host(),
        b.registry().host(),
        "each stack has its own addresses"
    );

    for (stack, name) in [(&a, "a"), (&b, "b")] {
        let namespace = format!("pods-{name}");
        stack
            .prepare_namespace(&namespace, &rbac_yaml())
            .expect("namespace");
        let log = run_version_pod(stack, &namespace);
        assert!(log.contains("v3.7.18"), "{log}");
    }

    // A workflow on A: Argo's executor reports to the API server from inside the pod
    // (the `kubernetes` Service, through kube-proxy) and archives the step's log to S3.
    let api = workflows(&a, "pods-a");
    let workflow: DynamicObject = serde_json::from_value(serde_json::json!({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"name": "hello"},
        "spec": {
            "entrypoint": "hello",
            "serviceAccountName": "pipeline-runner",
            "templates": [{
                "name": "hello",
                "container": {"image": a.executor_image(), "command": ["argoexec", "version"]},
            }],
        },
    }))
    .unwrap();
    a.cluster()
        .block_on(api.create(&PostParams::default(), &workflow))
        .expect("submit");
    let status = eventually("the workflow to finish", Duration::from_secs(180), || {
        let wf = a.cluster().block_on(api.get("hello")).ok()?;
        let phase = wf.data["status"]["phase"].as_str()?.to_owned();
        matches!(phase.as_str(), "Succeeded" | "Failed" | "Error")
            .then_some(wf.data["status"].clone())
    });
    assert_eq!(
        status["phase"],
        "Succeeded",
        "{status:#}\n{}",
        std::fs::read_to_string(a.argo_log()).unwrap_or_default()
    );
    let keys = a.s3().list("artifacts/hello/").expect("list the bucket");
    let log_key = keys
        .iter()
        .find(|k| k.ends_with("/main.log"))
        .unwrap_or_else(|| panic!("no archived log in {keys:?}"));
    assert!(
        a.s3()
            .read(log_key)
            .expect("read the log")
            .contains("v3.7.18")
    );

    for stack in [a, b] {
        let dir = stack.dir().to_path_buf();
        let (cgroup, veth) = stack.host_objects();
        drop(stack);
        assert_eq!(leftovers(&dir, &cgroup, &veth), Vec::<String>::new());
    }
}
