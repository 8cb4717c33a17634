//! A fault-injecting HTTPS proxy in front of the real kube-apiserver: what the real server
//! will not do on demand (5xx and 429 bursts, cut watch streams), with everything else
//! answered by the real server. It terminates TLS with a certificate of its own CA (the
//! kubeconfig it writes trusts that CA) and forwards each request, bearer token included,
//! over a new TLS connection verified against the cluster's CA.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::{StreamExt as _, TryStreamExt};
use http_body_util::{BodyExt, Full, StreamBody, combinators::BoxBody};
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::{self, RootCertStore, pki_types::CertificateDer, pki_types::ServerName};

use cluster::{Cluster, ClusterError};

type Body = BoxBody<Bytes, Box<dyn std::error::Error + Send + Sync>>;

/// One injected answer, instead of forwarding the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyFault {
    /// This status code with a Kubernetes `Status` body (e.g. 500, 503).
    Status(u16),
    /// 429 with `Retry-After` and `details.retryAfterSeconds` of this many seconds.
    TooManyRequests(u32),
}

#[derive(Debug, Default)]
struct State {
    /// Answers for the next requests (of any verb), in order.
    next: Mutex<VecDeque<ProxyFault>>,
    /// Watches are cut (the upstream connection dropped) after this long.
    cut_watches_after: Mutex<Option<Duration>>,
    forwarded: AtomicUsize,
    watches: AtomicUsize,
    injected: AtomicUsize,
}

/// A running proxy; it stops with the cluster's runtime.
#[derive(Debug)]
pub struct FaultProxy {
    url: String,
    ca_pem: String,
    state: Arc<State>,
    task: tokio::task::AbortHandle,
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FaultProxy {
    /// The next `n` requests get `fault` instead of the real server's answer.
    pub fn inject(&self, fault: ProxyFault, n: usize) {
        let mut next = self.state.next.lock().unwrap_or_else(|e| e.into_inner());
        next.extend(std::iter::repeat_n(fault, n));
    }

    /// Cuts every watch stream that lasts longer than `after` (`None`: never).
    pub fn cut_watches_after(&self, after: Option<Duration>) {
        *self
            .state
            .cut_watches_after
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = after;
    }

    /// Requests forwarded to the real server so far.
    pub fn forwarded(&self) -> usize {
        self.state.forwarded.load(Ordering::SeqCst)
    }

    /// Watch requests forwarded so far.
    pub fn watches(&self) -> usize {
        self.state.watches.load(Ordering::SeqCst)
    }

    /// Requests answered with an injected fault so far.
    pub fn injected(&self) -> usize {
        self.state.injected.load(Ordering::SeqCst)
    }

    /// A kubeconfig like `kubeconfig_yaml` (same user and token) pointing at the proxy.
    pub fn kubeconfig_yaml(&self, kubeconfig_yaml: &str, cluster: &Cluster) -> String {
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::STANDARD;
        kubeconfig_yaml
            .replace(cluster.url(), &self.url)
            .replace(&b64.encode(cluster.ca_pem()), &b64.encode(&self.ca_pem))
    }
}

impl FaultProxy {
    /// Starts a proxy in front of `cluster`'s kube-apiserver, on the cluster's runtime.
    pub fn start(cluster: &Cluster) -> Result<FaultProxy, ClusterError> {
        let tls = cluster::tls::Tls::generate()?;
        let mut roots = RootCertStore::empty();
        roots
            .add(CertificateDer::from(cluster.ca_der().to_vec()))
            .map_err(|e| ClusterError::Invalid(format!("cluster CA: {e}")))?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut client = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| ClusterError::Invalid(format!("TLS: {e}")))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        client.alpn_protocols = vec![b"http/1.1".to_vec()];
        let connector = TlsConnector::from(Arc::new(client));
        let upstream = cluster.url().trim_start_matches("https://").to_string();
        let listener = cluster
            .block_on(TcpListener::bind("127.0.0.1:0"))
            .map_err(|e| ClusterError::io("cannot bind", std::path::Path::new("127.0.0.1:0"), e))?;
        let port = listener
            .local_addr()
            .map_err(|e| ClusterError::io("cannot bind", std::path::Path::new("127.0.0.1:0"), e))?
            .port();
        let state = Arc::new(State::default());
        let shared = state.clone();
        let task = cluster.handle().spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    continue;
                };
                let (acceptor, connector, upstream, state) = (
                    tls.acceptor.clone(),
                    connector.clone(),
                    upstream.clone(),
                    shared.clone(),
                );
                tokio::spawn(async move {
                    let Ok(stream) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let service = service_fn(move |req| {
                        handle(req, connector.clone(), upstream.clone(), state.clone())
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(FaultProxy {
            url: format!("https://127.0.0.1:{port}"),
            ca_pem: tls.ca_pem,
            state,
            task: task.abort_handle(),
        })
    }
}

fn status_body(code: u16, retry_after: Option<u32>) -> Response<Body> {
    let (reason, message) = match code {
        429 => (
            "TooManyRequests",
            "injected by the test proxy: too many requests",
        ),
        503 => (
            "ServiceUnavailable",
            "injected by the test proxy: unavailable",
        ),
        _ => (
            "InternalError",
            "injected by the test proxy: internal error",
        ),
    };
    let mut status = serde_json::json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {},
        "status": "Failure", "message": message, "reason": reason, "code": code,
    });
    if let Some(secs) = retry_after {
        status["details"] = serde_json::json!({"retryAfterSeconds": secs});
    }
    let mut response = Response::builder()
        .status(code)
        .header("content-type", "application/json");
    if let Some(secs) = retry_after {
        response = response.header("retry-after", secs.to_string());
    }
    response
        .body(
            Full::new(Bytes::from(status.to_string()))
                .map_err(|never: Infallible| match never {})
                .boxed(),
        )
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new()).map_err(|n| match n {}).boxed()))
}

