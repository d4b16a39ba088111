//! Shared helpers for Enumera's cross-crate tests: building XLSForm fixtures
//! in code, locating the `enumera` binary, and caches for external tools.

pub mod odk;
