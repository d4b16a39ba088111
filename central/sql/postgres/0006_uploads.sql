-- Uploads in parts (issue 18, item 5), as in SQLite's 0010_uploads.sql: a
-- part may reach any server of the database; a row lock on the upload
-- orders its parts.
CREATE TABLE uploads (
    upload_id TEXT PRIMARY KEY,
    device_id TEXT NOT NULL,
    size BIGINT NOT NULL CHECK (size > 0),
    sha256 TEXT NOT NULL CHECK (length(sha256) = 64),
    received BIGINT NOT NULL DEFAULT 0 CHECK (received BETWEEN 0 AND size),
    created_at BIGINT NOT NULL,
    touched_at BIGINT NOT NULL
);

CREATE INDEX uploads_by_device ON uploads (device_id);
CREATE INDEX uploads_by_touch ON uploads (touched_at);

CREATE TABLE upload_parts (
    upload_id TEXT NOT NULL REFERENCES uploads (upload_id) ON DELETE CASCADE,
    part_offset BIGINT NOT NULL CHECK (part_offset >= 0),
    data BYTEA NOT NULL CHECK (length(data) > 0),
    PRIMARY KEY (upload_id, part_offset)
);
