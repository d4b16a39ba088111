//! Enumera's core: everything a tablet needs to hold survey instruments, fill
//! them and keep every answer safe. Free of FFI, network and async so that the
//! same code runs unchanged on Android, iOS, the CLI and the central server.
//!
//! Data flows one way: `instrument` (what to ask) -> `expr` (the logic in it)
//! -> `session` (filling one response) -> `store` (the device database) ->
//! `bundle` (what travels to central).

pub mod bundle;
pub mod expr;
pub mod fill;
pub mod instrument;
pub mod photo;
pub mod recording;
pub mod remote;
pub mod review;
pub mod session;
pub mod store;
