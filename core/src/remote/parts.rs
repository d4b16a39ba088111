//! Sending one bundle file to central: in one streamed request when it is
//! small (or central is older and has no uploads in parts), else in parts
//! ([`api::UPLOADS`]), each a request of bounded size, so that a bundle
//! larger than central's body limit arrives, and a cut connection costs
//! only the part it cut.

use super::SyncError;
use super::api::{self, NewUpload, UploadReply, UploadStatus};
use super::client::{exchange, json, protocol, request};
use super::spool::{Pending, Spool};
use super::transport::{Body, Transport};
use crate::bundle::BundleSummary;

const WHAT: &str = "uploading the bundle";

/// How often central may answer "not at that offset" (409) before the
/// upload gives up for this sync: twice means another client is sending
/// the same upload.
const MAX_CONFLICTS: u32 = 3;

/// Sends the spool's bundle (`summary`, `sha256`) and returns central's
/// reply. An upload in parts is recorded in the spool as soon as central
/// has created it, so an error from here on resumes at the next sync.
pub(super) fn send(
    transport: &dyn Transport,
    token: &str,
    spool: &Spool,
    summary: &BundleSummary,
    sha256: &str,
    part_size: u64,
) -> Result<UploadReply, SyncError> {
    if summary.bytes > part_size {
        let mut create = request("POST", api::UPLOADS, token);
        create.headers.push(("Content-Type".into(), "application/json".into()));
        let new = NewUpload { size: summary.bytes, sha256: sha256.to_string() };
        create.body = Body::Bytes(serde_json::to_vec(&new).unwrap_or_default());
        match exchange(transport, &create, WHAT) {
            Ok(reply) => {
                let status: UploadStatus = json(&reply, WHAT)?;
                if !api::valid_upload_id(&status.id) || status.size != summary.bytes {
                    return Err(protocol(
                        WHAT,
                        format!("central created upload {:?} of {} bytes", status.id, status.size),
                    ));
                }
                let pending = Pending {
                    id: status.id.clone(),
                    sha256: sha256.to_string(),
                    bytes: summary.bytes,
                    responses: summary.responses,
                };
                spool.set_pending(&pending)?;
                return send_parts(transport, token, spool, &pending, status, part_size)?
                    .ok_or_else(|| {
                        protocol(WHAT, "central dropped the upload before it was finished".into())
                    });
            }
            // An older central: one request, as before uploads in parts.
            Err(SyncError::NotFound { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    let mut request = request("POST", api::BUNDLES, token);
    request.headers.push(("Content-Type".into(), "application/octet-stream".into()));
    request.body = Body::File(spool.bundle_path());
    json(&exchange(transport, &request, WHAT)?, WHAT)
}

/// Carries on with the spool's upload in parts from what central holds of
/// it. `None` when central no longer has it (finished, its reply lost; or
/// expired).
pub(super) fn resume(
    transport: &dyn Transport,
    token: &str,
    spool: &Spool,
    pending: &Pending,
    part_size: u64,
) -> Result<Option<UploadReply>, SyncError> {
    let Some(status) = status(transport, token, &pending.id)? else {
        return Ok(None);
    };
    if status.size != pending.bytes {
        return Ok(None);
    }
    send_parts(transport, token, spool, pending, status, part_size)
}

fn status(
    transport: &dyn Transport,
    token: &str,
    id: &str,
) -> Result<Option<UploadStatus>, SyncError> {
    if !api::valid_upload_id(id) {
        return Ok(None);
    }
    match exchange(transport, &request("GET", &api::upload_path(id), token), WHAT) {
        Ok(reply) => Ok(Some(json(&reply, WHAT)?)),
        Err(SyncError::NotFound { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Sends every part from `status.received` on, then asks central to
/// finish. `None` when central no longer has the upload.
fn send_parts(
    transport: &dyn Transport,
    token: &str,
    spool: &Spool,
    pending: &Pending,
    mut status: UploadStatus,
    part_size: u64,
) -> Result<Option<UploadReply>, SyncError> {
    let part = part_size.min(status.part_max).max(1);
    let mut conflicts = 0;
    while status.received < status.size {
        let len = part.min(status.size - status.received);
        let path = spool.write_part(status.received, len)?;
        let mut put = request("PUT", &api::upload_part_path(&pending.id, status.received), token);
        put.headers.push(("Content-Type".into(), "application/octet-stream".into()));
        put.body = Body::File(path);
        match exchange(transport, &put, WHAT) {
            Ok(reply) => {
                let next: UploadStatus = json(&reply, WHAT)?;
                if next.received <= status.received || next.received > status.size {
                    return Err(protocol(
                        WHAT,
                        format!(
                            "after a part at {} central holds {} of {} bytes",
                            status.received, next.received, status.size
                        ),
                    ));
                }
                status = next;
            }
            Err(SyncError::NotFound { .. }) => return Ok(None),
            // Not where central is (a part whose reply was lost arrived):
            // go on from central's offset.
            Err(SyncError::Server { status: 409, .. }) if conflicts < MAX_CONFLICTS => {
                conflicts += 1;
                match self::status(transport, token, &pending.id)? {
                    Some(now) => status = now,
                    None => return Ok(None),
                }
            }
            Err(e) => return Err(e),
        }
    }
    let finish = request("POST", &api::upload_finish_path(&pending.id), token);
    match exchange(transport, &finish, WHAT) {
        Ok(reply) => Ok(Some(json(&reply, WHAT)?)),
        Err(SyncError::NotFound { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}
