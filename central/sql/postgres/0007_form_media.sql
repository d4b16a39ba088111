-- Form media (issue 18, item 2; SQLite's 0011_form_media.sql): the files a
-- published form's labels name, served to devices by SHA-256. A file is
-- kept in 1 MiB chunks, so publishing and serving a video never holds it
-- whole and a range read touches only the chunks it needs.
CREATE TABLE form_media_files (
    sha256 TEXT COLLATE "C" PRIMARY KEY,
    size   BIGINT NOT NULL CHECK (size >= 0)
);

CREATE TABLE form_media_chunks (
    sha256 TEXT COLLATE "C" NOT NULL REFERENCES form_media_files (sha256),
    seq    INTEGER NOT NULL CHECK (seq >= 0),
    bytes  BYTEA NOT NULL,
    PRIMARY KEY (sha256, seq)
);

-- Fixed once published: changed files need a new form version.
CREATE TABLE published_media (
    form_id TEXT COLLATE "C" NOT NULL,
    version TEXT COLLATE "C" NOT NULL,
    name    TEXT COLLATE "C" NOT NULL,
    sha256  TEXT COLLATE "C" NOT NULL REFERENCES form_media_files (sha256),
    size    BIGINT NOT NULL CHECK (size >= 0),
    PRIMARY KEY (form_id, version, name)
);
CREATE INDEX published_media_by_sha256 ON published_media (sha256);
