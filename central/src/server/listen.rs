//! Accepting connections. axum's own `serve` gives hyper no timer, so a
//! client that opens a connection and trickles its request line and
//! headers (or sends nothing) would hold it for as long as it likes. This
//! loop serves each connection with hyper's HTTP/1 builder and a timer, so
//! headers must arrive within the header timeout; the request timeout
//! (routes.rs) then bounds the body and the handler.

use std::time::Duration;

use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::watch;

/// Serves `app` on `listener` until `stop` fires, then asks every open
/// connection to finish its request in flight and waits up to `grace`.
pub(super) async fn serve(
    listener: TcpListener,
    app: axum::Router,
    header_timeout: Duration,
    stop: impl std::future::Future<Output = ()>,
    grace: Duration,
) {
    // Every connection task holds a receiver: `closing` tells them to wind
    // down, and `open.closed()` resolves once the last one has gone.
    let (closing, _) = watch::channel(false);
    let (open, _) = watch::channel(());
    let mut stop = std::pin::pin!(stop);
    loop {
        let (stream, _peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                // Out of file descriptors and the like: wait rather than spin.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        let service = TowerToHyperService::new(app.clone());
        let mut closing = closing.subscribe();
        let open = open.subscribe();
        tokio::spawn(async move {
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder.timer(TokioTimer::new()).header_read_timeout(header_timeout);
            let io = TokioIo::new(super::raw_errors::JsonErrors::new(stream));
            let conn = builder.serve_connection(io, service);
            let mut conn = std::pin::pin!(conn);
            tokio::select! {
                // A connection's own errors (reset, header timeout) end it
                // and concern no one else.
                _ = conn.as_mut() => {}
                _ = async { closing.wait_for(|&c| c).await.map(|_| ()) } => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
            drop(open);
        });
    }
    drop(listener);
    closing.send_replace(true);
    // Clients still connected after the grace period are cut when the
    // runtime drops their tasks.
    let _ = tokio::time::timeout(grace, open.closed()).await;
}
