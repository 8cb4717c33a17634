//! API faults between the launcher and the real kube-apiserver, injected by a
//! [`testbed::FaultProxy`] in front of it: everything the proxy does not answer itself is
//! the real server's answer, with the step's real RBAC. Each fault still leads to the right
//! outcome with exactly one resource created, as the proxy's request log shows (and one
//! SageMaker job, where the real ACK controller runs it); cancels under faults delete only
//! what is the step's. Where a fault must meet a status that moves in several steps, or
//! late, the test writes the status itself (the controller's 30 s requeue would make each
//! step last that long). (Real refusals, 401 and 403 from the
//! server's own authorizer, are `cluster_scenarios.rs`'s; a real API server restart is
//! `cluster_restart.rs`'s.)

mod common;

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use common::cluster::{Namespace, Script, eventually, shared, with_controller};
use common::*;
use testbed::FaultProxy;
use testbed::cluster::Cluster;

/// A namespace where nothing reconciles TrainingJobs, a proxy and a step through it.
fn scene(name: &str) -> (Namespace<'static>, FaultProxy, Step) {
    let ns = Namespace::new(shared(), name);
    let (proxy, step) = ns.proxied_step();
    (ns, proxy, step)
}

/// A namespace where the real ACK controller runs the job (it completes at once), a proxy
/// and a step through it.
fn scene_with_controller(name: &str) -> (Namespace<'static>, FaultProxy, Step) {
    let ns = Namespace::new(&with_controller().cluster, name);
    let (proxy, step) = ns.proxied_step();
    (ns, proxy, step)
}

/// The SageMaker jobs the real controller created for `name`.
fn sagemaker_jobs(name: &str) -> usize {
    with_controller().sagemaker.count(name, "CreateTrainingJob")
}

fn creates_201(proxy: &FaultProxy) -> usize {
    proxy.requests().count_answered(Verb::Create, 201)
}

/// The step succeeds with one resource.
fn succeeds_despite(ns: &Namespace<'_>, proxy: &FaultProxy, step: &Step, name: &str) -> Run {
    let run = step.run(&valid_inputs(name), &[]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(run.output("training_job_status"), "Completed");
    assert_eq!(creates_201(proxy), 1, "exactly one resource created");
    assert_eq!(ns.names(), [name]);
    run
}

/// Waits until the launcher follows its resource: a watch the server answered.
fn following(proxy: &FaultProxy) {
    eventually("the launcher to watch", || {
        proxy.requests().count_answered(Verb::Watch, 200) >= 1
    });
}

#[test]
fn a_burst_of_503s_and_a_429_on_create_and_503s_on_watch_are_waited_out() {
    let (ns, proxy, step) = scene_with_controller("faults-burst");
    proxy.inject(Fault::status(503).times(3).only(Verb::Create));
    proxy.inject(Fault::too_many_requests(1).only(Verb::Create));
    proxy.inject(Fault::status(503).times(2).only(Verb::Watch));
    let started = Instant::now();
    let run = succeeds_despite(&ns, &proxy, &step, "faults-burst");
    assert_eq!(sagemaker_jobs("faults-burst"), 1);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After was honoured"
    );
    let requests = proxy.requests();
    assert_eq!(
        requests.count(Verb::Create),
        5,
        "three 503s, a 429, one created"
    );
    assert_eq!(requests.count_answered(Verb::Watch, 503), 2);
    // Three back-offs, then the server's Retry-After.
    assert_eq!(
        run.stderr.matches("could not create the resource").count(),
        4,
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("retrying in 1.0s"), "{}", run.stderr);
}

