-- Sealed payloads in chunks (issue 18, item 5), as 0005 does for
-- attachments: a sealed payload the bundle reader spooled (over 1 MiB) is
-- staged and stored here 1 MiB a chunk, and export reads it back a chunk
-- at a time, so no server holds a sealed video whole. Its
-- `responses.sealed` / `conflicts.sealed` is then the empty bytea (no age
-- file is empty): `sealed IS NOT NULL` still says "sealed" and the CHECK
-- on responses holds. Keyed by instance id and content hash, which name
-- one payload whether a response or a conflict holds it. Rows stored
-- before this migration keep their bytes in `sealed` and read as before,
-- so nothing is moved. docs/ARCHITECTURE.md, "PostgreSQL: large values".
CREATE TABLE sealed_chunks (
    instance_id  TEXT COLLATE "C" NOT NULL,
    content_hash TEXT COLLATE "C" NOT NULL,
    seq          INTEGER NOT NULL CHECK (seq >= 0),
    bytes        BYTEA NOT NULL,
    PRIMARY KEY (instance_id, content_hash, seq)
);
-- Ciphertext does not compress.
ALTER TABLE sealed_chunks ALTER COLUMN bytes SET STORAGE EXTERNAL;
