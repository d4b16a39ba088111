-- Schema version 4: field supervision (issue 17): the responses of this
-- device that central returned to it, with the reviewers' comments.

-- A response of this device that a reviewer sent back, as central's
-- signed returns file described it. Kept after the response is purged or
-- corrected: it is the record of why a correction was made. The
-- correction is the response whose deprecated_id names instance_id.
CREATE TABLE returns (
    instance_id    TEXT PRIMARY KEY,
    seq            INTEGER NOT NULL CHECK (seq >= 1),
    entry_hash     TEXT NOT NULL,
    form_id        TEXT NOT NULL,
    participant_id TEXT,
    round          INTEGER,
    sealed         INTEGER NOT NULL CHECK (sealed IN (0, 1)),
    action_id      TEXT NOT NULL,
    reviewer       TEXT NOT NULL,
    returned_at    TEXT NOT NULL,
    -- [{"ref": "/data/x", "text": "..."}], in the order they were made.
    comments       TEXT NOT NULL CHECK (json_valid(comments)),
    -- issued_at of the returns file that brought these comments.
    issued_at      TEXT NOT NULL,
    received_at    TEXT NOT NULL,
    -- Only the device's own outbox entries are ever returned.
    FOREIGN KEY (seq) REFERENCES outbox (seq)
) WITHOUT ROWID;

-- The same version is returned once; what it names never changes.
CREATE TRIGGER returns_frozen BEFORE UPDATE OF
    instance_id, seq, entry_hash, form_id, participant_id, round, sealed, action_id, reviewer,
    returned_at ON returns
BEGIN SELECT RAISE(ABORT, 'enumera: a return cannot change, only gain comments'); END;
