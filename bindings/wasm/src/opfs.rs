//! Persistent storage in the browser: SQLite's files in the Origin Private
//! File System through the "opfs-sahpool" VFS (a pool of
//! `FileSystemSyncAccessHandle`s, held by this dedicated worker), made
//! SQLite's default VFS so that core's `Store::open(name)` lands there.
//!
//! Why this VFS (docs/ARCHITECTURE.md, "In the browser"): its writes and
//! `flush()` are synchronous, so SQLite's commit with `synchronous=FULL`
//! returns only once the answer is on disk, which is the durability promise;
//! it needs no `SharedArrayBuffer` (so no cross-origin isolation) and runs
//! in every current browser's dedicated workers. It has no shared memory,
//! so the wasm build compiles SQLite with exclusive locking by default
//! (`SQLITE_DEFAULT_LOCKING_MODE=1`, scripts/build-web.sh): WAL then keeps
//! its index in the connection's heap, and core's one connection is all
//! there is.

use crate::errors::{EnumeraError, Result};

/// The OPFS folder holding the pool.
#[cfg(all(target_family = "wasm", target_os = "unknown"))]
const POOL_DIRECTORY: &str = ".enumera-sahpool";

/// Installs the pool as SQLite's default VFS (once per worker; again is a
/// no-op).
#[cfg(all(target_family = "wasm", target_os = "unknown"))]
pub(crate) async fn install() -> Result<()> {
    use sqlite_wasm_vfs::sahpool::{OpfsSAHPoolCfgBuilder, install};
    // The database, its WAL and a spare: files are slots of the pool.
    let cfg = OpfsSAHPoolCfgBuilder::new().directory(POOL_DIRECTORY).initial_capacity(6).build();
    install::<sqlite_wasm_rs::WasmOsCallback>(&cfg, true)
        .await
        .map(|_| ())
        .map_err(|e| EnumeraError::Storage { reason: format!("browser storage (OPFS): {e}") })
}

/// Elsewhere (native tests) SQLite keeps its ordinary files.
#[cfg(not(all(target_family = "wasm", target_os = "unknown")))]
pub(crate) async fn install() -> Result<()> {
    Ok::<(), EnumeraError>(())
}
