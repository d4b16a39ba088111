//! enumera-ffi: the thin uniffi layer the Android and iOS apps (and the
//! Python tests) use. Everything here is a translation of enumera-core's
//! API into records, enums and objects uniffi can carry; behaviour lives in
//! core.
//!
//! - [`DeviceStore`]: the device database (forms, responses, roster, outbox).
//! - [`Interview`]: one response being filled, saved at every change.
//! - [`SyncClient`]: rosters and forms from central, bundles to it.
//! - [`HttpTransport`]: the app's HTTP client, implemented in Kotlin/Swift.
//! - [`EnumeraError`]: the one error type, converted from core's in `errors`.
//!
//! All exports are synchronous: apps call them off the main thread
//! (Kotlin: `Dispatchers.IO`), and the Kotlin bindings need only JNA.

mod assignments;
mod errors;
mod form_media;
mod interview;
mod returns;
mod store;
mod sync;
mod transport;
mod types;

pub use errors::{EnumeraError, Result};
pub use interview::Interview;
pub use interview::RecordingRequest;
pub use store::DeviceStore;
pub use sync::SyncClient;
pub use transport::{HttpRequest, HttpResponse, HttpTransport};
pub use types::*;

uniffi::setup_scaffolding!();
