//! One request through the proxy: logged, held, answered by a fault or forwarded to the
//! real server over a TLS connection of its own, and a forwarded watch's stream shaped
//! (ended or reset) as the faults say.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::{StreamExt as _, TryStreamExt};
use http_body_util::{BodyExt, Full, StreamBody, combinators::BoxBody};
use hyper::body::{Bytes, Frame, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::pki_types::ServerName;

use super::fault::{Action, Rules};
use super::request_log::{RequestLog, RequestRecord, Verb};

type Error = Box<dyn std::error::Error + Send + Sync>;
pub(crate) type Body = BoxBody<Bytes, Error>;

/// What every request needs: the rules, the log and the way to the real server.
pub(crate) struct Ctx {
    pub rules: Rules,
    pub log: RequestLog,
    pub connector: TlsConnector,
    /// `127.0.0.1:<port>` of kube-apiserver.
    pub upstream: String,
}

impl std::fmt::Debug for Ctx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ctx")
            .field("upstream", &self.upstream)
            .finish_non_exhaustive()
    }
}

/// Handles one request; `reset` resets the client's connection when a stream is cut.
pub(crate) async fn handle(
    req: Request<Incoming>,
    ctx: Arc<Ctx>,
    reset: super::ResetFlag,
) -> Result<Response<Body>, Infallible> {
    let at = Instant::now();
    let (parts, body) = req.into_parts();
    let body = body
        .collect()
        .await
        .map(|c| c.to_bytes())
        .unwrap_or_default();
    let path = parts.uri.path().to_owned();
    let query = parts.uri.query().unwrap_or_default().to_owned();
    let verb = Verb::of(parts.method.as_str(), &path, &query);
    let seq = ctx.log.push(RequestRecord {
        seq: 0,
        at,
        method: parts.method.to_string(),
        path: path.clone(),
        query,
        body: String::from_utf8_lossy(&body).into_owned(),
        verb,
        status: 0,
    });
    let decision = ctx.rules.decide(verb, &path);
    let request = Request::from_parts(parts, Full::new(body));
    // Forwarding runs as a task of its own: a request that was held (or is slow) reaches
    // the server even when its client has gone meanwhile, as bytes already sent would.
    let ctx_for_task = ctx.clone();
    let forwarded = tokio::spawn(async move {
        if let Some(d) = decision.delay {
            tokio::time::sleep(d).await;
        }
        match decision.answer {
            Some(Action::LoseAnswer(_)) | None => Some(forward(request, &ctx_for_task).await),
            Some(_) => None,
        }
    });
    let forwarded = forwarded.await.ok().flatten();
    let response = match (decision.answer, forwarded) {
        (Some(Action::Status(code)), _) => status_response(code, None),
        (Some(Action::TooManyRequests(secs)), _) => status_response(429, Some(secs)),
        (Some(Action::WatchError(code)), _) => watch_error_response(code),
        (Some(Action::LoseAnswer(code)), Some(Ok(response))) => {
            // The server acted; its answer is read and dropped.
            let _ = response.into_body().collect().await;
            status_response(code, None)
        }
        (_, Some(Ok(response))) => shape(response, decision.stream, reset),
        // The real server is down (stopped by a test): as a gateway in front of it would.
        (_, _) => status_response(503, None),
    };
    ctx.log.set_status(seq, response.status().as_u16());
    Ok(response)
}

async fn forward(req: Request<Full<Bytes>>, ctx: &Ctx) -> Result<Response<Incoming>, Error> {
    let tcp = TcpStream::connect(&ctx.upstream).await?;
    let tls = ctx
        .connector
        .connect(ServerName::try_from("127.0.0.1")?.to_owned(), tcp)
        .await?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tls)).await?;
    tokio::spawn(connection);
    Ok(sender.send_request(req).await?)
}

