//! Review at central (issue 17, item 1): reviewers approve, return
//! (reject), mark as having issues, or comment on one version of a
//! response; each action is signed by the reviewer's token
//! ([`enumera_core::review::SignedAction`]) and appended as an event,
//! never overwritten. A rejection authorises the device that made the
//! version to replace it ([`crate::CentralStore::grant_edit`]) and
//! travels back to that device in central's signed returns file
//! ([`Central::returns_for`]); the correction arrives as a new version
//! naming the old one (`deprecated_id`), which starts at `received`.
//!
//! Who may: supervisors within their scope (the devices, or the districts
//! of the participants, named on their token) and researchers; never a
//! device or an admin ([`crate::roles`]).

use serde::Serialize;

use enumera_core::review::{
    Comment, ReturnedResponse, ReturnsFile, ReturnsStatement, ReviewAction, ReviewKind,
    ReviewState, SignedAction,
};

use crate::roles::{Permission, Principal, Role, reviewer_seed};
use crate::{Central, CentralError, CentralStore};

/// One appended review event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReviewEvent {
    pub action_id: String,
    pub instance_id: String,
    pub kind: ReviewKind,
    pub state_after: ReviewState,
    pub comments: Vec<Comment>,
    /// The person the signing token was made for, its role and id.
    pub reviewer: String,
    pub role: Role,
    pub token_id: String,
    /// The Ed25519 key that signed (hex).
    pub reviewer_key: String,
    /// When the reviewer acted (their clock), and when central recorded it.
    pub at: String,
    pub recorded_at: String,
    /// The signed action file's body and signature (hex), to check again.
    #[serde(skip)]
    pub body: String,
    #[serde(skip)]
    pub signature: [u8; 64],
}

/// A response under review, as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReviewItem {
    pub instance_id: String,
    pub form_id: String,
    pub form_version: String,
    pub device_id: String,
    pub enumerator: Option<String>,
    pub participant_id: Option<String>,
    pub round: Option<i64>,
    /// The participant's `district` on a published roster, when found.
    pub district: Option<String>,
    pub state: ReviewState,
    pub sealed: bool,
    /// The version this one corrects.
    pub deprecated_id: Option<String>,
    /// This version corrects one a reviewer returned.
    pub edited_after_return: bool,
    pub received_at: String,
    /// Comments made on this version so far.
    pub comments: usize,
}

/// One response with its review history.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReviewDetail {
    #[serde(flatten)]
    pub item: ReviewItem,
    pub events: Vec<ReviewEvent>,
    /// The answers (the submission's JSON) of a plain response; `None` for
    /// a sealed one, which central cannot read.
    pub answers: Option<serde_json::Value>,
}

/// Which responses to list; every field narrows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReviewFilter {
    pub form_id: Option<String>,
    pub round: Option<i64>,
    pub district: Option<String>,
    pub enumerator: Option<String>,
    pub device: Option<String>,
    pub state: Option<ReviewState>,
}

impl ReviewFilter {
    pub fn matches(&self, item: &ReviewItem) -> bool {
        self.form_id.as_ref().is_none_or(|f| *f == item.form_id)
            && self.round.is_none_or(|r| Some(r) == item.round)
            && self.district.as_ref().is_none_or(|d| Some(d) == item.district.as_ref())
            && self.enumerator.as_ref().is_none_or(|e| Some(e) == item.enumerator.as_ref())
            && self.device.as_ref().is_none_or(|d| *d == item.device_id)
            && self.state.is_none_or(|s| s == item.state)
    }
}

/// Progress of one round, district and enumerator (`central progress`):
/// the work assigned, what the devices last reported of it, the current
/// versions central holds and where they stand in review.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ProgressRow {
    pub round: Option<i64>,
    pub district: Option<String>,
    pub enumerator: Option<String>,
    /// Interviews assigned (live assignments: one per participant, a
    /// quantity's size otherwise).
    pub assigned: u64,
    /// Of those, started on a device (a draft or more), as the devices last
    /// reported when they fetched their assignments (`POST /v1/assignments`).
    pub started: u64,
    /// Of those, finalized on a device, as last reported.
    pub finalized: u64,
    /// Current versions at central (a correction replaces what it corrects).
    pub received: u64,
    /// Not reviewed yet (state `received`).
    pub awaiting_review: u64,
    pub approved: u64,
    /// Returned to the tablet and not yet corrected.
    pub returned: u64,
    pub has_issues: u64,
    /// Corrections of a returned version.
    pub corrected_after_return: u64,
}