#[test]
fn a_create_whose_answer_is_lost_re_attaches() {
    // The create reaches the server, which creates the resource; its answer is lost (the
    // client gets 500). The retried create gets 409 and the step re-attaches.
    let (ns, proxy, step) = scene_with_controller("faults-lost-answer");
    proxy.inject(Fault::lose_answer(500).only(Verb::Create));
    let run = step.run(&valid_inputs("faults-lost-answer"), &[]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(run.stderr.contains("re-attaching"), "{}", run.stderr);
    assert_eq!(run.output("training_job_status"), "Completed");
    assert_eq!(ns.names(), ["faults-lost-answer"]);
    assert_eq!(sagemaker_jobs("faults-lost-answer"), 1);
    let creates: Vec<u16> = proxy
        .requests()
        .records()
        .iter()
        .filter(|r| r.verb == Verb::Create)
        .map(|r| r.status)
        .collect();
    assert_eq!(creates, [500, 409]);
}

#[test]
fn watches_ended_every_two_events_are_resumed() {
    // Six InProgress writes, then Completed: seven events, two per stream.
    let (ns, proxy, step) = scene("faults-dropped");
    proxy.inject(Fault::close_watch_after_events(2).times(usize::MAX));
    let _jobs = ns.complete_jobs(Script {
        steps: 6,
        ..Script::default()
    });
    succeeds_despite(&ns, &proxy, &step, "faults-dropped");
    let watches: Vec<_> = proxy
        .requests()
        .records()
        .into_iter()
        .filter(|r| r.verb == Verb::Watch)
        .collect();
    assert!(watches.len() >= 3, "the watch was resumed: {watches:?}");
    // Each resumed watch starts from the last resourceVersion seen, never from scratch.
    for watch in &watches {
        let version = watch.param("resourceVersion").unwrap_or_default();
        assert!(!version.is_empty() && version != "0", "{watch:?}");
        assert_eq!(
            watch.param("fieldSelector").as_deref(),
            Some("metadata.name=faults-dropped")
        );
    }
}

#[test]
fn an_expired_watch_history_is_listed_again() {
    // 410 as an ERROR event on the stream (the watch cache's answer), then as the watch
    // request's own answer: each time the launcher lists the one object and watches on.
    // The job is still running when it lists (six steps of 100 ms).
    let (ns, proxy, step) = scene("faults-gone");
    proxy.inject(Fault::watch_error(410));
    proxy.inject(Fault::status(410).only(Verb::Watch));
    let _jobs = ns.complete_jobs(Script {
        steps: 6,
        ..Script::default()
    });
    let run = succeeds_despite(&ns, &proxy, &step, "faults-gone");
    let lists: Vec<_> = proxy
        .requests()
        .records()
        .into_iter()
        .filter(|r| r.verb == Verb::List)
        .collect();
    assert_eq!(lists.len(), 2, "{lists:?}\n{}", run.stderr);
    for list in &lists {
        assert_eq!(
            list.param("fieldSelector").as_deref(),
            Some("metadata.name=faults-gone")
        );
    }
    assert!(
        run.stderr
            .contains("watch history expired (410 Gone); listing again"),
        "{}",
        run.stderr
    );
}

#[test]
fn slow_answers() {
    let (ns, proxy, step) = scene_with_controller("faults-slow");
    proxy.inject(Fault::delay(Duration::from_millis(300)).times(4));
    succeeds_despite(&ns, &proxy, &step, "faults-slow");
    assert_eq!(sagemaker_jobs("faults-slow"), 1);
}

#[test]
fn an_api_unreachable_at_start_is_waited_for() {
    let (ns, proxy, step) = scene_with_controller("faults-unreachable");
    proxy.refuse_connections_for(Duration::from_millis(800));
    let run = succeeds_despite(&ns, &proxy, &step, "faults-unreachable");
    assert_eq!(sagemaker_jobs("faults-unreachable"), 1);
    assert!(
        run.stderr.contains("could not create the resource"),
        "{}",
        run.stderr
    );
}

#[test]
fn an_api_that_never_answers_is_an_infrastructure_error() {
    let (ns, proxy, step) = scene("faults-down");
    proxy.inject(Fault::status(503).times(usize::MAX));
    let run = step.run(&valid_inputs("faults-down"), &["--api-timeout", "0.5"]);
    assert_eq!(run.code, Some(3), "{run:?}");
    assert!(
        run.stderr.contains("could not create the resource for"),
        "{}",
        run.stderr
    );
    assert_eq!(creates_201(&proxy), 0);
    assert!(ns.names().is_empty());
    run.assert_all_outputs_written();
}

#[test]
fn a_quiet_job_whose_watches_are_reset_again_and_again_still_succeeds() {
    // Every watch connection is reset 300 ms after it opens, all through a 3.5 s phase in
    // which nothing is written (the status moves only then): many short outages, each
    // recovered at once, that together last far longer than the 1 s `--api-timeout`; then
    // the status moves while the resets go on, and no event is lost between streams.
    let (ns, proxy, step) = scene("faults-resets");
    proxy.inject(Fault::reset_watch_after(Duration::from_millis(300)).times(usize::MAX));
    let _jobs = ns.complete_jobs(Script {
        wait: Duration::from_millis(3500),
        steps: 6,
        every: Duration::from_millis(200),
    });
    let run = step.run(
        &valid_inputs("faults-resets"),
        &["--api-timeout", "1", "--status-timeout", "30"],
    );
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(run.output("training_job_status"), "Completed");
    assert!(
        proxy.requests().count(Verb::Watch) >= 5,
        "the watch was reset and re-opened: {}",
        run.stderr
    );
    assert!(
        run.stderr.contains("Connection reset by peer"),
        "{}",
        run.stderr
    );
    // Every status change reached the log, through the resets.
    for expected in [
        "secondary status: Training",
        "training job status: InProgress",
        "training job status: Completed",
    ] {
        assert!(run.stderr.contains(expected), "{expected}: {}", run.stderr);
    }
    assert_eq!(creates_201(&proxy), 1);
    assert_eq!(ns.names(), ["faults-resets"]);
}

#[test]
fn an_api_down_longer_than_the_limit_while_following_is_exit_3() {
    let (_ns, proxy, step) = scene("faults-down-later");
    proxy.inject(Fault::reset_watch_after(Duration::from_millis(300)).times(usize::MAX));
    let child = step.spawn(
        &valid_inputs("faults-down-later"),
        &["--api-timeout", "1", "--status-timeout", "30"],
    );
    following(&proxy);
    // From now on every request fails: the outage lasts longer than the limit.
    proxy.inject(Fault::status(503).times(usize::MAX));
    let started = Instant::now();
    let run = step.finish(child.wait_with_output().expect("exits"));
    assert_eq!(run.code, Some(3), "{run:?}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "gave up about when the limit passed, not much later"
    );
    assert!(
        run.stderr.contains("could not watch the resource for"),
        "{}",
        run.stderr
    );
    run.assert_all_outputs_written();
}

#[test]
fn a_watch_that_ends_at_once_is_reopened_with_back_off() {
    // A proxy that ends every watch stream right away, and nothing changes (no status is
    // written): no hot loop of re-opened watches.
    let (_ns, proxy, step) = scene("faults-instant-end");
    proxy.inject(Fault::close_watch_after(Duration::ZERO).times(usize::MAX));
    let child = step.spawn(
        &valid_inputs("faults-instant-end"),
        &["--status-timeout", "30"],
    );
    std::thread::sleep(Duration::from_secs(3));
    let opened = proxy.requests().count(Verb::Watch);
    send_signal(&child, "TERM");
    let run = step.finish(child.wait_with_output().expect("exits"));
    assert!(
        (2..=20).contains(&opened),
        "{opened} watches in 3 s: {}",
        run.stderr
    );
    assert_eq!(run.code, Some(143), "{run:?}");
}

#[test]
fn watch_error_events_count_toward_the_api_timeout() {
    // Every watch answers 200 and then an ERROR 500 event: the watch never really opens,
    // so the outage goes on and ends the step when the limit passes, not at the status
    // timeout much later.
    let (_ns, proxy, step) = scene("faults-watch-errors");
    proxy.inject(Fault::watch_error(500).times(usize::MAX));
    let started = Instant::now();
    let run = step.run(
        &valid_inputs("faults-watch-errors"),
        &["--api-timeout", "1", "--status-timeout", "30"],
    );
    assert_eq!(run.code, Some(3), "{run:?}");
    assert!(run.stderr.contains("watch error 500"), "{}", run.stderr);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    let watches = proxy.requests().count(Verb::Watch);
    assert!((2..=15).contains(&watches), "backed off: {watches} watches");
}

#[test]
fn forbidden_as_a_watch_error_event_is_exit_4() {
    // A 403 inside an opened stream (the real server checks RBAC before it opens one).
    let (_ns, proxy, step) = scene("faults-watch-event-403");
    proxy.inject(Fault::watch_error(403).times(usize::MAX));
    let run = step.run(&valid_inputs("faults-watch-event-403"), &[]);
    assert_eq!(run.code, Some(4), "{run:?}");
    assert!(run.stderr.contains("refused to watch"), "{}", run.stderr);
}

#[test]
fn a_retry_after_longer_than_the_time_left_is_cut_to_it() {
    let (_ns, proxy, step) = scene("faults-429-long");
    proxy.inject(
        Fault::too_many_requests(60)
            .times(usize::MAX)
            .only(Verb::Create),
    );
    let started = Instant::now();
    let run = step.run(&valid_inputs("faults-429-long"), &["--api-timeout", "1"]);
    assert_eq!(run.code, Some(3), "{run:?}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "waited {:?}",
        started.elapsed()
    );
    run.assert_all_outputs_written();
}

/// A cluster whose installed TrainingJob CRD differs from the one the launcher was
/// generated from: `spec.vpcConfig` is required, `status.secondaryStatus` is an integer.
fn drifted() -> &'static Cluster {
    static CLUSTER: OnceLock<Cluster> = OnceLock::new();
    CLUSTER.get_or_init(|| {
        let cluster = Cluster::start().expect("cluster starts");
        let text = common::training_job_crd();
        let mut crd: serde_json::Value = serde_saphyr::from_str(&text).expect("CRD YAML");
        let schema = &mut crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"];
        schema["spec"]["required"]
            .as_array_mut()
            .expect("required")
            .push("vpcConfig".into());
        schema["status"]["properties"]["secondaryStatus"]["type"] = "integer".into();
        cluster
            .apply_crd(&serde_json::from_value(crd).expect("CRD"))
            .expect("CRD accepted");
        cluster
    })
}

