//! Assignments on the device (issue 17, item 5): the work central gave
//! this device or its enumerator (over HTTP with `SyncClient.sync`, or as
//! a file), with how much of each is started and finalized, and starting
//! an interview from one.

use std::sync::Arc;

use enumera_core::review::apply_assignments;

use crate::Result;
use crate::errors::EnumeraError;
use crate::interview::Interview;
use crate::store::DeviceStore;
use crate::types::{AssignedWork, AssignmentsReport};

#[uniffi::export]
impl DeviceStore {
    /// Applies central's signed assignments file (a file carried by hand,
    /// or the body of `POST /v1/assignments`): this device's work and only
    /// its participants' roster rows. Refused whole with `BadAssignments`
    /// when it is forged, altered, for another device, or signed by another
    /// central than the one this device trusts.
    pub fn apply_assignments(&self, assignments: Vec<u8>) -> Result<AssignmentsReport> {
        Ok(apply_assignments(&mut self.lock(), &assignments)?.into())
    }

    /// This device's assignments, by round, form and participant, each with
    /// the interviews started and finalized for it.
    pub fn assignments(&self) -> Result<Vec<AssignedWork>> {
        Ok(self.lock().assignments()?.into_iter().map(AssignedWork::from).collect())
    }

    /// Starts the interview of an assignment: its form, participant and
    /// round (with preload from the participant's earlier round).
    pub fn start_assigned_interview(
        self: Arc<Self>,
        assignment_id: String,
    ) -> Result<Arc<Interview>> {
        let work = self
            .lock()
            .assignments()?
            .into_iter()
            .find(|a| a.work.assignment_id == assignment_id)
            .ok_or_else(|| EnumeraError::BadAssignments {
                reason: format!("no assignment {assignment_id} on this device"),
            })?
            .work;
        let preload = work.participant_id.is_some();
        self.start_interview(work.form_id, work.participant_id, work.round, preload)
    }
}

impl From<enumera_core::review::ApplyAssignmentsReport> for AssignmentsReport {
    fn from(r: enumera_core::review::ApplyAssignmentsReport) -> Self {
        AssignmentsReport {
            assignments: r.assignments as u64,
            new: r.new,
            ended: r.ended,
            participants_removed: r.participants_removed,
            participants_kept: r.participants_kept,
            stale: r.stale,
            central_key_learned: r.central_key_learned,
        }
    }
}

impl From<enumera_core::store::AssignmentInfo> for AssignedWork {
    fn from(a: enumera_core::store::AssignmentInfo) -> Self {
        let w = a.work;
        AssignedWork {
            assignment_id: w.assignment_id,
            form_id: w.form_id,
            round: w.round,
            participant_id: w.participant_id,
            quantity: w.quantity,
            district: w.district,
            started: a.started,
            finalized: a.finalized,
            done: a.done,
        }
    }
}