/// What recording an action did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReviewOutcome {
    pub action_id: String,
    pub instance_id: String,
    pub state: ReviewState,
    /// False when this action was recorded before (sent twice).
    pub new: bool,
}

impl<S: CentralStore> Central<S> {
    fn reviewer(&self, who: &Principal) -> Result<(), CentralError> {
        if who.can(Permission::Review) {
            return Ok(());
        }
        Err(CentralError::Forbidden {
            role: who.role,
            action: Permission::Review.describe(),
            allowed: Role::allowed(Permission::Review),
        })
    }

    /// The current response `instance_id`, if `who` may review it.
    fn review_item(&self, who: &Principal, instance_id: &str) -> Result<ReviewItem, CentralError> {
        self.reviewer(who)?;
        let item =
            self.store().review_item(instance_id)?.ok_or_else(|| CentralError::NotReviewable {
                instance_id: instance_id.into(),
                reason: "central holds no current version of that id (unknown, replaced by a \
                         correction, or held aside)"
                    .into(),
            })?;
        if !who.covers(&item.device_id, item.district.as_deref()) {
            return Err(CentralError::OutOfScope {
                who: who.describe(),
                instance_id: instance_id.into(),
            });
        }
        Ok(item)
    }

    /// The responses `who` may review, narrowed by `filter`.
    pub fn review_list(
        &self,
        who: &Principal,
        filter: &ReviewFilter,
    ) -> Result<Vec<ReviewItem>, CentralError> {
        self.reviewer(who)?;
        Ok(self
            .store()
            .review_items()?
            .into_iter()
            .filter(|i| who.covers(&i.device_id, i.district.as_deref()) && filter.matches(i))
            .collect())
    }

    /// Progress by round, district and enumerator of the responses `who`
    /// may follow (a supervisor's scope; everything for researchers and
    /// admins; `None`: the operator at the database, everything).
    pub fn progress(&self, who: Option<&Principal>) -> Result<Vec<ProgressRow>, CentralError> {
        if let Some(who) = who
            && !who.can(Permission::Progress)
        {
            return Err(CentralError::Forbidden {
                role: who.role,
                action: Permission::Progress.describe(),
                allowed: Role::allowed(Permission::Progress),
            });
        }
        let mut rows: std::collections::BTreeMap<_, ProgressRow> = Default::default();
        for i in self.store().review_items()? {
            if who.is_some_and(|w| !w.covers(&i.device_id, i.district.as_deref())) {
                continue;
            }
            let key = (i.round, i.district.clone(), i.enumerator.clone());
            let row = rows.entry(key).or_insert_with(|| ProgressRow {
                round: i.round,
                district: i.district.clone(),
                enumerator: i.enumerator.clone(),
                ..Default::default()
            });
            row.received += 1;
            match i.state {
                ReviewState::Received => row.awaiting_review += 1,
                ReviewState::Approved => row.approved += 1,
                ReviewState::Rejected => row.returned += 1,
                ReviewState::HasIssues => row.has_issues += 1,
            }
            row.corrected_after_return += u64::from(i.edited_after_return);
        }
        let reports = self.store().device_reports()?;
        for a in self.store().assignments()? {
            if !a.is_live()
                || who.is_some_and(|w| {
                    !a.device_id.as_deref().is_some_and(|d| w.covers(d, a.district.as_deref()))
                        && !w.covers("", a.district.as_deref())
                })
            {
                continue;
            }
            // Who works on it: the enumerator it was given to, or the one
            // its device last said carries it.
            let device_report = |d: &str| {
                reports.iter().find(|r| r.device_id == d).and_then(|r| r.enumerator.clone())
            };
            let enumerator =
                a.enumerator.clone().or_else(|| a.device_id.as_deref().and_then(device_report));
            let (mut started, mut finalized) = (0u64, 0u64);
            for r in &reports {
                if let Some(p) = r.progress.iter().find(|p| p.assignment_id == a.assignment_id) {
                    started += u64::from(p.started);
                    finalized += u64::from(p.finalized);
                }
            }
            let units = a.units();
            let key = (a.round, a.district.clone(), enumerator.clone());
            let row = rows.entry(key).or_insert_with(|| ProgressRow {
                round: a.round,
                district: a.district.clone(),
                enumerator,
                ..Default::default()
            });
            row.assigned += units;
            row.started += started.min(units);
            row.finalized += finalized.min(units);
        }
        Ok(rows.into_values().collect())
    }

