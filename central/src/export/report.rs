//! `report.csv`: every held item not exported as a current response, and
//! why (sealed without an identity, sealed to other keys, tampered or
//! damaged, unreadable, form not published, conflicts, edits), and every
//! value a format could not hold whole (cut in the XLSX or `.sav`, kept
//! whole in `FORM-long-text.csv`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::csv::{CsvFile, CsvStyle};
use super::{ExportError, HeldAside, StoredResponse};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportKind {
    /// Sealed, and no identity given.
    Sealed,
    /// Sealed to keys the identity does not hold.
    WrongIdentity,
    /// The payload does not match its signed outbox entry, or the sealed
    /// file is altered or damaged.
    Tampered,
    /// The submission XML cannot be parsed.
    Unreadable,
    /// No published instrument for its form and version.
    NoInstrument,
    /// Two responses of one participant, round and form: the panel keeps the latest.
    PanelDuplicate,
    /// A text longer than an Excel cell holds, cut in the XLSX.
    XlsxTruncated,
    /// A text longer than SPSS holds, cut in the `.sav`.
    SavTruncated,
    /// A metadata question (`deviceid`, `username`) answered with something
    /// other than what central knows of the response.
    MetadataDiffers,
    /// An attachment the response's signed entry names that central does
    /// not hold: not in `media/`.
    MediaMissing,
    /// An attachment whose bytes do not match the hash the bundle carried:
    /// not in `media/`.
    MediaMismatch,
    /// An attachment whose name another response's different file already
    /// has in `media/`: written to `media/INSTANCE_ID/NAME` instead.
    MediaRenamed,
    /// The response's audit.csv cannot be read (or is missing at central):
    /// no rows in `FORM-audit.csv`, empty summary columns.
    AuditUnreadable,
}

impl ReportKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ReportKind::Sealed => "sealed_not_opened",
            ReportKind::WrongIdentity => "sealed_wrong_identity",
            ReportKind::Tampered => "tampered",
            ReportKind::Unreadable => "unreadable",
            ReportKind::NoInstrument => "no_instrument",
            ReportKind::PanelDuplicate => "panel_duplicate",
            ReportKind::XlsxTruncated => "xlsx_cell_truncated",
            ReportKind::SavTruncated => "sav_value_truncated",
            ReportKind::MetadataDiffers => "metadata_differs",
            ReportKind::MediaMissing => "media_missing",
            ReportKind::MediaMismatch => "media_hash_mismatch",
            ReportKind::MediaRenamed => "media_renamed",
            ReportKind::AuditUnreadable => "audit_unreadable",
        }
    }
}

pub const HEADER: &[&str] =
    &["kind", "instance_id", "form_id", "form_version", "device_id", "detail"];

#[derive(Debug)]
pub struct Report {
    csv: CsvFile,
    counts: BTreeMap<String, u64>,
}

impl Report {
    pub fn create(path: &Path, style: CsvStyle) -> Result<Self, ExportError> {
        Ok(Report { csv: CsvFile::create(path, HEADER, style)?, counts: BTreeMap::new() })
    }

    pub fn item(
        &mut self,
        kind: ReportKind,
        r: &StoredResponse,
        detail: &str,
    ) -> Result<(), ExportError> {
        self.line(kind.as_str(), &r.instance_id, &r.form_id, &r.form_version, &r.device_id, detail)
    }

    pub fn held_aside(&mut self, h: &HeldAside) -> Result<(), ExportError> {
        self.line(&h.kind, &h.instance_id, &h.form_id, "", &h.device_id, &h.detail)
    }

    fn line(
        &mut self,
        kind: &str,
        instance_id: &str,
        form_id: &str,
        version: &str,
        device_id: &str,
        detail: &str,
    ) -> Result<(), ExportError> {
        *self.counts.entry(kind.to_string()).or_default() += 1;
        self.csv.write(&[kind, instance_id, form_id, version, device_id, detail])
    }

    pub fn finish(self) -> Result<(PathBuf, BTreeMap<String, u64>), ExportError> {
        Ok((self.csv.finish()?, self.counts))
    }
}

/// `FORM-long-text.csv`: texts a format had to cut, whole, found by table,
/// key and column. Made on first use.
#[derive(Debug)]
pub struct LongText {
    path: PathBuf,
    style: CsvStyle,
    csv: Option<CsvFile>,
}

impl LongText {
    pub fn new(path: PathBuf, style: CsvStyle) -> Self {
        LongText { path, style, csv: None }
    }

    pub fn file_name(&self) -> String {
        self.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
    }

    pub fn keep(
        &mut self,
        table: &str,
        key: &str,
        column: &str,
        text: &str,
    ) -> Result<(), ExportError> {
        if self.csv.is_none() {
            self.csv =
                Some(CsvFile::create(&self.path, &["table", "KEY", "column", "text"], self.style)?);
        }
        match &mut self.csv {
            Some(csv) => csv.write(&[table, key, column, text]),
            None => Ok(()),
        }
    }

    pub fn finish(self) -> Result<Option<PathBuf>, ExportError> {
        self.csv.map(CsvFile::finish).transpose()
    }
}
