//! The HTTP side: accepting connections, routing requests to the store, streaming watches,
//! answering discovery.

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

use crate::proxy::RequestLog;
use crate::server::Faults;
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
}

/// Accepts connections until `shutdown` fires.
pub(crate) async fn serve(
    ctx: Ctx,
    listener: TcpListener,
    mut shutdown: tokio::sync::oneshot::Receiver<()>,
) {
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                if let Ok((stream, _)) = accepted {
                    tokio::spawn(serve_connection(ctx.clone(), stream));
                }
            }
            _ = &mut shutdown => return,
        }
    }
}

/// Serves one connection until the client closes it. Connection errors (client gone
/// mid-answer) are the client's business and end only this connection.
async fn serve_connection(ctx: Ctx, stream: tokio::net::TcpStream) {
    let service = service_fn(move |req| {
        let ctx = ctx.clone();
        async move { Ok::<_, std::convert::Infallible>(routes::handle(&ctx, req).await) }
    });
    let _ = hyper::server::conn::http1::Builder::new()
        .serve_connection(TokioIo::new(stream), service)
        .await;
}
