//! The device's side of sync over a [`Transport`]: each step builds its
//! requests, reads the replies and changes the store only through the
//! store's own transactions.

use serde::Serialize;

use super::api::{self, ErrorReply, InstrumentListing, RosterListing, UploadReply};
use super::parts;
use super::spool::Spool;
use super::transport::{
    Body, HttpRequest, HttpResponse, Transport, TransportError, TransportErrorKind,
};
use crate::bundle::{
    ApplyReport, BundleError, BundleOptions, ReceiptError, apply_receipt, write_bundle,
};
use crate::instrument::Instrument;
use crate::review::{
    ApplyAssignmentsReport, ApplyReturnsReport, AssignmentsError, AssignmentsRequest, ReturnError,
    apply_assignments, apply_returns,
};
use crate::store::{InstrumentKey, RosterImport, Store, StoreError};

/// What a [`sync`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SyncReport {
    /// Responses in the uploaded bundle (0: nothing was waiting).
    pub uploaded: usize,
    pub bundle_bytes: u64,
    /// Bundles those responses went in (a large backlog goes as several).
    pub bundles: usize,
    /// The receipt applied after the upload.
    pub receipt: Option<ApplyReport>,
    pub instruments_installed: Vec<InstrumentKey>,
    /// Published instruments the device already had.
    pub instruments_present: usize,
    /// Published instruments the device could not take (the others were
    /// installed all the same).
    pub instruments_refused: Vec<InstrumentRefused>,
    /// Form media files fetched and checked (issue 18, item 2).
    pub media_fetched: usize,
    /// Form media files a form needs that did not arrive (fetched again at
    /// the next sync); the form is installed all the same.
    pub media_missing: Vec<super::form_media::MediaMissing>,
    pub rosters: Vec<RosterFetched>,
    /// The returns file applied (issue 17): responses a reviewer sent back.
    pub returns: Option<ApplyReturnsReport>,
    /// The assignments file applied (issue 17): the work given to this
    /// device, with its participants' roster rows.
    pub assignments: Option<ApplyAssignmentsReport>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RosterFetched {
    pub name: String,
    pub import: RosterImport,
}

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("{what}: cannot reach central: {source}")]
    Transport {
        what: &'static str,
        #[source]
        source: TransportError,
    },
    #[error(
        "{what}: central refused the token (HTTP 401: {message}); check --token, or ask for a \
         new one (`enumera central --db C.db token create --device DEVICE_ID`)"
    )]
    Unauthorized { what: &'static str, message: String },
    #[error("{what}: refused by central (HTTP 403, {code}): {message}")]
    Forbidden { what: &'static str, code: String, message: String },
    #[error("{what}: central refused it (HTTP 400, {code}): {message}; nothing from it was stored")]
    Rejected { what: &'static str, code: String, message: String },
    #[error("{what}: too large for central (HTTP 413: {message})")]
    TooLarge { what: &'static str, message: String },
    #[error(
        "{what}: central's quota for this device is reached (HTTP 429: {message}); the responses \
         stay on this device, sync again later"
    )]
    Quota { what: &'static str, message: String },
    #[error("{what}: not found at central (HTTP 404: {message}); is the URL right?")]
    NotFound { what: &'static str, message: String },
    #[error("{what}: central failed (HTTP {status}: {message}); try again later")]
    Server { what: &'static str, status: u16, message: String },
    #[error("{what}: unexpected reply from central: {reason}")]
    Protocol { what: &'static str, reason: String },
    #[error("writing the bundle: {0}")]
    Bundle(#[from] BundleError),
    #[error("central's receipt was not applied: {0}")]
    Receipt(#[from] ReceiptError),
    #[error("central's returns were not applied: {0}")]
    Returns(#[from] ReturnError),
    #[error("central's assignments were not applied: {0}")]
    Assignments(#[from] AssignmentsError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl SyncError {
    /// True when the same step may succeed if tried again unchanged (the
    /// network or central failed, not the request).
    pub fn is_retryable(&self) -> bool {
        match self {
            SyncError::Transport { .. } => true,
            SyncError::Server { status, .. } => *status >= 500 || matches!(status, 408 | 429),
            _ => false,
        }
    }
}

/// Uploads, applies the receipt, installs new instruments, imports rosters.
/// Safe to run again after any failure: every step is idempotent.
pub fn sync(
    store: &mut Store,
    transport: &dyn Transport,
    token: &str,
) -> Result<SyncReport, SyncError> {
    let mut report = SyncReport::default();
    if let Some(up) = upload(store, transport, token)? {
        report.uploaded = up.responses;
        report.bundle_bytes = up.bytes;
        report.bundles = up.bundles;
        report.receipt = Some(up.receipt);
    }
    let fetched = fetch_instruments(store, transport, token)?;
    report.instruments_installed = fetched.installed;
    report.instruments_present = fetched.present;
    report.instruments_refused = fetched.refused;
    report.media_fetched = fetched.media_fetched;
    report.media_missing = fetched.media_missing;
    report.rosters = fetch_rosters(store, transport, token)?;
    report.assignments = fetch_assignments(store, transport, token)?;
    report.returns = fetch_returns(store, transport, token)?;
    Ok(report)
}

/// Reports what this device has done of its assignments and fetches and
/// applies central's signed assignments file in reply: the work given to
/// this device (or its enumerator), with those participants' roster rows.
/// A device that trusts no central key yet learns it from this file (trust
/// on first use, as from a first receipt). `None` when central has no
/// assignments endpoint.
pub fn fetch_assignments(
    store: &mut Store,
    transport: &dyn Transport,
    token: &str,
) -> Result<Option<ApplyAssignmentsReport>, SyncError> {
    const WHAT: &str = "fetching assignments";
    let device = store.device()?;
    let body = AssignmentsRequest {
        enumerator: device.enumerator_id,
        progress: store.assignment_progress()?,
    };
    let mut request = request("POST", api::ASSIGNMENTS, token);
    request.headers.push(("Content-Type".into(), "application/json".into()));
    request.body = Body::Bytes(serde_json::to_vec(&body).unwrap_or_default());
    match exchange(transport, &request, WHAT) {
        Ok(reply) => Ok(Some(apply_assignments(store, &reply.body)?)),
        Err(SyncError::NotFound { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Fetches and applies central's signed returns file: the responses of
/// this device a reviewer sent back, with their comments. `None` when the
/// device does not know central's key yet (it has never had a receipt, so
/// central holds nothing of it to return) or central holds nothing from it.
pub fn fetch_returns(
    store: &mut Store,
    transport: &dyn Transport,
    token: &str,
) -> Result<Option<ApplyReturnsReport>, SyncError> {
    const WHAT: &str = "fetching returned responses";
    if store.central_trust()?.is_none() {
        return Ok(None);
    }
    match exchange(transport, &request("GET", api::RETURNS, token), WHAT) {
        Ok(reply) => Ok(Some(apply_returns(store, &reply.body)?)),
        Err(SyncError::NotFound { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// What [`upload`] sent and the receipts it applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uploaded {
    pub responses: usize,
    pub bytes: u64,
    /// Bundles posted: a backlog over [`UPLOAD_BUDGET`] goes as several.
    pub bundles: usize,
    /// The receipts together: every entry they marked sent; the last one's
    /// other findings.
    pub receipt: ApplyReport,
}

/// About how many bytes one upload carries. Central refuses bodies over its
/// limit (64 MiB by default) with 413 and a device's backlog can be larger
/// (photos, weeks offline), so a backlog goes as several bundles, each
/// acknowledged before the next; on a 413 the budget halves.
pub const UPLOAD_BUDGET: u64 = 16 << 20;

/// At most this many responses go in one upload: under central's default
/// per-bundle quota (2,000), and a bundle central applies in a fraction of
/// a second. A 413 halves it with the byte budget.
pub const UPLOAD_MAX_RESPONSES: usize = 1_000;

/// How [`upload_with`] writes and sends bundles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadOptions {
    /// The folder for the bundle being uploaded (a file the transport
    /// streams) and the state of an upload in parts (`None`: bundles are
    /// written in memory and sent in one request each, as the web app,
    /// which has no files, does). [`UploadOptions::for_store`] puts it
    /// beside the database.
    pub spool_dir: Option<std::path::PathBuf>,
    /// A bundle larger than this goes in parts of at most this size (or of
    /// central's `part_max`, if smaller), each its own request.
    pub part_size: u64,
    /// About how many bytes one bundle carries ([`UPLOAD_BUDGET`]).
    pub budget: u64,
}

/// Parts of a large bundle: a request a slow link finishes in minutes, and
/// well under central's default body limit (64 MiB).
pub const PART_SIZE: u64 = 8 << 20;

impl UploadOptions {
    /// Bundles as files in `DB-uploads` beside the store's database.
    pub fn for_store(store: &Store) -> UploadOptions {
        let mut dir = store.path().as_os_str().to_owned();
        dir.push("-uploads");
        UploadOptions { spool_dir: Some(dir.into()), part_size: PART_SIZE, budget: UPLOAD_BUDGET }
    }
}

/// Bundles every response no receipt has acknowledged, uploads it and
/// applies the receipt in the reply, a budget's worth at a time until
/// nothing is waiting. `None` when nothing was waiting. An error leaves
/// what earlier bundles' receipts marked sent marked; the rest waits for
/// the next try, and an upload in parts resumes where central stopped.
pub fn upload(
    store: &mut Store,
    transport: &dyn Transport,
    token: &str,
) -> Result<Option<Uploaded>, SyncError> {
    let options = UploadOptions::for_store(store);
    upload_with(store, transport, token, &options)
}

/// [`upload`] without files: each bundle written in memory and sent in one
/// request (the web app's, whose browser store has no folder to spool to).
pub fn upload_in_memory(
    store: &mut Store,
    transport: &dyn Transport,
    token: &str,
) -> Result<Option<Uploaded>, SyncError> {
    let options = UploadOptions { spool_dir: None, ..UploadOptions::for_store(store) };
    upload_with(store, transport, token, &options)
}

/// [`upload`] with the folder, part size and budget given.
pub fn upload_with(
    store: &mut Store,
    transport: &dyn Transport,
    token: &str,
    options: &UploadOptions,
) -> Result<Option<Uploaded>, SyncError> {
    const WHAT: &str = "uploading the bundle";
    // Halving this often takes any backlog down to one response a bundle.
    const MAX_SHRINKS: u32 = 24;
    let spool = options.spool_dir.as_deref().map(Spool::open).transpose()?;
    let mut done: Option<Uploaded> = None;
    if let Some(spool) = &spool
        && let Some(pending) = spool.pending()?
    {
        if let Some(reply) = parts::resume(transport, token, spool, &pending, options.part_size)? {
            let summary = (pending.responses, pending.bytes);
            let progressed = account(store, &mut done, summary, &reply)?;
            spool.clear()?;
            if !progressed {
                return Ok(done);
            }
        } else {
            // Gone: finished with its reply lost, or expired. The receipt
            // says which responses arrived; the rest go again below.
            spool.clear()?;
            fetch_receipt(store, transport, token)?;
        }
    }
    let mut budget = options.budget;
    let in_parts = |spool: &Option<Spool>| -> Result<bool, SyncError> {
        Ok(match spool {
            Some(s) => s.pending()?.is_some(),
            None => false,
        })
    };
    let mut shrinks = 0;
    let mut responses = UPLOAD_MAX_RESPONSES;
    loop {
        let bundle_options = BundleOptions {
            since_receipt: true,
            max_bytes: Some(budget),
            max_responses: Some(responses),
        };
        let (summary, sent) = match &spool {
            None => {
                let mut bundle = Vec::new();
                let summary = write_bundle(store, &bundle_options, &mut bundle)?;
                if summary.responses == 0 {
                    return Ok(done);
                }
                let mut request = request("POST", api::BUNDLES, token);
                request.headers.push(("Content-Type".into(), "application/octet-stream".into()));
                request.body = Body::Bytes(bundle);
                (summary, exchange(transport, &request, WHAT).and_then(|r| json(&r, WHAT)))
            }
            Some(spool) => {
                let (summary, sha256) = spool.write_bundle(store, &bundle_options)?;
                if summary.responses == 0 {
                    spool.clear()?;
                    return Ok(done);
                }
                let sent = parts::send(
                    transport,
                    token,
                    spool,
                    &summary,
                    &sha256,
                    options.part_size.max(1),
                );
                (summary, sent)
            }
        };
        // An upload in parts under way resumes at the next sync instead.
        let resumable = sent.is_err() && in_parts(&spool)?;
        let reply: UploadReply = match sent {
            Ok(reply) => reply,
            // Smaller bundles, down to one response, before giving up.
            Err(e)
                if !resumable
                    && summary.responses > 1
                    && shrinks < MAX_SHRINKS
                    && looks_too_large(&e, summary.bytes) =>
            {
                budget = (summary.bytes / 2).max(1);
                responses = (summary.responses / 2).max(1);
                shrinks += 1;
                continue;
            }
            Err(e) => return Err(e),
        };
        let progressed = account(store, &mut done, (summary.responses, summary.bytes), &reply)?;
        if let Some(spool) = &spool {
            spool.clear()?;
        }
        // A receipt that marks nothing of what was sent would have the same
        // bundle sent again forever: stop; those responses stay unsent.
        if !progressed {
            return Ok(done);
        }
    }
}

/// Applies an upload's receipt and adds it to the totals; false when it
/// marked nothing sent.
fn account(
    store: &mut Store,
    done: &mut Option<Uploaded>,
    (responses, bytes): (usize, u64),
    reply: &UploadReply,
) -> Result<bool, SyncError> {
    let receipt = apply_receipt(store, reply.receipt.as_bytes())?;
    let progressed = !receipt.marked.is_empty();
    let total = done.get_or_insert_with(|| Uploaded {
        responses: 0,
        bytes: 0,
        bundles: 0,
        receipt: ApplyReport::default(),
    });
    total.responses += responses;
    total.bytes += bytes;
    total.bundles += 1;
    let mut marked = std::mem::take(&mut total.receipt.marked);
    marked.extend(receipt.marked.iter().copied());
    marked.sort_unstable();
    let learned = total.receipt.central_key_learned || receipt.central_key_learned;
    total.receipt = ApplyReport {
        already_sent: receipt
            .already_sent
            .into_iter()
            .filter(|s| marked.binary_search(s).is_err())
            .collect(),
        marked,
        not_matching: receipt.not_matching,
        central_key_learned: learned,
    };
    Ok(progressed)
}

/// Whether an upload of `bytes` failed as too large for the server: a 413,
/// or, as often, a large body cut while it was still going out (the server
/// answered early and closed), which is also what a link that breaks under
/// long uploads does. A small body cut is the network's: socket buffers
/// hold it whole, so an early answer to it would have been read.
fn looks_too_large(e: &SyncError, bytes: u64) -> bool {
    const CUT_MEANS_TOO_LARGE: u64 = 64 << 10;
    match e {
        SyncError::TooLarge { .. } => true,
        SyncError::Transport { source, .. } => {
            source.kind == TransportErrorKind::Interrupted && bytes > CUT_MEANS_TOO_LARGE
        }
        _ => false,
    }
}

/// Fetches and applies the device's latest receipt (`None`: central holds
/// nothing from it yet). For a device whose last upload lost its reply.
pub fn fetch_receipt(
    store: &mut Store,
    transport: &dyn Transport,
    token: &str,
) -> Result<Option<ApplyReport>, SyncError> {
    const WHAT: &str = "fetching the receipt";
    match exchange(transport, &request("GET", api::RECEIPT, token), WHAT) {
        Ok(reply) => Ok(Some(apply_receipt(store, &reply.body)?)),
        Err(SyncError::NotFound { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// What [`fetch_instruments`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct InstrumentsFetched {
    pub installed: Vec<InstrumentKey>,
    /// Published instruments the device already had.
    pub present: usize,
    /// Published instruments the device could not take: one bad form never
    /// stops the others (issue 15, finding 8).
    pub refused: Vec<InstrumentRefused>,
    /// Form media files fetched and checked.
    pub media_fetched: usize,
    /// Form media files of installed forms that did not arrive.
    pub media_missing: Vec<super::form_media::MediaMissing>,
}

/// A published instrument left out, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InstrumentRefused {
    pub form_id: String,
    pub version: String,
    pub hash: String,
    pub reason: String,
}

/// Installs every published instrument the device lacks, each checked
/// against the hash it was listed under. One that cannot be read, does not
/// match its hash, is gone, or clashes with what the device holds under
/// its version is refused and reported; the others are installed. Only the
/// network, central failing or the device's own store stop the step.
pub fn fetch_instruments(
    store: &mut Store,
    transport: &dyn Transport,
    token: &str,
) -> Result<InstrumentsFetched, SyncError> {
    const WHAT: &str = "fetching instruments";
    let reply = exchange(transport, &request("GET", api::INSTRUMENTS, token), WHAT)?;
    let listed: Vec<InstrumentListing> = json(&reply, WHAT)?;
    let have: std::collections::HashSet<String> =
        store.instruments()?.into_iter().map(|i| i.key.hash).collect();
    let mut fetched = InstrumentsFetched::default();
    for listing in listed {
        if have.contains(&listing.hash) {
            fetched.present += 1;
            fetch_media(store, transport, token, &listing, &mut fetched)?;
            continue;
        }
        match fetch_one(store, transport, token, &listing)? {
            Ok(key) => {
                fetched.installed.push(key);
                fetch_media(store, transport, token, &listing, &mut fetched)?;
            }
            Err(reason) => fetched.refused.push(InstrumentRefused {
                form_id: listing.form_id,
                version: listing.version,
                hash: listing.hash,
                reason,
            }),
        }
    }
    Ok(fetched)
}

/// The form media of an installed form (issue 18, item 2; form_media.rs).
fn fetch_media(
    store: &mut Store,
    transport: &dyn Transport,
    token: &str,
    listing: &InstrumentListing,
    fetched: &mut InstrumentsFetched,
) -> Result<(), SyncError> {
    let media = super::form_media::fetch_listed_media(store, transport, token, listing)?;
    fetched.media_fetched += media.fetched;
    fetched.media_missing.extend(media.missing);
    Ok(())
}

/// One listed instrument: installed, or why it was refused (outer error:
/// what stops the whole step).
fn fetch_one(
    store: &mut Store,
    transport: &dyn Transport,
    token: &str,
    listing: &InstrumentListing,
) -> Result<Result<InstrumentKey, String>, SyncError> {
    const WHAT: &str = "fetching instruments";
    if !api::valid_hash(&listing.hash) {
        return Ok(Err(format!("its hash {:?} is not a SHA-256", listing.hash)));
    }
    let reply = match exchange(
        transport,
        &request("GET", &api::instrument_path(&listing.hash), token),
        WHAT,
    ) {
        Ok(reply) => reply,
        Err(SyncError::NotFound { message, .. }) => {
            return Ok(Err(format!("central no longer serves it: {message}")));
        }
        Err(e) => return Err(e),
    };
    let instrument = match Instrument::from_json(&reply.body) {
        Ok(i) => i,
        Err(e) => return Ok(Err(format!("it is not readable: {e}"))),
    };
    if instrument.hash() != listing.hash {
        return Ok(Err(format!("it arrived with hash {}", instrument.hash())));
    }
    match store.install_instrument(&instrument) {
        Ok(key) => Ok(Ok(key)),
        Err(e @ StoreError::InstrumentVersionConflict { .. }) => Ok(Err(e.to_string())),
        Err(e) => Err(e.into()),
    }
}

/// Imports every roster central publishes (idempotent: unchanged rows are
/// counted, never duplicated).
pub fn fetch_rosters(
    store: &mut Store,
    transport: &dyn Transport,
    token: &str,
) -> Result<Vec<RosterFetched>, SyncError> {
    const WHAT: &str = "fetching rosters";
    let reply = exchange(transport, &request("GET", api::ROSTERS, token), WHAT)?;
    let listed: Vec<RosterListing> = json(&reply, WHAT)?;
    let mut fetched = Vec::new();
    for listing in listed {
        if !api::valid_roster_name(&listing.name) {
            return Err(protocol(WHAT, format!("roster name {:?} is not allowed", listing.name)));
        }
        let reply =
            exchange(transport, &request("GET", &api::roster_path(&listing.name), token), WHAT)?;
        let sha = crate::bundle::hex(&<sha2::Sha256 as sha2::Digest>::digest(&reply.body));
        if sha != listing.sha256 {
            return Err(protocol(
                WHAT,
                format!(
                    "roster {} arrived with hash {sha}, listed as {}",
                    listing.name, listing.sha256
                ),
            ));
        }
        let import = store.import_roster(&reply.body)?;
        fetched.push(RosterFetched { name: listing.name, import });
    }
    Ok(fetched)
}

pub(super) fn request(method: &str, path: &str, token: &str) -> HttpRequest {
    HttpRequest {
        method: method.into(),
        path: path.into(),
        headers: vec![
            ("Authorization".into(), format!("Bearer {token}")),
            ("Accept".into(), "application/json".into()),
        ],
        body: Body::default(),
    }
}

pub(super) fn protocol(what: &'static str, reason: String) -> SyncError {
    SyncError::Protocol { what, reason }
}

pub(super) fn json<T: serde::de::DeserializeOwned>(
    reply: &HttpResponse,
    what: &'static str,
) -> Result<T, SyncError> {
    serde_json::from_slice(&reply.body).map_err(|e| protocol(what, format!("bad JSON: {e}")))
}

/// Sends a request and turns every non-2xx status into its error.
pub(super) fn exchange(
    transport: &dyn Transport,
    request: &HttpRequest,
    what: &'static str,
) -> Result<HttpResponse, SyncError> {
    let reply = transport.send(request).map_err(|source| SyncError::Transport { what, source })?;
    if (200..300).contains(&reply.status) {
        return Ok(reply);
    }
    let (code, message) = match serde_json::from_slice::<ErrorReply>(&reply.body) {
        Ok(e) => (e.error, e.message),
        Err(_) => {
            let text = String::from_utf8_lossy(&reply.body);
            (String::new(), text.chars().take(300).collect())
        }
    };
    Err(match reply.status {
        400 => SyncError::Rejected { what, code, message },
        401 => SyncError::Unauthorized { what, message },
        403 => SyncError::Forbidden { what, code, message },
        404 => SyncError::NotFound { what, message },
        413 => SyncError::TooLarge { what, message },
        // Retrying at once cannot help: the quota frees up over hours.
        429 if code == "quota_exceeded" => SyncError::Quota { what, message },
        status => SyncError::Server { what, status, message },
    })
}

#[cfg(test)]
mod tests;
