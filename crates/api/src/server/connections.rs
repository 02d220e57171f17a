//! The accept loop: HTTP/1.1 connections, at most `max_connections` at once, each closed
//! when a request's headers do not arrive within `header_read_timeout`.
//!
//! A connection past the bound is not accepted until one closes: it waits in the listen
//! backlog (its client has connected and may send, but hears nothing until then), so a
//! burst slows down rather than fails. The header timeout runs from the connection's start,
//! and again after each answer, so idle connections are closed by it too. What hyper
//! refuses before a request reaches the router (a malformed request line, too many or too
//! long headers, a URI over 64 KiB) it answers itself, and [`super::hyper_errors`] rewrites
//! that answer into AWS's XML error with a request id and a log line; such connections and
//! timed-out ones are also logged here, with the peer's address.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use ferry_control::config::ApiLimits;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};

/// Serves `app` on `listener` until `shutdown` resolves; then stops accepting, lets every
/// connection finish its request in flight, and returns when all are closed.
pub(super) async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ApiLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let mut builder = Builder::new(TokioExecutor::new()).http1_only();
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    let builder = Arc::new(builder);
    let slots = Arc::new(Semaphore::new(limits.max_connections));

    // `stop_tx.closed()` resolves once shutdown is asked for; each connection task holds a
    // `done_rx`, so `done_tx.closed()` resolves once they have all ended.
    let (stop_tx, stop_rx) = watch::channel(());
    tokio::spawn(async move {
        shutdown.await;
        drop(stop_rx);
    });
    let (done_tx, done_rx) = watch::channel(());

    loop {
        let slot = tokio::select! {
            slot = take_slot(&slots, limits.max_connections) => slot,
            _ = stop_tx.closed() => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    accept_failed(e).await;
                    continue;
                }
            },
            _ = stop_tx.closed() => break,
        };
        tokio::spawn(connection(
            builder.clone(),
            app.clone(),
            stream,
            peer,
            slot,
            stop_tx.clone(),
            done_rx.clone(),
        ));
    }
    drop(done_rx);
    drop(listener);
    done_tx.closed().await;
    Ok(())
}

/// A connection slot; logs once each time the bound is reached.
async fn take_slot(slots: &Arc<Semaphore>, max: usize) -> OwnedSemaphorePermit {
    if let Ok(slot) = slots.clone().try_acquire_owned() {
        return slot;
    }
    tracing::warn!(
        max_connections = max,
        "API connection limit reached: new connections wait until one closes"
    );
    slots
        .clone()
        .acquire_owned()
        .await
        .expect("the semaphore is never closed")
}

/// Accept errors that concern one connection (reset before accept) are skipped; others
/// (out of file descriptors) are logged and retried after a pause, as hyper's own loops do.
async fn accept_failed(e: io::Error) {
    use io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        e.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        return;
    }
    tracing::error!(error = %e, "cannot accept API connections; retrying in 1 s");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

async fn connection(
    builder: Arc<Builder<TokioExecutor>>,
    app: Router,
    stream: TcpStream,
    peer: SocketAddr,
    _slot: OwnedSemaphorePermit,
    stop_tx: watch::Sender<()>,
    _done_rx: watch::Receiver<()>,
) {
    let _ = stream.set_nodelay(true);
    let io = TokioIo::new(super::hyper_errors::XmlErrors::new(stream, peer));
    // The handlers read the client's address (`aws:SourceIp`) from this extension.
    let app = app.layer(axum::Extension(super::Peer(peer)));
    let conn = builder.serve_connection(io, TowerToHyperService::new(app));
    let mut conn = std::pin::pin!(conn);
    let result = tokio::select! {
        result = conn.as_mut() => result,
        _ = stop_tx.closed() => {
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    };
    if let Err(e) = result {
        // Header timeouts, requests hyper refused, clients that broke off: the peer's doing,
        // worth a line but no one's attention.
        tracing::info!(peer = %peer, error = %e, "API connection closed early");
    }
}
