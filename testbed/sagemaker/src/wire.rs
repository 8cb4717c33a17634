//! The wire: AWS JSON 1.1 for SageMaker (`POST /`, `X-Amz-Target: SageMaker.<Op>`, a
//! JSON body; errors as 4xx/5xx with `X-Amzn-ErrorType` and `{"__type", "message"}`), and
//! the one STS call of the query protocol (a form-encoded `Action=GetCallerIdentity`,
//! answered in XML). Signatures are not checked; the region is read from the
//! signature's credential scope.

use std::sync::{Arc, Mutex};

use http_body_util::{BodyExt as _, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use serde_json::{Value, json};

use crate::error::AwsError;
use crate::store::Store;

/// The region when a request is not signed (the controller's requests always are).
const UNSIGNED_REGION: &str = "us-east-1";

/// Answers one HTTP request.
pub(crate) async fn handle(
    store: Arc<Mutex<Store>>,
    print_calls: bool,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, std::convert::Infallible> {
    let region = region_of(&request).unwrap_or_else(|| UNSIGNED_REGION.to_string());
    let target = request
        .headers()
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let body = match request.into_body().collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            return Ok(error(&AwsError::validation(
                "could not read the request body",
            )));
        }
    };
    let Some(target) = target else {
        return Ok(sts(&store, &region, &body, print_calls));
    };
    let Some(op) = target.strip_prefix("SageMaker.") else {
        return Ok(error(&AwsError::new(
            400,
            "UnknownOperationException",
            format!("unknown target {target}"),
        )));
    };
    let input: Value = if body.is_empty() {
        json!({})
    } else {
        match serde_json::from_slice(&body) {
            Ok(v) => v,
            Err(e) => {
                return Ok(error(&AwsError::new(
                    400,
                    "SerializationException",
                    format!("the body is not JSON: {e}"),
                )));
            }
        }
    };
    let delay = lock(&store).delay(op, &input);
    if let Some(delay) = delay {
        tokio::time::sleep(delay).await;
    }
    let mut store = lock(&store);
    let answer = store.call(op, &region, input);
    if print_calls && let Some(call) = store.calls.last() {
        eprintln!("sagemaker: {}", call.summary());
    }
    drop(store);
    Ok(match answer {
        Ok(value) => respond(
            StatusCode::OK,
            "application/x-amz-json-1.1",
            value.to_string(),
            None,
        ),
        Err(e) => error(&e),
    })
}

/// STS `GetCallerIdentity` (the controller's one call at start-up); any other query
/// action is refused.
fn sts(
    store: &Arc<Mutex<Store>>,
    region: &str,
    body: &[u8],
    print_calls: bool,
) -> Response<Full<Bytes>> {
    let form = String::from_utf8_lossy(body);
    let action = form
        .split('&')
        .find_map(|pair| pair.strip_prefix("Action="))
        .unwrap_or_default();
    if action != "GetCallerIdentity" {
        return respond(
            StatusCode::BAD_REQUEST,
            "text/xml",
            format!(
                "<ErrorResponse><Error><Type>Sender</Type><Code>InvalidAction</Code>\
                 <Message>The action {action} is not valid for this endpoint.</Message>\
                 </Error><RequestId>{}</RequestId></ErrorResponse>",
                request_id()
            ),
            None,
        );
    }
    let mut store = lock(store);
    store.log_sts(region);
    if print_calls {
        eprintln!("sagemaker: sts:GetCallerIdentity: ok");
    }
    let account = store.account.clone();
    drop(store);
    respond(
        StatusCode::OK,
        "text/xml",
        format!(
            "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\
             <GetCallerIdentityResult>\
             <Arn>arn:aws:iam::{account}:user/ack-sagemaker-controller</Arn>\
             <UserId>AIDAEMULATOREXAMPLE</UserId>\
             <Account>{account}</Account>\
             </GetCallerIdentityResult>\
             <ResponseMetadata><RequestId>{}</RequestId></ResponseMetadata>\
             </GetCallerIdentityResponse>",
            request_id()
        ),
        None,
    )
}

fn error(e: &AwsError) -> Response<Full<Bytes>> {
    respond(
        StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST),
        "application/x-amz-json-1.1",
        json!({"__type": e.code, "message": e.message}).to_string(),
        Some(&e.code),
    )
}

fn respond(
    status: StatusCode,
    content_type: &str,
    body: String,
    error_type: Option<&str>,
) -> Response<Full<Bytes>> {
    let mut builder = Response::builder()
        .status(status)
        .header("content-type", content_type)
        .header("x-amzn-requestid", request_id());
    if let Some(code) = error_type {
        builder = builder.header("x-amzn-errortype", code);
    }
    builder
        .body(Full::new(Bytes::from(body)))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new())))
}

/// The region of a SigV4 `Authorization` header:
/// `AWS4-HMAC-SHA256 Credential=<key>/<date>/<region>/<service>/aws4_request, ...`.
fn region_of<B>(request: &Request<B>) -> Option<String> {
    let auth = request.headers().get("authorization")?.to_str().ok()?;
    let scope = auth.split("Credential=").nth(1)?;
    scope.split('/').nth(2).map(str::to_string)
}

/// A request id of the usual shape (unique enough for logs).
fn request_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("00000000-0000-4000-8000-{n:012x}")
}

pub(crate) fn lock(store: &Mutex<Store>) -> std::sync::MutexGuard<'_, Store> {
    store
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_region_comes_from_the_credential_scope() {
        let request = Request::builder()
            .header(
                "authorization",
                "AWS4-HMAC-SHA256 Credential=AKID/20260101/eu-central-1/sagemaker/aws4_request, \
                 SignedHeaders=host, Signature=abc",
            )
            .body(())
            .unwrap();
        assert_eq!(region_of(&request).as_deref(), Some("eu-central-1"));
        assert_eq!(region_of(&Request::new(())), None);
    }
}
