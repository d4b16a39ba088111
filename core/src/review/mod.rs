//! Field supervision (issue 17): what a reviewer decides about a response
//! at central, and what the device may do with a response central returned.
//!
//! - [`action`]: a reviewer's signed action (approve, reject, comment, has
//!   issues), signed with the key of the reviewer's own token, so every
//!   decision names a real token and central cannot make one up.
//! - [`returns`]: central's signed statement of the responses it returned
//!   to a device, with the comments at their questions; the device verifies
//!   it against the central key it trusts, checks each return is its own
//!   response ([`apply_returns`]), and lets the enumerator reopen it.
//! - [`assignments`]: central's signed statement of the work given to a
//!   device, with only its participants' roster rows ([`apply_assignments`]).
//!
//! The review states of one version of a response, and the moves between
//! them ([`ReviewState::after`]), are the same rule central's database
//! enforces (central/sql/0007_review.sql):
//!
//! ```text
//! received ──approve──> approved ──reject──> rejected (returned)
//!    │  └──has_issues──> has_issues ──approve / reject / has_issues──> ...
//!    └──reject──> rejected: final for this version; the correction is a
//!                 new version (deprecatedID), which starts at received
//! ```
//! A comment changes no state and is allowed in every state.

pub mod action;
pub mod assignments;
pub mod returns;

use serde::{Deserialize, Serialize};

pub use action::{ActionError, ReviewAction, SignedAction};
pub use assignments::{
    ApplyAssignmentsReport, AssignedWork, AssignmentProgress, AssignmentsError, AssignmentsFile,
    AssignmentsRequest, AssignmentsStatement, RosterRow, apply_assignments,
};
pub use returns::{
    ApplyReturnsReport, ReturnError, ReturnedResponse, ReturnsFile, ReturnsStatement, apply_returns,
};

/// What a reviewer does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewKind {
    Approve,
    /// Send the response back to the device that made it, with comments.
    Reject,
    /// Mark the response as having issues without returning it.
    HasIssues,
    /// A comment only.
    Comment,
}

impl ReviewKind {
    pub const ALL: [ReviewKind; 4] =
        [ReviewKind::Approve, ReviewKind::Reject, ReviewKind::HasIssues, ReviewKind::Comment];

    pub fn as_str(self) -> &'static str {
        match self {
            ReviewKind::Approve => "approve",
            ReviewKind::Reject => "reject",
            ReviewKind::HasIssues => "has_issues",
            ReviewKind::Comment => "comment",
        }
    }

    pub fn parse(s: &str) -> Option<ReviewKind> {
        ReviewKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// Where one version of a response stands in review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewState {
    /// Arrived; nobody has decided yet (also a correction that arrived).
    Received,
    Approved,
    /// Returned to the device that made it; final for this version.
    Rejected,
    HasIssues,
}

impl ReviewState {
    pub const ALL: [ReviewState; 4] = [
        ReviewState::Received,
        ReviewState::Approved,
        ReviewState::Rejected,
        ReviewState::HasIssues,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReviewState::Received => "received",
            ReviewState::Approved => "approved",
            ReviewState::Rejected => "rejected",
            ReviewState::HasIssues => "has_issues",
        }
    }

    pub fn parse(s: &str) -> Option<ReviewState> {
        ReviewState::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The state after `kind`, or why `kind` cannot be done now.
    pub fn after(self, kind: ReviewKind) -> Result<ReviewState, &'static str> {
        use ReviewKind as K;
        use ReviewState as S;
        match (self, kind) {
            (s, K::Comment) => Ok(s),
            (S::Rejected, _) => {
                Err("it was returned to its device: only comments until its correction arrives \
                 (the correction is reviewed as a new version)")
            }
            (S::Approved, K::Approve) => Err("it is already approved"),
            (S::Approved, K::HasIssues) => {
                Err("it is approved: reject it to return it, or comment on it")
            }
            (_, K::Approve) => Ok(S::Approved),
            (_, K::Reject) => Ok(S::Rejected),
            (_, K::HasIssues) => Ok(S::HasIssues),
        }
    }

    /// Whether a version in this state is exported (the latest exported
    /// version of each response is the one the researcher gets).
    pub fn exported(self) -> bool {
        self != ReviewState::Rejected
    }
}

impl std::fmt::Display for ReviewState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A reviewer's comment: on the whole response (`reference` absent) or on
/// one question, by its ODK reference (`/data/age`, `/data/members[2]/name`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Comment {
    #[serde(rename = "ref", default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    pub text: String,
}

impl Comment {
    pub fn general(text: &str) -> Comment {
        Comment { reference: None, text: text.into() }
    }

    pub fn at(reference: &str, text: &str) -> Comment {
        Comment { reference: Some(reference.into()), text: text.into() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_moves_between_states() {
        use ReviewKind as K;
        use ReviewState as S;
        assert_eq!(S::Received.after(K::Approve), Ok(S::Approved));
        assert_eq!(S::Received.after(K::Reject), Ok(S::Rejected));
        assert_eq!(S::Received.after(K::HasIssues), Ok(S::HasIssues));
        assert_eq!(S::HasIssues.after(K::Approve), Ok(S::Approved));
        assert_eq!(S::HasIssues.after(K::HasIssues), Ok(S::HasIssues));
        assert_eq!(S::Approved.after(K::Reject), Ok(S::Rejected));
        assert!(S::Approved.after(K::Approve).is_err());
        assert!(S::Approved.after(K::HasIssues).is_err());
        for k in [K::Approve, K::Reject, K::HasIssues] {
            assert!(S::Rejected.after(k).is_err(), "{k:?}");
        }
        for s in ReviewState::ALL {
            assert_eq!(s.after(K::Comment), Ok(s));
            assert_eq!(ReviewState::parse(s.as_str()), Some(s));
        }
        assert!(!S::Rejected.exported() && S::HasIssues.exported());
    }
}
