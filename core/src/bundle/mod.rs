//! The sync bundle: what travels from a device to central, by HTTP, USB
//! stick, SD card or email, unchanged by whoever relays it.
//!
//! - [`write_bundle`] writes a device's finalized responses, with their
//!   attachments, into one file signed by the device (format: docs/FORMAT.md).
//! - [`read_bundle`] checks the signature and every hash before it returns
//!   anything; bad input is an error, never a panic.
//! - [`seal`] encrypts a response to the researcher's `age` keys at finalize
//!   ([`finalize_response`]) and opens it again with their identity.
//! - [`receipt`]: central's signed statement of what it holds for a device;
//!   [`apply_receipt`] is the only way responses become `sent` on a device.
//!
//! Why a length-prefixed binary file rather than a SQLite database: every byte
//! of it is covered by the signature or by an item hash, so any change is
//! detected (a SQLite file has free space and page slack that no hash covers),
//! the same content always gives the same bytes, it streams in one pass, and
//! it can be documented byte for byte.

mod error;
mod hashing;
mod manifest;
mod read;
pub mod receipt;
pub mod seal;
mod write;

pub use error::BundleError;
pub use hashing::HashingWriter;
pub use manifest::{ItemKind, Manifest, ManifestEntry, ManifestItem};
pub use read::{
    AttachmentData, BundleReader, BundleResponse, BundleSource, HeldBundle, Limits, SpooledFile,
    VerifiedBundle, read_bundle, read_bundle_with,
};
pub use receipt::{ApplyReport, Receipt, ReceiptEntry, ReceiptError, SignedReceipt, apply_receipt};
pub use seal::{
    OpenedStream, OpenedSubmission, ResearcherIdentity, SealError, finalize_response, open_sealed,
    open_sealed_from, seal_submission, seal_to,
};
pub use write::{BundleOptions, BundleSummary, write_bundle, write_bundle_file};

/// First 8 bytes of every bundle file.
pub const MAGIC: &[u8; 8] = b"ENUMBNDL";
/// The bundle format version this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;
/// The manifest's `format` field for [`FORMAT_VERSION`].
pub const FORMAT_NAME: &str = "enumera-bundle/1";
/// The signature covers this prefix followed by the manifest bytes, so that a
/// bundle signature can never be taken for a signature over anything else.
pub const SIGNATURE_CONTEXT: &[u8] = b"enumera-bundle/1\n";
/// This engine's version, recorded in every bundle it writes.
pub const ENGINE_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The bytes the device signs: [`SIGNATURE_CONTEXT`] then the manifest.
pub(crate) fn signed_message(manifest: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(SIGNATURE_CONTEXT.len() + manifest.len());
    m.extend_from_slice(SIGNATURE_CONTEXT);
    m.extend_from_slice(manifest);
    m
}

/// Lowercase hex SHA-256 (of a whole bundle file, for instance).
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    crate::instrument::canonical::hex(&sha2::Sha256::digest(bytes))
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    crate::instrument::canonical::hex(bytes)
}

/// Parses lowercase or uppercase hex of exactly `N` bytes.
pub fn unhex<const N: usize>(s: &str) -> Option<[u8; N]> {
    let b = s.as_bytes();
    if b.len() != 2 * N {
        return None;
    }
    let digit = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    };
    let mut out = [0u8; N];
    for (i, o) in out.iter_mut().enumerate() {
        *o = digit(b[2 * i])? << 4 | digit(b[2 * i + 1])?;
    }
    Some(out)
}

#[cfg(test)]
pub(crate) mod test_support;
#[cfg(test)]
mod tests;
