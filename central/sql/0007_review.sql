-- Enumera central store, schema version 7: review (issue 17).
--
-- Every reviewer action on a version of a response is an appended event,
-- signed by the key of the reviewer's token (enumera-review-action/1,
-- core/src/review/action.rs), kept with the exact signed body so that it
-- can be checked again at any time. Nothing is ever updated or deleted:
-- the state of a version is the state after its latest event ('received'
-- when it has none), and the history is the events in order.
CREATE TABLE review_events (
    id           INTEGER PRIMARY KEY,
    -- Chosen by the signer: the same action sent twice is kept once.
    action_id    TEXT NOT NULL UNIQUE,
    instance_id  TEXT NOT NULL REFERENCES responses (instance_id),
    kind         TEXT NOT NULL CHECK (kind IN ('approve', 'reject', 'has_issues', 'comment')),
    state_after  TEXT NOT NULL
                 CHECK (state_after IN ('received', 'approved', 'rejected', 'has_issues')),
    -- [{"ref": "/data/age", "text": "..."}] as signed.
    comments     TEXT NOT NULL CHECK (json_valid(comments)),
    -- The token that signed: its person, role and id (never the token).
    reviewer     TEXT NOT NULL,
    role         TEXT NOT NULL CHECK (role IN ('supervisor', 'researcher')),
    token_id     TEXT NOT NULL,
    reviewer_key BLOB NOT NULL CHECK (length(reviewer_key) = 32),
    -- The reviewer's clock, as signed; and central's, when recorded.
    at           TEXT NOT NULL,
    recorded_at  TEXT NOT NULL,
    body         TEXT NOT NULL,
    signature    BLOB NOT NULL CHECK (length(signature) = 64)
);
CREATE INDEX review_events_by_instance ON review_events (instance_id, id);

CREATE TRIGGER review_events_frozen BEFORE UPDATE ON review_events
BEGIN SELECT RAISE(ABORT, 'enumera central: a review event cannot change'); END;

CREATE TRIGGER review_events_kept BEFORE DELETE ON review_events
BEGIN SELECT RAISE(ABORT, 'enumera central: review events are kept, never deleted'); END;
