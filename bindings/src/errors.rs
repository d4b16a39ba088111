//! The one error the apps see, and the one place core's errors become it.
//!
//! Variants are what an app can act on (show the reason next to the
//! question, send the user to install a form, retry later), not a mirror of
//! core's types. Messages never carry answer values: an answer may be
//! personal data, and errors end up in logs and crash reports. Field names
//! avoid `message`, which clashes with `Throwable.message` in Kotlin.

use enumera_core::bundle::{BundleError, ReceiptError, SealError};
use enumera_core::fill::FillError;
use enumera_core::instrument::ImportError;
use enumera_core::remote::SyncError;
use enumera_core::session::{Blocker, SessionError};
use enumera_core::store::StoreError;

use crate::types::{IssueKind, ValidationIssue};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum EnumeraError {
    /// The answer was refused (wrong type, not one of the choices, read-only,
    /// not a question); the response is unchanged.
    #[error("{reference}: {reason}")]
    InvalidAnswer { reference: String, reason: String },
    /// No question, group or repeat at that reference.
    #[error("no question at {reference}")]
    UnknownReference { reference: String },
    /// The form file cannot be used; `problems` lists every one, each with
    /// sheet, row and column where known.
    #[error("the form cannot be used: {}", problems.join("; "))]
    InvalidForm { problems: Vec<String> },
    /// A form, response or participant that this device does not have.
    #[error("no {what} {id:?} on this device")]
    NotFound { what: String, id: String },
    /// Finalizing was refused: these questions need an answer or a fix.
    #[error("{instance_id} cannot be finalized yet ({} issue(s))", issues.len())]
    Blocked { instance_id: String, issues: Vec<ValidationIssue> },
    /// The response is finalized (or sent, or discarded) and cannot change.
    #[error("response {instance_id} can no longer change ({state})")]
    NotEditable { instance_id: String, state: String },
    /// The device has no identity yet: call `DeviceStore.initDevice` first.
    #[error("this device is not initialized yet")]
    NotInitialized,
    /// Storage trouble the user may fix: disk full, read-only, a database
    /// from a newer app version, a damaged file moved aside.
    #[error("storage: {reason}")]
    Storage { reason: String },
    /// A receipt was refused (forged, altered, for another device, or from
    /// another central than the one this device trusts); nothing was marked.
    #[error("receipt refused: {reason}")]
    BadReceipt { reason: String },
    /// Central's returns were refused (forged, altered, for another device,
    /// or from another central than the one this device trusts); nothing
    /// was recorded.
    #[error("returns refused: {reason}")]
    BadReturn { reason: String },
    /// Central's assignments file was refused (forged, altered, for another
    /// device, or from another central than the one this device trusts);
    /// nothing was changed.
    #[error("assignments refused: {reason}")]
    BadAssignments { reason: String },
    /// The server could not be reached, failed, or answered something
    /// unreadable (thrown by the app's transport, or a 5xx/408/429): try
    /// again later; nothing was lost.
    #[error("network: {detail}")]
    Network { detail: String },
    /// Central refused the request and repeating it will not help: `status`
    /// 401 (the token is unknown or revoked: enrol the device again), 403
    /// (not this device's to send), 400 (a bundle central cannot read), 404
    /// (wrong server URL), 413 (too large), 429 (`quota_exceeded`: the
    /// device's daily quota at central is used; sync again later). `code`
    /// is central's short code.
    #[error("central refused it (HTTP {status}): {detail}")]
    Refused { status: u16, code: String, detail: String },
    /// This edit of a finalized or returned response needs the reason for
    /// the change before it is finalized (the form's audit asks for one):
    /// ask the enumerator and call `Interview.setChangeReason`.
    #[error("{instance_id}: give the reason for this change before finalizing")]
    ChangeReasonRequired { instance_id: String },
    /// Anything else; a bug to report.
    #[error("internal error: {reason}")]
    Internal { reason: String },
}

pub type Result<T, E = EnumeraError> = std::result::Result<T, E>;

/// An exception the app's transport threw that is not an `EnumeraError`
/// (a Kotlin `IOException`, a Python `OSError`): still a network failure.
impl From<uniffi::UnexpectedUniFFICallbackError> for EnumeraError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        EnumeraError::Network { detail: e.reason }
    }
}

