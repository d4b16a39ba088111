//! Devices with finalized responses, built through the public store API.
#![allow(dead_code)]

pub mod http;

use enumera_core::bundle::{BundleOptions, finalize_response, write_bundle};
use enumera_core::instrument::Instrument;
use enumera_core::store::{InstrumentKey, NewResponse, Store};

pub const TEST_IDENTITY: &str =
    include_str!("../../../instruments/p2p-sanitation/test-keys/researcher.agekey");
pub const TEST_RECIPIENT: &str = "age1gp4hnhu3kv6zpux60qq8cqcfvkvz54yt6pz4m7kcxapa7qnv9yaqm70asn";

/// A temporary folder on a RAM file system when there is one: devices
/// fsync every finalize.
pub fn tempdir() -> tempfile::TempDir {
    let shm = std::path::Path::new("/dev/shm");
    if shm.is_dir()
        && let Ok(d) = tempfile::tempdir_in(shm)
    {
        return d;
    }
    tempfile::tempdir().expect("tempdir")
}

pub fn instrument(form_id: &str, public_keys: &[&str]) -> Instrument {
    let json = serde_json::json!({
        "model_version": enumera_core::instrument::model::MODEL_VERSION,
        "form_id": form_id, "version": "1", "title": form_id, "root_name": "data",
        "settings": {"public_keys": public_keys},
        "children": [{"name": "a", "kind": {"kind": "question", "type": "text"}, "row": 2}],
    });
    Instrument::from_json(json.to_string().as_bytes()).expect("instrument")
}

