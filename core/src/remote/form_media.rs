//! Fetching a form's media files with the form (issue 18, item 2): each
//! file central lists with a served form that the device lacks is fetched
//! by SHA-256 in ranges of [`api::MEDIA_RANGE_MAX`] bytes, written into the
//! store as it comes (blob I/O, never held whole), and kept only if its
//! bytes hash to what was listed. A file that does not arrive whole and
//! right is reported with its form, and fetched again at the next sync.

use serde::Serialize;

use super::api::{self, InstrumentListing};
use super::client::{SyncError, exchange, request};
use crate::instrument::valid_media_name;
use crate::store::Store;

/// A form media file a form needs and the device does not hold, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MediaMissing {
    pub form_id: String,
    pub version: String,
    pub name: String,
    pub sha256: String,
    pub reason: String,
}

/// What fetching one form's media did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MediaFetched {
    /// Files fetched and checked now.
    pub fetched: usize,
    pub bytes: u64,
    pub missing: Vec<MediaMissing>,
}

/// Records what the listed form needs and fetches every file of it the
/// device lacks. Only the network, central failing or the store stop it;
/// a file refused (gone, wrong size, wrong hash) is reported in `missing`.
pub fn fetch_listed_media(
    store: &mut Store,
    transport: &dyn super::Transport,
    token: &str,
    listing: &InstrumentListing,
) -> Result<MediaFetched, SyncError> {
    let mut out = MediaFetched::default();
    let mut entries = Vec::new();
    for m in &listing.media {
        let missing = |reason: String| MediaMissing {
            form_id: listing.form_id.clone(),
            version: listing.version.clone(),
            name: m.name.clone(),
            sha256: m.sha256.clone(),
            reason,
        };
        if !valid_media_name(&m.name) || !api::valid_hash(&m.sha256) {
            out.missing.push(missing("central listed it with a bad name or hash".into()));
            continue;
        }
        entries.push(m.clone());
    }
    store.set_instrument_media(&listing.hash, &entries)?;
    for m in entries {
        if store.has_form_media(&m.sha256)? {
            continue;
        }
        match fetch_file(store, transport, token, &m.sha256, m.size)? {
            Ok(()) => {
                out.fetched += 1;
                out.bytes += m.size;
            }
            Err(reason) => out.missing.push(MediaMissing {
                form_id: listing.form_id.clone(),
                version: listing.version.clone(),
                name: m.name,
                sha256: m.sha256,
                reason,
            }),
        }
    }
    Ok(out)
}

