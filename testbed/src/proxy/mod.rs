//! [`FaultProxy`]: an HTTPS proxy in front of the real kube-apiserver that does what the
//! real server will not do on demand ([`Fault`]: 5xx and 429 answers, slow and lost
//! answers, forced `ERROR` and 410 events, watch streams ended or reset, refused
//! connections) and logs every request ([`RequestLog`]). Everything it does not answer
//! itself is the real server's answer: it forwards each request, bearer token included,
//! so authentication and RBAC stay real. It terminates TLS with a certificate of its own
//! CA (the kubeconfig it writes trusts that CA) and reaches the server over TLS verified
//! against the cluster's CA.

pub(crate) mod fault;
mod forward;
mod request_log;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::{self, RootCertStore, pki_types::CertificateDer};

use cluster::{Cluster, ClusterError};

pub use fault::Fault;
pub use request_log::{RequestLog, RequestRecord, Verb};

/// A running proxy. Dropping it closes its port; it also stops with the cluster's runtime.
#[derive(Debug)]
pub struct FaultProxy {
    url: String,
    ca_pem: String,
    ctx: Arc<forward::Ctx>,
    refusals: mpsc::UnboundedSender<(Instant, std::sync::mpsc::Sender<()>)>,
    task: tokio::task::AbortHandle,
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FaultProxy {
    /// Starts a proxy in front of `cluster`'s kube-apiserver, on the cluster's runtime.
    pub fn start(cluster: &Cluster) -> Result<FaultProxy, ClusterError> {
        let invalid = |e: &dyn std::fmt::Display| ClusterError::Invalid(format!("TLS: {e}"));
        let tls = cluster::tls::Tls::generate()?;
        let mut roots = RootCertStore::empty();
        roots
            .add(CertificateDer::from(cluster.ca_der().to_vec()))
            .map_err(|e| invalid(&e))?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut client = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| invalid(&e))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        client.alpn_protocols = vec![b"http/1.1".to_vec()];
        let ctx = Arc::new(forward::Ctx {
            rules: fault::Rules::default(),
            log: RequestLog::default(),
            connector: TlsConnector::from(Arc::new(client)),
            upstream: cluster.url().trim_start_matches("https://").to_owned(),
        });
        let bind_error =
            |e| ClusterError::io("cannot bind", std::path::Path::new("127.0.0.1:0"), e);
        let listener = cluster
            .block_on(TcpListener::bind("127.0.0.1:0"))
            .map_err(bind_error)?;
        let addr = listener.local_addr().map_err(bind_error)?;
        let (refusals, refusals_rx) = mpsc::unbounded_channel();
        let task = cluster
            .handle()
            .spawn(serve(listener, refusals_rx, tls.acceptor, ctx.clone()));
        Ok(FaultProxy {
            url: format!("https://{addr}"),
            ca_pem: tls.ca_pem,
            ctx,
            refusals,
            task: task.abort_handle(),
        })
    }

    /// `https://127.0.0.1:<port>`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Adds a fault rule after the existing ones.
    pub fn inject(&self, fault: Fault) {
        self.ctx.rules.add(fault);
    }

    /// Removes every fault rule (refusals already under way go on).
    pub fn clear(&self) {
        self.ctx.rules.clear();
    }

    /// Closes the port for `d`: new connections are refused (ECONNREFUSED), connections
    /// already open keep working. Returns once the port is closed.
    pub fn refuse_connections_for(&self, d: Duration) {
        let (closed, wait) = std::sync::mpsc::channel();
        if self.refusals.send((Instant::now() + d, closed)).is_ok() {
            let _ = wait.recv_timeout(Duration::from_secs(10));
        }
    }

    /// Every request received so far.
    pub fn requests(&self) -> &RequestLog {
        &self.ctx.log
    }

    /// A kubeconfig like `kubeconfig_yaml` (same user, token and namespace) that reaches
    /// the cluster through the proxy.
    pub fn kubeconfig_yaml(&self, kubeconfig_yaml: &str, cluster: &Cluster) -> String {
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::STANDARD;
        kubeconfig_yaml
            .replace(cluster.url(), &self.url)
            .replace(&b64.encode(cluster.ca_pem()), &b64.encode(&self.ca_pem))
    }
}

/// Accepts connections; a refusal closes the listener until its time is up, then binds the
/// same address again.
async fn serve(
    listener: TcpListener,
    mut refusals: mpsc::UnboundedReceiver<(Instant, std::sync::mpsc::Sender<()>)>,
    acceptor: tokio_rustls::TlsAcceptor,
    ctx: Arc<forward::Ctx>,
) {
    let Ok(addr) = listener.local_addr() else {
        return;
    };
    let mut listener = Some(listener);
    loop {
        let open = match listener.take() {
            Some(l) => l,
            None => match bind(addr).await {
                Some(l) => l,
                None => return,
            },
        };
        let until = loop {
            tokio::select! {
                accepted = open.accept() => {
                    if let Ok((tcp, _)) = accepted {
                        tokio::spawn(connection(tcp, acceptor.clone(), ctx.clone()));
                    }
                }
                refusal = refusals.recv() => match refusal {
                    Some((until, closed)) => {
                        drop(open);
                        let _ = closed.send(());
                        break until;
                    }
                    None => return,
                },
            }
        };
        tokio::time::sleep_until(until.into()).await;
    }
}

/// Binds `addr` again, retrying briefly: the port was ours a moment ago.
async fn bind(addr: std::net::SocketAddr) -> Option<TcpListener> {
    for _ in 0..250 {
        if let Ok(l) = TcpListener::bind(addr).await {
            return Some(l);
        }
        tokio::time::sleep(forward::BIND_RETRY).await;
    }
    None
}

/// Serves one client connection (HTTP/1.1 over TLS) until the client closes it.
async fn connection(
    tcp: tokio::net::TcpStream,
    acceptor: tokio_rustls::TlsAcceptor,
    ctx: Arc<forward::Ctx>,
) {
    let reset = ResetFlag::default();
    let stream = Resettable {
        inner: tcp,
        reset: reset.clone(),
    };
    let Ok(stream) = acceptor.accept(stream).await else {
        return;
    };
    let service = service_fn(move |req| forward::handle(req, ctx.clone(), reset.clone()));
    let _ = hyper::server::conn::http1::Builder::new()
        .serve_connection(TokioIo::new(stream), service)
        .await;
}

/// Set by a watch stream that is cut: its connection is then closed with a TCP reset (zero
/// linger), which the client reads as "connection reset by peer", where a plain close
/// would look like the end of the stream.
#[derive(Clone, Debug, Default)]
pub(crate) struct ResetFlag(Arc<AtomicBool>);

impl ResetFlag {
    fn set(&self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// A TCP stream that is reset instead of closed when its [`ResetFlag`] is set.
struct Resettable {
    inner: tokio::net::TcpStream,
    reset: ResetFlag,
}

impl Drop for Resettable {
    fn drop(&mut self) {
        if self.reset.0.load(Ordering::SeqCst) {
            let _ = self.inner.set_zero_linger();
        }
    }
}

impl tokio::io::AsyncRead for Resettable {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl tokio::io::AsyncWrite for Resettable {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
