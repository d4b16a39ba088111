-- Enumera device store, schema version 1: identity, instruments, drafts,
-- finalized submissions, the outbox chain and attachments.
--
-- Released schema files are never edited: a change is a new numbered file.
-- Triggers repeat the rules the Rust code enforces, so that no code path (or a
-- bug in one) can change a finalized response or the outbox.

CREATE TABLE device (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    device_id     TEXT NOT NULL,
    name          TEXT NOT NULL,
    enumerator_id TEXT,
    -- Ed25519 secret seed; the platform keystore may hold it instead later.
    signing_seed  BLOB NOT NULL CHECK (length(signing_seed) = 32),
    public_key    BLOB NOT NULL CHECK (length(public_key) = 32),
    created_at    TEXT NOT NULL
);

CREATE TABLE instruments (
    form_id      TEXT NOT NULL,
    version      TEXT NOT NULL,
    hash         TEXT NOT NULL,
    title        TEXT NOT NULL,
    -- Canonical JSON of the compiled instrument.
    json         BLOB NOT NULL,
    installed_at TEXT NOT NULL,
    PRIMARY KEY (form_id, version, hash)
);

CREATE TABLE responses (
    instance_id    TEXT PRIMARY KEY,
    form_id        TEXT NOT NULL,
    form_version   TEXT NOT NULL,
    form_hash      TEXT NOT NULL,
    participant_id TEXT,
    round          INTEGER,
    enumerator     TEXT,
    state          TEXT NOT NULL DEFAULT 'draft'
                   CHECK (state IN ('draft', 'finalized', 'sent', 'discarded')),
    -- The instance this one replaces (an edit of a finalized response).
    deprecated_id  TEXT,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    finalized_at   TEXT,
    sent_at        TEXT,
    discarded_at   TEXT,
    FOREIGN KEY (form_id, form_version, form_hash)
        REFERENCES instruments (form_id, version, hash)
);
CREATE INDEX responses_by_state ON responses (state, updated_at);
CREATE INDEX responses_by_deprecated ON responses (deprecated_id) WHERE deprecated_id IS NOT NULL;

-- One row per answered leaf, keyed by its ODK-style path (/data/members[2]/name).
CREATE TABLE answers (
    instance_id TEXT NOT NULL REFERENCES responses (instance_id) ON DELETE CASCADE,
    ref         TEXT NOT NULL,
    value       TEXT NOT NULL,
    PRIMARY KEY (instance_id, ref)
) WITHOUT ROWID;

-- How many instances a repeat has (ref names the repeat with the indices of
-- enclosing repeats: /data/households[2]/members).
CREATE TABLE repeats (
    instance_id TEXT NOT NULL REFERENCES responses (instance_id) ON DELETE CASCADE,
    ref         TEXT NOT NULL,
    count       INTEGER NOT NULL CHECK (count >= 0),
    PRIMARY KEY (instance_id, ref)
) WITHOUT ROWID;

