-- Attachments in chunks (issue 18, item 5): a video is written from the
-- bundle reader's spool file and read back by export and the data API a
-- chunk (1 MiB) at a time, so no server holds it whole, and no single
-- value nears bytea's 1 GB cap. A `blobs` row whose `bytes` is NULL has its
-- content here, in `seq` order; rows stored before this migration keep
-- their `bytes` (readers take either), so nothing is moved.
-- docs/ARCHITECTURE.md, "PostgreSQL: large values".
CREATE TABLE blob_chunks (
    sha256 TEXT COLLATE "C" NOT NULL REFERENCES blobs (sha256) ON DELETE CASCADE,
    seq    INTEGER NOT NULL CHECK (seq >= 0),
    bytes  BYTEA NOT NULL,
    PRIMARY KEY (sha256, seq)
);
-- Already compressed media and ciphertext: do not try to compress chunks.
ALTER TABLE blob_chunks ALTER COLUMN bytes SET STORAGE EXTERNAL;

ALTER TABLE blobs ALTER COLUMN bytes DROP NOT NULL;
