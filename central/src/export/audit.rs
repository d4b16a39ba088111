//! The audit logs (paradata) of an export: `FORM-audit.csv`, one row per
//! event of every exported response's `audit.csv` (ODK's audit columns
//! after `KEY`, the response's instance id), and the summary columns of the
//! main table (duration, active time, pauses, answers changed).
//!
//! A response's log is its `audit.csv` attachment: for a plain response the
//! file central holds under the hash its signed entry names, for a sealed
//! one the file inside the sealed envelope, opened with `--identity` like
//! the answers. A file that is missing or unreadable is a report item.

use std::path::{Path, PathBuf};

use enumera_core::bundle::sha256_hex;
use enumera_core::session::AuditEvent;
use enumera_core::session::audit::{CSV_COLUMNS, FILE_NAME, field, summarize};
use enumera_core::store::EntryContent;

use super::csv::{CsvFile, CsvStyle};
use super::report::ReportKind;
use super::{ExportError, ExportSource, StoredResponse};

/// A response's audit log as the export reads it: the events, or nothing
/// when it has no `audit.csv`. Problems go to `notes`.
pub(super) fn events_of<S: ExportSource>(
    source: &S,
    r: &StoredResponse,
    opened: &mut [(enumera_core::store::AttachmentInfo, super::payload::OpenedFile)],
    notes: &mut Vec<(ReportKind, String)>,
) -> Result<Option<Vec<AuditEvent>>, ExportError> {
    let bytes = if r.sealed.is_some() {
        match opened.iter_mut().find(|(a, _)| a.name == FILE_NAME) {
            Some((_, file)) => {
                let mut bytes = Vec::new();
                file.copy_to(&mut bytes)
                    .map_err(|e| ExportError::io(Path::new("(temporary file)"), e))?;
                bytes
            }
            None => return Ok(None),
        }
    } else {
        let content: Option<EntryContent> =
            r.entry_content.as_deref().and_then(|c| serde_json::from_str(c).ok());
        let Some(a) = content.and_then(|c| c.attachments.into_iter().find(|a| a.name == FILE_NAME))
        else {
            return Ok(None);
        };
        match source.attachment(&a.sha256)? {
            Some(bytes) if sha256_hex(&bytes) == a.sha256 => bytes,
            _ => {
                notes.push((
                    ReportKind::AuditUnreadable,
                    format!("{FILE_NAME}: central holds no file with SHA-256 {}", a.sha256),
                ));
                return Ok(None);
            }
        }
    };
    match from_csv(&bytes) {
        Ok(events) => Ok(Some(events)),
        Err(reason) => {
            notes.push((ReportKind::AuditUnreadable, format!("{FILE_NAME}: {reason}")));
            Ok(None)
        }
    }
}

/// Reads an audit.csv (ODK Collect's or Enumera's): columns by header name,
/// any subset of ODK's.
pub fn from_csv(bytes: &[u8]) -> Result<Vec<AuditEvent>, String> {
    let mut r = csv::ReaderBuilder::new().flexible(true).from_reader(bytes);
    let header: Vec<String> =
        r.headers().map_err(|e| format!("line 1: {e}"))?.iter().map(str::to_string).collect();
    if !header.iter().any(|h| h == "event") {
        return Err("line 1: no event column".into());
    }
    let mut out = Vec::new();
    for (i, rec) in r.records().enumerate() {
        let line = i + 2;
        let rec = rec.map_err(|e| format!("line {line}: {e}"))?;
        let get = |name: &str| {
            header.iter().position(|h| h == name).and_then(|p| rec.get(p)).unwrap_or_default()
        };
        let opt = |name: &str| Some(get(name).to_string()).filter(|v| !v.is_empty());
        let ms = |name: &str| -> Result<Option<i64>, String> {
            let v = get(name).trim();
            if v.is_empty() {
                return Ok(None);
            }
            v.parse().map(Some).map_err(|_| {
                format!("line {line}: {name} {v:?} is not milliseconds since the epoch")
            })
        };
        out.push(AuditEvent {
            event: get("event").to_string(),
            node: get("node").to_string(),
            start: ms("start")?.unwrap_or_default(),
            end: ms("end")?,
            latitude: opt("latitude"),
            longitude: opt("longitude"),
            accuracy: opt("accuracy"),
            old_value: opt("old-value"),
            new_value: opt("new-value"),
            user: opt("user"),
            change_reason: opt("change-reason"),
        });
    }
    Ok(out)
}

