-- Enumera central store, schema version 1: central's identity, devices, the
-- outbox entries received from each device, the responses held (one per
-- instance id), conflicts kept for review, attachment content, published
-- instruments and a log of ingested bundles.
--
-- Released schema files are never edited: a change is a new numbered file.
-- Triggers repeat the rule that matters most: nothing held is overwritten.

CREATE TABLE central (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    central_id   TEXT NOT NULL,
    -- Ed25519 secret seed that signs receipts.
    signing_seed BLOB NOT NULL CHECK (length(signing_seed) = 32),
    public_key   BLOB NOT NULL CHECK (length(public_key) = 32),
    created_at   TEXT NOT NULL
);

CREATE TABLE devices (
    device_id  TEXT PRIMARY KEY,
    public_key BLOB NOT NULL CHECK (length(public_key) = 32),
    name       TEXT NOT NULL,
    -- 1: enrolled by an operator; 0: learned from its first bundle. Once any
    -- device is enrolled, bundles from devices not listed here are refused.
    enrolled   INTEGER NOT NULL DEFAULT 0 CHECK (enrolled IN (0, 1)),
    first_seen TEXT NOT NULL,
    last_seen  TEXT NOT NULL
);

-- Every outbox entry received, per device. Two entries with one sequence
-- number (a fork: a device restored from a backup) are both kept.
CREATE TABLE entries (
    device_id    TEXT NOT NULL REFERENCES devices (device_id),
    seq          INTEGER NOT NULL CHECK (seq >= 1),
    entry_hash   TEXT NOT NULL,
    prev_hash    TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    instance_id  TEXT NOT NULL,
    content      TEXT NOT NULL,
    received_at  TEXT NOT NULL,
    PRIMARY KEY (device_id, seq, entry_hash)
) WITHOUT ROWID;
CREATE INDEX entries_by_instance ON entries (instance_id);

-- The responses held: exactly one row per instance id (the first content
-- received for it; other content under the same id goes to conflicts).
CREATE TABLE responses (
    instance_id    TEXT PRIMARY KEY,
    content_hash   TEXT NOT NULL,
    device_id      TEXT NOT NULL,
    seq            INTEGER NOT NULL,
    entry_hash     TEXT NOT NULL,
    form_id        TEXT NOT NULL,
    form_version   TEXT NOT NULL,
    form_hash      TEXT NOT NULL,
    participant_id TEXT,
    round          INTEGER,
    enumerator     TEXT,
    deprecated_id  TEXT,
    finalized_at   TEXT NOT NULL,
    xml            TEXT,
    json           TEXT,
    -- The age-encrypted submission; central never decrypts it.
    sealed         BLOB,
    -- The edit that replaced this version (NULL: current, unless a conflict).
    superseded_by  TEXT,
    -- 1: an edit of a version that another edit had already replaced.
    edit_conflict  INTEGER NOT NULL DEFAULT 0 CHECK (edit_conflict IN (0, 1)),
    received_at    TEXT NOT NULL,
    CHECK ((sealed IS NULL) = (xml IS NOT NULL AND json IS NOT NULL))
);
-- At most one accepted edit per version.
CREATE UNIQUE INDEX responses_one_edit ON responses (deprecated_id)
    WHERE deprecated_id IS NOT NULL AND edit_conflict = 0;
CREATE INDEX responses_by_form ON responses (form_id, form_version);
CREATE INDEX responses_by_participant ON responses (participant_id, round)
    WHERE participant_id IS NOT NULL;

-- Attachments of held plain responses; content in blobs.
CREATE TABLE response_attachments (
    instance_id TEXT NOT NULL REFERENCES responses (instance_id),
    name        TEXT NOT NULL,
    sha256      TEXT NOT NULL REFERENCES blobs (sha256),
    size        INTEGER NOT NULL,
    PRIMARY KEY (instance_id, name)
) WITHOUT ROWID;

CREATE TABLE blobs (
    sha256 TEXT PRIMARY KEY CHECK (length(sha256) = 64),
    size   INTEGER NOT NULL,
    bytes  BLOB NOT NULL
);

-- Versions kept for review, never applied: other content under an instance
-- id already held ('different_content', payload kept here), or an edit of
-- a version already replaced ('edit_of_superseded', payload in responses).
CREATE TABLE conflicts (
    id           INTEGER PRIMARY KEY,
    instance_id  TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('different_content', 'edit_of_superseded')),
    device_id    TEXT NOT NULL,
    seq          INTEGER NOT NULL,
    entry_hash   TEXT NOT NULL,
    content      TEXT NOT NULL,
    xml          TEXT,
    json         TEXT,
    sealed       BLOB,
    detail       TEXT NOT NULL,
    received_at  TEXT NOT NULL,
    UNIQUE (instance_id, content_hash)
);

-- Every bundle file ingested, by SHA-256, with what its first ingest did:
-- an audit log, and how a byte-identical copy is recognised without
-- parsing it again.
CREATE TABLE bundles (
    sha256        TEXT PRIMARY KEY,
    device_id     TEXT NOT NULL,
    entries       INTEGER NOT NULL,
    new_responses INTEGER NOT NULL,
    conflicts     INTEGER NOT NULL,
    received_at   TEXT NOT NULL
);

-- Instruments devices may fetch.
CREATE TABLE published (
    form_id      TEXT NOT NULL,
    version      TEXT NOT NULL,
    hash         TEXT NOT NULL,
    title        TEXT NOT NULL,
    json         BLOB NOT NULL,
    published_at TEXT NOT NULL,
    PRIMARY KEY (form_id, version)
);

CREATE TRIGGER responses_frozen BEFORE UPDATE OF
    instance_id, content_hash, device_id, seq, entry_hash, form_id, form_version, form_hash,
    participant_id, round, enumerator, deprecated_id, finalized_at, xml, json, sealed, edit_conflict
ON responses
BEGIN SELECT RAISE(ABORT, 'enumera central: a held response cannot change'); END;

CREATE TRIGGER responses_kept BEFORE DELETE ON responses
BEGIN SELECT RAISE(ABORT, 'enumera central: a held response cannot be deleted'); END;

CREATE TRIGGER responses_superseded_once BEFORE UPDATE OF superseded_by ON responses
WHEN OLD.superseded_by IS NOT NULL
BEGIN SELECT RAISE(ABORT, 'enumera central: a replaced version stays replaced'); END;

CREATE TRIGGER entries_frozen BEFORE UPDATE ON entries
BEGIN SELECT RAISE(ABORT, 'enumera central: received entries cannot change'); END;

CREATE TRIGGER entries_kept BEFORE DELETE ON entries
BEGIN SELECT RAISE(ABORT, 'enumera central: received entries cannot be deleted'); END;

CREATE TRIGGER conflicts_frozen BEFORE UPDATE OF
    instance_id, content_hash, kind, content, xml, json, sealed
ON conflicts
BEGIN SELECT RAISE(ABORT, 'enumera central: a kept conflict cannot change'); END;
