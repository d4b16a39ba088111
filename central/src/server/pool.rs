//! Connections that only read (tokens, receipts, instruments, rosters), so
//! that a long ingest holding the writer never makes other devices wait:
//! SQLite's WAL lets readers run beside the one writer; PostgreSQL
//! connections read beside every writer. A central in memory has no file
//! to open twice; it is read through the writer.

use std::sync::Mutex;
use std::time::Duration;

use super::AppState;
use super::reply::ApiError;
use crate::{AnyStore, Central, Location};

/// Idle reader connections kept for reuse.
const KEEP: usize = 8;

#[derive(Debug)]
pub(crate) struct Readers {
    at: Option<Location>,
    busy_timeout: Duration,
    idle: Mutex<Vec<Central<AnyStore>>>,
}

impl Readers {
    pub fn new(at: Option<Location>, busy_timeout: Duration) -> Self {
        Readers { at, busy_timeout, idle: Mutex::new(Vec::new()) }
    }

    /// Idle connections kept for reuse (`/metrics`).
    pub fn idle(&self) -> usize {
        self.idle.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// Runs `job` on a reader (blocking: call from a blocking thread).
    pub fn with<T>(
        &self,
        state: &AppState,
        job: impl FnOnce(&Central<AnyStore>) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        let Some(at) = &self.at else {
            return job(&super::routes::lock(state));
        };
        let idle = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let reader = match idle {
            Some(reader) => reader,
            None => {
                let mut store = AnyStore::open_reader_at(at, self.busy_timeout)?;
                store.set_busy_timeout(self.busy_timeout)?;
                Central::with_store(store)
            }
        };
        let out = job(&reader);
        // A connection the database closed (a restart, a failover) is
        // dropped; the next request opens a new one.
        if reader.store().is_broken() {
            return out;
        }
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < KEEP {
            idle.push(reader);
        }
        out
    }
}
