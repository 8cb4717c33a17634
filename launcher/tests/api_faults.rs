//! API faults between the launcher and the API server double: each still reaches the
//! right outcome, with exactly one resource created. (A 429's Retry-After and real 403s are
//! checked against the real server: `cluster_faults.rs`, `cluster_scenarios.rs`.)

mod common;

use std::time::Duration;

use common::*;

fn succeeds_despite(bed: &TestBed, name: &str) -> Run {
    let _controller = controller(bed, Scenario::completes_after(6));
    let run = Step::new(bed).run(&valid_inputs(name), &[]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(run.output("training_job_status"), "Completed");
    assert_eq!(creates_201(bed), 1, "exactly one resource created");
    run
}

#[test]
fn a_burst_of_503s_on_create_and_watch() {
    let bed = bed();
    bed.faults()
        .inject(Fault::status(503).times(3).only(Verb::Create));
    bed.faults()
        .inject(Fault::status(503).times(2).only(Verb::Watch));
    let run = succeeds_despite(&bed, "faults-503");
    assert_eq!(
        bed.requests().count(Verb::Create),
        4,
        "three refused, one created"
    );
    assert!(run.stderr.contains("retrying in"), "{}", run.stderr);
}

#[test]
fn a_500_on_create_that_did_create_re_attaches() {
    // The create's answer is lost (a 503 after a first successful attempt is simulated by
    // creating through the store first with the launcher's own fingerprint): the retried
    // create gets 409 and the step re-attaches instead of failing.
    let bed = bed();
    let _controller = controller(&bed, Scenario::completes());
    let step = Step::new(&bed);
    let dry = step.run(&valid_inputs("faults-lost-answer"), &["--dry-run"]);
    let object: serde_json::Value = serde_saphyr::from_str(&dry.stdout).expect("YAML");
    bed.create(&ResourceRef::training_job(), NS, object)
        .expect("created behind the launcher's back");
    bed.faults().inject(Fault::status(500).only(Verb::Create));
    let run = step.run(&valid_inputs("faults-lost-answer"), &[]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(run.stderr.contains("re-attaching"), "{}", run.stderr);
}

#[test]
fn watches_dropped_every_two_events_are_resumed() {
    let bed = bed();
    bed.faults().close_watches_after_events(Some(2));
    succeeds_despite(&bed, "faults-dropped");
    assert!(
        bed.requests().count(Verb::Watch) >= 3,
        "the watch was resumed"
    );
    // Each resumed watch starts from the last resourceVersion seen, never from scratch.
    for watch in bed
        .requests()
        .records()
        .iter()
        .filter(|r| r.verb == Verb::Watch)
    {
        let version = watch.param("resourceVersion").unwrap_or_default();
        assert!(!version.is_empty() && version != "0", "{watch:?}");
        assert_eq!(
            watch.param("fieldSelector").as_deref(),
            Some("metadata.name=faults-dropped")
        );
    }
}

#[test]
fn expired_history_is_relisted() {
    let bed = bed_with(Options {
        history_limit: 2,
        ..Options::default()
    });
    bed.faults().close_watches_after_events(Some(1));
    bed.faults().inject(
        Fault::delay(Duration::from_millis(150))
            .times(3)
            .only(Verb::Watch),
    );
    let run = succeeds_despite(&bed, "faults-gone");
    assert!(
        bed.requests().count(Verb::List) >= 1,
        "re-listed after 410: {}",
        run.stderr
    );
}

#[test]
fn slow_answers() {
    let bed = bed();
    bed.faults()
        .inject(Fault::delay(Duration::from_millis(300)).times(4));
    succeeds_despite(&bed, "faults-slow");
}

#[test]
fn an_api_unreachable_at_start_is_waited_for() {
    let bed = bed_with(Options {
        refuse_connections_for: Some(Duration::from_millis(800)),
        ..Options::default()
    });
    let run = succeeds_despite(&bed, "faults-unreachable");
    assert!(
        run.stderr.contains("could not create the resource"),
        "{}",
        run.stderr
    );
}

#[test]
fn an_api_that_never_answers_is_an_infrastructure_error() {
    let bed = bed();
    bed.faults().inject(Fault::status(503).times(usize::MAX));
    let run = Step::new(&bed).run(&valid_inputs("faults-down"), &["--api-timeout", "0.5"]);
    assert_eq!(run.code, Some(3), "{run:?}");
    assert!(
        run.stderr.contains("could not create the resource for"),
        "{}",
        run.stderr
    );
    assert_eq!(creates_201(&bed), 0);
    run.assert_all_outputs_written();
}

#[test]
fn forbidden_is_its_own_exit_code() {
    let bed = bed();
    bed.faults().inject(Fault::status(403).only(Verb::Create));
    let run = Step::new(&bed).run(&valid_inputs("faults-forbidden"), &[]);
    assert_eq!(run.code, Some(4), "{run:?}");
    assert!(
        run.stderr
            .contains("needs get, list, watch, create and delete"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_quiet_job_whose_watches_are_reset_again_and_again_still_succeeds() {
    // Every watch connection is reset 300 ms after it opens, all through a 3.5 s phase in
    // which nothing is written (the controller starts only then): many short outages, each
    // recovered at once, that together last far longer than the 1 s `--api-timeout`.
    let bed = bed();
    bed.faults()
        .reset_watches_after(Some(Duration::from_millis(300)));
    let step = Step::new(&bed);
    let child = step.spawn(
        &valid_inputs("faults-resets"),
        &["--api-timeout", "1", "--status-timeout", "30"],
    );
    std::thread::sleep(Duration::from_millis(3500));
    let _controller = controller(&bed, Scenario::completes());
    let run = step.finish(child.wait_with_output().expect("exits"));
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(run.output("training_job_status"), "Completed");
    assert!(
        bed.requests().count(Verb::Watch) >= 5,
        "the watch was reset and re-opened: {}",
        run.stderr
    );
    assert!(
        run.stderr.contains("Connection reset by peer"),
        "{}",
        run.stderr
    );
    assert_eq!(creates_201(&bed), 1);
}

#[test]
fn an_api_down_longer_than_the_limit_while_following_is_exit_3() {
    let bed = bed();
    bed.faults()
        .reset_watches_after(Some(Duration::from_millis(300)));
    let _controller = controller(&bed, Scenario::runs_forever());
    let step = Step::new(&bed);
    let child = step.spawn(&valid_inputs("faults-down-later"), &["--api-timeout", "1"]);
    eventually("the job to train", || {
        object(&bed, "faults-down-later")
            .is_some_and(|o| o["status"]["secondaryStatus"] == "Training")
    });
    // From now on every request fails: the outage lasts longer than the limit.
    bed.faults().inject(Fault::status(503).times(usize::MAX));
    let started = std::time::Instant::now();
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
    // A proxy that ends every watch stream right away, and nothing changes (no controller
    // writes a status): no hot loop of re-opened watches.
    let bed = bed();
    bed.faults().close_watches_after(Some(Duration::ZERO));
    let step = Step::new(&bed);
    let child = step.spawn(
        &valid_inputs("faults-instant-end"),
        &["--status-timeout", "30"],
    );
    std::thread::sleep(Duration::from_secs(3));
    let opened = bed.requests().count(Verb::Watch);
    send_signal(&child, "TERM");
    let run = step.finish(child.wait_with_output().expect("exits"));
    assert!(
        (2..=20).contains(&opened),
        "{opened} watches in 3 s: {}",
        run.stderr
    );
    assert_eq!(run.code, Some(143), "{run:?}");
}

/// A test bed serving the vendored CRD with `edit` applied: a cluster whose installed CRD
/// differs from the one the launcher was generated from.
fn bed_with_crd(edit: impl Fn(&mut serde_json::Value)) -> TestBed {
    let bed = TestBed::start_with(Options::default()).expect("test bed starts");
    let text = std::fs::read_to_string(testbed::training_job_crd_path()).expect("vendored CRD");
    let mut crd: serde_json::Value = serde_saphyr::from_str(&text).expect("CRD YAML");
    let before = crd.clone();
    edit(&mut crd);
    assert_ne!(crd, before, "the edit applies");
    let yaml = serde_saphyr::to_string(&crd).expect("CRD as YAML");
    bed.register_crd_yaml(&yaml).expect("CRD registers");
    bed
}

fn schema(crd: &mut serde_json::Value) -> &mut serde_json::Value {
    &mut crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]
}

#[test]
fn a_create_the_api_server_refuses_names_the_causes_with_its_own_code() {
    // The installed CRD requires a field this launcher's does not: 422 with causes.
    let bed = bed_with_crd(|crd| {
        let required = &mut schema(crd)["spec"]["required"];
        required
            .as_array_mut()
            .expect("required")
            .push("vpcConfig".into());
    });
    let run = Step::new(&bed).run(&valid_inputs("faults-refused"), &[]);
    assert_eq!(run.code, Some(8), "{run:?}");
    for expected in ["422", "spec.vpcConfig", "the CRD's schema"] {
        assert!(run.stderr.contains(expected), "{expected}: {}", run.stderr);
    }
    assert_eq!(bed.requests().count(Verb::Create), 1, "not retried");
    run.assert_all_outputs_written();
}

#[test]
fn a_status_the_generated_types_cannot_hold_names_the_field_and_advises_regenerating() {
    // A newer controller's CRD keeps its status as free-form JSON and writes a field with
    // another type; the launcher finds it when it re-attaches.
    let bed = bed_with_crd(|crd| {
        schema(crd)["status"]["properties"]["secondaryStatus"]["type"] = "integer".into();
        crd["spec"]["versions"][0]
            .as_object_mut()
            .expect("version")
            .remove("subresources");
    });
    let step = Step::new(&bed);
    let dry = step.run(&valid_inputs("faults-newer"), &["--dry-run"]);
    let mut object: serde_json::Value = serde_saphyr::from_str(&dry.stdout).expect("YAML");
    object["status"] = serde_json::json!({"trainingJobStatus": "InProgress", "secondaryStatus": 3});
    bed.create(&ResourceRef::training_job(), NS, object)
        .expect("created with a status");
    let run = step.run(&valid_inputs("faults-newer"), &[]);
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
fn forbidden_during_the_watch_is_exit_4() {
    let bed = bed();
    let _controller = controller(&bed, Scenario::runs_forever());
    bed.faults()
        .inject(Fault::status(403).times(usize::MAX).only(Verb::Watch));
    let run = Step::new(&bed).run(&valid_inputs("faults-watch-403"), &[]);
    assert_eq!(run.code, Some(4), "{run:?}");
    assert!(run.stderr.contains("refused to watch"), "{}", run.stderr);
}

#[test]
fn an_untrusted_server_certificate_stops_at_once_as_a_configuration_error() {
    let bed = bed_with(Options {
        tls: true,
        ..Options::default()
    });
    let step = Step::new(&bed);
    // A kubeconfig whose CA is not the server's: TLS verification fails on every try.
    let other = bed_with(Options {
        tls: true,
        ..Options::default()
    });
    let ca_line = |yaml: &str| {
        yaml.lines()
            .find(|l| l.contains("certificate-authority-data"))
            .expect("a CA in the kubeconfig")
            .to_owned()
    };
    let ours = bed.kubeconfig_yaml(NS);
    let kubeconfig = ours.replace(&ca_line(&ours), &ca_line(&other.kubeconfig_yaml(NS)));
    std::fs::write(&step.kubeconfig, kubeconfig).expect("kubeconfig");
    let started = std::time::Instant::now();
    let run = step.run(&valid_inputs("faults-bad-ca"), &[]);
    assert_eq!(run.code, Some(7), "{run:?}");
    assert!(run.stderr.contains("certificate"), "{}", run.stderr);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "not retried for the api timeout"
    );
}

#[test]
fn outputs_that_cannot_be_written_after_success_are_not_a_failed_job() {
    let bed = bed();
    let _controller = controller(&bed, Scenario::completes());
    let step = Step::new(&bed);
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

#[test]
fn a_credential_plugin_that_fails_is_exit_4_at_once() {
    let bed = bed();
    let step = Step::new(&bed);
    let kubeconfig = bed.kubeconfig_yaml(NS).replace(
        &format!("    token: {}\n", testbed::TOKEN),
        "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: \"false\"\n      interactiveMode: Never\n",
    );
    assert!(kubeconfig.contains("exec:"));
    std::fs::write(&step.kubeconfig, kubeconfig).expect("kubeconfig");
    let started = std::time::Instant::now();
    let run = step.run(&valid_inputs("faults-no-credentials"), &[]);
    assert_eq!(run.code, Some(4), "{run:?}");
    assert!(run.stderr.contains("auth exec"), "{}", run.stderr);
    assert!(started.elapsed() < Duration::from_secs(5), "not retried");
    assert_eq!(bed.requests().count(Verb::Create), 0);
}

#[test]
fn no_usable_kubeconfig_is_a_configuration_error_not_unreachable() {
    let bed = bed();
    let step = Step::new(&bed);
    std::fs::write(
        &step.kubeconfig,
        "apiVersion: v1\nkind: Config\nclusters: [\n",
    )
    .expect("kubeconfig");
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
fn watch_error_events_count_toward_the_api_timeout() {
    // Every watch answers 200 and then an ERROR 500 event: the watch never really opens,
    // so the outage goes on and ends the step when the limit passes, not at the status
    // timeout much later.
    let bed = bed();
    bed.faults().watch_error_events(Some(500));
    let started = std::time::Instant::now();
    let run = Step::new(&bed).run(
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
    let watches = bed.requests().count(Verb::Watch);
    assert!((2..=15).contains(&watches), "backed off: {watches} watches");
}

#[test]
fn forbidden_as_a_watch_error_event_is_exit_4() {
    let bed = bed();
    bed.faults().watch_error_events(Some(403));
    let run = Step::new(&bed).run(&valid_inputs("faults-watch-event-403"), &[]);
    assert_eq!(run.code, Some(4), "{run:?}");
    assert!(run.stderr.contains("refused to watch"), "{}", run.stderr);
}

#[test]
fn a_retry_after_longer_than_the_time_left_is_cut_to_it() {
    let bed = bed();
    bed.faults().inject(
        Fault::too_many_requests(60)
            .times(usize::MAX)
            .only(Verb::Create),
    );
    let started = std::time::Instant::now();
    let run = Step::new(&bed).run(&valid_inputs("faults-429-long"), &["--api-timeout", "1"]);
    assert_eq!(run.code, Some(3), "{run:?}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "waited {:?}",
        started.elapsed()
    );
    run.assert_all_outputs_written();
}
