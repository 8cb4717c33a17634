//! The wire as the AWS SDK for Go v2 reads it: status, `X-Amzn-ErrorType`, JSON bodies
//! for SageMaker, XML for STS; and the call log. (The real controller on this API is
//! tested in `testbed/tests/ack_*.rs`.)

use std::io::{Read as _, Write as _};
use std::net::TcpStream;

use sagemaker_emulator::{Kind, SageMaker, Script};
use serde_json::{Value, json};

/// One HTTP/1.0 POST; the status, the headers (lower case) and the body.
fn post(sagemaker: &SageMaker, target: Option<&str>, body: &str) -> (u16, String, String) {
    let mut stream = TcpStream::connect(sagemaker.addr()).expect("connect");
    let target = target.map_or_else(String::new, |t| format!("X-Amz-Target: {t}\r\n"));
    let request = format!(
        "POST / HTTP/1.0\r\nHost: sagemaker\r\n{target}Authorization: AWS4-HMAC-SHA256 \
         Credential=AKID/20260101/eu-west-1/sagemaker/aws4_request, SignedHeaders=host, \
         Signature=0\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).expect("write");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("read");
    let (head, body) = answer.split_once("\r\n\r\n").expect("an HTTP answer");
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status");
    (status, head.to_ascii_lowercase(), body.to_string())
}

#[test]
fn sagemaker_answers_json_with_its_error_codes_and_sts_answers_xml() {
    let sagemaker = SageMaker::start().expect("start");
    sagemaker.script("m", Script::completes());
    let (status, head, body) = post(
        &sagemaker,
        Some("SageMaker.DescribeModel"),
        r#"{"ModelName": "m"}"#,
    );
    assert_eq!(status, 400);
    assert!(
        head.contains("x-amzn-errortype: validationexception"),
        "{head}"
    );
    let error: Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(error["__type"], "ValidationException");
    assert_eq!(
        error["message"],
        "Could not find model \"arn:aws:sagemaker:eu-west-1:123456789012:model/m\"."
    );

    let (status, head, body) = post(
        &sagemaker,
        Some("SageMaker.CreateModel"),
        r#"{"ModelName": "m", "PrimaryContainer": {"Image": "i"}}"#,
    );
    assert_eq!(status, 200);
    assert!(
        head.contains("content-type: application/x-amz-json-1.1"),
        "{head}"
    );
    assert_eq!(
        serde_json::from_str::<Value>(&body).expect("JSON"),
        json!({"ModelArn": "arn:aws:sagemaker:eu-west-1:123456789012:model/m"})
    );

    let (status, _, body) = post(&sagemaker, Some("SageMaker.ListModels"), "{}");
    assert_eq!(status, 400);
    assert!(body.contains("UnknownOperationException"), "{body}");

    let (status, head, body) = post(
        &sagemaker,
        None,
        "Action=GetCallerIdentity&Version=2011-06-15",
    );
    assert_eq!(status, 200);
    assert!(head.contains("content-type: text/xml"), "{head}");
    assert!(body.contains("<Account>123456789012</Account>"), "{body}");
    assert!(
        body.contains("<Arn>arn:aws:iam::123456789012:user/"),
        "{body}"
    );

    assert_eq!(
        sagemaker.ops("m"),
        ["DescribeModel", "CreateModel"].map(String::from)
    );
    assert_eq!(sagemaker.count("m", "CreateModel"), 1);
    let ops: Vec<String> = sagemaker.calls().into_iter().map(|c| c.op).collect();
    assert_eq!(
        ops.last().map(String::as_str),
        Some("sts:GetCallerIdentity")
    );
    assert!(sagemaker.describe(Kind::Model, "m").is_some());
}

#[test]
fn a_slow_verb_is_answered_late_and_other_calls_meanwhile() {
    use std::time::{Duration, Instant};
    let sagemaker = SageMaker::start().expect("start");
    sagemaker.script(
        "slow",
        Script::completes().slow(sagemaker_emulator::Verb::Create, Duration::from_millis(800)),
    );
    std::thread::scope(|scope| {
        let started = Instant::now();
        let create = scope.spawn(|| {
            post(
                &sagemaker,
                Some("SageMaker.CreateModel"),
                r#"{"ModelName": "slow", "PrimaryContainer": {"Image": "i"}}"#,
            )
        });
        // Meanwhile SageMaker answers other calls at once, and has not created it yet.
        std::thread::sleep(Duration::from_millis(200));
        let (status, _, _) = post(
            &sagemaker,
            Some("SageMaker.DescribeModel"),
            r#"{"ModelName": "slow"}"#,
        );
        assert_eq!(status, 400, "not created before the answer");
        assert!(started.elapsed() < Duration::from_millis(700));
        let (status, _, _) = create.join().expect("create");
        assert_eq!(status, 200);
        assert!(started.elapsed() >= Duration::from_millis(800));
    });
    assert_eq!(
        sagemaker.ops("slow"),
        ["DescribeModel", "CreateModel"].map(String::from)
    );
}
