//! The one place a form file becomes an instrument for the commands that use
//! one (run, preview, device install, central publish): XLSForm or Enumera
//! JSON, every problem printed, refused when any is an error.

use std::path::Path;
use std::sync::Arc;

use enumera_core::instrument::{Instrument, load_form};
use enumera_core::session::Form;

use crate::UserError;

/// Reads and validates a form; warnings go to stderr, errors refuse it.
pub fn instrument(path: &Path) -> Result<Instrument, UserError> {
    let imported = load_form(path).map_err(|e| UserError(e.to_string()))?;
    let file = path.display();
    for d in imported.warnings() {
        eprintln!("{file}: {}: warning: {}", d.location, d.message);
    }
    let errors: Vec<String> = imported.errors().map(|d| format!("{file}: {d}")).collect();
    if !errors.is_empty() {
        return Err(UserError(format!(
            "{} has {} error(s); fix them first (`enumera form check` lists them):\n{}",
            file,
            errors.len(),
            errors.join("\n")
        )));
    }
    Ok(imported.instrument)
}

/// Reads a form and compiles it for filling.
pub fn form(path: &Path) -> Result<Arc<Form>, UserError> {
    let instrument = instrument(path)?;
    Form::compile(instrument)
        .map(Arc::new)
        .map_err(|e| UserError(format!("{}: {e}", path.display())))
}
