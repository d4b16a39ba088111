//! The data API's reads of submissions (issue 19), one indexed query each
//! in both stores: a page of a form's current submissions after a cursor,
//! how many match, and one submission by instance id. A page's cost
//! follows its size, not the number of submissions held
//! (`benches/data_api_pages.rs`).
//!
//! Pages go in arrival order, and a cursor names a place in it that no
//! later arrival can come before (SQLite: the rowid, handed out in commit
//! order by its one writer; PostgreSQL: the inserting transaction and the
//! arrival number, read only up to the oldest transaction still running,
//! central/sql/postgres/0004_data_api.sql). So a walk through the pages
//! meets every submission current when it started once (unless replaced
//! by an edit meanwhile, whose new version then comes later), and what
//! arrives during the walk on a later page.

use crate::error::CentralError;
use crate::export::StoredResponse;

/// Which submissions of a form a page lists.
#[derive(Debug, Clone, Default)]
pub struct SubmissionQuery {
    pub form_id: String,
    pub version: Option<String>,
    pub round: Option<i64>,
    /// Received at or after (RFC 3339 text or a date, compared as text).
    pub since: Option<String>,
    /// `received`, `approved`, `rejected` or `has_issues`.
    pub review_state: Option<String>,
}

/// A place in a form's arrival order: the numbers a store's cursor text
/// holds (`12` for SQLite, `845.12` for PostgreSQL), opaque to clients.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor(pub Vec<i64>);

impl Cursor {
    /// The cursor text: its numbers joined by dots.
    pub fn text(&self) -> String {
        self.0.iter().map(i64::to_string).collect::<Vec<_>>().join(".")
    }

    /// Parses cursor text; `None` for text no store wrote.
    pub fn parse(text: &str) -> Option<Cursor> {
        let parts: Option<Vec<i64>> = text
            .split('.')
            .map(|p| p.parse::<i64>().ok().filter(|n| *n >= 0 && !p.starts_with('+')))
            .collect();
        parts.filter(|p| !p.is_empty() && p.len() <= 2).map(Cursor)
    }
}

/// A submission as a page lists it (no payload).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubmissionMeta {
    pub instance_id: String,
    pub form_id: String,
    pub form_version: String,
    pub participant_id: Option<String>,
    pub round: Option<i64>,
    pub device_id: String,
    pub enumerator: Option<String>,
    pub finalized_at: String,
    pub received_at: String,
    pub sealed: bool,
    pub review_state: String,
}

/// A page: at most the limit asked, and the cursor after its last item
/// when more follow.
#[derive(Debug, Clone, Default)]
pub struct SubmissionPage {
    pub items: Vec<SubmissionMeta>,
    pub next: Option<Cursor>,
}

/// Why a cursor was refused.
pub const BAD_CURSOR: &str =
    "cursor: not one this server wrote (use the next_cursor of the page before)";

/// The data API's reads, implemented by both stores.
pub trait SubmissionSource {
    /// Up to `limit` current submissions after `after` (from the start
    /// when `None`), skipping `offset` first.
    fn submission_page(
        &self,
        query: &SubmissionQuery,
        after: Option<&Cursor>,
        offset: u64,
        limit: usize,
    ) -> Result<SubmissionPage, CentralError>;

    /// How many current submissions match (all pages).
    fn submission_count(&self, query: &SubmissionQuery) -> Result<u64, CentralError>;

    /// The current submission `instance_id` with its review state; `None`
    /// when no current submission has that id.
    fn submission(
        &self,
        instance_id: &str,
    ) -> Result<Option<(StoredResponse, String)>, CentralError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_text_reads_back_and_junk_is_refused() {
        for c in [Cursor(vec![7]), Cursor(vec![845, 12]), Cursor(vec![0, 0])] {
            assert_eq!(Cursor::parse(&c.text()), Some(c));
        }
        for junk in ["", "nope", "1.", ".1", "-1", "+1", "1.2.3", "1..2", "99999999999999999999"] {
            assert_eq!(Cursor::parse(junk), None, "{junk:?}");
        }
    }
}
