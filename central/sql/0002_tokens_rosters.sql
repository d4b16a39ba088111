-- Enumera central store, schema version 2: per-device bearer tokens for the
-- HTTP server, and participant rosters published for devices to fetch.

-- Only the SHA-256 of a token is kept: a copy of this database does not
-- let anyone upload as a device.
CREATE TABLE device_tokens (
    token_sha256 BLOB PRIMARY KEY CHECK (length(token_sha256) = 32),
    device_id    TEXT NOT NULL,
    created_at   TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX device_tokens_by_device ON device_tokens (device_id);

-- A roster is replaced whole when published again under its name (the
-- roster of a new round); devices merge it into theirs.
CREATE TABLE rosters (
    name         TEXT PRIMARY KEY,
    json         BLOB NOT NULL,
    sha256       TEXT NOT NULL,
    participants INTEGER NOT NULL CHECK (participants >= 0),
    published_at TEXT NOT NULL
) WITHOUT ROWID;
