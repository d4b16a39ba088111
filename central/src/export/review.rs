//! The review tables of an export (issue 17): `review.csv`, one row per
//! review event in the order recorded, and `review_status.csv`, one row per
//! exported (current) response with its review state and whether it
//! corrects a version a reviewer returned. Written only when central holds
//! review events, so exports of data nobody reviewed are unchanged.
//!
//! The main tables keep the latest version of each response whatever its
//! state (a returned version stays until its correction arrives and
//! replaces it): analysts choose with `review_status.csv` (docs/FORMAT.md,
//! "Review in the export").

use std::path::{Path, PathBuf};

use super::ExportError;
use super::csv::{CsvFile, CsvStyle};

/// One review event, flattened for a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewRow {
    pub instance_id: String,
    pub form_id: String,
    pub action_id: String,
    pub kind: String,
    pub state_after: String,
    pub reviewer: String,
    pub role: String,
    pub token_id: String,
    pub at: String,
    pub recorded_at: String,
    /// The comments as signed, JSON (`[{"ref": "/data/age", "text": ...}]`).
    pub comments: String,
}

/// One current response's review state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewStatusRow {
    pub instance_id: String,
    pub form_id: String,
    pub state: String,
    pub deprecated_id: Option<String>,
    pub edited_after_return: bool,
}

/// What an export source knows of review.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReviewExport {
    pub events: Vec<ReviewRow>,
    pub status: Vec<ReviewStatusRow>,
}

/// Writes the two tables; nothing when no event was ever recorded.
pub fn write(
    out: &Path,
    review: &ReviewExport,
    style: CsvStyle,
) -> Result<Vec<PathBuf>, ExportError> {
    if review.events.is_empty() {
        return Ok(Vec::new());
    }
    let mut events = CsvFile::create(
        &out.join("review.csv"),
        &[
            "KEY",
            "form_id",
            "action_id",
            "action",
            "state_after",
            "reviewer",
            "role",
            "token_id",
            "at",
            "recorded_at",
            "comments",
        ],
        style,
    )?;
    for e in &review.events {
        events.write(&[
            &e.instance_id,
            &e.form_id,
            &e.action_id,
            &e.kind,
            &e.state_after,
            &e.reviewer,
            &e.role,
            &e.token_id,
            &e.at,
            &e.recorded_at,
            &e.comments,
        ])?;
    }
    let mut status = CsvFile::create(
        &out.join("review_status.csv"),
        &["KEY", "form_id", "review_state", "deprecatedID", "edited_after_return"],
        style,
    )?;
    for s in &review.status {
        status.write(&[
            s.instance_id.as_str(),
            &s.form_id,
            &s.state,
            s.deprecated_id.as_deref().unwrap_or(""),
            if s.edited_after_return { "1" } else { "0" },
        ])?;
    }
    Ok(vec![events.finish()?, status.finish()?])
}
