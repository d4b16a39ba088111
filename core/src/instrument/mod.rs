//! Survey instruments: the model, XLSForm import, validation, and output as
//! canonical JSON and ODK XForm.

pub mod canonical;
pub mod diagnostic;
pub mod model;
pub mod paths;
pub mod validate;
pub mod xform;
pub mod xlsform;

pub use diagnostic::{Diagnostic, Location, Severity};
pub use model::*;
pub use validate::{SourceColumns, validate};
pub use xlsform::{ImportError, Imported, import_xlsform, import_xlsform_bytes, load_form};