    /// One response with its history and (plain ones) its answers.
    pub fn review_show(
        &self,
        who: &Principal,
        instance_id: &str,
    ) -> Result<ReviewDetail, CentralError> {
        let item = self.review_item(who, instance_id)?;
        let events = self.store().review_events(instance_id)?;
        // A sealed payload (possibly a video) is never read here: central
        // cannot open it, so there are no answers to show.
        let payload = if item.sealed { None } else { self.store().payload(instance_id)? };
        let answers = match payload {
            Some(enumera_core::store::Payload::Plain { json, .. }) => {
                serde_json::from_str(&json).ok()
            }
            _ => None,
        };
        Ok(ReviewDetail { item, events, answers })
    }

    /// Records a signed action by `who`: refused unless `who` may review
    /// that response and the action is signed by `who`'s token's key, and
    /// unless the move is allowed from the version's state
    /// ([`ReviewState::after`]). A rejection authorises the author device
    /// to replace the version. The same action again is a no-op.
    pub fn review(
        &mut self,
        who: &Principal,
        action: &SignedAction,
    ) -> Result<ReviewOutcome, CentralError> {
        if who.public_key != Some(action.reviewer_key()) {
            return Err(CentralError::NotReviewerKey { who: who.describe() });
        }
        // An action sent again (a client's retry) is a no-op even when its
        // version has since been replaced by a correction.
        let id = &action.action.instance_id;
        if let Some(known) =
            self.store().review_events(id)?.iter().find(|e| e.action_id == action.action.action_id)
        {
            self.reviewer(who)?;
            let state = self.store().review_item(id)?.map_or(known.state_after, |i| i.state);
            return Ok(ReviewOutcome {
                action_id: known.action_id.clone(),
                instance_id: id.clone(),
                state,
                new: false,
            });
        }
        let item = self.review_item(who, id)?;
        let outcome = self.store_mut().record_review(who, action)?;
        if outcome.new && action.action.kind == ReviewKind::Reject {
            self.store_mut().grant_edit(
                &item.instance_id,
                &item.device_id,
                &format!("returned by review action {}", action.action.action_id),
            )?;
        }
        Ok(outcome)
    }

    /// Signs an action with the key of `token` and records it (the CLI's
    /// `central review approve | reject | comment`).
    pub fn review_with_token(
        &mut self,
        token: &str,
        instance_id: &str,
        kind: ReviewKind,
        comments: Vec<Comment>,
    ) -> Result<ReviewOutcome, CentralError> {
        let who = self.authorize(token, Permission::Review)?;
        let action = ReviewAction::new(instance_id, kind, comments, &crate::now());
        action.check().map_err(|e| CentralError::BadReview { reason: e.to_string() })?;
        self.review(&who, &action.sign(&reviewer_seed(token)))
    }

    /// Central's signed statement of the responses of `device_id` that are
    /// returned and not yet corrected, with every comment made on them.
    pub fn returns_for(&self, device_id: &str) -> Result<ReturnsFile, CentralError> {
        let holdings = self.store().holdings(device_id)?;
        let statement = ReturnsStatement {
            format: enumera_core::review::returns::RETURNS_FORMAT.into(),
            central_public_key: String::new(),
            device_id: holdings.device_id,
            device_public_key: enumera_core::bundle::hex(&holdings.public_key),
            issued_at: crate::now(),
            returns: self.store().returned_to(device_id)?,
        };
        Ok(statement.sign(&self.store().signing_seed()?))
    }
}

/// For [`ReturnedResponse`] lists built by a store.
pub(crate) fn returned(
    item: &ReviewItem,
    seq: u64,
    entry_hash: String,
    reject: &ReviewEvent,
    comments: Vec<Comment>,
) -> ReturnedResponse {
    ReturnedResponse {
        instance_id: item.instance_id.clone(),
        seq,
        entry_hash,
        form_id: item.form_id.clone(),
        participant_id: item.participant_id.clone(),
        round: item.round,
        sealed: item.sealed,
        action_id: reject.action_id.clone(),
        reviewer: reject.reviewer.clone(),
        returned_at: reject.at.clone(),
        comments,
    }
}
