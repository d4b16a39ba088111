-- Enumera central store in PostgreSQL, schema version 3: assignments and
-- progress (issue 17, item 5); SQLite's schema version 8 with the same
-- tables, checks and rules (central/sql/0008_assignments.sql says why).

CREATE TABLE assignments (
    assignment_id  TEXT COLLATE "C" PRIMARY KEY,
    form_id        TEXT COLLATE "C" NOT NULL CHECK (length(form_id) > 0),
    round          BIGINT,
    participant_id TEXT COLLATE "C",
    quantity       BIGINT CHECK (quantity IS NULL OR quantity >= 1),
    district       TEXT COLLATE "C",
    device_id      TEXT COLLATE "C",
    enumerator     TEXT COLLATE "C",
    created_by     TEXT NOT NULL,
    created_at     TEXT COLLATE "C" NOT NULL,
    replaces       TEXT COLLATE "C" REFERENCES assignments (assignment_id),
    ended_at       TEXT COLLATE "C",
    ended_by       TEXT,
    CHECK ((device_id IS NULL) <> (enumerator IS NULL)),
    CHECK (participant_id IS NULL OR quantity IS NULL),
    CHECK ((ended_at IS NULL) = (ended_by IS NULL))
);
CREATE UNIQUE INDEX assignments_one_live_per_participant
    ON assignments (form_id, coalesce(round, -1), participant_id)
    WHERE participant_id IS NOT NULL AND ended_at IS NULL;
CREATE INDEX assignments_by_device ON assignments (device_id) WHERE ended_at IS NULL;
CREATE INDEX assignments_by_enumerator ON assignments (enumerator) WHERE ended_at IS NULL;

CREATE TRIGGER assignments_frozen BEFORE UPDATE OF
    assignment_id, form_id, round, participant_id, quantity, district, device_id, enumerator,
    created_by, created_at, replaces ON assignments FOR EACH ROW
EXECUTE FUNCTION enumera_refuse('an assignment cannot change, only end');

CREATE TRIGGER assignments_end_once BEFORE UPDATE OF ended_at, ended_by ON assignments
FOR EACH ROW WHEN (OLD.ended_at IS NOT NULL)
EXECUTE FUNCTION enumera_refuse('an ended assignment stays ended');

CREATE TRIGGER assignments_kept BEFORE DELETE ON assignments FOR EACH ROW
EXECUTE FUNCTION enumera_refuse('assignments are ended, never deleted');

CREATE TABLE device_reports (
    device_id   TEXT COLLATE "C" PRIMARY KEY,
    enumerator  TEXT COLLATE "C",
    reported_at TEXT COLLATE "C" NOT NULL
);
CREATE TABLE device_progress (
    device_id     TEXT COLLATE "C" NOT NULL REFERENCES device_reports (device_id),
    assignment_id TEXT COLLATE "C" NOT NULL,
    started       BIGINT NOT NULL CHECK (started >= 0),
    finalized     BIGINT NOT NULL CHECK (finalized >= 0 AND finalized <= started),
    PRIMARY KEY (device_id, assignment_id)
);
