-- Schema version 5: assignments (issue 17, item 5): the work central gave
-- this device (or its enumerator), as its latest signed assignments file
-- listed it. Replaced whole by each newer file; the participants' roster
-- rows come in the same file (participants table, source 'roster').
CREATE TABLE assignments (
    assignment_id  TEXT PRIMARY KEY,
    form_id        TEXT NOT NULL,
    round          INTEGER,
    participant_id TEXT,
    quantity       INTEGER CHECK (quantity IS NULL OR quantity >= 1),
    district       TEXT,
    -- Who it was given to: this device, or its enumerator.
    device_id      TEXT,
    enumerator     TEXT,
    assigned_at    TEXT NOT NULL,
    CHECK (participant_id IS NULL OR quantity IS NULL)
) WITHOUT ROWID;