/// One file, range by range; `Err(reason)` when central's bytes are not
/// the listed file (nothing is kept then).
fn fetch_file(
    store: &mut Store,
    transport: &dyn super::Transport,
    token: &str,
    sha256: &str,
    size: u64,
) -> Result<Result<(), String>, SyncError> {
    const WHAT: &str = "fetching form media";
    store.begin_form_media(sha256, size)?;
    let mut at = 0u64;
    while at < size {
        let end = (at + api::MEDIA_RANGE_MAX).min(size) - 1;
        let mut req = request("GET", &api::form_media_path(sha256), token);
        req.headers.retain(|(k, _)| k != "Accept");
        req.headers.push(("Range".into(), format!("bytes={at}-{end}")));
        let reply = match exchange(transport, &req, WHAT) {
            Ok(r) => r,
            Err(SyncError::NotFound { message, .. }) => {
                return Ok(Err(format!("central no longer serves it: {message}")));
            }
            Err(e) => return Err(e),
        };
        // A server that ignores ranges sends the whole file (200).
        let from = if reply.status == 206 { at } else { 0 };
        if reply.status == 206 {
            let expected = format!("bytes {at}-");
            let ok = reply.header("Content-Range").is_some_and(|v| v.starts_with(&expected));
            if !ok || reply.body.is_empty() {
                return Ok(Err("central answered with another range".into()));
            }
        }
        if from + reply.body.len() as u64 > size {
            return Ok(Err(format!("it arrived larger than its listed {size} bytes")));
        }
        store.write_form_media(sha256, from, &reply.body)?;
        at = from + reply.body.len() as u64;
        if reply.status != 206 {
            break;
        }
    }
    if at != size {
        return Ok(Err(format!("{at} of its {size} bytes arrived")));
    }
    Ok(store
        .finish_form_media(sha256)?
        .map_err(|found| format!("it arrived with SHA-256 {found}, listed as {sha256}")))
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use super::*;
    use crate::remote::{HttpRequest, HttpResponse, Transport, TransportError, fetch_instruments};
    use crate::store::FormMediaEntry;
    use crate::store::test_support::{instrument, temp_store};

    /// Serves one instrument and its media by SHA-256, honouring ranges
    /// as central does; `served` may differ from what is listed (tampered).
    struct MediaCentral {
        listing: RefCell<InstrumentListing>,
        json: Vec<u8>,
        served: RefCell<Vec<(String, Vec<u8>)>>,
        ranges: RefCell<usize>,
    }

    impl Transport for MediaCentral {
        fn send(&self, r: &HttpRequest) -> Result<HttpResponse, TransportError> {
            let ok = |status, headers: Vec<(String, String)>, body: Vec<u8>| {
                Ok(HttpResponse { status, headers, body })
            };
            if r.path == api::INSTRUMENTS {
                return ok(200, vec![], serde_json::to_vec(&[&*self.listing.borrow()]).unwrap());
            }
            if r.path == api::instrument_path(&self.listing.borrow().hash) {
                return ok(200, vec![], self.json.clone());
            }
            for (sha, bytes) in self.served.borrow().iter() {
                if r.path != api::form_media_path(sha) {
                    continue;
                }
                let range = r.headers.iter().find(|(k, _)| k == "Range").map(|(_, v)| v.clone());
                let (a, b) = range
                    .as_deref()
                    .and_then(|v| v.strip_prefix("bytes="))
                    .and_then(|v| v.split_once('-'))
                    .map(|(a, b)| (a.parse::<usize>().unwrap(), b.parse::<usize>().unwrap()))
                    .expect("the client asks for ranges");
                *self.ranges.borrow_mut() += 1;
                let end = (b + 1).min(bytes.len());
                let cr = format!("bytes {a}-{}/{}", end - 1, bytes.len());
                return ok(206, vec![("Content-Range".into(), cr)], bytes[a..end].to_vec());
            }
            ok(404, vec![], br#"{"error":"not_found","message":"none"}"#.to_vec())
        }
    }

    fn entry(name: &str, bytes: &[u8]) -> FormMediaEntry {
        FormMediaEntry {
            name: name.into(),
            sha256: crate::bundle::sha256_hex(bytes),
            size: bytes.len() as u64,
        }
    }

    #[test]
    fn media_arrive_in_ranges_checked_and_a_tampered_file_is_reported_then_refetched() {
        let (_d, mut store) = temp_store();
        let form = instrument("m", "1", &["x"]);
        let video: Vec<u8> =
            (0..api::MEDIA_RANGE_MAX as usize * 2 + 5).map(|i| (i % 253) as u8).collect();
        let image = b"\x89PNG a show card".to_vec();
        let central = MediaCentral {
            listing: RefCell::new(InstrumentListing {
                form_id: "m".into(),
                version: "1".into(),
                hash: form.hash(),
                title: "M".into(),
                published_at: String::new(),
                media: vec![entry("card.png", &image), entry("intro.mp4", &video)],
            }),
            json: form.canonical_json(),
            served: RefCell::new(vec![
                (entry("card.png", &image).sha256, b"\x89PNG another card".to_vec()),
                (entry("intro.mp4", &video).sha256, video.clone()),
            ]),
            ranges: RefCell::new(0),
        };
        let first = fetch_instruments(&mut store, &central, "tok").unwrap();
        assert_eq!(first.installed.len(), 1);
        assert_eq!(first.media_fetched, 1);
        assert_eq!(*central.ranges.borrow(), 4, "3 ranges of the video, 1 of the card");
        assert_eq!(first.media_missing.len(), 1);
        let missing = &first.media_missing[0];
        assert_eq!((missing.form_id.as_str(), missing.name.as_str()), ("m", "card.png"));
        assert!(missing.reason.contains("arrived with SHA-256"), "{}", missing.reason);
        let status = store.instrument_media(&form.hash()).unwrap();
        assert_eq!(status.iter().map(|s| s.present).collect::<Vec<_>>(), [false, true]);
        assert_eq!(store.read_form_media(&form.hash(), "intro.mp4").unwrap().unwrap(), video);

        // Central fixed: the next sync fetches only what is missing.
        central.served.borrow_mut()[0].1 = image.clone();
        *central.ranges.borrow_mut() = 0;
        let second = fetch_instruments(&mut store, &central, "tok").unwrap();
        assert_eq!((second.present, second.media_fetched), (1, 1));
        assert!(second.media_missing.is_empty());
        assert_eq!(*central.ranges.borrow(), 1);
        assert_eq!(store.read_form_media(&form.hash(), "card.png").unwrap().unwrap(), image);

        // Gone at central, or listed under a bad name: reported, not fatal.
        let (_d2, mut other) = temp_store();
        central.served.borrow_mut().clear();
        central.listing.borrow_mut().media[0].name = "../card.png".into();
        let third = fetch_instruments(&mut other, &central, "tok").unwrap();
        assert_eq!(third.installed.len(), 1);
        let reasons: Vec<&str> = third.media_missing.iter().map(|m| m.reason.as_str()).collect();
        assert!(reasons[0].contains("bad name"), "{reasons:?}");
        assert!(reasons[1].contains("no longer serves"), "{reasons:?}");
    }
}