impl From<SessionError> for EnumeraError {
    fn from(e: SessionError) -> Self {
        use SessionError as S;
        match e {
            S::UnknownRef { reference } => EnumeraError::UnknownReference { reference },
            S::NotAnswerable { reference, what } => EnumeraError::InvalidAnswer {
                reference,
                reason: format!("{what}, which cannot be answered"),
            },
            S::ReadOnly { reference } => {
                EnumeraError::InvalidAnswer { reference, reason: "read-only".into() }
            }
            // The value itself is left out: it may be personal data.
            S::BadValue { reference, expected, .. } => {
                EnumeraError::InvalidAnswer { reference, reason: format!("not a valid {expected}") }
            }
            S::NotAChoice { reference, choices, .. } => EnumeraError::InvalidAnswer {
                reference,
                reason: format!("not one of the choices ({choices})"),
            },
            S::NotARepeat { reference } => {
                EnumeraError::InvalidAnswer { reference, reason: "not a repeat".into() }
            }
            S::CountControlled { reference } => EnumeraError::InvalidAnswer {
                reference,
                reason: "its repeat_count sets the number of instances".into(),
            },
            S::TooManyRepeatInstances { reference, limit } => EnumeraError::InvalidAnswer {
                reference,
                reason: format!("a response holds at most {limit} repeat instances"),
            },
            S::UnknownLanguage { language, available } => EnumeraError::NotFound {
                what: format!("language (the form has: {available})"),
                id: language,
            },
            S::Finalized => {
                EnumeraError::NotEditable { instance_id: String::new(), state: "finalized".into() }
            }
        }
    }
}

impl From<StoreError> for EnumeraError {
    fn from(e: StoreError) -> Self {
        use StoreError as S;
        match e {
            S::NotInitialized => EnumeraError::NotInitialized,
            S::UnknownForm { form_id } => {
                EnumeraError::NotFound { what: "form".into(), id: form_id }
            }
            S::UnknownInstrument { form_id, version, .. } => EnumeraError::NotFound {
                what: "form version".into(),
                id: format!("{form_id} {version}"),
            },
            S::UnknownResponse { instance_id } => {
                EnumeraError::NotFound { what: "response".into(), id: instance_id }
            }
            S::UnknownParticipant { participant_id } => {
                EnumeraError::NotFound { what: "participant".into(), id: participant_id }
            }
            S::NotDraft { instance_id, state, .. } | S::InvalidState { instance_id, state, .. } => {
                EnumeraError::NotEditable { instance_id, state: state.to_string() }
            }
            S::InstrumentVersionConflict { .. } => {
                EnumeraError::InvalidForm { problems: vec![e.to_string()] }
            }
            S::Roster { .. } | S::RosterJson(_) => {
                EnumeraError::InvalidForm { problems: vec![format!("roster: {e}")] }
            }
            S::CentralChanged => EnumeraError::BadReceipt { reason: e.to_string() },
            S::BadRef { reference, reason, .. } => {
                EnumeraError::InvalidAnswer { reference, reason: reason.into() }
            }
            // Shown next to the question: the file is too large to keep.
            S::AttachmentTooLarge { question, size, limit, kind, others, .. } => {
                EnumeraError::InvalidAnswer {
                    reference: question.unwrap_or_default(),
                    reason: format!(
                        "the file is {size} bytes; {kind} may take at most {limit} bytes{}",
                        if others > 0 {
                            format!(" (the response's other files take {others})")
                        } else {
                            String::new()
                        }
                    ),
                }
            }
            S::NotFound { .. }
            | S::NewerVersion { .. }
            | S::Corrupt { .. }
            | S::ReadOnly { .. }
            | S::DiskFull { .. }
            | S::Migration { .. }
            | S::Io { .. }
            | S::Sqlite { .. }
            | S::AttachmentMissing { .. }
            | S::AttachmentMismatch { .. } => EnumeraError::Storage { reason: e.to_string() },
            _ => EnumeraError::Internal { reason: e.to_string() },
        }
    }
}

impl From<FillError> for EnumeraError {
    fn from(e: FillError) -> Self {
        match e {
            FillError::Store(e) => e.into(),
            FillError::Session(e) => e.into(),
            FillError::Form { reason, .. } => EnumeraError::InvalidForm { problems: vec![reason] },
            FillError::Blocked { instance_id, blockers } => EnumeraError::Blocked {
                instance_id,
                issues: blockers.into_iter().map(ValidationIssue::from).collect(),
            },
            FillError::Seal { instance_id, reason } => {
                EnumeraError::Internal { reason: format!("sealing {instance_id}: {reason}") }
            }
            FillError::NotAFileQuestion { reference } => EnumeraError::InvalidAnswer {
                reference,
                reason: "not a file question: it takes no attachment".into(),
            },
            FillError::ChangeReasonRequired { instance_id } => {
                EnumeraError::ChangeReasonRequired { instance_id }
            }
        }
    }
}

