//! A reviewer's action, signed with the key of the reviewer's token.
//!
//! File (docs/FORMAT.md, "Review action"): compact JSON
//! `{"format":"enumera-review-action/1","action":BODY,"signature":HEX}`,
//! BODY the compact JSON of [`ReviewAction`] as a string, the Ed25519
//! signature over `enumera-review-action/1\n` followed by BODY's bytes,
//! by the key BODY names (`reviewer_key`). Central takes an action only
//! when that key is the one of the token that sends it, so a decision
//! always names a real token (and the person it was made for); central,
//! which never holds the token, cannot sign one in its name.

use ed25519_dalek::{Signer, SigningKey};
use serde::{Deserialize, Serialize};

use super::{Comment, ReviewKind};
use crate::bundle::{hex, unhex};

pub const ACTION_FORMAT: &str = "enumera-review-action/1";
const ACTION_CONTEXT: &[u8] = b"enumera-review-action/1\n";
/// Largest action file read.
pub const MAX_ACTION: usize = 1 << 20;
/// At most this many comments in one action, each at most this long.
pub const MAX_COMMENTS: usize = 200;
pub const MAX_COMMENT_CHARS: usize = 4_000;

/// What a reviewer decided about one version of a response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewAction {
    pub format: String,
    /// Chosen by the signer (a UUID): the same action sent twice is kept once.
    pub action_id: String,
    /// The version reviewed.
    pub instance_id: String,
    pub kind: ReviewKind,
    pub comments: Vec<Comment>,
    /// The Ed25519 public key that signs (hex): the reviewer's token's.
    pub reviewer_key: String,
    /// When the reviewer acted (RFC 3339 UTC, the reviewer's clock).
    pub at: String,
}

/// An action with the exact bytes that were signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedAction {
    pub action: ReviewAction,
    /// The signed body (BODY above).
    pub body: String,
    pub signature: [u8; 64],
    /// The action file.
    pub file: Vec<u8>,
}

#[derive(Debug, Serialize, Deserialize)]
struct ActionFile {
    format: String,
    action: String,
    signature: String,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ActionError {
    #[error("not an Enumera review action: {reason}")]
    Malformed { reason: String },
    #[error("bad signature: the review action was not signed by the key it names")]
    BadSignature,
    #[error("review action {action_id}: {reason}")]
    Invalid { action_id: String, reason: String },
}

impl ReviewAction {
    /// A new action with a fresh id, to be signed.
    pub fn new(instance_id: &str, kind: ReviewKind, comments: Vec<Comment>, at: &str) -> Self {
        ReviewAction {
            format: ACTION_FORMAT.into(),
            action_id: uuid::Uuid::new_v4().to_string(),
            instance_id: instance_id.into(),
            kind,
            comments,
            reviewer_key: String::new(),
            at: at.into(),
        }
    }

    /// Why this action cannot be taken, whoever signs it: a return or a
    /// comment says something; comments are short and name questions by
    /// an absolute reference.
    pub fn check(&self) -> Result<(), ActionError> {
        let invalid =
            |reason: String| ActionError::Invalid { action_id: self.action_id.clone(), reason };
        if self.format != ACTION_FORMAT {
            return Err(invalid(format!("unknown format {:?}", self.format)));
        }
        if self.action_id.is_empty() || self.action_id.len() > 64 {
            return Err(invalid("the action id must be 1 to 64 characters".into()));
        }
        if self.instance_id.is_empty() || self.instance_id.len() > 200 {
            return Err(invalid("no response named".into()));
        }
        if chrono::DateTime::parse_from_rfc3339(&self.at).is_err() {
            return Err(invalid(format!("`at` {:?} is not an RFC 3339 time", self.at)));
        }
        if matches!(self.kind, ReviewKind::Reject | ReviewKind::Comment | ReviewKind::HasIssues)
            && self.comments.is_empty()
        {
            return Err(invalid(format!(
                "a {} needs at least one comment saying why",
                self.kind.as_str()
            )));
        }
        if self.comments.len() > MAX_COMMENTS {
            return Err(invalid(format!("more than {MAX_COMMENTS} comments")));
        }
        for c in &self.comments {
            let text = c.text.trim();
            if text.is_empty() || c.text.chars().count() > MAX_COMMENT_CHARS {
                return Err(invalid(format!(
                    "a comment must have 1 to {MAX_COMMENT_CHARS} characters"
                )));
            }
            if let Some(r) = &c.reference
                && (!r.starts_with('/') || r.len() > 500 || r.chars().any(char::is_whitespace))
            {
                return Err(invalid(format!(
                    "{r:?} is not a question reference such as /data/age"
                )));
            }
        }
        Ok(())
    }

