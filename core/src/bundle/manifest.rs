//! The manifest: the signed description of a bundle. It carries the outbox
//! entries themselves (so central can recompute the device's hash chain) and
//! the SHA-256 and size of every item that follows it.

use serde::{Deserialize, Serialize};

/// The manifest of a bundle, serialized as compact JSON in the field order
/// below. The signature covers its exact bytes, so readers never need to
/// re-serialize it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// [`super::FORMAT_NAME`].
    pub format: String,
    pub device_id: String,
    /// Ed25519 public key of the device, 64 lowercase hex digits.
    pub device_public_key: String,
    pub device_name: String,
    pub created_at: String,
    pub engine_version: String,
    /// Sequence numbers of the first and last entry (`null` when empty).
    pub first_seq: Option<u64>,
    pub last_seq: Option<u64>,
    /// `prev_hash` of the first entry: the hash of the entry before it.
    pub prev_hash: Option<String>,
    pub entries: Vec<ManifestEntry>,
    pub items: Vec<ManifestItem>,
}

/// One outbox entry, exactly as the device's chain holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestEntry {
    pub seq: u64,
    pub instance_id: String,
    /// Compact JSON of [`crate::store::EntryContent`].
    pub content: String,
    pub content_hash: String,
    pub prev_hash: String,
    pub entry_hash: String,
}

/// What an item is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemKind {
    /// The submission as ODK XML.
    Xml,
    /// The submission as JSON.
    Json,
    /// The sealed (age-encrypted) submission with its attachments.
    Sealed,
    /// One attachment file of a plain submission.
    Attachment,
}

impl ItemKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ItemKind::Xml => "xml",
            ItemKind::Json => "json",
            ItemKind::Sealed => "sealed",
            ItemKind::Attachment => "attachment",
        }
    }
}

/// One item after the manifest, in file order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestItem {
    pub instance_id: String,
    pub kind: ItemKind,
    /// The attachment's file name (attachments only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub size: u64,
    pub sha256: String,
}

/// An item an entry names: what the manifest's item list must hold for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ExpectedItem {
    pub kind: ItemKind,
    pub name: Option<String>,
    pub sha256: String,
    /// Known from the entry for attachments; the item's own for the rest.
    pub size: Option<u64>,
}

/// The items an entry must have, in file order: XML then JSON then
/// attachments by name for a plain submission; one sealed item otherwise.
/// `None` when the entry names neither kind of submission.
pub(crate) fn expected_items(content: &crate::store::EntryContent) -> Option<Vec<ExpectedItem>> {
    let item = |kind, sha256: &String| ExpectedItem {
        kind,
        name: None,
        sha256: sha256.clone(),
        size: None,
    };
    match (&content.sealed_sha256, &content.xml_sha256, &content.json_sha256) {
        (Some(sealed), None, None) if content.attachments.is_empty() => {
            Some(vec![item(ItemKind::Sealed, sealed)])
        }
        (None, Some(xml), Some(json)) => {
            let mut items = vec![item(ItemKind::Xml, xml), item(ItemKind::Json, json)];
            let mut attachments: Vec<_> = content.attachments.iter().collect();
            attachments.sort_by(|a, b| a.name.cmp(&b.name));
            items.extend(attachments.into_iter().map(|a| ExpectedItem {
                kind: ItemKind::Attachment,
                name: Some(a.name.clone()),
                sha256: a.sha256.clone(),
                size: Some(a.size),
            }));
            Some(items)
        }
        _ => None,
    }
}
