-- Enumera central store, schema version 8: assignments and progress
-- (issue 17, item 5).
--
-- An assignment gives a device, or an enumerator, one participant's
-- interview in a form and round, or a quantity of interviews in a form
-- without a roster. Assignments are never deleted or changed: ending one
-- (revoking it, or reassigning it, which ends it and adds its replacement
-- naming it) sets ended_at once. A participant has at most one live
-- assignment per form and round.
CREATE TABLE assignments (
    assignment_id  TEXT PRIMARY KEY,
    form_id        TEXT NOT NULL CHECK (length(form_id) > 0),
    round          INTEGER,
    participant_id TEXT,
    quantity       INTEGER CHECK (quantity IS NULL OR quantity >= 1),
    -- The participant's district on the roster when assigned, or the one
    -- given for a quantity: what supervisors' scopes and progress use.
    district       TEXT,
    device_id      TEXT,
    enumerator     TEXT,
    created_by     TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    replaces       TEXT REFERENCES assignments (assignment_id),
    ended_at       TEXT,
    ended_by       TEXT,
    CHECK ((device_id IS NULL) <> (enumerator IS NULL)),
    CHECK (participant_id IS NULL OR quantity IS NULL),
    CHECK ((ended_at IS NULL) = (ended_by IS NULL))
) WITHOUT ROWID;
CREATE UNIQUE INDEX assignments_one_live_per_participant
    ON assignments (form_id, coalesce(round, -1), participant_id)
    WHERE participant_id IS NOT NULL AND ended_at IS NULL;
CREATE INDEX assignments_by_device ON assignments (device_id) WHERE ended_at IS NULL;
CREATE INDEX assignments_by_enumerator ON assignments (enumerator) WHERE ended_at IS NULL;

CREATE TRIGGER assignments_frozen BEFORE UPDATE OF
    assignment_id, form_id, round, participant_id, quantity, district, device_id, enumerator,
    created_by, created_at, replaces ON assignments
BEGIN SELECT RAISE(ABORT, 'enumera central: an assignment cannot change, only end'); END;

CREATE TRIGGER assignments_end_once BEFORE UPDATE OF ended_at, ended_by ON assignments
WHEN OLD.ended_at IS NOT NULL
BEGIN SELECT RAISE(ABORT, 'enumera central: an ended assignment stays ended'); END;

CREATE TRIGGER assignments_kept BEFORE DELETE ON assignments
BEGIN SELECT RAISE(ABORT, 'enumera central: assignments are ended, never deleted'); END;

-- What each device last reported of its assigned work when it fetched its
-- assignments: who carries it, and per assignment how many interviews it
-- has started (drafts and finalized) and finalized. Replaced by each report.
CREATE TABLE device_reports (
    device_id   TEXT PRIMARY KEY,
    enumerator  TEXT,
    reported_at TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE device_progress (
    device_id     TEXT NOT NULL REFERENCES device_reports (device_id),
    assignment_id TEXT NOT NULL,
    started       INTEGER NOT NULL CHECK (started >= 0),
    finalized     INTEGER NOT NULL CHECK (finalized >= 0 AND finalized <= started),
    PRIMARY KEY (device_id, assignment_id)
) WITHOUT ROWID;
