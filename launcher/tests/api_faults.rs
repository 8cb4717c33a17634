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
