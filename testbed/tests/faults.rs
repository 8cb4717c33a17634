//! Fault injection, seen from the kube-rs client and from raw HTTP.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::{
    NS, api, api_error, bed, client_without_retries, sample, sample_named, training_jobs_resource,
};
use futures::{StreamExt, TryStreamExt};
use kube::api::{ListParams, PostParams, WatchEvent, WatchParams};
use testbed::{Fault, Options, ResourceRef, TestBed, Verb};

/// One HTTP/1.1 request on a fresh connection: (status, raw headers, body).
fn raw(bed: &TestBed, method: &str, path: &str, body: &str) -> (u16, String, String) {
    let mut s = TcpStream::connect(bed.addr()).unwrap();
    write!(s, "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}", body.len()).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let (head, body) = out.split_once("\r\n\r\n").unwrap();
    let code = head.split(' ').nth(1).unwrap().parse().unwrap();
    (code, head.to_string(), body.to_string())
}

fn collection() -> String {
    format!("/apis/sagemaker.services.k8s.aws/v1alpha1/namespaces/{NS}/trainingjobs")
}

/// kube-rs (since 2.x) retries 429/503/504 itself, honouring `Retry-After`: a burst of
/// 503s on create is invisible to the caller but visible in the request log.
/// The HTTP status of every logged request of `verb`, in arrival order.
fn statuses(bed: &TestBed, verb: Verb) -> Vec<u16> {
    bed.requests()
        .records()
        .iter()
        .filter(|r| r.verb == verb)
        .map(|r| r.status)
        .collect()
}

#[tokio::test]
async fn kube_retries_a_burst_of_503_on_create_by_itself() {
    let bed = bed();
    let api = api(&bed).await;
    bed.faults()
        .inject(Fault::status(503).times(3).only(Verb::Create));
    api.create(&PostParams::default(), &sample("my-training-job.yaml"))
        .await
        .unwrap();
    assert_eq!(statuses(&bed, Verb::Create), [503, 503, 503, 201]);
}

