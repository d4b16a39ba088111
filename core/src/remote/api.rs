//! The sync protocol's paths and JSON bodies, shared by central's server
//! and the device's client so the two cannot drift apart.
//!
//! Every request carries `Authorization: Bearer TOKEN` (a per-device token
//! from `enumera central token create`). Errors come back as [`ErrorReply`].
//!
//! | method | path | body | reply |
//! | --- | --- | --- | --- |
//! | POST | `/v1/bundles` | bundle bytes | [`UploadReply`] |
//! | GET | `/v1/receipt` | | receipt file (JSON) |
//! | GET | `/v1/instruments` | | `[`[`InstrumentListing`]`]` |
//! | GET | `/v1/instruments/{hash}` | | canonical instrument JSON |
//! | GET | `/v1/form-media/{sha256}` (`Range: bytes=A-B` optional) | | the form media file's bytes (206 for a range) |
//! | GET | `/v1/rosters` | | `[`[`RosterListing`]`]` |
//! | GET | `/v1/rosters/{name}` | | roster JSON |
//! | GET | `/v1/whoami` | | [`WhoAmI`] (any role) |
//! | GET | `/v1/returns` | | returns file (JSON, `enumera-returns/1`; device) |
//! | GET | `/v1/review?form&round&district&enumerator&device&state` | | `[ReviewItem]` (reviewer) |
//! | GET | `/v1/review/{instance_id}` | | `ReviewDetail` (reviewer) |
//! | POST | `/v1/review/actions` | review action file (`enumera-review-action/1`) | `ReviewOutcome` (reviewer) |
//! | GET | `/v1/progress` | | `[ProgressRow]` (supervisor, researcher, admin) |
//! | POST | `/v1/assignments` | `AssignmentsRequest` JSON (device) | assignments file (`enumera-assignments/1`) |
//! | GET | `/v1/assignments?round&form&device&enumerator&district&all` | | `[Assignment]` (supervisor, admin) |
//! | POST | `/v1/assignments/new` | `NewAssignment` JSON | `[Assignment]` (supervisor, admin) |
//! | POST | `/v1/assignments/{id}/revoke` | | `Assignment` (supervisor, admin) |
//! | POST | `/v1/assignments/{id}/reassign` | `{"device"}` or `{"enumerator"}` | `Assignment` (the new one) |
//! | POST | `/v1/uploads` | [`NewUpload`] JSON (device) | [`UploadStatus`] (201) |
//! | GET | `/v1/uploads/{id}` | | [`UploadStatus`] (the device that created it) |
//! | PUT | `/v1/uploads/{id}?offset=N` | the part's bytes | [`UploadStatus`] (409 with it: not at `received`) |
//! | POST | `/v1/uploads/{id}/finish` | | [`UploadReply`], as `POST /v1/bundles` |
//!
//! A bundle larger than one request goes in parts (issue 18, item 5;
//! docs/HTTP.md "Uploads in parts"): central keeps the parts in its
//! database until `finish` joins them, checks the SHA-256 and ingests the
//! bundle as `POST /v1/bundles` would. A device that lost its connection
//! asks `GET /v1/uploads/{id}` how much arrived and sends the rest.

use serde::{Deserialize, Serialize};

pub const BUNDLES: &str = "/v1/bundles";
pub const RECEIPT: &str = "/v1/receipt";
pub const INSTRUMENTS: &str = "/v1/instruments";
pub const ROSTERS: &str = "/v1/rosters";
pub const WHOAMI: &str = "/v1/whoami";
pub const RETURNS: &str = "/v1/returns";
/// Review (issue 17): supervisors and researchers; never devices.
pub const REVIEW: &str = "/v1/review";
/// Under [`REVIEW`], but a literal segment: never taken for an instance id
/// (instance ids are `uuid:...`).
pub const REVIEW_ACTIONS: &str = "/v1/review/actions";
/// Progress by round, district and enumerator (supervisors, researchers, admins).
pub const PROGRESS: &str = "/v1/progress";
/// Assignments (issue 17): a device POSTs what it has done and gets its
/// signed assignments file; supervisors and admins GET the list and
/// assign under it.
pub const ASSIGNMENTS: &str = "/v1/assignments";
/// Form media files (issue 18, item 2), by SHA-256: the files a served
/// form's labels name, listed with it in [`InstrumentListing::media`].
/// Content-addressed, so form versions naming the same bytes share them;
/// a `Range: bytes=A-B` request gets that part (206), at most
/// [`MEDIA_RANGE_MAX`] bytes of it, so neither side holds a video whole.
pub const FORM_MEDIA: &str = "/v1/form-media";

