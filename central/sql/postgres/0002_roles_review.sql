-- Enumera central store in PostgreSQL, schema version 2: tokens with roles
-- and review events (issue 17); SQLite's schema versions 6 and 7, with
-- the same tables, checks and rules (central/sql/0006_roles.sql,
-- central/sql/0007_review.sql say why each is there).

CREATE TABLE tokens (
    token_sha256 BYTEA PRIMARY KEY CHECK (length(token_sha256) = 32),
    role         TEXT COLLATE "C" NOT NULL
                 CHECK (role IN ('device', 'supervisor', 'researcher', 'admin')),
    subject      TEXT COLLATE "C" NOT NULL CHECK (length(trim(subject)) > 0),
    -- {"districts": [...], "devices": [...]}: a supervisor's reach (text,
    -- as signed and as SQLite keeps it; checked to be JSON).
    scope        TEXT NOT NULL DEFAULT '{"districts":[],"devices":[]}'
                 CHECK (scope::jsonb IS NOT NULL),
    public_key   BYTEA CHECK (public_key IS NULL OR length(public_key) = 32),
    created_at   TEXT COLLATE "C" NOT NULL,
    revoked_at   TEXT COLLATE "C",
    CHECK ((role = 'supervisor') =
           (coalesce(jsonb_array_length(scope::jsonb -> 'districts'), 0)
            + coalesce(jsonb_array_length(scope::jsonb -> 'devices'), 0) > 0)),
    CHECK ((role = 'device') = (public_key IS NULL))
);
CREATE INDEX tokens_by_subject ON tokens (role, subject);

INSERT INTO tokens (token_sha256, role, subject, created_at)
SELECT token_sha256, 'device', device_id, created_at FROM device_tokens;
DROP TABLE device_tokens;

CREATE TRIGGER tokens_frozen BEFORE UPDATE OF
    token_sha256, role, subject, scope, public_key, created_at ON tokens FOR EACH ROW
EXECUTE FUNCTION enumera_refuse('a token cannot change, only be revoked');

CREATE TRIGGER tokens_revoked_once BEFORE UPDATE OF revoked_at ON tokens FOR EACH ROW
WHEN (OLD.revoked_at IS NOT NULL)
EXECUTE FUNCTION enumera_refuse('a revoked token stays revoked');

CREATE TRIGGER tokens_kept BEFORE DELETE ON tokens FOR EACH ROW
EXECUTE FUNCTION enumera_refuse('tokens are revoked, never deleted');

CREATE TABLE review_events (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    action_id    TEXT COLLATE "C" NOT NULL UNIQUE,
    instance_id  TEXT COLLATE "C" NOT NULL REFERENCES responses (instance_id),
    kind         TEXT COLLATE "C" NOT NULL
                 CHECK (kind IN ('approve', 'reject', 'has_issues', 'comment')),
    state_after  TEXT COLLATE "C" NOT NULL
                 CHECK (state_after IN ('received', 'approved', 'rejected', 'has_issues')),
    comments     TEXT NOT NULL CHECK (comments::jsonb IS NOT NULL),
    reviewer     TEXT NOT NULL,
    role         TEXT COLLATE "C" NOT NULL CHECK (role IN ('supervisor', 'researcher')),
    token_id     TEXT COLLATE "C" NOT NULL,
    reviewer_key BYTEA NOT NULL CHECK (length(reviewer_key) = 32),
    at           TEXT COLLATE "C" NOT NULL,
    recorded_at  TEXT COLLATE "C" NOT NULL,
    body         TEXT NOT NULL,
    signature    BYTEA NOT NULL CHECK (length(signature) = 64)
);
CREATE INDEX review_events_by_instance ON review_events (instance_id, id);

CREATE TRIGGER review_events_frozen BEFORE UPDATE ON review_events FOR EACH ROW
EXECUTE FUNCTION enumera_refuse('a review event cannot change');

CREATE TRIGGER review_events_kept BEFORE DELETE ON review_events FOR EACH ROW
EXECUTE FUNCTION enumera_refuse('review events are kept, never deleted');
