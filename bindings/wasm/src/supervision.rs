//! Field supervision in the web app (issue 17): the device's assignments
//! (start an interview from one) and its returned responses with the
//! reviewers' comments (reopen one as a correction). The same surface as
//! enumera-ffi's (`bindings/src/assignments.rs`, `bindings/src/returns.rs`).

use enumera_core::fill::Start;
use enumera_core::review::{apply_assignments, apply_returns};
use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::errors::{EnumeraError, Result};
use crate::interview::Interview;
use crate::store::DeviceStore;
use crate::types::to_js;

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &str = r#"
export interface AssignedWork {
  assignmentId: string; formId: string; round: number | null; participantId: string | null;
  quantity: number | null; district: string | null; started: number; finalized: number; done: boolean;
}
export interface AssignmentsReport {
  assignments: number; new: string[]; ended: string[]; participantsRemoved: string[];
  participantsKept: string[]; stale: boolean; centralKeyLearned: boolean;
}
export interface ReviewComment { reference: string | null; text: string }
export type ReturnStatus = "returned" | "reopened" | "corrected";
export interface ReturnedResponse {
  instanceId: string; formId: string; participantId: string | null; round: number | null; sealed: boolean;
  reviewer: string; returnedAt: string; comments: ReviewComment[]; status: ReturnStatus;
  correctionId: string | null;
}
export interface ReturnsReport { new: string[]; updated: string[]; notOurs: string[] }
"#;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AssignedWork {
    pub assignment_id: String,
    pub form_id: String,
    pub round: Option<i64>,
    pub participant_id: Option<String>,
    pub quantity: Option<u32>,
    pub district: Option<String>,
    pub started: u32,
    pub finalized: u32,
    pub done: bool,
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

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AssignmentsReport {
    pub assignments: u64,
    pub new: Vec<String>,
    pub ended: Vec<String>,
    pub participants_removed: Vec<String>,
    pub participants_kept: Vec<String>,
    pub stale: bool,
    pub central_key_learned: bool,
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

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReviewComment {
    pub reference: Option<String>,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReturnedResponse {
    pub instance_id: String,
    pub form_id: String,
    pub participant_id: Option<String>,
    pub round: Option<i64>,
    pub sealed: bool,
    pub reviewer: String,
    pub returned_at: String,
    pub comments: Vec<ReviewComment>,
    /// `returned`, `reopened` or `corrected`.
    pub status: String,
    pub correction_id: Option<String>,
}

impl From<enumera_core::store::ReturnInfo> for ReturnedResponse {
    fn from(r: enumera_core::store::ReturnInfo) -> Self {
        use enumera_core::store::ReturnStatus as S;
        let status = match r.status {
            S::Returned => "returned",
            S::Reopened => "reopened",
            S::Corrected => "corrected",
        };
        let ret = r.returned;
        ReturnedResponse {
            instance_id: ret.instance_id,
            form_id: ret.form_id,
            participant_id: ret.participant_id,
            round: ret.round,
            sealed: ret.sealed,
            reviewer: ret.reviewer,
            returned_at: ret.returned_at,
            comments: ret
                .comments
                .into_iter()
                .map(|c| ReviewComment { reference: c.reference, text: c.text })
                .collect(),
            status: status.into(),
            correction_id: r.correction_id,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReturnsReport {
    pub new: Vec<String>,
    pub updated: Vec<String>,
    pub not_ours: Vec<String>,
}

impl From<enumera_core::review::ApplyReturnsReport> for ReturnsReport {
    fn from(r: enumera_core::review::ApplyReturnsReport) -> Self {
        ReturnsReport { new: r.new, updated: r.updated, not_ours: r.not_ours }
    }
}

#[wasm_bindgen]
impl DeviceStore {
    /// This device's assignments, each with the interviews started and
    /// finalized for it.
    #[wasm_bindgen(unchecked_return_type = "AssignedWork[]")]
    pub fn assignments(&self) -> Result<JsValue> {
        let list: Vec<AssignedWork> =
            self.lock()?.assignments()?.into_iter().map(AssignedWork::from).collect();
        to_js(&list)
    }

    /// Applies central's signed assignments file (carried by hand); refused
    /// whole with `BadAssignments` when forged or for another device.
    #[wasm_bindgen(js_name = applyAssignments, unchecked_return_type = "AssignmentsReport")]
    pub fn apply_assignments(&self, file: Vec<u8>) -> Result<JsValue> {
        to_js(&AssignmentsReport::from(apply_assignments(&mut *self.lock()?, &file)?))
    }

    /// Starts the interview of an assignment: its form, participant and
    /// round (with preload from the participant's earlier round).
    #[wasm_bindgen(js_name = startAssignedInterview)]
    pub fn start_assigned_interview(&self, assignment_id: String) -> Result<Interview> {
        let work = self
            .lock()?
            .assignments()?
            .into_iter()
            .find(|a| a.work.assignment_id == assignment_id)
            .ok_or_else(|| EnumeraError::BadAssignments {
                reason: format!("no assignment {assignment_id} on this device"),
            })?
            .work;
        let start = Start {
            preload: work.participant_id.is_some(),
            participant_id: work.participant_id,
            round: work.round,
        };
        Interview::start(self.store.clone(), &work.form_id, &start)
    }

    /// Every response of this device a reviewer returned, with the
    /// comments at their questions and whether it is corrected.
    #[wasm_bindgen(js_name = returnedResponses, unchecked_return_type = "ReturnedResponse[]")]
    pub fn returned_responses(&self) -> Result<JsValue> {
        let list: Vec<ReturnedResponse> =
            self.lock()?.returned_responses()?.into_iter().map(ReturnedResponse::from).collect();
        to_js(&list)
    }

    /// The return a draft corrects (its comments to show while it is
    /// filled), or `null`.
    #[wasm_bindgen(js_name = returnCorrectedBy, unchecked_return_type = "ReturnedResponse | null")]
    pub fn return_corrected_by(&self, draft_id: String) -> Result<JsValue> {
        to_js(&self.lock()?.return_corrected_by(&draft_id)?.map(ReturnedResponse::from))
    }

    /// Applies central's signed returns file (carried by hand).
    #[wasm_bindgen(js_name = applyReturns, unchecked_return_type = "ReturnsReport")]
    pub fn apply_returns(&self, file: Vec<u8>) -> Result<JsValue> {
        to_js(&ReturnsReport::from(apply_returns(&mut *self.lock()?, &file)?))
    }

    /// Reopens a returned response as an interview whose response corrects
    /// it (from its finalized answers when the device holds them).
    #[wasm_bindgen(js_name = reopenReturned)]
    pub fn reopen_returned(&self, instance_id: String) -> Result<Interview> {
        let draft = self.lock()?.reopen(&instance_id)?;
        Interview::resume(self.store.clone(), &draft.instance_id)
    }
}
