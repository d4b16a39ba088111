//! Returned responses on the device (issue 17): central's signed returns
//! (over HTTP with `SyncClient.sync` or `fetchReturns`, or as a file), the
//! reviewers' comments at their questions, and reopening a returned
//! response as an interview that corrects it.

use std::sync::Arc;

use enumera_core::review::apply_returns;
use enumera_core::store::ReturnStatus as CoreStatus;

use crate::Result;
use crate::interview::{Interview, Live};
use crate::store::DeviceStore;
use crate::types::{ReturnStatus, ReturnedResponse, ReturnsReport, ReviewComment};

#[uniffi::export]
impl DeviceStore {
    /// Applies central's signed returns file (a file carried by hand, or
    /// the body of `GET /v1/returns`). Refused whole with `BadReturn` when
    /// it is forged, altered, for another device, or signed by another
    /// central than the one this device trusts.
    pub fn apply_returns(&self, returns: Vec<u8>) -> Result<ReturnsReport> {
        Ok(apply_returns(&mut self.lock(), &returns)?.into())
    }

    /// Every response of this device a reviewer returned, oldest first,
    /// with its comments and whether it is corrected.
    pub fn returned_responses(&self) -> Result<Vec<ReturnedResponse>> {
        Ok(self.lock().returned_responses()?.into_iter().map(ReturnedResponse::from).collect())
    }

    /// The return a draft corrects (to show the comments at their
    /// questions while it is filled); `None` for any other draft.
    pub fn return_corrected_by(&self, draft_id: String) -> Result<Option<ReturnedResponse>> {
        Ok(self.lock().return_corrected_by(&draft_id)?.map(ReturnedResponse::from))
    }

    /// Reopens a returned response as an interview whose response corrects
    /// it (`deprecatedID`): its finalized answers when the device holds
    /// them, otherwise (sealed, or purged) empty, for the same participant
    /// and round. A correction already under way is `NotEditable`.
    pub fn reopen_returned(self: Arc<Self>, instance_id: String) -> Result<Arc<Interview>> {
        let live = {
            let mut store = self.lock();
            let draft = store.reopen(&instance_id)?;
            Live::resume(&store, &draft.instance_id)?
        };
        Ok(Interview::new(self, live))
    }
}

impl From<enumera_core::review::ApplyReturnsReport> for ReturnsReport {
    fn from(r: enumera_core::review::ApplyReturnsReport) -> Self {
        ReturnsReport { new: r.new, updated: r.updated, not_ours: r.not_ours }
    }
}

impl From<enumera_core::store::ReturnInfo> for ReturnedResponse {
    fn from(r: enumera_core::store::ReturnInfo) -> Self {
        let status = match r.status {
            CoreStatus::Returned => ReturnStatus::Returned,
            CoreStatus::Reopened => ReturnStatus::Reopened,
            CoreStatus::Corrected => ReturnStatus::Corrected,
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
            status,
            correction_id: r.correction_id,
        }
    }
}