async fn handle(
    req: Request<Incoming>,
    connector: TlsConnector,
    upstream: String,
    state: Arc<State>,
) -> Result<Response<Body>, Infallible> {
    let fault = state
        .next
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .pop_front();
    if let Some(fault) = fault {
        state.injected.fetch_add(1, Ordering::SeqCst);
        return Ok(match fault {
            ProxyFault::Status(code) => status_body(code, None),
            ProxyFault::TooManyRequests(secs) => status_body(429, Some(secs)),
        });
    }
    state.forwarded.fetch_add(1, Ordering::SeqCst);
    let is_watch = req.uri().query().is_some_and(|q| q.contains("watch=true"));
    if is_watch {
        state.watches.fetch_add(1, Ordering::SeqCst);
    }
    let cut = if is_watch {
        *state
            .cut_watches_after
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    } else {
        None
    };
    match forward(req, &connector, &upstream, cut).await {
        Ok(response) => Ok(response),
        // The real server is down: the client sees what it would without the proxy.
        Err(_) => Ok(status_body(503, None)),
    }
}

async fn forward(
    req: Request<Incoming>,
    connector: &TlsConnector,
    upstream: &str,
    cut: Option<Duration>,
) -> Result<Response<Body>, Box<dyn std::error::Error + Send + Sync>> {
    let tcp = TcpStream::connect(upstream).await?;
    let tls = connector
        .connect(ServerName::try_from("127.0.0.1")?.to_owned(), tcp)
        .await?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake::<_, Incoming>(TokioIo::new(tls)).await?;
    tokio::spawn(connection);
    let response = sender.send_request(req).await?;
    let (parts, body) = response.into_parts();
    let frames = TryStreamExt::map_err(http_body_util::BodyStream::new(body), Into::into);
    let body = match cut {
        // The stream stops after `after` with an error, so the client's connection is
        // aborted mid-body (a clean end would be a normal watch timeout).
        Some(after) => {
            let cut: Result<hyper::body::Frame<Bytes>, _> = Err("cut by the test proxy".into());
            BodyExt::boxed(StreamBody::new(
                frames
                    .take_until(tokio::time::sleep(after))
                    .chain(futures::stream::once(async move { cut })),
            ))
        }
        None => BodyExt::boxed(StreamBody::new(frames)),
    };
    Ok(Response::from_parts(parts, body))
}
