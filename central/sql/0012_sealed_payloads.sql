-- Sealed payloads that stream (issue 18, item 5). SQLite keeps a zeroblob
-- unexpanded only at the end of a record, and `responses.sealed` is not the
-- last column of its row, so a large sealed item written there with
-- zeroblob and blob I/O was first materialised whole in memory. A payload
-- the bundle reader spooled (over 1 MiB) lives here instead, its bytes the
-- LAST column, written with zeroblob + incremental blob I/O and read the
-- same way; its `responses.sealed` / `conflicts.sealed` holds X'' (no age
-- file is empty), so `sealed IS NOT NULL` still says "sealed" and the
-- CHECK on responses still holds. Keyed by instance id and content hash,
-- which name one payload whether it is a response or a conflict. Rows
-- stored before this migration keep their inline `sealed` bytes and read
-- as before (readers take this table's bytes first, then the column), so
-- nothing is moved. docs/ARCHITECTURE.md, "Large values".
CREATE TABLE sealed_payloads (
    instance_id  TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    bytes        BLOB NOT NULL,
    UNIQUE (instance_id, content_hash)
);
