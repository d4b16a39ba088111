//! The bodies of Enumera's fuzz targets, shared by cargo-fuzz (fuzz/) and by
//! the corpus replay test (tests/fuzz_corpus.rs), so that every input the
//! fuzzer kept, and every crash it found, is run again by the test command.
//!
//! Each target takes arbitrary bytes and must return without panicking;
//! where a target also checks a property (printing an expression and parsing
//! it again gives the same text) a broken property panics, which the fuzzer
//! reports as a crash.

mod expr;
mod hostile;
mod sessions;
mod sync;
mod xlsform;

pub use expr::{expr_eval, expr_parse};
pub use hostile::{submission_form_compiles, submission_xml, xlsx_limits};
pub use sessions::{session_form, session_steps};
pub use sync::{FUZZ_SEED, bundle_read, bundle_signed, receipt_read};
pub use xlsform::{xlsform_bytes, xlsform_cells};

/// Runs a target for the cargo-fuzz binaries. libfuzzer-sys makes every
/// panic abort, even one the code under test catches on purpose (the
/// workbook reader guards the spreadsheet library with `catch_unwind`); this
/// restores the default hook and aborts only on a panic that escapes the
/// target, so the fuzzer reports exactly what would reach a caller.
pub fn run_guarded(target: fn(&[u8]), data: &[u8]) {
    static DEFAULT_HOOK: std::sync::Once = std::sync::Once::new();
    DEFAULT_HOOK.call_once(|| drop(std::panic::take_hook()));
    if std::panic::catch_unwind(|| target(data)).is_err() {
        std::process::abort();
    }
}

/// A target: the name used for its corpus folder and its body.
pub type Target = (&'static str, fn(&[u8]));

/// Every target, by the name of its corpus folder (`fuzz/corpus/<name>/`)
/// and of its cargo-fuzz binary (`fuzz/fuzz_targets/<name>.rs`).
pub const TARGETS: &[Target] = &[
    ("expr_parse", expr_parse),
    ("expr_eval", expr_eval),
    ("xlsform_bytes", xlsform_bytes),
    ("xlsform_cells", xlsform_cells),
    ("bundle_read", bundle_read),
    ("bundle_signed", bundle_signed),
    ("receipt_read", receipt_read),
    ("session_steps", session_steps),
    ("xlsx_limits", xlsx_limits),
    ("submission_xml", submission_xml),
];
