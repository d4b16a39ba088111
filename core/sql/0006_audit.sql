-- Schema version 6: the audit log (issue 17, item 4): the events ODK's
-- `audit` meta question records, kept with the response like its answers
-- (written in the transaction that saves the answers they describe). On
-- finalize they become the response's audit.csv attachment, which the
-- sealed envelope covers like any other file.
CREATE TABLE audit_events (
    instance_id   TEXT NOT NULL REFERENCES responses (instance_id) ON DELETE CASCADE,
    seq           INTEGER NOT NULL CHECK (seq >= 1),
    event         TEXT NOT NULL,
    node          TEXT NOT NULL,
    start_ms      INTEGER NOT NULL,
    end_ms        INTEGER,
    latitude      TEXT,
    longitude     TEXT,
    accuracy      TEXT,
    old_value     TEXT,
    new_value     TEXT,
    user          TEXT,
    change_reason TEXT,
    PRIMARY KEY (instance_id, seq)
) WITHOUT ROWID;

CREATE TRIGGER audit_events_frozen_insert BEFORE INSERT ON audit_events
WHEN (SELECT state FROM responses WHERE instance_id = NEW.instance_id) <> 'draft'
BEGIN SELECT RAISE(ABORT, 'enumera: the audit log of a finalized response cannot change'); END;

CREATE TRIGGER audit_events_frozen_update BEFORE UPDATE ON audit_events
BEGIN SELECT RAISE(ABORT, 'enumera: audit events are never changed'); END;

CREATE TRIGGER audit_events_frozen_delete BEFORE DELETE ON audit_events
WHEN (SELECT state FROM responses WHERE instance_id = OLD.instance_id) = 'finalized'
BEGIN SELECT RAISE(ABORT, 'enumera: the audit log of a finalized response cannot change'); END;
