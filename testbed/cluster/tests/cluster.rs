//! The harness itself against the real control plane: it starts, authenticates and
//! authorizes as configured, keeps etcd's data across an API server restart, and leaves no
//! process behind.

use cluster::Cluster;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::{Api, ObjectMeta, PostParams};

fn config_map(name: &str) -> ConfigMap {
    ConfigMap {
        metadata: ObjectMeta {
            name: Some(name.into()),
            ..ObjectMeta::default()
        },
        data: Some([("k".to_string(), "v".to_string())].into()),
        ..ConfigMap::default()
    }
}

async fn client_of(kubeconfig: &str) -> kube::Client {
    let kubeconfig = kube::config::Kubeconfig::from_yaml(kubeconfig).expect("kubeconfig");
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default())
        .await
        .expect("config");
    kube::Client::try_from(config).expect("client")
}

/// Processes whose command line mentions `dir`.
fn processes_under(dir: &std::path::Path) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .expect("proc")
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|c| String::from_utf8_lossy(&c).contains(&*dir.to_string_lossy()))
        })
        .filter(|pid| pid_alive(*pid))
        .collect()
}

fn pid_alive(pid: u32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
        && !std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .unwrap_or_default()
            .contains(") Z ")
}

#[test]
fn a_cluster_serves_rbac_survives_an_apiserver_restart_and_stops_on_drop() {
    let cluster = Cluster::start().expect("cluster starts");
    assert!(cluster.url().starts_with("https://127.0.0.1:"));
    cluster.create_namespace("harness").expect("namespace");
    let admin: Api<ConfigMap> = Api::namespaced(cluster.client(), "harness");
    cluster
        .block_on(admin.create(&PostParams::default(), &config_map("kept")))
        .expect("admin creates");

    // A ServiceAccount with no Role is authenticated (its bound token is valid) but may do
    // nothing: the answer is 403, not 401.
    let sa_config = cluster
        .service_account_kubeconfig("harness", "nobody")
        .expect("token request");
    let token = |config: &str| {
        config
            .lines()
            .find_map(|l| l.trim().strip_prefix("token: ").map(str::to_string))
            .expect("a token")
    };
    let sa_token = token(&sa_config);
    assert_ne!(sa_token, token(&cluster.kubeconfig_yaml("harness")));
    let denied = cluster.block_on(async {
        let client = client_of(&sa_config).await;
        Api::<ConfigMap>::namespaced(client, "harness")
            .get("kept")
            .await
    });
    match denied {
        Err(kube::Error::Api(s)) => {
            assert_eq!(s.code, 403, "{s:?}");
            assert!(
                s.message.contains("system:serviceaccount:harness:nobody"),
                "{s:?}"
            );
        }
        other => panic!("expected 403, got {other:?}"),
    }
    // A made-up token is not authenticated at all.
    let forged = sa_config.replace("token: ", "token: x");
    let unauthenticated = cluster.block_on(async {
        let client = client_of(&forged).await;
        Api::<Namespace>::all(client).get("harness").await
    });
    assert!(
        matches!(&unauthenticated, Err(kube::Error::Api(s)) if s.code == 401),
        "{unauthenticated:?}"
    );

    cluster.restart_apiserver().expect("restarts");
    let kept = cluster
        .block_on(admin.get("kept"))
        .expect("etcd kept the data");
    assert_eq!(kept.data.expect("data")["k"], "v");

    let dir = cluster.dir().to_path_buf();
    let log = std::fs::read_to_string(dir.join("kube-apiserver.log")).unwrap_or_default();
    assert!(log.contains("Serving securely on 127.0.0.1:"), "{log}");
    assert!(!log.contains(&sa_token), "a token reached the log");
    let pids = processes_under(&dir);
    assert_eq!(pids.len(), 3, "etcd, kube-apiserver, watchdog: {pids:?}");
    drop(cluster);
    for pid in pids {
        assert!(!pid_alive(pid), "process {pid} left behind");
    }
    assert!(!dir.exists(), "{} left behind", dir.display());
}

/// Run by the next test in a process of its own: starts a cluster and exits without
/// dropping it, as a test binary does with a cluster in a `static`.
#[test]
#[ignore = "a helper of the_watchdog_stops_a_cluster_that_is_never_dropped"]
fn helper_exits_without_dropping_a_cluster() {
    let cluster = Cluster::start().expect("cluster starts");
    println!("CLUSTER_DIR={}", cluster.dir().display());
    std::process::exit(0);
}

#[test]
fn the_watchdog_stops_a_cluster_that_is_never_dropped() {
    let output = std::process::Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "--ignored",
            "--exact",
            "helper_exits_without_dropping_a_cluster",
            "--nocapture",
        ])
        .output()
        .expect("helper runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let dir = stdout
        .lines()
        .find_map(|l| l.strip_prefix("CLUSTER_DIR="))
        .unwrap_or_else(|| panic!("no cluster started: {output:?}"));
    let dir = std::path::PathBuf::from(dir);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while (!processes_under(&dir).is_empty() || dir.exists())
        && std::time::Instant::now() < deadline
    {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(processes_under(&dir), Vec::<u32>::new(), "left behind");
    assert!(!dir.exists(), "{} left behind", dir.display());
}
