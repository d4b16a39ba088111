//! Assignments and devices' reports in SQLite
//! (central/sql/0008_assignments.sql): appended, ended once.

use rusqlite::{Row, TransactionBehavior, params};

use enumera_core::review::AssignmentProgress;

use super::SqliteCentral;
use crate::assign::{Assignment, DeviceReport};
use crate::error::CentralError;

const COLUMNS: &str = "assignment_id, form_id, round, participant_id, quantity, district, \
     device_id, enumerator, created_by, created_at, replaces, ended_at, ended_by";

fn assignment(r: &Row) -> rusqlite::Result<Assignment> {
    Ok(Assignment {
        assignment_id: r.get(0)?,
        form_id: r.get(1)?,
        round: r.get(2)?,
        participant_id: r.get(3)?,
        quantity: r.get(4)?,
        district: r.get(5)?,
        device_id: r.get(6)?,
        enumerator: r.get(7)?,
        created_by: r.get(8)?,
        created_at: r.get(9)?,
        replaces: r.get(10)?,
        ended_at: r.get(11)?,
        ended_by: r.get(12)?,
    })
}

fn insert(tx: &rusqlite::Transaction, a: &Assignment) -> rusqlite::Result<usize> {
    tx.prepare_cached(&format!(
        "INSERT INTO assignments ({COLUMNS})
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"
    ))?
    .execute(params![
        a.assignment_id,
        a.form_id,
        a.round,
        a.participant_id,
        a.quantity,
        a.district,
        a.device_id,
        a.enumerator,
        a.created_by,
        a.created_at,
        a.replaces,
        a.ended_at,
        a.ended_by
    ])
}

impl SqliteCentral {
    pub(super) fn add_assignments_impl(&mut self, new: &[Assignment]) -> Result<(), CentralError> {
        let path = self.path.clone();
        let sql = |e| CentralError::sql(&path, "adding assignments", e);
        let tx =
            self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(sql)?;
        for a in new {
            insert(&tx, a).map_err(sql)?;
        }
        tx.commit().map_err(sql)
    }

    pub(super) fn assignments_impl(&self) -> Result<Vec<Assignment>, CentralError> {
        self.conn
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM assignments ORDER BY created_at, assignment_id"
            ))
            .and_then(|mut s| s.query_map([], assignment)?.collect())
            .map_err(self.err("reading assignments"))
    }

    pub(super) fn end_assignment_impl(
        &mut self,
        id: &str,
        at: &str,
        by: &str,
        replacement: Option<&Assignment>,
    ) -> Result<bool, CentralError> {
        let path = self.path.clone();
        let sql = |e| CentralError::sql(&path, format!("ending assignment {id}"), e);
        let tx =
            self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(sql)?;
        let ended = tx
            .execute(
                "UPDATE assignments SET ended_at = ?2, ended_by = ?3
                 WHERE assignment_id = ?1 AND ended_at IS NULL",
                params![id, at, by],
            )
            .map_err(sql)?;
        if ended == 0 {
            return Ok(false);
        }
        if let Some(a) = replacement {
            insert(&tx, a).map_err(sql)?;
        }
        tx.commit().map_err(sql)?;
        Ok(true)
    }

    pub(super) fn record_device_report_impl(
        &mut self,
        report: &DeviceReport,
    ) -> Result<(), CentralError> {
        let path = self.path.clone();
        let sql = |e| CentralError::sql(&path, "recording a device's progress", e);
        let tx =
            self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(sql)?;
        tx.execute("DELETE FROM device_progress WHERE device_id = ?1", [&report.device_id])
            .map_err(sql)?;
        tx.execute(
            "INSERT INTO device_reports (device_id, enumerator, reported_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (device_id) DO UPDATE SET enumerator = ?2, reported_at = ?3",
            params![report.device_id, report.enumerator, report.reported_at],
        )
        .map_err(sql)?;
        for p in &report.progress {
            tx.execute(
                "INSERT INTO device_progress (device_id, assignment_id, started, finalized)
                 VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
                params![report.device_id, p.assignment_id, p.started, p.finalized],
            )
            .map_err(sql)?;
        }
        tx.commit().map_err(sql)
    }

    pub(super) fn device_reports_impl(&self) -> Result<Vec<DeviceReport>, CentralError> {
        let mut reports: Vec<DeviceReport> = self
            .conn
            .prepare_cached(
                "SELECT device_id, enumerator, reported_at FROM device_reports ORDER BY device_id",
            )
            .and_then(|mut s| {
                s.query_map([], |r| {
                    Ok(DeviceReport {
                        device_id: r.get(0)?,
                        enumerator: r.get(1)?,
                        reported_at: r.get(2)?,
                        progress: Vec::new(),
                    })
                })?
                .collect()
            })
            .map_err(self.err("reading devices' reports"))?;
        let progress: Vec<(String, AssignmentProgress)> = self
            .conn
            .prepare_cached(
                "SELECT device_id, assignment_id, started, finalized FROM device_progress
                 ORDER BY device_id, assignment_id",
            )
            .and_then(|mut s| {
                s.query_map([], |r| {
                    Ok((
                        r.get(0)?,
                        AssignmentProgress {
                            assignment_id: r.get(1)?,
                            started: r.get(2)?,
                            finalized: r.get(3)?,
                        },
                    ))
                })?
                .collect()
            })
            .map_err(self.err("reading devices' progress"))?;
        for (device, p) in progress {
            if let Some(r) = reports.iter_mut().find(|r| r.device_id == device) {
                r.progress.push(p);
            }
        }
        Ok(reports)
    }
}
