//! The HTTP side: accepting connections (and refusing them on demand), routing requests to
//! the store, streaming watches, answering discovery.

mod body;
mod discovery;
pub(crate) mod query;
mod routes;
mod watch;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use crate::faults::Faults;
use crate::request_log::RequestLog;
use crate::store::Store;

/// What every request handler needs.
#[derive(Debug, Clone)]
pub(crate) struct Ctx {
    pub store: Arc<Store>,
    pub faults: Faults,
    pub log: RequestLog,
    pub addr: SocketAddr,
    /// Interval of spontaneous BOOKMARK events on watches that allow them.
    pub bookmark_interval: Option<Duration>,
    /// Serve HTTPS with this configuration (plain HTTP when `None`).
    pub tls: Option<cluster::tls::Tls>,
}

/// Binds `addr`, retrying briefly: the port was ours a moment ago and is normally free.
async fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let mut last = None;
    for _ in 0..100 {
        match TcpListener::bind(addr).await {
            Ok(l) => return Ok(l),
            Err(e) => last = Some(e),
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("bind failed")))
}

/// Accepts connections until `shutdown` fires. While a refusal is pending the listener is
/// closed, so clients get ECONNREFUSED, then bound again on the same address.
pub(crate) async fn serve(
    ctx: Ctx,
    mut listener: Option<TcpListener>,
    mut shutdown: tokio::sync::oneshot::Receiver<()>,
) {
    loop {
        if let Some(until) = ctx.faults.refuse_until() {
            drop(listener.take());
            tokio::select! {
                _ = tokio::time::sleep_until(until.into()) => {}
                _ = &mut shutdown => return,
            }
        }
        let l = match listener.take() {
            Some(l) => l,
            None => match bind(ctx.addr).await {
                Ok(l) => l,
                Err(_) => return,
            },
        };
        loop {
            tokio::select! {
                accepted = l.accept() => {
                    if let Ok((stream, _)) = accepted {
                        tokio::spawn(serve_connection(ctx.clone(), stream));
                    }
                }
                () = ctx.faults.refusal_requested() => break,
                _ = &mut shutdown => return,
            }
        }
    }
}

/// Serves one connection (after the TLS handshake when HTTPS is on) until the client
/// closes it. Connection errors (client gone mid-answer, failed handshakes) are the
/// client's business and end only this connection.
async fn serve_connection(ctx: Ctx, stream: tokio::net::TcpStream) {
    let tls = ctx.tls.clone();
    let reset = ResetFlag::default();
    let stream = Resettable {
        inner: stream,
        reset: reset.clone(),
    };
    let service = service_fn(move |mut req| {
        let ctx = ctx.clone();
        req.extensions_mut().insert(reset.clone());
        async move { Ok::<_, std::convert::Infallible>(routes::handle(&ctx, req).await) }
    });
    let http = hyper::server::conn::http1::Builder::new();
    match tls {
        None => {
            let _ = http.serve_connection(TokioIo::new(stream), service).await;
        }
        Some(tls) => {
            if let Ok(stream) = tls.acceptor.accept(stream).await {
                let _ = http.serve_connection(TokioIo::new(stream), service).await;
            }
        }
    }
}

/// Set by a response body that aborts its connection: the socket is then closed with a
/// TCP reset (zero linger), which the client reads as "connection reset by peer", where
/// a plain close would look like the end of the stream.
#[derive(Clone, Debug, Default)]
pub(crate) struct ResetFlag(std::sync::Arc<std::sync::atomic::AtomicBool>);

impl ResetFlag {
    pub(crate) fn set(&self) {
        self.0.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

/// A TCP stream that is reset instead of closed when its [`ResetFlag`] is set.
struct Resettable {
    inner: tokio::net::TcpStream,
    reset: ResetFlag,
}

impl Drop for Resettable {
    fn drop(&mut self) {
        if self.reset.0.load(std::sync::atomic::Ordering::SeqCst) {
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