#[tokio::test]
async fn burst_of_503_on_create_then_success() {
    let bed = bed();
    let api: kube::Api<kube::api::DynamicObject> = kube::Api::default_namespaced_with(
        client_without_retries(&bed).await,
        &training_jobs_resource(),
    );
    bed.faults()
        .inject(Fault::status(503).times(3).only(Verb::Create));
    // Reads are not affected by a create-only fault.
    assert!(
        api.list(&ListParams::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    for _ in 0..3 {
        let err = api_error(
            api.create(&PostParams::default(), &sample("my-training-job.yaml"))
                .await,
        );
        assert_eq!((err.code, err.reason.as_str()), (503, "ServiceUnavailable"));
    }
    api.create(&PostParams::default(), &sample("my-training-job.yaml"))
        .await
        .unwrap();
    assert_eq!(statuses(&bed, Verb::Create), [503, 503, 503, 201]);
    // The failed attempts never reached the store.
    assert_eq!(
        bed.history(&ResourceRef::training_job(), NS, "my-training-job")
            .len(),
        1
    );
}

#[tokio::test]
async fn internal_error_for_any_verb_then_clear() {
    let bed = bed();
    let api = api(&bed).await;
    bed.faults().inject(Fault::status(500).times(usize::MAX));
    let err = api_error(api.get_opt("x").await);
    assert_eq!((err.code, err.reason.as_str()), (500, "InternalError"));
    bed.faults().clear();
    assert!(api.get_opt("x").await.unwrap().is_none());
}

#[test]
fn too_many_requests_carries_retry_after() {
    let bed = bed();
    bed.faults().inject(Fault::too_many_requests(2).times(1));
    let (code, head, body) = raw(&bed, "GET", &collection(), "");
    assert_eq!(code, 429);
    assert!(
        head.to_ascii_lowercase().contains("retry-after: 2"),
        "{head}"
    );
    let status: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(status["reason"], "TooManyRequests");
    assert_eq!(status["details"]["retryAfterSeconds"], 2);
    assert_eq!(raw(&bed, "GET", &collection(), "").0, 200);
}

#[tokio::test]
async fn too_many_requests_reaches_kube_as_api_error() {
    let bed = bed();
    let api: kube::Api<kube::api::DynamicObject> = kube::Api::default_namespaced_with(
        client_without_retries(&bed).await,
        &training_jobs_resource(),
    );
    bed.faults()
        .inject(Fault::too_many_requests(1).only(Verb::Get));
    let err = api_error(api.get("x").await);
    assert_eq!(err.code, 429);
    assert_eq!(err.details.unwrap().retry_after_seconds, 1);
}

#[test]
fn slow_answers_are_delayed() {
    let bed = bed();
    bed.faults()
        .inject(Fault::delay(Duration::from_millis(300)).times(1));
    let t = Instant::now();
    assert_eq!(raw(&bed, "GET", "/version", "").0, 200);
    assert!(t.elapsed() >= Duration::from_millis(300));
    let t = Instant::now();
    raw(&bed, "GET", "/version", "");
    assert!(t.elapsed() < Duration::from_millis(300));
}

#[tokio::test]
async fn watch_closed_after_n_events() {
    let bed = bed();
    let api = api(&bed).await;
    for n in ["a", "b", "c"] {
        api.create(
            &PostParams::default(),
            &serde_json::from_value(sample_named("my-training-job.yaml", n)).unwrap(),
        )
        .await
        .unwrap();
    }
    bed.faults().close_watches_after_events(Some(2));
    let mut stream = api
        .watch(&WatchParams::default(), "0")
        .await
        .unwrap()
        .boxed();
    let mut added = 0;
    while let Some(ev) = tokio::time::timeout(Duration::from_secs(10), stream.try_next())
        .await
        .unwrap()
        .unwrap()
    {
        assert!(matches!(ev, WatchEvent::Added(_)));
        added += 1;
    }
    assert_eq!(added, 2);
}

#[tokio::test]
async fn watch_closed_after_a_duration() {
    let bed = bed();
    let api = api(&bed).await;
    bed.faults()
        .close_watches_after(Some(Duration::from_millis(200)));
    let t = Instant::now();
    let mut stream = api
        .watch(&WatchParams::default().disable_bookmarks(), "0")
        .await
        .unwrap()
        .boxed();
    let end = tokio::time::timeout(Duration::from_secs(10), stream.try_next())
        .await
        .unwrap()
        .unwrap();
    assert!(end.is_none());
    assert!(t.elapsed() >= Duration::from_millis(200));
}

#[tokio::test]
async fn expiring_history_ends_open_watches_with_410() {
    let bed = bed();
    let api = api(&bed).await;
    let list = api.list(&ListParams::default()).await.unwrap();
    let mut stream = api
        .watch(
            &WatchParams::default(),
            &list.metadata.resource_version.unwrap(),
        )
        .await
        .unwrap()
        .boxed();
    // Make sure the stream is established before expiring.
    api.create(&PostParams::default(), &sample("my-training-job.yaml"))
        .await
        .unwrap();
    assert!(matches!(
        stream.try_next().await.unwrap().unwrap(),
        WatchEvent::Added(_)
    ));
    bed.faults().expire_history();
    let ev = tokio::time::timeout(Duration::from_secs(10), stream.try_next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let WatchEvent::Error(e) = ev else {
        panic!("expected ERROR, got {ev:?}")
    };
    assert_eq!(e.code, 410);
}

#[tokio::test]
async fn small_history_makes_old_resource_versions_expire() {
    let bed = TestBed::start_with(Options {
        history_limit: 2,
        ..Options::default()
    })
    .unwrap();
    bed.register_crd(testbed::Crd::from_file(testbed::training_job_crd_path()).unwrap());
    let api = api(&bed).await;
    let first = api
        .create(
            &PostParams::default(),
            &serde_json::from_value(sample_named("my-training-job.yaml", "a")).unwrap(),
        )
        .await
        .unwrap();
    // With room for two events, the third and fourth writes push out the first two.
    for n in ["b", "c", "d"] {
        api.create(
            &PostParams::default(),
            &serde_json::from_value(sample_named("my-training-job.yaml", n)).unwrap(),
        )
        .await
        .unwrap();
    }
    let mut stream = api
        .watch(
            &WatchParams::default(),
            &first.metadata.resource_version.unwrap(),
        )
        .await
        .unwrap()
        .boxed();
    let WatchEvent::Error(e) = stream.try_next().await.unwrap().unwrap() else {
        panic!("expected ERROR")
    };
    assert_eq!((e.code, e.reason.as_str()), (410, "Expired"));
}

fn refused(bed: &TestBed) -> bool {
    matches!(TcpStream::connect(bed.addr()), Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused)
}

fn eventually(mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    false
}

#[test]
fn connections_refused_at_start_then_accepted() {
    let bed = TestBed::start_with(Options {
        refuse_connections_for: Some(Duration::from_millis(300)),
        ..Options::default()
    })
    .unwrap();
    let t = Instant::now();
    assert!(refused(&bed));
    assert!(eventually(|| !refused(&bed)));
    assert!(t.elapsed() >= Duration::from_millis(250));
    assert_eq!(raw(&bed, "GET", "/version", "").0, 200);
}

#[test]
fn connections_refused_mid_run_then_accepted_again() {
    let bed = bed();
    assert_eq!(raw(&bed, "GET", "/healthz", "").0, 200);
    bed.faults()
        .refuse_connections_for(Duration::from_millis(300));
    assert!(eventually(|| refused(&bed)));
    assert!(eventually(|| !refused(&bed)));
    assert_eq!(raw(&bed, "GET", "/healthz", "").0, 200);
}

#[test]
fn request_log_and_raw_errors() {
    let bed = bed();
    let (code, _, body) = raw(&bed, "POST", &collection(), "{not json");
    assert_eq!(code, 400);
    assert!(body.contains("\"reason\":\"BadRequest\""));
    let big = format!("{{\"x\":\"{}\"}}", "a".repeat(3 * 1024 * 1024 + 1));
    assert_eq!(raw(&bed, "POST", &collection(), &big).0, 413);
    assert_eq!(
        raw(
            &bed,
            "GET",
            "/apis/nope.example.com/v1/namespaces/x/things",
            ""
        )
        .0,
        404
    );
    assert_eq!(raw(&bed, "PUT", &collection(), "{}").0, 405);
    let path = format!(
        "{}?watch=true&timeoutSeconds=1&fieldSelector=metadata.name%3Dx",
        collection()
    );
    assert_eq!(raw(&bed, "GET", &path, "").0, 200);
    let log = bed.requests();
    assert_eq!(log.count(Verb::Create), 2);
    assert_eq!(log.count(Verb::Watch), 1);
    assert_eq!(log.count(Verb::Other), 1);
    let w = log
        .records()
        .into_iter()
        .find(|r| r.verb == Verb::Watch)
        .unwrap();
    assert_eq!(w.param("fieldSelector").as_deref(), Some("metadata.name=x"));
    assert_eq!(w.param("timeoutSeconds").as_deref(), Some("1"));
    log.clear();
    assert!(log.records().is_empty());
}
