//! Core's sync client over an asynchronous transport (`fetch`), without
//! changing core: core's steps (`remote::upload`, `fetch_instruments`, ...)
//! call a blocking [`Transport`], and JavaScript cannot block on a promise.
//!
//! So a step runs in passes. A pass runs the step against the replies
//! gathered so far; the first request with no reply yet stops it (a
//! transport error that the step returns at once, before any change it
//! would make with that reply). The caller fetches that request, records
//! the reply, and runs the next pass, until a pass completes. Between passes
//! nothing is borrowed, so the web app keeps saving answers while a reply
//! is on its way.
//!
//! This is sound because every step of core's protocol is idempotent and a
//! pass only acts on replies it was given: a pass that stops has changed
//! only what earlier replies already changed (applying a receipt or
//! installing a form again is a no-op). Replies are matched to requests by
//! method, path and range, in order; a GET reply (a listing, a form, a roster) is
//! kept for the whole step, while a reply to anything else (the upload)
//! answers one request per pass, and a successful one is dropped once a
//! pass has acted on it, so a backlog sent as several bundles gets each its
//! own receipt.
//!
//! To keep passes few and make side effects happen in one pass, the caller
//! may fetch the requests a listing implies before the next pass
//! ([`implied_by`]): every form the device lacks, every roster.

use std::cell::RefCell;

use enumera_core::remote::api::{self, InstrumentListing, RosterListing};
use enumera_core::remote::{
    HttpRequest, HttpResponse, SyncError, Transport, TransportError, TransportErrorKind,
};
use enumera_core::store::Store;

/// A reply or the reason there was none (offline, refused connection).
pub type Reply = Result<HttpResponse, TransportError>;

/// One of core's sync steps (`remote::upload`, `remote::fetch_rosters`, ...).
pub type Step<T> = dyn Fn(&mut Store, &dyn Transport, &str) -> Result<T, SyncError>;

/// No step of core's protocol makes anywhere near this many requests; a
/// step that seems to is stopped rather than looping.
const MAX_PASSES: usize = 10_000;

#[derive(Debug)]
struct Exchange {
    request: HttpRequest,
    reply: Reply,
}

/// What one pass of a step came to.
#[derive(Debug)]
pub enum Pass<T> {
    /// The step finished with these replies.
    Done(Result<T, SyncError>),
    /// The step needs this request answered first.
    Need(HttpRequest),
}

/// The replies gathered for one step.
#[derive(Debug, Default)]
pub struct Replay {
    log: Vec<Exchange>,
    passes: usize,
}

impl Replay {
    /// Runs one pass of `step` over the replies recorded so far.
    pub fn pass<T>(&mut self, store: &mut Store, token: &str, step: &Step<T>) -> Pass<T> {
        self.passes += 1;
        if self.passes > MAX_PASSES {
            return Pass::Done(Err(SyncError::Protocol {
                what: "syncing",
                reason: format!("more than {MAX_PASSES} requests in one step"),
            }));
        }
        let player =
            Player { log: &self.log, used: RefCell::default(), pending: RefCell::default() };
        let result = step(store, &player, token);
        let Player { used, pending, .. } = player;
        match pending.into_inner() {
            Some(request) => {
                // An upload this pass acted on (its receipt applied) is
                // done: a later pass sends what is left as a new request
                // with its own reply. Failed uploads before it go too; those
                // after it (a 413 that made the step send smaller bundles)
                // stay, so the next pass takes the same way down.
                let used = used.into_inner();
                let acted = used
                    .iter()
                    .copied()
                    .filter(|&i| {
                        let e = &self.log[i];
                        e.request.method != "GET"
                            && e.reply.as_ref().is_ok_and(|r| (200..300).contains(&r.status))
                    })
                    .max();
                if let Some(last) = acted {
                    let mut i = 0;
                    self.log.retain(|e| {
                        let keep = e.request.method == "GET" || i > last;
                        i += 1;
                        keep
                    });
                }
                Pass::Need(request)
            }
            None => Pass::Done(result),
        }
    }

    /// Records the reply to a request a pass needed (or one implied by a
    /// listing).
    pub fn record(&mut self, request: HttpRequest, reply: Reply) {
        self.log.push(Exchange { request, reply });
    }

    /// Whether a request of that method, path and range is answered already.
    pub fn has(&self, r: &HttpRequest) -> bool {
        self.log.iter().any(|e| {
            e.request.method == r.method
                && e.request.path == r.path
                && range(&e.request) == range(r)
        })
    }
}