#[test]
fn a_create_the_api_server_refuses_names_the_causes_with_its_own_code() {
    let ns = Namespace::new(drifted(), "faults-refused");
    let (proxy, step) = ns.proxied_step();
    let run = step.run(&valid_inputs("faults-refused"), &[]);
    assert_eq!(run.code, Some(8), "{run:?}");
    for expected in ["422", "spec.vpcConfig", "the CRD's schema"] {
        assert!(run.stderr.contains(expected), "{expected}: {}", run.stderr);
    }
    assert_eq!(proxy.requests().count(Verb::Create), 1, "not retried");
    assert!(ns.names().is_empty());
    run.assert_all_outputs_written();
}

#[test]
fn a_status_the_generated_types_cannot_hold_names_the_field_and_advises_regenerating() {
    // A newer controller's CRD gives a status field another type, and the controller
    // writes it; the launcher finds it when it re-attaches. (The inputs give the
    // `vpcConfig` that CRD requires.)
    let ns = Namespace::new(drifted(), "faults-newer");
    let step = ns.step();
    let mut inputs = valid_inputs("faults-newer");
    inputs.retain(|(name, _)| name != "vpc_config");
    inputs.push(("vpc_config".into(), r#"{"subnets": ["subnet-1"]}"#.into()));
    let dry = step.run(&inputs, &["--dry-run"]);
    ns.create(serde_saphyr::from_str(&dry.stdout).expect("YAML"));
    ns.write_status(
        "faults-newer",
        serde_json::json!({"trainingJobStatus": "InProgress", "secondaryStatus": 3}),
    );
    let run = step.run(&inputs, &[]);
    assert_eq!(run.code, Some(9), "{run:?}");
    for expected in [
        "status.secondaryStatus",
        "TrainingJob faults-newer",
        "regenerate",
    ] {
        assert!(run.stderr.contains(expected), "{expected}: {}", run.stderr);
    }
    assert!(
        !run.stderr.contains("could not read"),
        "not retried: {}",
        run.stderr
    );
}

#[test]
fn an_untrusted_server_certificate_stops_at_once_as_a_configuration_error() {
    let ns = Namespace::new(shared(), "faults-bad-ca");
    // The step's kubeconfig with a CA that did not sign the server's certificate.
    let other = testbed::cluster::tls::ServingCert::generate("another").expect("CA");
    let ca_line = |yaml: &str| {
        yaml.lines()
            .find(|l| l.contains("certificate-authority-data"))
            .expect("a CA in the kubeconfig")
            .to_owned()
    };
    let untrusted =
        testbed::cluster::kubeconfig::render("unused", "unused", Some(&other.ca_pem), "t");
    let kubeconfig = ns
        .kubeconfig
        .replace(&ca_line(&ns.kubeconfig), &ca_line(&untrusted));
    assert_ne!(kubeconfig, ns.kubeconfig);
    let started = Instant::now();
    let run = Step::with_kubeconfig(&kubeconfig).run(&valid_inputs("faults-bad-ca"), &[]);
    assert_eq!(run.code, Some(7), "{run:?}");
    assert!(run.stderr.contains("certificate"), "{}", run.stderr);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "not retried for the api timeout"
    );
    assert!(ns.names().is_empty());
}

#[test]
fn a_credential_plugin_that_fails_is_exit_4_at_once() {
    let (ns, proxy, _) = scene("faults-no-credentials");
    let token_line = ns
        .kubeconfig
        .lines()
        .find(|l| l.trim_start().starts_with("token: "))
        .expect("a token")
        .to_owned();
    let kubeconfig = proxy.kubeconfig_yaml(&ns.kubeconfig, shared()).replace(
        &token_line,
        "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: \"false\"\n      interactiveMode: Never",
    );
    assert!(kubeconfig.contains("exec:"));
    let started = Instant::now();
    let run = Step::with_kubeconfig(&kubeconfig).run(&valid_inputs("faults-no-credentials"), &[]);
    assert_eq!(run.code, Some(4), "{run:?}");
    assert!(run.stderr.contains("auth exec"), "{}", run.stderr);
    assert!(started.elapsed() < Duration::from_secs(5), "not retried");
    assert!(proxy.requests().records().is_empty());
}

#[test]
fn no_usable_kubeconfig_is_a_configuration_error_not_unreachable() {
    let step = Step::with_kubeconfig("apiVersion: v1\nkind: Config\nclusters: [\n");
    let run = step.run(&valid_inputs("faults-no-config"), &[]);
    assert_eq!(run.code, Some(7), "{run:?}");
    assert!(
        run.stderr.contains("no usable Kubernetes configuration"),
        "{}",
        run.stderr
    );
    run.assert_all_outputs_written();
}

#[test]
fn outputs_that_cannot_be_written_after_success_are_not_a_failed_job() {
    let ns = Namespace::new(&with_controller().cluster, "faults-outputs");
    let step = ns.step();
    // A file where the output's folder should be.
    let blocked = step.output_path("training_job_status");
    std::fs::create_dir_all(
        blocked
            .parent()
            .and_then(|p| p.parent())
            .expect("outputs dir"),
    )
    .expect("outputs dir");
    std::fs::write(blocked.parent().expect("folder"), "not a folder").expect("blocker");
    let run = step.run(&valid_inputs("faults-outputs"), &[]);
    assert_eq!(run.code, Some(10), "{run:?}");
    assert!(
        run.stderr
            .contains("the job succeeded, but the outputs could not be written"),
        "{}",
        run.stderr
    );
}

/// Cancels (SIGTERM, SIGINT) under faults: the step deletes what is its own, within its
/// budget, and nothing else.
mod cancelled {
    use super::*;

    #[test]
    fn before_the_create_nothing_is_created() {
        let (ns, proxy, step) = scene("cancel-early");
        proxy.refuse_connections_for(Duration::from_secs(3));
        let child = step.spawn(&valid_inputs("xgboost-early"), &[]);
        std::thread::sleep(Duration::from_millis(500));
        send_signal(&child, "TERM");
        let run = step.finish(child.wait_with_output().expect("exits"));
        assert_eq!(run.code, Some(143), "{run:?}");
        assert_eq!(proxy.requests().count(Verb::Create), 0);
        assert!(ns.names().is_empty());
        run.assert_all_outputs_written();
    }

    #[test]
    fn during_the_create_leaves_no_resource_behind() {
        let (ns, proxy, step) = scene("cancel-mid-create");
        proxy.inject(Fault::delay(Duration::from_millis(600)).only(Verb::Create));
        let child = step.spawn(&valid_inputs("xgboost-mid-create"), &[]);
        eventually("the create to reach the proxy", || {
            proxy.requests().count(Verb::Create) == 1
        });
        send_signal(&child, "TERM");
        let run = step.finish(child.wait_with_output().expect("exits"));
        assert_eq!(run.code, Some(143), "{run:?}");
        run.assert_all_outputs_written();
        // The held create lands after the signal; the step looked for it and deleted it.
        std::thread::sleep(Duration::from_millis(800));
        let left = ns.object("xgboost-mid-create");
        assert!(
            left.as_ref()
                .is_none_or(|o| o["metadata"]["deletionTimestamp"].is_string()),
            "{left:?}\n{}",
            run.stderr
        );
    }

    #[test]
    fn a_step_never_deletes_another_runs_resource() {
        // Run A's resource exists; run B (same name and inputs) is cancelled while its
        // create is under way, so it cannot know yet that the name is taken.
        let (ns, proxy, step) = scene("cancel-taken");
        let dry = step.run(
            &valid_inputs("xgboost-taken"),
            &[&RUN_A[..], &["--dry-run"]].concat(),
        );
        ns.create(serde_saphyr::from_str(&dry.stdout).expect("YAML"));
        proxy.inject(Fault::delay(Duration::from_millis(800)).only(Verb::Create));
        let child = step.spawn(&valid_inputs("xgboost-taken"), &RUN_B);
        eventually("the create to reach the proxy", || {
            proxy.requests().count(Verb::Create) == 1
        });
        send_signal(&child, "TERM");
        let run = step.finish(child.wait_with_output().expect("exits"));
        assert_eq!(run.code, Some(143), "{run:?}");
        assert_eq!(proxy.requests().count(Verb::Delete), 0, "{}", run.stderr);
        let object = ns.object("xgboost-taken").expect("run A's resource");
        assert!(
            object["metadata"]["deletionTimestamp"].is_null(),
            "{object}"
        );
        run.assert_all_outputs_written();
    }

    #[test]
    fn a_resource_replaced_while_the_watch_was_down_is_not_followed() {
        let (ns, proxy, step) = scene("cancel-swapped");
        let dry = step.run(
            &valid_inputs("xgboost-swapped"),
            &[&RUN_A[..], &["--dry-run"]].concat(),
        );
        let object: serde_json::Value = serde_saphyr::from_str(&dry.stdout).expect("YAML");
        // Watch streams end every 300 ms, so the launcher keeps opening new ones.
        proxy.inject(Fault::close_watch_after(Duration::from_millis(300)).times(usize::MAX));
        let child = step.spawn(&valid_inputs("xgboost-swapped"), &RUN_A);
        following(&proxy);
        // The watch goes down; meanwhile the resource is deleted and another of the same
        // name and annotations takes its place.
        proxy.inject(Fault::status(503).times(usize::MAX).only(Verb::Watch));
        eventually("the launcher to be without a watch", || {
            proxy.requests().count_answered(Verb::Watch, 503) >= 1
        });
        ns.delete("xgboost-swapped");
        eventually("the old resource to be gone", || {
            ns.object("xgboost-swapped").is_none()
        });
        ns.create(object);
        // The watch comes back with its history expired: the launcher lists again.
        proxy.clear();
        proxy.inject(Fault::watch_error(410));
        let run = step.finish(child.wait_with_output().expect("exits"));
        assert_eq!(run.code, Some(1), "{run:?}");
        assert!(
            run.stderr
                .contains("another resource of that name took its place"),
            "{}",
            run.stderr
        );
        assert_eq!(proxy.requests().count(Verb::Delete), 0);
    }

    #[test]
    fn a_second_signal_during_clean_up_ends_the_launcher_at_once() {
        let (_ns, proxy, step) = scene("cancel-impatient");
        let child = step.spawn(&valid_inputs("xgboost-impatient"), &[]);
        following(&proxy);
        // Clean-up is slow: the API takes 8 s to answer.
        proxy.inject(Fault::delay(Duration::from_secs(8)).times(usize::MAX));
        send_signal(&child, "INT");
        std::thread::sleep(Duration::from_millis(400));
        let second = Instant::now();
        send_signal(&child, "INT");
        let run = step.finish(child.wait_with_output().expect("exits"));
        assert!(
            second.elapsed() < Duration::from_secs(3),
            "ended {:?} after the second signal:\n{}",
            second.elapsed(),
            run.stderr
        );
        assert_eq!(run.code, Some(130), "{run:?}");
        assert!(
            run.stderr.contains("during clean-up: ending now"),
            "{}",
            run.stderr
        );
        run.assert_all_outputs_written();
    }

    #[test]
    fn clean_up_fits_its_budget_and_says_what_it_could_not_do() {
        let (ns, proxy, step) = scene("cancel-stuck");
        let child = step.spawn(&valid_inputs("xgboost-stuck"), &[]);
        following(&proxy);
        proxy.inject(Fault::status(503).times(usize::MAX));
        let signalled = Instant::now();
        send_signal(&child, "TERM");
        let run = step.finish(child.wait_with_output().expect("exits"));
        let took = signalled.elapsed();
        assert_eq!(run.code, Some(143), "{run:?}");
        // Inside Kubernetes' default 30 s grace period, with time to spare.
        assert!(took < Duration::from_secs(25), "{took:?}");
        assert!(
            run.stderr.contains("could not delete xgboost-stuck")
                && run.stderr.contains("the SageMaker job keeps running"),
            "{}",
            run.stderr
        );
        assert!(ns.object("xgboost-stuck").is_some());
        run.assert_all_outputs_written();
    }
}
