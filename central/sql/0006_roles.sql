-- Enumera central store, schema version 6: tokens with roles (issue 17).
--
-- Every bearer token has a role: device, supervisor, researcher or admin
-- (central/src/roles.rs says what each may do). Only the token's SHA-256
-- is kept, as before. For the people's roles, the Ed25519 public key
-- derived from the token is kept too: review actions are signed with the
-- token's key, and stay verifiable after the token is revoked, which is
-- why a token is marked revoked rather than deleted.

CREATE TABLE tokens (
    token_sha256 BLOB PRIMARY KEY CHECK (length(token_sha256) = 32),
    role         TEXT NOT NULL CHECK (role IN ('device', 'supervisor', 'researcher', 'admin')),
    -- The device id for a device token; the person's name otherwise.
    subject      TEXT NOT NULL CHECK (length(trim(subject)) > 0),
    -- {"districts": [...], "devices": [...]}: a supervisor's reach. Only
    -- supervisors have one, and they must.
    scope        TEXT NOT NULL DEFAULT '{"districts":[],"devices":[]}' CHECK (json_valid(scope)),
    public_key   BLOB CHECK (public_key IS NULL OR length(public_key) = 32),
    created_at   TEXT NOT NULL,
    revoked_at   TEXT,
    CHECK ((role = 'supervisor') = (coalesce(json_array_length(scope, '$.districts'), 0)
                                    + coalesce(json_array_length(scope, '$.devices'), 0) > 0)),
    CHECK ((role = 'device') = (public_key IS NULL))
) WITHOUT ROWID;
CREATE INDEX tokens_by_subject ON tokens (role, subject);

INSERT INTO tokens (token_sha256, role, subject, created_at)
SELECT token_sha256, 'device', device_id, created_at FROM device_tokens;
DROP TABLE device_tokens;

-- What a token is never changes; it is only revoked, once.
CREATE TRIGGER tokens_frozen BEFORE UPDATE OF
    token_sha256, role, subject, scope, public_key, created_at ON tokens
BEGIN SELECT RAISE(ABORT, 'enumera central: a token cannot change, only be revoked'); END;

CREATE TRIGGER tokens_revoked_once BEFORE UPDATE OF revoked_at ON tokens
WHEN OLD.revoked_at IS NOT NULL
BEGIN SELECT RAISE(ABORT, 'enumera central: a revoked token stays revoked'); END;

CREATE TRIGGER tokens_kept BEFORE DELETE ON tokens
BEGIN SELECT RAISE(ABORT, 'enumera central: tokens are revoked, never deleted'); END;
