//! Sync targets: the bundle reader and the receipt reader.
//!
//! A bundle and a receipt each name the key that signed them, so anyone can
//! sign a hostile one (a stolen or rogue device, a fake central). Besides
//! the raw bytes, each target therefore also signs the fuzzer's input with a
//! fixed key and reads that, which takes it past the signature check to the
//! manifest and receipt rules behind it.

use ed25519_dalek::{Signer, SigningKey};
use enumera_core::bundle::receipt::RECEIPT_FORMAT;
use enumera_core::bundle::{BundleReader, BundleSource, read_bundle, read_bundle_with};
use enumera_core::bundle::{FORMAT_VERSION, Limits, MAGIC, Receipt, SIGNATURE_CONTEXT, hex};
use serde_json::Value as Json;

/// The key the targets sign with (a fuzzing key: it signs nothing real).
pub const FUZZ_SEED: [u8; 32] = [7; 32];

fn key() -> SigningKey {
    SigningKey::from_bytes(&FUZZ_SEED)
}

/// Arbitrary bytes as a bundle file, read with the default limits and with
/// tight ones.
pub fn bundle_read(data: &[u8]) {
    check_bundle(data);
    let tight = Limits { max_manifest: 4096, max_entries: 4, max_item: 4096 };
    let _ = read_bundle_with(data, &tight);
}

/// The input is a bundle without its signature: the manifest, a newline,
/// then the items as the file frames them. The manifest's
/// `device_public_key` is set to the fuzzing key, which signs it, and the
/// assembled file is read.
pub fn bundle_signed(data: &[u8]) {
    let (manifest, items) = match data.iter().position(|b| *b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let mut manifest = manifest.to_vec();
    if let Ok(Json::Object(mut m)) = serde_json::from_slice::<Json>(&manifest) {
        m.insert("device_public_key".into(), hex(key().verifying_key().as_bytes()).into());
        manifest = Json::Object(m).to_string().into_bytes();
    }
    let Ok(len) = u32::try_from(manifest.len()) else { return };
    let mut message = SIGNATURE_CONTEXT.to_vec();
    message.extend_from_slice(&manifest);
    let mut file = MAGIC.to_vec();
    file.extend_from_slice(&FORMAT_VERSION.to_be_bytes());
    file.extend_from_slice(&len.to_be_bytes());
    file.extend_from_slice(&manifest);
    file.extend_from_slice(&key().sign(&message).to_bytes());
    file.extend_from_slice(items);
    check_bundle(&file);
}

/// Reads a bundle; one that verifies must be internally consistent. The
/// streaming reader (what central ingests files and uploads with), fed a
/// few bytes at a time, must agree with reading whole: the same responses,
/// or the same refusal; and checking without keeping must agree too.
fn check_bundle(file: &[u8]) {
    let whole = read_bundle(file);
    let streamed = stream(file);
    match (&whole, &streamed) {
        (Ok(b), Ok((responses, sha256))) => {
            assert_eq!(&b.responses, responses, "the streaming reader reads the same");
            assert_eq!(&b.sha256, sha256, "the same file hash");
        }
        (Err(a), Err(b)) => assert_eq!(a.code(), *b, "the same refusal"),
        (a, b) => panic!("reading whole and streaming disagree: {a:?} / {b:?}"),
    }
    let checked = BundleReader::open(file, &Limits::default()).and_then(BundleReader::verify_rest);
    assert_eq!(checked.is_ok(), whole.is_ok(), "verify_rest agrees");
    let Ok(b) = whole else { return };
    assert_eq!(b.responses.len(), b.manifest.entries.len(), "one response per entry");
    for (r, e) in b.responses.iter().zip(&b.manifest.entries) {
        assert_eq!(r.entry.instance_id, e.instance_id, "responses follow the entries");
        assert_eq!(r.content.instance_id, e.instance_id, "content names its entry");
    }
}

type Streamed = (Vec<enumera_core::bundle::BundleResponse>, String);

/// Reads through [`BundleReader`] from a source that hands out 1 to 7 bytes
/// at a time.
fn stream(file: &[u8]) -> Result<Streamed, &'static str> {
    struct Trickle<'a>(&'a [u8], usize);
    impl std::io::Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            self.1 = self.1 % 7 + 1;
            let n = self.1.min(buf.len()).min(self.0.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }
    let mut reader =
        BundleReader::open(Trickle(file, 0), &Limits::default()).map_err(|e| e.code())?;
    let mut responses = Vec::new();
    while let Some(r) = reader.next_response().map_err(|e| e.code())? {
        responses.push(r);
    }
    let (sha256, _) = reader.finish().map_err(|e| e.code())?;
    Ok((responses, sha256))
}

/// Arbitrary bytes as a receipt file; then the input as a receipt body,
/// signed by the fuzzing key (named as central's key in the body).
pub fn receipt_read(data: &[u8]) {
    let _ = Receipt::verify_file(data);
    let Ok(text) = std::str::from_utf8(data) else { return };
    let body = match serde_json::from_str::<Json>(text) {
        Ok(Json::Object(mut m)) => {
            m.insert("central_public_key".into(), hex(key().verifying_key().as_bytes()).into());
            Json::Object(m).to_string()
        }
        _ => text.to_string(),
    };
    let mut message = format!("{RECEIPT_FORMAT}\n").into_bytes();
    message.extend_from_slice(body.as_bytes());
    let file = serde_json::json!({
        "format": RECEIPT_FORMAT,
        "receipt": body,
        "signature": hex(&key().sign(&message).to_bytes()),
    });
    if let Ok(r) = Receipt::verify_file(file.to_string().as_bytes()) {
        assert_eq!(r.central_public_key, hex(key().verifying_key().as_bytes()));
    }
}
