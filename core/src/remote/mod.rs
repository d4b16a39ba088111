//! Sync with central over HTTP, without doing any I/O here: core builds each
//! request and reads each reply; a [`Transport`] (the CLI's blocking client,
//! OkHttp or URLSession in the apps through the bindings) moves the bytes.
//! Core never opens a socket and has no async.
//!
//! A sync ([`sync`]) is a sequence of idempotent steps: upload the
//! unacknowledged responses as one bundle, apply the receipt that comes
//! back (the only thing that marks responses sent), install published
//! instruments that are new, import the rosters. An interruption at any
//! point leaves the device as it was before that step; running `sync` again
//! resends the same responses and central, whose ingest is idempotent,
//! keeps each once.

pub mod api;
mod client;
mod form_media;
mod parts;
mod spool;
mod transport;

pub use client::{
    InstrumentRefused, InstrumentsFetched, PART_SIZE, RosterFetched, SyncError, SyncReport,
    UPLOAD_BUDGET, UploadOptions, Uploaded, fetch_assignments, fetch_instruments, fetch_receipt,
    fetch_returns, fetch_rosters, sync, upload, upload_in_memory, upload_with,
};
pub use form_media::{MediaFetched, MediaMissing, fetch_listed_media};
pub use transport::{
    Body, HttpRequest, HttpResponse, Transport, TransportError, TransportErrorKind,
};