/// The summary columns' values: seconds (to the millisecond), counts.
/// Answers changed is empty when the log does not track changes.
pub(super) fn summary_values(events: &[AuditEvent]) -> [String; 4] {
    let s = summarize(events);
    let secs = |ms: i64| (ms as f64 / 1000.0).to_string();
    let tracked = events.iter().any(|e| e.new_value.is_some() || e.old_value.is_some());
    [
        secs(s.duration_ms),
        secs(s.active_ms),
        s.pauses.to_string(),
        if tracked { s.answers_changed.to_string() } else { String::new() },
    ]
}

/// `FORM-audit.csv`, created with its first row (a form whose responses
/// have no audit gets no file).
pub(super) struct AuditTable {
    path: PathBuf,
    style: CsvStyle,
    csv: Option<CsvFile>,
}

impl AuditTable {
    pub fn new(out: &Path, form_id: &str, style: CsvStyle) -> AuditTable {
        AuditTable { path: out.join(format!("{form_id}-audit.csv")), style, csv: None }
    }

    pub fn write(&mut self, key: &str, events: &[AuditEvent]) -> Result<(), ExportError> {
        if self.csv.is_none() {
            let mut header = vec!["KEY"];
            header.extend(CSV_COLUMNS);
            self.csv = Some(CsvFile::create(&self.path, &header, self.style)?);
        }
        let Some(csv) = &mut self.csv else { return Ok(()) };
        for e in events {
            let mut row = vec![key.to_string()];
            row.extend(CSV_COLUMNS.iter().map(|c| field(e, c)));
            csv.write(&row)?;
        }
        Ok(())
    }

    pub fn finish(self) -> Result<Option<PathBuf>, ExportError> {
        self.csv.map(CsvFile::finish).transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odk_collects_files_and_ours_read_by_header() {
        let odk = b"event,node,start,end,old-value,new-value\n\
                    form start,,1000,,,\n\
                    question,/data/age,1000,4000,13,31\n";
        let ev = from_csv(odk).unwrap();
        assert_eq!(ev.len(), 2);
        assert_eq!((ev[1].end, ev[1].old_value.as_deref()), (Some(4000), Some("13")));
        assert_eq!(summary_values(&ev), ["3".to_string(), "3".into(), "0".into(), "1".into()]);
        let quoted = b"event,node,start,end,change-reason\nchange reason,,5,,\"a, \"\"b\"\"\"\n";
        assert_eq!(from_csv(quoted).unwrap()[0].change_reason.as_deref(), Some("a, \"b\""));
        assert!(from_csv(b"event,start\nx,soon\n").unwrap_err().contains("line 2"));
        assert!(from_csv(b"a,b\n1,2\n").is_err());
    }

    proptest::proptest! {
        /// Whatever the values hold (commas, quotes, line breaks), the
        /// device's writer and the export's reader agree.
        #[test]
        fn what_the_device_writes_the_export_reads(
            node in ".{0,12}", old in ".{0,12}", new in "[a-z,\"\n ]{1,12}",
            reason in ".{0,12}", start in 0i64..1 << 45, len in 0i64..1 << 20,
        ) {
            use enumera_core::session::AuditConfig;
            let config = AuditConfig { track_changes: true, reasons_on_edit: true, ..AuditConfig::default() };
            let e = AuditEvent {
                event: "question".into(),
                node: node.clone(),
                start,
                end: Some(start + len),
                old_value: Some(old.clone()).filter(|v| !v.is_empty()),
                new_value: Some(new.clone()),
                change_reason: Some(reason.clone()).filter(|v| !v.is_empty()),
                ..AuditEvent::default()
            };
            let bytes = enumera_core::session::audit::to_csv(&config, std::slice::from_ref(&e));
            let back = from_csv(&bytes).expect("reads");
            proptest::prop_assert_eq!(back, vec![e]);
        }
    }
}