    /// Signs with a reviewer's Ed25519 seed (derived from their token).
    pub fn sign(mut self, seed: &[u8; 32]) -> SignedAction {
        let key = SigningKey::from_bytes(seed);
        self.reviewer_key = hex(key.verifying_key().as_bytes());
        // Plain data with string keys: serializing cannot fail.
        let body = serde_json::to_string(&self).unwrap_or_default();
        let signature = key.sign(&message(&body)).to_bytes();
        let file = serde_json::to_vec(&ActionFile {
            format: ACTION_FORMAT.into(),
            action: body.clone(),
            signature: hex(&signature),
        })
        .unwrap_or_default();
        SignedAction { action: self, body, signature, file }
    }
}

fn message(body: &str) -> Vec<u8> {
    let mut m = ACTION_CONTEXT.to_vec();
    m.extend_from_slice(body.as_bytes());
    m
}

impl SignedAction {
    /// Reads an action file and checks its signature against the key it
    /// names and the rules of [`ReviewAction::check`]. Whether that key may
    /// review is central's decision.
    pub fn verify_file(bytes: &[u8]) -> Result<SignedAction, ActionError> {
        let malformed = |reason: String| ActionError::Malformed { reason };
        if bytes.len() > MAX_ACTION {
            return Err(malformed(format!("{} bytes, over {MAX_ACTION}", bytes.len())));
        }
        let file: ActionFile =
            serde_json::from_slice(bytes).map_err(|e| malformed(e.to_string()))?;
        if file.format != ACTION_FORMAT {
            return Err(malformed(format!("unknown format {:?}", file.format)));
        }
        let action: ReviewAction =
            serde_json::from_str(&file.action).map_err(|e| malformed(e.to_string()))?;
        let key: [u8; 32] = unhex(&action.reviewer_key)
            .ok_or_else(|| malformed("reviewer_key is not 64 hex digits".into()))?;
        let signature: [u8; 64] = unhex(&file.signature)
            .ok_or_else(|| malformed("signature is not 128 hex digits".into()))?;
        if !crate::store::verify_signature(&key, &message(&file.action), &signature) {
            return Err(ActionError::BadSignature);
        }
        action.check()?;
        Ok(SignedAction { action, body: file.action, signature, file: bytes.to_vec() })
    }

    /// The signing key, checked by [`SignedAction::verify_file`].
    pub fn reviewer_key(&self) -> [u8; 32] {
        unhex(&self.action.reviewer_key).unwrap_or([0; 32])
    }

    /// Checks a stored body and signature again (`central review verify`).
    pub fn verify_parts(body: &str, signature: &[u8; 64]) -> Result<ReviewAction, ActionError> {
        let file = serde_json::to_vec(&ActionFile {
            format: ACTION_FORMAT.into(),
            action: body.into(),
            signature: hex(signature),
        })
        .unwrap_or_default();
        Ok(SignedAction::verify_file(&file)?.action)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: [u8; 32] = [7; 32];

    fn action(kind: ReviewKind, comments: Vec<Comment>) -> ReviewAction {
        ReviewAction::new("uuid:1", kind, comments, "2026-12-01T10:00:00Z")
    }

    #[test]
    fn a_signed_action_verifies_and_any_change_breaks_it() {
        let signed =
            action(ReviewKind::Reject, vec![Comment::at("/data/age", "too young")]).sign(&SEED);
        let back = SignedAction::verify_file(&signed.file).unwrap();
        assert_eq!(back, signed);
        assert_eq!(back.reviewer_key(), crate::bundle::receipt::public_key_of(&SEED));
        assert_eq!(
            SignedAction::verify_parts(&signed.body, &signed.signature).unwrap(),
            back.action
        );
        // Another kind, another response, another comment: refused.
        let text = String::from_utf8(signed.file.clone()).unwrap();
        for (from, to) in [("reject", "approve"), ("uuid:1", "uuid:2"), ("too young", "fine")] {
            let forged = text.replace(from, to);
            assert_eq!(
                SignedAction::verify_file(forged.as_bytes()),
                Err(ActionError::BadSignature),
                "{from}"
            );
        }
        // Signed by one key, claiming another.
        let other = hex(&crate::bundle::receipt::public_key_of(&[8; 32]));
        let forged = text.replace(&signed.action.reviewer_key, &other);
        assert_eq!(SignedAction::verify_file(forged.as_bytes()), Err(ActionError::BadSignature));
    }

    #[test]
    fn actions_that_say_nothing_are_refused() {
        for (kind, comments) in [
            (ReviewKind::Reject, vec![]),
            (ReviewKind::Comment, vec![]),
            (ReviewKind::Comment, vec![Comment::general("  ")]),
            (ReviewKind::Reject, vec![Comment::at("age", "x")]),
        ] {
            let signed = action(kind, comments).sign(&SEED);
            assert!(
                matches!(SignedAction::verify_file(&signed.file), Err(ActionError::Invalid { .. })),
                "{kind:?}"
            );
        }
        assert!(action(ReviewKind::Approve, vec![]).check().is_ok());
        for junk in [&b"{}"[..], b"not json", &[b'x'; MAX_ACTION + 1]] {
            assert!(matches!(SignedAction::verify_file(junk), Err(ActionError::Malformed { .. })));
        }
    }
}