/// Most bytes central sends for one ranged form media request (a longer
/// range gets this much, its `Content-Range` saying so).
pub const MEDIA_RANGE_MAX: u64 = 8 << 20;

pub fn form_media_path(sha256: &str) -> String {
    format!("{FORM_MEDIA}/{sha256}")
}

/// Uploads in parts (issue 18, item 5).
pub const UPLOADS: &str = "/v1/uploads";

/// Largest reply a client reads (a receipt of a million entries fits).
pub const MAX_REPLY: u64 = 256 << 20;

/// Instruments are addressed by content hash: nothing to escape, and what
/// arrives can be checked against the address.
pub fn instrument_path(hash: &str) -> String {
    format!("{INSTRUMENTS}/{hash}")
}

pub fn roster_path(name: &str) -> String {
    format!("{ROSTERS}/{name}")
}

pub fn upload_path(id: &str) -> String {
    format!("{UPLOADS}/{id}")
}

pub fn upload_part_path(id: &str, offset: u64) -> String {
    format!("{UPLOADS}/{id}?offset={offset}")
}

pub fn upload_finish_path(id: &str) -> String {
    format!("{UPLOADS}/{id}/finish")
}

/// An upload id: 32 lowercase hex digits (central's random ids), safe in a
/// path as it is.
pub fn valid_upload_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// `POST /v1/uploads`: the bundle to come, by size and SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewUpload {
    pub size: u64,
    pub sha256: String,
}

/// An upload in parts as central holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadStatus {
    pub id: String,
    pub size: u64,
    /// Bytes received so far, from the start: the next part's offset.
    pub received: u64,
    /// The largest part central takes (under its body limit).
    pub part_max: u64,
    /// When central drops the upload if no part arrives before (RFC 3339).
    pub expires_at: String,
}

/// Reply to an upload: the device's signed receipt (the receipt file's
/// text) and what the ingest did, for people to read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UploadReply {
    pub receipt: String,
    #[serde(default)]
    pub report: serde_json::Value,
}

/// Every error reply: a short machine-readable code and a sentence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorReply {
    pub error: String,
    pub message: String,
}

/// Who central takes a token for: its role (`device`, `supervisor`,
/// `researcher`, `admin`), the device id or person it was made for, a
/// supervisor's scope, and the token's id (never the token).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WhoAmI {
    pub role: String,
    pub subject: String,
    #[serde(default)]
    pub districts: Vec<String>,
    #[serde(default)]
    pub devices: Vec<String>,
    pub token_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstrumentListing {
    pub form_id: String,
    pub version: String,
    pub hash: String,
    pub title: String,
    pub published_at: String,
    /// The form media files its labels name (issue 18, item 2); a device
    /// fetches each it lacks from [`form_media_path`] and checks it.
    #[serde(default)]
    pub media: Vec<crate::store::FormMediaEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RosterListing {
    pub name: String,
    /// SHA-256 of the roster JSON as served.
    pub sha256: String,
    pub participants: u64,
    pub published_at: String,
}

/// A roster name: 1 to 64 of `A-Z a-z 0-9 . _ -`, not starting with a dot,
/// so it is safe in a URL path and a file name as it is.
pub fn valid_roster_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && !name.starts_with('.')
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// 64 lowercase hex digits (a SHA-256 as Enumera writes it).
pub fn valid_hash(hash: &str) -> bool {
    hash.len() == 64 && hash.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roster_names_refuse_path_tricks() {
        for ok in ["lga-1", "round_2.v3", "A"] {
            assert!(valid_roster_name(ok), "{ok}");
        }
        let long = "x".repeat(65);
        for bad in ["", "..", ".hidden", "a/b", "a\\b", "%2e%2e", "a b", "é", long.as_str()] {
            assert!(!valid_roster_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn hashes_are_lowercase_hex_of_32_bytes() {
        assert!(valid_hash(&"ab".repeat(32)));
        assert!(!valid_hash(&"AB".repeat(32)));
        assert!(!valid_hash(&"ab".repeat(31)));
        assert!(!valid_hash("../../etc/passwd"));
    }
}
