-- Uploads in parts (issue 18, item 5; docs/HTTP.md "Uploads in parts"): a
-- bundle larger than one request arrives as parts, kept here until the
-- device asks central to finish it, so that a part may reach any server
-- of the database and none holds an upload in memory. Rows go when the
-- upload is finished, refused, or left untouched past its expiry.
-- IF NOT EXISTS: tests rebuild older schemas by undoing later migrations
-- without knowing of these tables.
CREATE TABLE IF NOT EXISTS uploads (
    upload_id TEXT PRIMARY KEY,
    -- Only this device's token may add parts, read or finish it.
    device_id TEXT NOT NULL,
    size INTEGER NOT NULL CHECK (size > 0),
    sha256 TEXT NOT NULL CHECK (length(sha256) = 64),
    -- Bytes received from the start: parts arrive in order, so this is
    -- the next part's offset.
    received INTEGER NOT NULL DEFAULT 0 CHECK (received BETWEEN 0 AND size),
    created_at INTEGER NOT NULL,
    -- Unix seconds of the last part: an upload untouched for the expiry
    -- (24 h) is dropped.
    touched_at INTEGER NOT NULL
);

CREATE INDEX IF NOT EXISTS uploads_by_device ON uploads (device_id);
CREATE INDEX IF NOT EXISTS uploads_by_touch ON uploads (touched_at);

CREATE TABLE IF NOT EXISTS upload_parts (
    upload_id TEXT NOT NULL REFERENCES uploads (upload_id) ON DELETE CASCADE,
    part_offset INTEGER NOT NULL CHECK (part_offset >= 0),
    data BLOB NOT NULL CHECK (length(data) > 0),
    PRIMARY KEY (upload_id, part_offset)
) WITHOUT ROWID;
