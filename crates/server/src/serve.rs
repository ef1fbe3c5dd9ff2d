//! Accepting connections with limits a hostile client cannot wear down (issue 11 point 6):
//! a deadline for reading the request headers (a half-sent request no longer holds its
//! socket forever), a deadline for the whole request, and a cap on open connections per
//! client address and in all. Body sizes are limited by the router (64 KiB, 1 MiB for the
//! batch check).

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tower::ServiceExt;

/// The connection limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpLimits {
    /// Time to send the request line and headers (default 10 s).
    pub header_read_timeout: Duration,
    /// Time to answer one request, body included (default 30 s).
    pub request_timeout: Duration,
    /// Connections open at once from one client address (default 64).
    pub max_connections_per_address: usize,
    /// Connections open at once in all (default 4,096).
    pub max_connections: usize,
}

impl Default for HttpLimits {
    fn default() -> Self {
        HttpLimits {
            header_read_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            max_connections_per_address: 64,
            max_connections: 4096,
        }
    }
}

/// Open connections by address; a slot is given back when its guard drops.
#[derive(Debug, Default)]
struct Open {
    by_address: HashMap<IpAddr, usize>,
    total: usize,
}

struct Slot {
    open: Arc<Mutex<Open>>,
    address: IpAddr,
}

impl Slot {
    fn take(open: &Arc<Mutex<Open>>, address: IpAddr, limits: &HttpLimits) -> Option<Slot> {
        let mut o = open.lock().ok()?;
        let mine = o.by_address.get(&address).copied().unwrap_or(0);
        if mine >= limits.max_connections_per_address || o.total >= limits.max_connections {
            return None;
        }
        o.by_address.insert(address, mine + 1);
        o.total += 1;
        Some(Slot {
            open: open.clone(),
            address,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Ok(mut o) = self.open.lock() {
            o.total = o.total.saturating_sub(1);
            if let Some(n) = o.by_address.get_mut(&self.address) {
                *n -= 1;
                if *n == 0 {
                    o.by_address.remove(&self.address);
                }
            }
        }
    }
}

/// Serves `app` on `listener` until `shutdown` completes, then lets requests in flight
/// finish (at most `request_timeout` more). Each request carries its peer address
/// (`ConnectInfo<SocketAddr>`), as `axum::serve` gives it.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: HttpLimits,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let app = app.layer(axum::middleware::from_fn(
        move |req: axum::extract::Request, next: axum::middleware::Next| async move {
            match tokio::time::timeout(limits.request_timeout, next.run(req)).await {
                Ok(resp) => resp,
                Err(_) => crate::error::ApiError::new(
                    axum::http::StatusCode::SERVICE_UNAVAILABLE,
                    "timeout",
                    "the request took too long to answer; try again",
                )
                .into_response_now(),
            }
        },
    ));
    let open = Arc::new(Mutex::new(Open::default()));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        // Out of descriptors and the like: wait a little, do not spin.
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let Some(slot) = Slot::take(&open, peer.ip(), &limits) else {
                    tracing::debug!(address = %peer.ip(), "connection refused: too many open");
                    continue;
                };
                let app = app.clone();
                let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
                    req.extensions_mut().insert(ConnectInfo::<SocketAddr>(peer));
                    app.clone().oneshot(req.map(axum::body::Body::new))
                });
                let conn = hyper::server::conn::http1::Builder::new()
                    .timer(TokioTimer::new())
                    .header_read_timeout(limits.header_read_timeout)
                    .serve_connection(TokioIo::new(stream), service);
                let conn = graceful.watch(conn);
                tokio::spawn(async move {
                    let _ = conn.await;
                    drop(slot);
                });
            }
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    let _ = tokio::time::timeout(limits.request_timeout, graceful.shutdown()).await;
    Ok(())
}
