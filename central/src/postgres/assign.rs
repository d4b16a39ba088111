//! Assignments and devices' reports in PostgreSQL
//! (central/sql/postgres/0003_assignments.sql), as in SQLite
//! (central/src/sqlite/assign.rs).

use postgres::Row;

use enumera_core::review::AssignmentProgress;

use super::{Inner, PgCentral};
use crate::assign::{Assignment, DeviceReport};
use crate::error::CentralError;

const COLUMNS: &str = "assignment_id, form_id, round, participant_id, quantity, district, \
     device_id, enumerator, created_by, created_at, replaces, ended_at, ended_by";

const INSERT: &str = "INSERT INTO assignments (assignment_id, form_id, round, participant_id, \
     quantity, district, device_id, enumerator, created_by, created_at, replaces, ended_at, \
     ended_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)";

fn assignment(r: &Row) -> Assignment {
    Assignment {
        assignment_id: r.get(0),
        form_id: r.get(1),
        round: r.get(2),
        participant_id: r.get(3),
        quantity: r.get::<_, Option<i64>>(4).map(|q| q.clamp(0, i64::from(u32::MAX)) as u32),
        district: r.get(5),
        device_id: r.get(6),
        enumerator: r.get(7),
        created_by: r.get(8),
        created_at: r.get(9),
        replaces: r.get(10),
        ended_at: r.get(11),
        ended_by: r.get(12),
    }
}

fn insert(tx: &mut postgres::Transaction, a: &Assignment) -> Result<u64, postgres::Error> {
    tx.execute(
        INSERT,
        &[
            &a.assignment_id,
            &a.form_id,
            &a.round,
            &a.participant_id,
            &a.quantity.map(i64::from),
            &a.district,
            &a.device_id,
            &a.enumerator,
            &a.created_by,
            &a.created_at,
            &a.replaces,
            &a.ended_at,
            &a.ended_by,
        ],
    )
}

fn count(v: i64) -> u32 {
    v.clamp(0, i64::from(u32::MAX)) as u32
}

impl Inner {
    fn add_assignments_tx(&mut self, new: &[Assignment]) -> Result<(), CentralError> {
        let map = self.err("adding assignments");
        let target = self.target.clone();
        let sql = |e| CentralError::postgres(&target, "adding assignments", e);
        let mut tx = self.client().transaction().map_err(map)?;
        for a in new {
            insert(&mut tx, a).map_err(sql)?;
        }
        tx.commit().map_err(sql)
    }

    fn end_assignment_tx(
        &mut self,
        id: &str,
        at: &str,
        by: &str,
        replacement: Option<&Assignment>,
    ) -> Result<bool, CentralError> {
        let map = self.err(format!("ending assignment {id}"));
        let target = self.target.clone();
        let sql = |e| CentralError::postgres(&target, format!("ending assignment {id}"), e);
        let mut tx = self.client().transaction().map_err(map)?;
        let ended = tx
            .execute(
                "UPDATE assignments SET ended_at = $2, ended_by = $3
                 WHERE assignment_id = $1 AND ended_at IS NULL",
                &[&id, &at, &by],
            )
            .map_err(sql)?;
        if ended == 0 {
            return Ok(false);
        }
        if let Some(a) = replacement {
            insert(&mut tx, a).map_err(sql)?;
        }
        tx.commit().map_err(sql)?;
        Ok(true)
    }

    fn record_device_report_tx(&mut self, report: &DeviceReport) -> Result<(), CentralError> {
        let map = self.err("recording a device's progress");
        let target = self.target.clone();
        let sql = |e| CentralError::postgres(&target, "recording a device's progress", e);
        let mut tx = self.client().transaction().map_err(map)?;
        tx.execute(
            "INSERT INTO device_reports (device_id, enumerator, reported_at) VALUES ($1, $2, $3)
             ON CONFLICT (device_id) DO UPDATE SET enumerator = $2, reported_at = $3",
            &[&report.device_id, &report.enumerator, &report.reported_at],
        )
        .map_err(sql)?;
        tx.execute("DELETE FROM device_progress WHERE device_id = $1", &[&report.device_id])
            .map_err(sql)?;
        for p in &report.progress {
            tx.execute(
                "INSERT INTO device_progress (device_id, assignment_id, started, finalized)
                 VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                &[
                    &report.device_id,
                    &p.assignment_id,
                    &i64::from(p.started),
                    &i64::from(p.finalized),
                ],
            )
            .map_err(sql)?;
        }
        tx.commit().map_err(sql)
    }
}

impl PgCentral {
    pub(super) fn add_assignments_impl(&mut self, new: &[Assignment]) -> Result<(), CentralError> {
        self.inner().add_assignments_tx(new)
    }

    pub(super) fn end_assignment_impl(
        &mut self,
        id: &str,
        at: &str,
        by: &str,
        replacement: Option<&Assignment>,
    ) -> Result<bool, CentralError> {
        self.inner().end_assignment_tx(id, at, by, replacement)
    }

    pub(super) fn record_device_report_impl(
        &mut self,
        report: &DeviceReport,
    ) -> Result<(), CentralError> {
        self.inner().record_device_report_tx(report)
    }

    pub(super) fn assignments_impl(&self) -> Result<Vec<Assignment>, CentralError> {
        self.read(|s| {
            let map = s.err("reading assignments");
            let sql =
                format!("SELECT {COLUMNS} FROM assignments ORDER BY created_at, assignment_id");
            Ok(s.client().query(&sql, &[]).map_err(map)?.iter().map(assignment).collect())
        })
    }

    pub(super) fn device_reports_impl(&self) -> Result<Vec<DeviceReport>, CentralError> {
        self.read(|s| {
            let map = s.err("reading devices' reports");
            let mut reports: Vec<DeviceReport> = s
                .client()
                .query(
                    "SELECT device_id, enumerator, reported_at FROM device_reports
                     ORDER BY device_id",
                    &[],
                )
                .map_err(map)?
                .iter()
                .map(|r| DeviceReport {
                    device_id: r.get(0),
                    enumerator: r.get(1),
                    reported_at: r.get(2),
                    progress: Vec::new(),
                })
                .collect();
            let map = s.err("reading devices' progress");
            for r in s
                .client()
                .query(
                    "SELECT device_id, assignment_id, started, finalized FROM device_progress
                     ORDER BY device_id, assignment_id",
                    &[],
                )
                .map_err(map)?
            {
                let device: String = r.get(0);
                if let Some(report) = reports.iter_mut().find(|x| x.device_id == device) {
                    report.progress.push(AssignmentProgress {
                        assignment_id: r.get(1),
                        started: count(r.get(2)),
                        finalized: count(r.get(3)),
                    });
                }
            }
            Ok(reports)
        })
    }
}