/// Takes a central database of the current schema back to schema 5 (for
/// upgrade tests): 12's sealed payloads, 11's form media, 10's uploads in
/// parts, the data API's index (9), 8's assignments and 7's review events
/// dropped, role tokens become device tokens again.
pub const UNDO_SCHEMA_6: &str = "
    DROP TABLE IF EXISTS published_media; DROP TABLE IF EXISTS form_media_blobs;
    DROP TABLE IF EXISTS upload_parts; DROP TABLE IF EXISTS uploads;
    DROP TABLE IF EXISTS sealed_payloads;
    DROP INDEX IF EXISTS responses_current_by_form;
    DROP TABLE device_progress; DROP TABLE device_reports; DROP TABLE assignments;
    DROP TABLE review_events;
    CREATE TABLE device_tokens (
        token_sha256 BLOB PRIMARY KEY CHECK (length(token_sha256) = 32),
        device_id    TEXT NOT NULL,
        created_at   TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX device_tokens_by_device ON device_tokens (device_id);
    INSERT INTO device_tokens SELECT token_sha256, subject, created_at FROM tokens
        WHERE role = 'device' AND revoked_at IS NULL;
    DROP TABLE tokens;
    PRAGMA user_version = 5;";

/// Takes a central database of the current schema back to schema 3 (for
/// upgrade tests): 6, 5, then 4 undone.
pub const UNDO_SCHEMA_4: &str = "
    DROP INDEX bundles_by_device; DROP INDEX entries_by_device_time;
    ALTER TABLE bundles DROP COLUMN stored_bytes;
    DROP TRIGGER responses_replaced_by_author; DROP TRIGGER responses_arrive_unreplaced;
    DROP TRIGGER responses_hold_settles; DROP INDEX responses_one_edit;
    DROP INDEX responses_pending_edits;
    ALTER TABLE responses DROP COLUMN hold;
    CREATE UNIQUE INDEX responses_one_edit ON responses (deprecated_id)
        WHERE deprecated_id IS NOT NULL AND edit_conflict = 0;
    DROP TABLE edit_grants;
    ALTER TABLE published DROP COLUMN sealed; ALTER TABLE published DROP COLUMN unpublished_at;
    PRAGMA user_version = 3;";

pub struct Device {
    pub dir: tempfile::TempDir,
    pub store: Store,
    pub plain: InstrumentKey,
    pub sealed: InstrumentKey,
}

impl Device {
    pub fn new(name: &str) -> Device {
        let dir = tempdir();
        let mut store = Store::open(dir.path().join("device.db")).expect("open");
        store.init_device(name, None).expect("init");
        let plain = store.install_instrument(&instrument("plain", &[])).expect("install");
        let sealed =
            store.install_instrument(&instrument("sealed", &[TEST_RECIPIENT])).expect("install");
        Device { dir, store, plain, sealed }
    }

    pub fn device_id(&self) -> String {
        self.store.device().expect("device").device_id
    }

    /// Finalizes a new response answering `a`; returns its instance id.
    pub fn finalize(&mut self, answer: &str, sealed: bool, attachment: Option<&[u8]>) -> String {
        let key = if sealed { self.sealed.clone() } else { self.plain.clone() };
        let id = self.store.create_draft(&NewResponse::new(key)).expect("draft").instance_id;
        self.fill_and_finalize(&id, answer, attachment);
        id
    }

    /// Edits a finalized plain response; returns the new instance id.
    pub fn edit(&mut self, of: &str, answer: &str) -> String {
        let id = self.store.edit(of).expect("edit").instance_id;
        self.fill_and_finalize(&id, answer, None);
        id
    }

    /// What a hostile device does (issue 15, finding 1): finalizes, signed
    /// with its own key, an edit naming `of`, a response it did not make
    /// (instance ids are visible to anyone carrying a bundle). The draft's
    /// `deprecated_id` is set behind the store's back, as a modified app
    /// would; nothing else is needed. Returns the edit's instance id.
    pub fn forge_edit(&mut self, of: &str, answer: &str) -> String {
        let id = self
            .store
            .create_draft(&NewResponse::new(self.plain.clone()))
            .expect("draft")
            .instance_id;
        self.raw_sql("UPDATE responses SET deprecated_id = ?1 WHERE instance_id = ?2", &[of, &id]);
        self.fill_and_finalize(&id, answer, None);
        id
    }

    /// A plain response under an instance id of the caller's choosing (one
    /// another device made, read from its bundle): squatting.
    pub fn forge_instance_id(&mut self, instance_id: &str, answer: &str) -> String {
        let id = self
            .store
            .create_draft(&NewResponse::new(self.plain.clone()))
            .expect("draft")
            .instance_id;
        // A fresh draft has no answers yet: only its row names the id.
        self.raw_sql(
            "UPDATE responses SET instance_id = ?1 WHERE instance_id = ?2",
            &[instance_id, &id],
        );
        self.fill_and_finalize(instance_id, answer, None);
        instance_id.to_string()
    }

    /// As [`Device::forge_instance_id`], sealed and with a file: another
    /// version of a sealed response under the same instance id.
    pub fn forge_sealed_instance_id(&mut self, instance_id: &str, answer: &str, file: &[u8]) {
        let id = self
            .store
            .create_draft(&NewResponse::new(self.sealed.clone()))
            .expect("draft")
            .instance_id;
        self.raw_sql(
            "UPDATE responses SET instance_id = ?1 WHERE instance_id = ?2",
            &[instance_id, &id],
        );
        self.fill_and_finalize(instance_id, answer, Some(file));
    }

    /// Runs SQL on the device's database over a second connection.
    pub fn raw_sql(&self, sql: &str, args: &[&str]) {
        let conn = rusqlite::Connection::open(self.store.path()).expect("open");
        conn.execute(sql, rusqlite::params_from_iter(args.iter())).expect("raw sql");
    }

    fn fill_and_finalize(&mut self, id: &str, answer: &str, attachment: Option<&[u8]>) {
        self.store.set_answer(id, "/data/a", answer).expect("answer");
        if let Some(bytes) = attachment {
            self.store.put_attachment(id, "photo.jpg", bytes).expect("attachment");
        }
        let xml = format!("<data><a>{answer}</a><meta><instanceID>{id}</instanceID></meta></data>");
        let json = serde_json::json!({"a": answer, "meta": {"instanceID": id}}).to_string();
        finalize_response(&mut self.store, id, xml, json).expect("finalize");
    }

    pub fn bundle(&self, since_receipt: bool) -> Vec<u8> {
        let mut out = Vec::new();
        write_bundle(&self.store, &BundleOptions { since_receipt, ..Default::default() }, &mut out)
            .expect("bundle");
        out
    }
}

pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

impl Device {
    /// The device and a copy of it (a tablet restored from a backup): same
    /// id and key, the same history so far, then each goes its own way.
    pub fn fork(self) -> (Device, Device) {
        let Device { dir, store, plain, sealed } = self;
        let path = store.path().to_path_buf();
        drop(store);
        let copy_dir = tempdir();
        for suffix in ["", "-wal", "-shm"] {
            let mut from = path.as_os_str().to_owned();
            from.push(suffix);
            let from = std::path::PathBuf::from(from);
            if from.exists() {
                let name = format!("device.db{suffix}");
                std::fs::copy(&from, copy_dir.path().join(name)).expect("copy");
            }
        }
        let a = Device {
            store: Store::open(&path).expect("reopen"),
            dir,
            plain: plain.clone(),
            sealed: sealed.clone(),
        };
        let b = Device {
            store: Store::open(copy_dir.path().join("device.db")).expect("open copy"),
            dir: copy_dir,
            plain,
            sealed,
        };
        (a, b)
    }
}

/// Splits a bundle into (manifest JSON, items after the signature).
pub fn split(bundle: &[u8]) -> (serde_json::Value, Vec<u8>) {
    let m = u32::from_be_bytes(bundle[12..16].try_into().expect("len")) as usize;
    let manifest = serde_json::from_slice(&bundle[16..16 + m]).expect("manifest");
    (manifest, bundle[16 + m + 64..].to_vec())
}

/// Builds a bundle from a manifest and items, signed with `seed`, exactly
/// as docs/FORMAT.md describes (as a forger holding only public
/// information and a key of their own would).
pub fn assemble(manifest: &serde_json::Value, items: &[u8], seed: &[u8; 32]) -> Vec<u8> {
    use ed25519_dalek::Signer;
    let manifest = serde_json::to_vec(manifest).expect("json");
    let key = ed25519_dalek::SigningKey::from_bytes(seed);
    let mut message = b"enumera-bundle/1\n".to_vec();
    message.extend_from_slice(&manifest);
    let mut out = b"ENUMBNDL".to_vec();
    out.extend_from_slice(&1u32.to_be_bytes());
    out.extend_from_slice(&(manifest.len() as u32).to_be_bytes());
    out.extend_from_slice(&manifest);
    out.extend_from_slice(&key.sign(&message).to_bytes());
    out.extend_from_slice(items);
    out
}
