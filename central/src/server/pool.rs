//! Connections that only read (tokens, receipts, instruments, rosters), so
//! that a long ingest holding the writer never makes other devices wait:
//! SQLite's WAL lets readers run beside the one writer. A central in
//! memory has no file to open twice; it is read through the writer.

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use super::AppState;
use super::reply::ApiError;
use crate::Central;

/// Idle reader connections kept for reuse.
const KEEP: usize = 8;

#[derive(Debug)]
pub(crate) struct Readers {
    path: Option<PathBuf>,
    busy_timeout: Duration,
    idle: Mutex<Vec<Central>>,
}

impl Readers {
    pub fn new(path: Option<PathBuf>, busy_timeout: Duration) -> Self {
        Readers { path, busy_timeout, idle: Mutex::new(Vec::new()) }
    }

    /// Runs `job` on a reader (blocking: call from a blocking thread).
    pub fn with<T>(
        &self,
        state: &AppState,
        job: impl FnOnce(&Central) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        let Some(path) = &self.path else {
            return job(&super::routes::lock(state));
        };
        let idle = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let reader = match idle {
            Some(reader) => reader,
            None => Central::open_reader(path, self.busy_timeout)?,
        };
        let out = job(&reader);
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < KEEP {
            idle.push(reader);
        }
        out
    }
}
