//! Assignments on the device (issue 17, item 5): the work central gave it,
//! replaced whole by each newer signed assignments file
//! ([`crate::review::apply_assignments`]), with what the device has done
//! of each. A response counts for an assignment when it has the
//! assignment's form and round and, for a participant's assignment, that
//! participant (for a quantity, no participant): no link is stored on the
//! response, so an interview started before its assignment arrived counts.

use std::collections::BTreeSet;

use rusqlite::params;
use serde::Serialize;

use super::error::{Result, StoreError};
use super::{Store, now};
use crate::review::assignments::{
    ApplyAssignmentsReport, AssignedWork, AssignmentProgress, AssignmentsStatement,
};

/// An assignment as the device shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AssignmentInfo {
    #[serde(flatten)]
    pub work: AssignedWork,
    /// Interviews on this device for it (drafts, finalized, sent).
    pub started: u32,
    pub finalized: u32,
    /// Done: the participant's interview is finalized, or the quantity reached.
    pub done: bool,
}

const COLUMNS: &str = "assignment_id, form_id, round, participant_id, quantity, district, \
     device_id, enumerator, assigned_at";

/// The setting holding the `issued_at` of the last file applied.
const ISSUED_AT: &str = "assignments_issued_at";

/// Assignments with the responses counted for each: same form and round
/// and, for a participant's assignment, that participant (for a quantity,
/// none).
const WITH_COUNTS: &str = "SELECT a.assignment_id, a.form_id, a.round, a.participant_id,
        a.quantity, a.district, a.device_id, a.enumerator, a.assigned_at,
        count(r.instance_id), coalesce(sum(r.state IN ('finalized', 'sent')), 0)
    FROM assignments a LEFT JOIN responses r ON r.form_id = a.form_id
        AND r.state <> 'discarded' AND r.round IS a.round
        AND (r.participant_id = a.participant_id
             OR (a.participant_id IS NULL AND r.participant_id IS NULL))
    GROUP BY a.assignment_id
    ORDER BY a.round, a.form_id, a.participant_id, a.assignment_id";

impl Store {
    /// Makes `statement` (verified by the caller) this device's
    /// assignments, in one transaction; see
    /// [`crate::review::apply_assignments`].
    pub fn replace_assignments(
        &mut self,
        statement: &AssignmentsStatement,
    ) -> Result<ApplyAssignmentsReport> {
        let Store { conn, path, .. } = self;
        let map = |e| StoreError::sql(path, "applying assignments", e);
        let tx = super::write_tx(conn, path, "applying assignments")?;
        let mut report = ApplyAssignmentsReport::default();
        let last: Option<String> = tx
            .query_row("SELECT value FROM settings WHERE key = ?1", [ISSUED_AT], |r| r.get(0))
            .map(Some)
            .or_else(|e| match e {
                rusqlite::Error::QueryReturnedNoRows => Ok(None),
                e => Err(e),
            })
            .map_err(map)?;
        if last.as_deref().is_some_and(|l| l > statement.issued_at.as_str()) {
            report.stale = true;
            return Ok(report);
        }
        let before: BTreeSet<String> = tx
            .prepare("SELECT assignment_id FROM assignments")
            .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
            .map_err(map)?;
        tx.execute("DELETE FROM assignments", []).map_err(map)?;
        let mut assigned = BTreeSet::new();
        for a in &statement.assignments {
            tx.execute(
                &format!(
                    "INSERT INTO assignments ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                     ON CONFLICT (assignment_id) DO NOTHING"
                ),
                params![
                    a.assignment_id,
                    a.form_id,
                    a.round,
                    a.participant_id,
                    a.quantity,
                    a.district,
                    a.device_id,
                    a.enumerator,
                    a.assigned_at
                ],
            )
            .map_err(map)?;
            if !before.contains(&a.assignment_id) {
                report.new.push(a.assignment_id.clone());
            }
            if let Some(p) = &a.participant_id {
                assigned.insert(p.clone());
            }
        }
        let now_ids: BTreeSet<&String> =
            statement.assignments.iter().map(|a| &a.assignment_id).collect();
        report.ended = before.iter().filter(|id| !now_ids.contains(id)).cloned().collect();
        report.assignments = now_ids.len();
        let at = now();
        for p in &statement.participants {
            if p.id.trim().is_empty() {
                continue;
            }
            let display = serde_json::to_string(&p.display).unwrap_or_else(|_| "{}".into());
            let personal = serde_json::to_string(&p.personal).unwrap_or_else(|_| "{}".into());
            report.participants_updated += tx
                .execute(
                    "INSERT INTO participants (participant_id, display, personal, source,
                         created_at, updated_at)
                     VALUES (?1, ?2, ?3, 'roster', ?4, ?4)
                     ON CONFLICT (participant_id) DO UPDATE
                     SET display = ?2, personal = ?3, source = 'roster', updated_at = ?4
                     WHERE display <> ?2 OR personal <> ?3",
                    params![p.id, display, personal, at],
                )
                .map_err(map)?;
        }
        if statement.participants_limited {
            // Rows that came from central, no longer assigned here.
            let others: Vec<(String, bool)> = tx
                .prepare(
                    "SELECT p.participant_id, EXISTS (SELECT 1 FROM responses r
                         WHERE r.participant_id = p.participant_id
                           AND r.state IN ('draft', 'finalized'))
                     FROM participants p WHERE p.source = 'roster' ORDER BY p.participant_id",
                )
                .and_then(|mut s| s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect())
                .map_err(map)?;
            for (id, unsent) in others {
                if assigned.contains(&id) {
                    continue;
                }
                if unsent {
                    report.participants_kept.push(id);
                } else {
                    tx.execute("DELETE FROM participants WHERE participant_id = ?1", [&id])
                        .map_err(map)?;
                    report.participants_removed.push(id);
                }
            }
        }
        tx.execute(
            "INSERT INTO settings (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = ?2",
            params![ISSUED_AT, statement.issued_at],
        )
        .map_err(map)?;
        tx.commit().map_err(map)?;
        Ok(report)
    }

    /// This device's assignments with what it has done of each, by form,
    /// round and participant.
    pub fn assignments(&self) -> Result<Vec<AssignmentInfo>> {
        self.conn
            .prepare_cached(WITH_COUNTS)
            .and_then(|mut s| {
                s.query_map([], |r| {
                    let work = AssignedWork {
                        assignment_id: r.get(0)?,
                        form_id: r.get(1)?,
                        round: r.get(2)?,
                        participant_id: r.get(3)?,
                        quantity: r.get(4)?,
                        district: r.get(5)?,
                        device_id: r.get(6)?,
                        enumerator: r.get(7)?,
                        assigned_at: r.get(8)?,
                    };
                    let started: u32 = r.get(9)?;
                    let finalized: u32 = r.get(10)?;
                    let done = match (&work.participant_id, work.quantity) {
                        (Some(_), _) => finalized >= 1,
                        (None, Some(q)) => finalized >= q,
                        (None, None) => false,
                    };
                    Ok(AssignmentInfo { work, started, finalized, done })
                })?
                .collect()
            })
            .map_err(self.err("reading assignments"))
    }

    /// What the device reports to central when it asks for its assignments.
    pub fn assignment_progress(&self) -> Result<Vec<AssignmentProgress>> {
        Ok(self
            .assignments()?
            .into_iter()
            .map(|a| AssignmentProgress {
                assignment_id: a.work.assignment_id,
                started: a.started,
                finalized: a.finalized,
            })
            .collect())
    }
}