/// Core's transport for one pass: answers from the log, and stops at the
/// first request it has no reply for.
struct Player<'a> {
    log: &'a [Exchange],
    used: RefCell<Vec<usize>>,
    pending: RefCell<Option<HttpRequest>>,
}

impl Transport for Player<'_> {
    fn send(&self, request: &HttpRequest) -> Result<HttpResponse, TransportError> {
        let stop = || TransportError {
            kind: TransportErrorKind::Other,
            message: "waiting for central's reply".into(),
        };
        if self.pending.borrow().is_some() {
            // The step went on after a failed request (it does not today):
            // nothing more is sent in this pass.
            return Err(stop());
        }
        let mut used = self.used.borrow_mut();
        let found = self.log.iter().enumerate().find(|(i, e)| {
            e.request.method == request.method
                && e.request.path == request.path
                && range(&e.request) == range(request)
                && {
                    // A GET reply answers every ask; others one each.
                    e.request.method == "GET" || !used.contains(i)
                }
        });
        match found {
            Some((i, e)) => {
                used.push(i);
                e.reply.clone()
            }
            None => {
                *self.pending.borrow_mut() = Some(request.clone());
                Err(stop())
            }
        }
    }
}

/// The byte range a request asks for: form media come range by range from
/// one path (`remote::form_media`), each range its own reply.
fn range(r: &HttpRequest) -> Option<&str> {
    r.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case("Range")).map(|(_, v)| v.as_str())
}

/// The requests a listing's reply implies for the step that asked for it:
/// each published form the device does not have (and each range of each
/// form media file it lacks), each roster. Fetching
/// them before the next pass lets that pass install them all at once.
pub fn implied_by(store: &Store, request: &HttpRequest, reply: &Reply) -> Vec<HttpRequest> {
    let Ok(reply) = reply else { return Vec::new() };
    if request.method != "GET" || !(200..300).contains(&reply.status) {
        return Vec::new();
    }
    let get = |path: String| HttpRequest {
        method: "GET".into(),
        path,
        headers: request.headers.clone(),
        body: Default::default(),
    };
    if request.path == api::INSTRUMENTS {
        let Ok(listed) = serde_json::from_slice::<Vec<InstrumentListing>>(&reply.body) else {
            return Vec::new();
        };
        let have: std::collections::HashSet<String> = store
            .instruments()
            .map(|v| v.into_iter().map(|i| i.key.hash).collect())
            .unwrap_or_default();
        let mut implied: Vec<HttpRequest> = listed
            .iter()
            .filter(|l| !have.contains(&l.hash) && api::valid_hash(&l.hash))
            .map(|l| get(api::instrument_path(&l.hash)))
            .collect();
        // And every range of every form media file the device lacks, as
        // core's form_media asks for them: so the forms and their media
        // arrive in one pass, and that pass's report counts them all.
        let mut seen = std::collections::HashSet::new();
        for m in listed.iter().flat_map(|l| &l.media) {
            if !api::valid_hash(&m.sha256)
                || !seen.insert(m.sha256.clone())
                || store.has_form_media(&m.sha256).unwrap_or(false)
            {
                continue;
            }
            let mut at = 0;
            while at < m.size {
                let end = (at + api::MEDIA_RANGE_MAX).min(m.size) - 1;
                let mut r = get(api::form_media_path(&m.sha256));
                r.headers.retain(|(k, _)| k != "Accept");
                r.headers.push(("Range".into(), format!("bytes={at}-{end}")));
                implied.push(r);
                at = end + 1;
            }
        }
        implied
    } else if request.path == api::ROSTERS {
        let Ok(listed) = serde_json::from_slice::<Vec<RosterListing>>(&reply.body) else {
            return Vec::new();
        };
        listed
            .into_iter()
            .filter(|l| api::valid_roster_name(&l.name))
            .map(|l| get(api::roster_path(&l.name)))
            .collect()
    } else {
        Vec::new()
    }
}

/// Runs a step to the end, answering each request with `send` (blocking):
/// the passes the web app runs with `fetch`, for tests on the native build.
#[cfg(test)]
pub fn drive_blocking<T>(
    store: &mut Store,
    token: &str,
    step: &Step<T>,
    send: &mut dyn FnMut(&HttpRequest) -> Reply,
) -> (Result<T, SyncError>, usize) {
    let mut replay = Replay::default();
    loop {
        match replay.pass(store, token, step) {
            Pass::Done(r) => return (r, replay.passes),
            Pass::Need(request) => {
                let reply = send(&request);
                let implied = implied_by(store, &request, &reply);
                replay.record(request, reply);
                for r in implied {
                    if !replay.has(&r) {
                        let reply = send(&r);
                        replay.record(r, reply);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
