-- Enumera central store on PostgreSQL, schema version 1: the same tables,
-- rules and meaning as the SQLite store at its schema version 5
-- (central/sql/0001 to 0005; read those files for why each table is there).
-- Released schema files are never edited: a change is a new numbered file
-- in this folder, beside its SQLite twin.
--
-- Differences that are only PostgreSQL's: booleans are BOOLEAN, bytes are
-- BYTEA, identifiers and times are TEXT in byte order (COLLATE "C", as
-- SQLite compares text), and the rules SQLite keeps in triggers are
-- PL/pgSQL trigger functions. Arrival order (SQLite's rowid) is an
-- identity column. Times are RFC 3339 UTC text with microseconds, written
-- by central, so they sort as text exactly as in SQLite.

CREATE TABLE central (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    central_id   TEXT NOT NULL,
    signing_seed BYTEA NOT NULL CHECK (length(signing_seed) = 32),
    public_key   BYTEA NOT NULL CHECK (length(public_key) = 32),
    created_at   TEXT NOT NULL
);

CREATE TABLE devices (
    device_id  TEXT COLLATE "C" PRIMARY KEY,
    public_key BYTEA NOT NULL CHECK (length(public_key) = 32),
    name       TEXT NOT NULL,
    enrolled   BOOLEAN NOT NULL DEFAULT false,
    first_seen TEXT COLLATE "C" NOT NULL,
    last_seen  TEXT COLLATE "C" NOT NULL
);

CREATE TABLE entries (
    device_id    TEXT COLLATE "C" NOT NULL REFERENCES devices (device_id),
    seq          BIGINT NOT NULL CHECK (seq >= 1),
    entry_hash   TEXT COLLATE "C" NOT NULL,
    prev_hash    TEXT COLLATE "C" NOT NULL,
    content_hash TEXT COLLATE "C" NOT NULL,
    instance_id  TEXT COLLATE "C" NOT NULL,
    content      TEXT NOT NULL,
    received_at  TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (device_id, seq, entry_hash)
);
CREATE INDEX entries_by_instance ON entries (instance_id);
CREATE INDEX entries_by_device_time ON entries (device_id, received_at);

CREATE TABLE responses (
    instance_id    TEXT COLLATE "C" PRIMARY KEY,
    -- Arrival order (SQLite's rowid): export lists responses in it.
    arrival        BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
    content_hash   TEXT COLLATE "C" NOT NULL,
    device_id      TEXT COLLATE "C" NOT NULL,
    seq            BIGINT NOT NULL,
    entry_hash     TEXT COLLATE "C" NOT NULL,
    form_id        TEXT COLLATE "C" NOT NULL,
    form_version   TEXT COLLATE "C" NOT NULL,
    form_hash      TEXT COLLATE "C" NOT NULL,
    participant_id TEXT COLLATE "C",
    round          BIGINT,
    enumerator     TEXT,
    deprecated_id  TEXT COLLATE "C",
    finalized_at   TEXT COLLATE "C" NOT NULL,
    xml            TEXT,
    json           TEXT,
    sealed         BYTEA,
    superseded_by  TEXT COLLATE "C",
    edit_conflict  BOOLEAN NOT NULL DEFAULT false,
    hold           TEXT COLLATE "C"
        CHECK (hold IN ('pending_edit', 'not_author', 'edit_of_superseded', 'contested')),
    received_at    TEXT COLLATE "C" NOT NULL,
    CHECK ((sealed IS NULL) = (xml IS NOT NULL AND json IS NOT NULL))
);
-- At most one accepted edit per version (a contested edit stays accepted).
CREATE UNIQUE INDEX responses_one_edit ON responses (deprecated_id)
    WHERE deprecated_id IS NOT NULL AND NOT edit_conflict
      AND coalesce(hold, 'contested') = 'contested';
CREATE INDEX responses_by_form ON responses (form_id, form_version, arrival);
CREATE INDEX responses_by_participant ON responses (participant_id, round, arrival)
    WHERE participant_id IS NOT NULL;
CREATE INDEX responses_pending_edits ON responses (deprecated_id, arrival)
    WHERE hold = 'pending_edit';
CREATE INDEX responses_by_superseded ON responses (superseded_by)
    WHERE superseded_by IS NOT NULL;

CREATE TABLE blobs (
    sha256 TEXT COLLATE "C" PRIMARY KEY CHECK (length(sha256) = 64),
    size   BIGINT NOT NULL,
    bytes  BYTEA NOT NULL
);

CREATE TABLE response_attachments (
    instance_id TEXT COLLATE "C" NOT NULL REFERENCES responses (instance_id),
    name        TEXT COLLATE "C" NOT NULL,
    sha256      TEXT COLLATE "C" NOT NULL REFERENCES blobs (sha256),
    size        BIGINT NOT NULL,
    PRIMARY KEY (instance_id, name)
);

CREATE TABLE conflicts (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    instance_id  TEXT COLLATE "C" NOT NULL,
    content_hash TEXT COLLATE "C" NOT NULL,
    kind         TEXT COLLATE "C" NOT NULL
        CHECK (kind IN ('different_content', 'edit_of_superseded')),
    device_id    TEXT COLLATE "C" NOT NULL,
    seq          BIGINT NOT NULL,
    entry_hash   TEXT COLLATE "C" NOT NULL,
    content      TEXT NOT NULL,
    xml          TEXT,
    json         TEXT,
    sealed       BYTEA,
    detail       TEXT NOT NULL,
    received_at  TEXT COLLATE "C" NOT NULL,
    UNIQUE (instance_id, content_hash)
);

CREATE TABLE bundles (
    sha256        TEXT COLLATE "C" PRIMARY KEY,
    device_id     TEXT COLLATE "C" NOT NULL,
    entries       BIGINT NOT NULL,
    new_responses BIGINT NOT NULL,
    conflicts     BIGINT NOT NULL,
    received_at   TEXT COLLATE "C" NOT NULL,
    stored_bytes  BIGINT NOT NULL DEFAULT 0 CHECK (stored_bytes >= 0)
);
CREATE INDEX bundles_by_device ON bundles (device_id, received_at);

CREATE TABLE published (
    form_id        TEXT COLLATE "C" NOT NULL,
    version        TEXT COLLATE "C" NOT NULL,
    hash           TEXT COLLATE "C" NOT NULL,
    title          TEXT NOT NULL,
    json           BYTEA NOT NULL,
    published_at   TEXT COLLATE "C" NOT NULL,
    sealed         BOOLEAN NOT NULL DEFAULT false,
    unpublished_at TEXT COLLATE "C",
    PRIMARY KEY (form_id, version)
);

CREATE TABLE device_tokens (
    token_sha256 BYTEA PRIMARY KEY CHECK (length(token_sha256) = 32),
    device_id    TEXT COLLATE "C" NOT NULL,
    created_at   TEXT NOT NULL
);
CREATE INDEX device_tokens_by_device ON device_tokens (device_id);

CREATE TABLE rosters (
    name         TEXT COLLATE "C" PRIMARY KEY,
    json         BYTEA NOT NULL,
    sha256       TEXT NOT NULL,
    participants BIGINT NOT NULL CHECK (participants >= 0),
    published_at TEXT NOT NULL
);

CREATE TABLE chain_state (
    device_id    TEXT COLLATE "C" PRIMARY KEY REFERENCES devices (device_id),
    through_seq  BIGINT NOT NULL CHECK (through_seq >= 1),
    through_hash TEXT NOT NULL
);

CREATE TABLE chain_forks (
    device_id TEXT COLLATE "C" NOT NULL REFERENCES devices (device_id),
    seq       BIGINT NOT NULL,
    PRIMARY KEY (device_id, seq)
);

CREATE TABLE edit_grants (
    instance_id TEXT COLLATE "C" NOT NULL,
    device_id   TEXT COLLATE "C" NOT NULL,
    reason      TEXT NOT NULL,
    granted_at  TEXT NOT NULL,
    PRIMARY KEY (instance_id, device_id)
);

-- The per-central secret for participant pseudonyms in exports (SQLite
-- makes this table on first use).
CREATE TABLE export_secret (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    secret BYTEA NOT NULL CHECK (length(secret) = 32)
);

-- The rules, enforced by the database whatever code writes to it.

CREATE FUNCTION enumera_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'enumera central: %', TG_ARGV[0] USING ERRCODE = 'integrity_constraint_violation';
END $$;

CREATE TRIGGER responses_frozen BEFORE UPDATE OF
    instance_id, content_hash, device_id, seq, entry_hash, form_id, form_version, form_hash,
    participant_id, round, enumerator, deprecated_id, finalized_at, xml, json, sealed, edit_conflict
ON responses FOR EACH ROW
EXECUTE FUNCTION enumera_refuse('a held response cannot change');

CREATE TRIGGER responses_kept BEFORE DELETE ON responses FOR EACH ROW
EXECUTE FUNCTION enumera_refuse('a held response cannot be deleted');

CREATE TRIGGER responses_superseded_once BEFORE UPDATE OF superseded_by ON responses FOR EACH ROW
WHEN (OLD.superseded_by IS NOT NULL)
EXECUTE FUNCTION enumera_refuse('a replaced version stays replaced');

-- Only the device that made a response, or one central authorised, may
-- replace it (SQLite: responses_replaced_by_author).
CREATE FUNCTION enumera_replaced_by_author() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM responses e
        WHERE e.instance_id = NEW.superseded_by AND e.deprecated_id = OLD.instance_id
          AND (e.device_id = OLD.device_id
               OR EXISTS (SELECT 1 FROM edit_grants g
                          WHERE g.instance_id = OLD.instance_id AND g.device_id = e.device_id)))
    THEN
        RAISE EXCEPTION 'enumera central: only the device that made a response, or one central authorised, may replace it'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER responses_replaced_by_author BEFORE UPDATE OF superseded_by ON responses
FOR EACH ROW WHEN (NEW.superseded_by IS NOT NULL)
EXECUTE FUNCTION enumera_replaced_by_author();

CREATE TRIGGER responses_arrive_unreplaced BEFORE INSERT ON responses FOR EACH ROW
WHEN (NEW.superseded_by IS NOT NULL)
EXECUTE FUNCTION enumera_refuse('a response is replaced only by an edit that follows it');

CREATE TRIGGER responses_hold_settles BEFORE UPDATE OF hold ON responses FOR EACH ROW
WHEN (NOT (OLD.hold IS NOT DISTINCT FROM 'pending_edit' OR NEW.hold IS NOT DISTINCT FROM 'contested'))
EXECUTE FUNCTION enumera_refuse('a held-aside response stays held aside');

CREATE TRIGGER entries_frozen BEFORE UPDATE ON entries FOR EACH ROW
EXECUTE FUNCTION enumera_refuse('received entries cannot change');

CREATE TRIGGER entries_kept BEFORE DELETE ON entries FOR EACH ROW
EXECUTE FUNCTION enumera_refuse('received entries cannot be deleted');

CREATE TRIGGER conflicts_frozen BEFORE UPDATE OF
    instance_id, content_hash, kind, content, xml, json, sealed
ON conflicts FOR EACH ROW
EXECUTE FUNCTION enumera_refuse('a kept conflict cannot change');
