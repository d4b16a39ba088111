//! The HTTP sync server: devices upload bundles and fetch receipts,
//! instruments and rosters (protocol: `enumera_core::remote::api`).
//!
//! axum on a tokio runtime that this module owns, so callers stay blocking.
//! SQLite work runs on blocking threads. Writes go through one connection
//! behind a mutex: ingests are serialized (and central's ingest is
//! idempotent, so the same bundle uploaded twice at once is held once).
//! Reads (tokens, receipts, instruments, rosters) use connections of their
//! own ([`pool`]), so an ingest never makes them wait. Uploads are spooled
//! to disk and verified before the lock, in parallel, within bounds
//! ([`upload`]).

mod app;
mod assign;
mod auth;
mod data;
mod form_media;
mod listen;
mod observe;
mod parts;
mod pool;
mod raw_errors;
mod reply;
mod review;
mod routes;
mod upload;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use data::ROUTES as DATA_ROUTES;

use crate::{AnyStore, Central};

/// Limits that keep one client from holding the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    /// Largest request body (a bundle), in bytes; larger gets 413.
    pub max_body: usize,
    /// Longest a request may take, body upload included; longer gets 408.
    pub request_timeout: Duration,
    /// Longest a client may take to send a request line and headers, on a
    /// new connection or a kept-alive one; the connection is closed then.
    pub header_timeout: Duration,
    /// After a shutdown signal, how long requests in flight may finish.
    pub shutdown_grace: Duration,
    /// Uploads received or verified at once (each device has at most one
    /// under way); more wait their turn without being read.
    pub max_uploads: usize,
    /// How long a request waits for a database another program has locked
    /// before it gets 503 `busy`.
    pub busy_timeout: Duration,
    /// Where upload bodies are spooled (unnamed files, gone when closed);
    /// `None`: the system's temporary folder. `enumera central serve` uses
    /// the database's folder.
    pub spool_dir: Option<PathBuf>,
    /// Uploads in parts (issue 18): what one device may have open.
    pub upload_limits: crate::uploads::UploadLimits,
    /// An upload in parts with no new part for this long is dropped.
    pub upload_ttl: Duration,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            max_body: 64 << 20,
            request_timeout: Duration::from_secs(300),
            header_timeout: Duration::from_secs(30),
            shutdown_grace: Duration::from_secs(30),
            max_uploads: 4,
            busy_timeout: Duration::from_secs(5),
            spool_dir: None,
            upload_limits: crate::uploads::UploadLimits::default(),
            upload_ttl: Duration::from_secs(24 * 3600),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    #[error("starting the server: {0}")]
    Runtime(#[source] std::io::Error),
}

pub(crate) struct AppState {
    /// The one writer of this process (against PostgreSQL, other servers
    /// write beside it: the database, not this mutex, keeps them apart).
    pub central: Mutex<Central<AnyStore>>,
    pub readers: pool::Readers,
    pub upload_slots: tokio::sync::Semaphore,
    pub device_locks: upload::DeviceLocks,
    pub config: ServerConfig,
    /// Where `/app/` is read from.
    pub web: app::WebApp,
    /// Request, latency and ingest counts for `/metrics`.
    pub metrics: observe::Metrics,
    /// `"sqlite"` or `"postgres"` (`/healthz`).
    pub store_kind: &'static str,
}

/// A bound, not yet serving, server.
#[derive(Debug)]
pub struct Server {
    runtime: tokio::runtime::Runtime,
    listener: std::net::TcpListener,
    central: Central<AnyStore>,
    config: ServerConfig,
    web: app::WebApp,
}

impl Server {
    /// Binds the address (`127.0.0.1:0` picks a free port).
    /// `central`: a SQLite `Central`, or a `Central<AnyStore>` of either kind.
    pub fn bind(
        central: impl Into<Central<AnyStore>>,
        listen: &str,
        config: ServerConfig,
    ) -> Result<Self, ServerError> {
        let central = central.into();
        let bind_err = |source| ServerError::Bind { addr: listen.into(), source };
        let listener = std::net::TcpListener::bind(listen).map_err(bind_err)?;
        listener.set_nonblocking(true).map_err(bind_err)?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_io()
            .enable_time()
            .thread_name("enumera-server")
            .build()
            .map_err(ServerError::Runtime)?;
        Ok(Server { runtime, listener, central, config, web: app::WebApp::Embedded })
    }

    /// Serves the web app under `/app/` from `dir` (a built `web/dist/app`)
    /// instead of the copy built into the binary: for development.
    pub fn web_dir(mut self, dir: std::path::PathBuf) -> Self {
        self.web = app::WebApp::Folder(dir);
        self
    }

    pub fn local_addr(&self) -> Result<SocketAddr, ServerError> {
        self.listener.local_addr().map_err(ServerError::Runtime)
    }

    /// Serves until `shutdown` completes, then lets requests in flight
    /// finish (up to [`ServerConfig::shutdown_grace`]).
    pub fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServerError> {
        let Server { runtime, listener, mut central, config, web } = self;
        central
            .store_mut()
            .set_busy_timeout(config.busy_timeout)
            .map_err(|e| ServerError::Runtime(std::io::Error::other(e.to_string())))?;
        let readers = pool::Readers::new(central.store().location(), config.busy_timeout);
        let store_kind = central.store().kind();
        let state = Arc::new(AppState {
            metrics: observe::Metrics::new(store_kind),
            store_kind,
            central: Mutex::new(central),
            readers,
            upload_slots: tokio::sync::Semaphore::new(config.max_uploads.max(1)),
            device_locks: upload::DeviceLocks::default(),
            config: config.clone(),
            web,
        });
        runtime.block_on(async move {
            let listener =
                tokio::net::TcpListener::from_std(listener).map_err(ServerError::Runtime)?;
            let app = routes::router(state);
            listen::serve(listener, app, config.header_timeout, shutdown, config.shutdown_grace)
                .await;
            Ok(())
        })
    }
}

impl Server {
    /// Serves until Ctrl-C (or SIGTERM on unix). The handlers are in place
    /// before `announce` is called with the address, so a signal sent as
    /// soon as the address is known is not lost.
    pub fn run_until_signal(self, announce: impl FnOnce(SocketAddr)) -> Result<(), ServerError> {
        let signals = {
            let _runtime = self.runtime.enter();
            Signals::register().map_err(ServerError::Runtime)?
        };
        announce(self.local_addr()?);
        self.run(signals.wait())
    }
}

/// Ctrl-C and SIGTERM, registered when made.
struct Signals {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
}

impl Signals {
    fn register() -> std::io::Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Signals {
                interrupt: signal(SignalKind::interrupt())?,
                terminate: signal(SignalKind::terminate())?,
            })
        }
        #[cfg(not(unix))]
        Ok(Signals {})
    }

    async fn wait(mut self) {
        #[cfg(unix)]
        std::future::poll_fn(|cx| {
            if self.interrupt.poll_recv(cx).is_ready() || self.terminate.poll_recv(cx).is_ready() {
                std::task::Poll::Ready(())
            } else {
                std::task::Poll::Pending
            }
        })
        .await;
        #[cfg(not(unix))]
        {
            let _ = &mut self;
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
