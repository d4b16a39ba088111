//! Survey instruments: the model, XLSForm import, validation, and output as
//! canonical JSON and ODK XForm.

pub mod canonical;
pub mod diagnostic;
pub mod media;
pub mod model;
pub mod paths;
pub mod validate;
pub mod xform;
#[cfg(feature = "xlsx")]
pub mod xform_read;
pub mod xlsform;

/// The namespace of Enumera's own XForm attributes, known to the writer
/// whatever readers a build has.
pub(crate) mod xform_read_ns {
    pub const ENUMERA_NS: &str = "urn:enumera";
}

pub use diagnostic::{Diagnostic, Location, Severity};
pub use media::{MediaReference, valid_media_name};
pub use model::*;
pub use validate::{SourceColumns, validate};
#[cfg(feature = "xlsx")]
pub use xform_read::{import_xform, import_xform_bytes};
pub use xlsform::{ImportError, Imported, import_xlsform, import_xlsform_bytes, load_form};
