//! `report.csv`: every held item not exported as a current response, and
//! why: sealed without an identity, sealed to other keys, tampered or
//! damaged, unreadable, form not published, conflicts, edits.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::csv::CsvFile;
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
    pub fn create(path: &Path) -> Result<Self, ExportError> {
        Ok(Report { csv: CsvFile::create(path, HEADER)?, counts: BTreeMap::new() })
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