-- Files are kept content-addressed beside the database; rows say which
-- response uses which content under which name.
CREATE TABLE attachments (
    instance_id TEXT NOT NULL REFERENCES responses (instance_id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    sha256      TEXT NOT NULL CHECK (length(sha256) = 64),
    size        INTEGER NOT NULL CHECK (size >= 0),
    PRIMARY KEY (instance_id, name)
) WITHOUT ROWID;
CREATE INDEX attachments_by_hash ON attachments (sha256);

-- What finalize was given: plaintext XML and JSON, or one sealed blob.
CREATE TABLE submissions (
    instance_id TEXT PRIMARY KEY REFERENCES responses (instance_id) ON DELETE CASCADE,
    xml         TEXT,
    json        TEXT,
    sealed      BLOB,
    CHECK ((sealed IS NULL) = (xml IS NOT NULL AND json IS NOT NULL))
);

-- The per-device outbox: one entry per finalized response, in sequence, each
-- naming the hash of the entry before it. Entries are never deleted, so the
-- chain stays whole after responses are purged.
CREATE TABLE outbox (
    seq          INTEGER PRIMARY KEY CHECK (seq >= 1),
    instance_id  TEXT NOT NULL UNIQUE,
    -- Canonical JSON describing the entry (ids, instrument, item hashes).
    content      TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    prev_hash    TEXT NOT NULL,
    entry_hash   TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    sent_at      TEXT
);

CREATE TRIGGER answers_frozen_insert BEFORE INSERT ON answers
WHEN (SELECT state FROM responses WHERE instance_id = NEW.instance_id) <> 'draft'
BEGIN SELECT RAISE(ABORT, 'enumera: answers of a finalized response cannot change'); END;

CREATE TRIGGER answers_frozen_update BEFORE UPDATE ON answers
WHEN (SELECT state FROM responses WHERE instance_id = OLD.instance_id) <> 'draft'
BEGIN SELECT RAISE(ABORT, 'enumera: answers of a finalized response cannot change'); END;

CREATE TRIGGER answers_frozen_delete BEFORE DELETE ON answers
WHEN (SELECT state FROM responses WHERE instance_id = OLD.instance_id) = 'finalized'
BEGIN SELECT RAISE(ABORT, 'enumera: answers of a finalized response cannot change'); END;

CREATE TRIGGER repeats_frozen_insert BEFORE INSERT ON repeats
WHEN (SELECT state FROM responses WHERE instance_id = NEW.instance_id) <> 'draft'
BEGIN SELECT RAISE(ABORT, 'enumera: repeats of a finalized response cannot change'); END;

CREATE TRIGGER repeats_frozen_update BEFORE UPDATE ON repeats
WHEN (SELECT state FROM responses WHERE instance_id = OLD.instance_id) <> 'draft'
BEGIN SELECT RAISE(ABORT, 'enumera: repeats of a finalized response cannot change'); END;

CREATE TRIGGER attachments_frozen_insert BEFORE INSERT ON attachments
WHEN (SELECT state FROM responses WHERE instance_id = NEW.instance_id) <> 'draft'
BEGIN SELECT RAISE(ABORT, 'enumera: attachments of a finalized response cannot change'); END;

CREATE TRIGGER attachments_frozen_delete BEFORE DELETE ON attachments
WHEN (SELECT state FROM responses WHERE instance_id = OLD.instance_id) = 'finalized'
BEGIN SELECT RAISE(ABORT, 'enumera: attachments of a finalized response cannot change'); END;

CREATE TRIGGER responses_state_flow BEFORE UPDATE OF state ON responses
WHEN NOT (OLD.state = NEW.state
       OR (OLD.state = 'draft' AND NEW.state IN ('finalized', 'discarded'))
       OR (OLD.state = 'finalized' AND NEW.state = 'sent'))
BEGIN SELECT RAISE(ABORT, 'enumera: forbidden response state change'); END;

CREATE TRIGGER responses_frozen BEFORE UPDATE OF
    form_id, form_version, form_hash, participant_id, round, enumerator, deprecated_id, created_at
ON responses
WHEN OLD.state <> 'draft'
BEGIN SELECT RAISE(ABORT, 'enumera: a finalized response cannot change'); END;

CREATE TRIGGER responses_kept BEFORE DELETE ON responses
WHEN OLD.state IN ('draft', 'finalized')
BEGIN SELECT RAISE(ABORT, 'enumera: only sent or discarded responses can be purged'); END;

CREATE TRIGGER submissions_frozen BEFORE UPDATE ON submissions
BEGIN SELECT RAISE(ABORT, 'enumera: a submission cannot change'); END;

CREATE TRIGGER submissions_kept BEFORE DELETE ON submissions
WHEN (SELECT state FROM responses WHERE instance_id = OLD.instance_id) IN ('draft', 'finalized')
BEGIN SELECT RAISE(ABORT, 'enumera: an unsent submission cannot be deleted'); END;

CREATE TRIGGER outbox_frozen BEFORE UPDATE OF
    seq, instance_id, content, content_hash, prev_hash, entry_hash, created_at
ON outbox
BEGIN SELECT RAISE(ABORT, 'enumera: outbox entries cannot change'); END;

CREATE TRIGGER outbox_kept BEFORE DELETE ON outbox
BEGIN SELECT RAISE(ABORT, 'enumera: outbox entries are never deleted'); END;
