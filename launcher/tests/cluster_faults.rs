//! Faults a real server will not make on demand, injected by a proxy in front of the real
//! kube-apiserver ([`testbed::FaultProxy`]): everything the proxy does not
//! answer itself is the real server's answer, with the step's real RBAC.

mod common;

use std::time::Duration;

use common::cluster::{Namespace, shared};
use common::*;
use testbed::ProxyFault;

#[test]
fn a_burst_of_503_and_a_429_before_the_create_are_waited_out() {
    let cluster = shared();
    let ns = Namespace::new(cluster, "faults-burst");
    let _controller = ns.controller(Scenario::completes());
    let proxy = testbed::FaultProxy::start(cluster).expect("proxy");
    proxy.inject(ProxyFault::Status(503), 3);
    proxy.inject(ProxyFault::TooManyRequests(1), 1);
    let step = Step::with_kubeconfig(&proxy.kubeconfig_yaml(&ns.kubeconfig, cluster));
    let started = std::time::Instant::now();
    let run = step.run(&valid_inputs("xgboost-burst"), &[]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After was honoured"
    );
    assert_eq!(proxy.injected(), 4);
    assert!(proxy.forwarded() >= 2, "the create and a watch");
    // Three back-offs, then the server's Retry-After.
    assert_eq!(
        run.stderr.matches("could not create the resource").count(),
        4,
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("retrying in 1.0s"), "{}", run.stderr);
    assert_eq!(ns.names(), ["xgboost-burst"]);
}

#[test]
fn cut_watch_streams_are_resumed_without_a_second_resource() {
    let cluster = shared();
    let ns = Namespace::new(cluster, "faults-cut");
    let _controller = testbed::ClusterController::start(
        cluster.client(),
        cluster.handle(),
        &ns.name,
        ControllerOptions {
            // 30 simulated seconds between reconciles are 300 ms: about 3 s of training.
            time_scale: Duration::from_millis(10),
            scenario: Scenario::completes_after(10),
            ..ControllerOptions::default()
        },
    );
    let proxy = testbed::FaultProxy::start(cluster).expect("proxy");
    proxy.cut_watches_after(Some(Duration::from_millis(400)));
    let step = Step::with_kubeconfig(&proxy.kubeconfig_yaml(&ns.kubeconfig, cluster));
    let run = step.run(&valid_inputs("xgboost-cut"), &[]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(run.output("training_job_status"), "Completed");
    // kube-rs ends a watch stream cut mid-body like one the server closed, so the
    // launcher resumes silently: count the watches that reached the proxy.
    assert!(
        proxy.watches() >= 4,
        "{} watches:\n{}",
        proxy.watches(),
        run.stderr
    );
    assert_eq!(ns.names(), ["xgboost-cut"]);
}