impl From<BundleError> for EnumeraError {
    fn from(e: BundleError) -> Self {
        match e {
            BundleError::Store(e) => e.into(),
            BundleError::Io { .. } => EnumeraError::Storage { reason: e.to_string() },
            _ => EnumeraError::Internal { reason: e.to_string() },
        }
    }
}

impl From<ReceiptError> for EnumeraError {
    fn from(e: ReceiptError) -> Self {
        match e {
            ReceiptError::Store(e) => e.into(),
            _ => EnumeraError::BadReceipt { reason: e.to_string() },
        }
    }
}

impl From<enumera_core::review::AssignmentsError> for EnumeraError {
    fn from(e: enumera_core::review::AssignmentsError) -> Self {
        match e {
            enumera_core::review::AssignmentsError::Store(e) => e.into(),
            _ => EnumeraError::BadAssignments { reason: e.to_string() },
        }
    }
}

impl From<enumera_core::review::ReturnError> for EnumeraError {
    fn from(e: enumera_core::review::ReturnError) -> Self {
        match e {
            enumera_core::review::ReturnError::Store(e) => e.into(),
            _ => EnumeraError::BadReturn { reason: e.to_string() },
        }
    }
}

impl From<SyncError> for EnumeraError {
    fn from(e: SyncError) -> Self {
        use SyncError as S;
        let detail = e.to_string();
        match e {
            S::Bundle(e) => e.into(),
            S::Receipt(e) => e.into(),
            S::Returns(e) => e.into(),
            S::Assignments(e) => e.into(),
            S::Store(e) => e.into(),
            S::Unauthorized { .. } => {
                EnumeraError::Refused { status: 401, code: String::new(), detail }
            }
            S::Forbidden { code, .. } => EnumeraError::Refused { status: 403, code, detail },
            S::Rejected { code, .. } => EnumeraError::Refused { status: 400, code, detail },
            S::NotFound { .. } => {
                EnumeraError::Refused { status: 404, code: String::new(), detail }
            }
            S::TooLarge { .. } => {
                EnumeraError::Refused { status: 413, code: String::new(), detail }
            }
            S::Quota { .. } => {
                EnumeraError::Refused { status: 429, code: "quota_exceeded".into(), detail }
            }
            S::Transport { .. } | S::Server { .. } | S::Protocol { .. } => {
                EnumeraError::Network { detail }
            }
        }
    }
}

impl From<SealError> for EnumeraError {
    fn from(e: SealError) -> Self {
        match e {
            SealError::Store(e) => e.into(),
            // A bad researcher key is the form's problem.
            SealError::BadRecipient { .. } => {
                EnumeraError::InvalidForm { problems: vec![e.to_string()] }
            }
            _ => EnumeraError::Internal { reason: e.to_string() },
        }
    }
}

impl From<ImportError> for EnumeraError {
    fn from(e: ImportError) -> Self {
        match e {
            ImportError::Io { .. } => EnumeraError::Storage { reason: e.to_string() },
            _ => EnumeraError::InvalidForm { problems: vec![e.to_string()] },
        }
    }
}

impl From<Blocker> for ValidationIssue {
    fn from(b: Blocker) -> Self {
        match b {
            Blocker::Required { reference, message } => {
                ValidationIssue { kind: IssueKind::Required, reference, text: message }
            }
            Blocker::Constraint { reference, message } => {
                ValidationIssue { kind: IssueKind::Constraint, reference, text: message }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_value_never_appears_in_the_error() {
        let e: EnumeraError = SessionError::BadValue {
            reference: "/data/age".into(),
            value: "Maria Silva".into(),
            expected: "integer".into(),
        }
        .into();
        assert!(!e.to_string().contains("Maria"), "{e}");
        assert_eq!(
            e,
            EnumeraError::InvalidAnswer {
                reference: "/data/age".into(),
                reason: "not a valid integer".into()
            }
        );
    }

    #[test]
    fn store_errors_map_to_what_the_app_can_act_on() {
        assert_eq!(EnumeraError::from(StoreError::NotInitialized), EnumeraError::NotInitialized);
        let e: EnumeraError = StoreError::UnknownForm { form_id: "hh".into() }.into();
        assert_eq!(e, EnumeraError::NotFound { what: "form".into(), id: "hh".into() });
    }
}
