//! Enumera central: where bundles from the field arrive, are checked and kept,
//! and are exported for analysis. Composes `enumera-core`; adds the server and
//! the export formats.