/// The server's answer, with a watch's stream ended or reset as `stream` says.
fn shape(
    response: Response<Incoming>,
    stream: Option<Action>,
    reset: super::ResetFlag,
) -> Response<Body> {
    let (parts, body) = response.into_parts();
    let frames = TryStreamExt::map_err(http_body_util::BodyStream::new(body), Error::from);
    let body = match stream {
        Some(Action::CloseWatchAfterEvents(n)) => {
            // Ends right after the n-th event, without waiting for another line.
            let lines = Box::pin(events(frames));
            BodyExt::boxed(StreamBody::new(futures::stream::unfold(
                (lines, 0),
                move |(mut lines, counted)| async move {
                    if counted >= n {
                        return None;
                    }
                    let line = lines.next().await?;
                    let event = line
                        .as_ref()
                        .is_ok_and(|f| f.data_ref().is_some_and(|d| !is_bookmark(d)));
                    Some((line, (lines, counted + usize::from(event))))
                },
            )))
        }
        Some(Action::CloseWatchAfter(d)) => {
            BodyExt::boxed(StreamBody::new(frames.take_until(tokio::time::sleep(d))))
        }
        Some(Action::ResetWatchAfter(d)) => {
            let cut = futures::stream::once(async move {
                reset.set();
                Err::<Frame<Bytes>, Error>("connection reset by the test proxy".into())
            });
            BodyExt::boxed(StreamBody::new(
                frames.take_until(tokio::time::sleep(d)).chain(cut),
            ))
        }
        _ => BodyExt::boxed(StreamBody::new(frames)),
    };
    Response::from_parts(parts, body)
}

/// Re-chunks a watch stream into one frame per event line, so events can be counted.
fn events(
    frames: impl futures::Stream<Item = Result<Frame<Bytes>, Error>> + Send + 'static,
) -> impl futures::Stream<Item = Result<Frame<Bytes>, Error>> + Send + 'static {
    let mut pending = Vec::new();
    frames.flat_map(move |frame| {
        let mut out: Vec<Result<Frame<Bytes>, Error>> = Vec::new();
        match frame.map(Frame::into_data) {
            Ok(Ok(data)) => {
                pending.extend_from_slice(&data);
                while let Some(end) = pending.iter().position(|b| *b == b'\n') {
                    let line: Vec<u8> = pending.drain(..=end).collect();
                    out.push(Ok(Frame::data(Bytes::from(line))));
                }
            }
            Ok(Err(_trailers)) => {}
            Err(e) => out.push(Err(e)),
        }
        futures::stream::iter(out)
    })
}

fn is_bookmark(line: &[u8]) -> bool {
    serde_json::from_slice::<serde_json::Value>(line).is_ok_and(|event| event["type"] == "BOOKMARK")
}

/// The `Status` the API server sends with this code.
pub(crate) fn status(code: u16, retry_after: Option<u32>) -> serde_json::Value {
    let (reason, message) = match code {
        400 => ("BadRequest", "the request is invalid"),
        401 => ("Unauthorized", "Unauthorized"),
        403 => ("Forbidden", "forbidden"),
        404 => ("NotFound", "not found"),
        409 => ("Conflict", "conflict"),
        410 => ("Expired", "too old resource version"),
        422 => ("Invalid", "the object is invalid"),
        429 => (
            "TooManyRequests",
            "Too many requests, please try again later.",
        ),
        503 => (
            "ServiceUnavailable",
            "the server is currently unable to handle the request",
        ),
        504 => (
            "Timeout",
            "the server was unable to return a response in the time allotted",
        ),
        _ => ("InternalError", "Internal error occurred"),
    };
    let mut status = serde_json::json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": format!("{message} (injected by the test proxy)"),
        "reason": reason, "code": code,
    });
    if let Some(secs) = retry_after {
        status["details"] = serde_json::json!({"retryAfterSeconds": secs});
    }
    status
}

fn full(code: u16, text: String, retry_after: Option<u32>) -> Response<Body> {
    let mut response = Response::builder()
        .status(code)
        .header("content-type", "application/json");
    if let Some(secs) = retry_after {
        response = response.header("retry-after", secs.to_string());
    }
    let body = || {
        Full::new(Bytes::from(text.clone()))
            .map_err(|never: Infallible| match never {})
            .boxed()
    };
    response
        .body(body())
        .unwrap_or_else(|_| Response::new(body()))
}

fn status_response(code: u16, retry_after: Option<u32>) -> Response<Body> {
    full(code, status(code, retry_after).to_string(), retry_after)
}

fn watch_error_response(code: u16) -> Response<Body> {
    let event = serde_json::json!({"type": "ERROR", "object": status(code, None)});
    full(200, format!("{event}\n"), None)
}

/// How long a test may wait for the proxy to close or reopen its port.
pub(crate) const BIND_RETRY: Duration = Duration::from_millis(20);
