//! The demo's sync server: `central serve` on 127.0.0.1 in a thread, over
//! the same central database, stopped when the campaign ends.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::thread::JoinHandle;

use enumera_central::Central;
use enumera_central::server::{Server, ServerConfig};

use crate::UserError;

/// A shutdown signal the server's runtime can wait on without the CLI
/// depending on tokio.
#[derive(Clone, Default)]
struct Stop(Arc<Mutex<(bool, Option<Waker>)>>);

impl Future for Stop {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let Ok(mut state) = self.0.lock() else { return Poll::Ready(()) };
        if state.0 {
            Poll::Ready(())
        } else {
            state.1 = Some(cx.waker().clone());
            Poll::Pending
        }
    }
}

pub struct Running {
    pub addr: SocketAddr,
    stop: Stop,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Running {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Running").field("addr", &self.addr).finish_non_exhaustive()
    }
}

/// Serves `central_db` on a free port of 127.0.0.1.
pub fn start(central_db: &std::path::Path) -> Result<Running, UserError> {
    let fail = |e: &dyn std::fmt::Display| UserError(format!("demo: sync server: {e}"));
    let central = Central::open(central_db).map_err(|e| fail(&e))?;
    let server =
        Server::bind(central, "127.0.0.1:0", ServerConfig::default()).map_err(|e| fail(&e))?;
    let addr = server.local_addr().map_err(|e| fail(&e))?;
    let stop = Stop::default();
    let signal = stop.clone();
    let thread = std::thread::spawn(move || {
        if let Err(e) = server.run(signal) {
            eprintln!("demo: sync server stopped: {e}");
        }
    });
    Ok(Running { addr, stop, thread: Some(thread) })
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(mut state) = self.stop.0.lock() {
            state.0 = true;
            if let Some(w) = state.1.take() {
                w.wake();
            }
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
