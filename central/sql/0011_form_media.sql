-- Form media (issue 18, item 2): the files a published form's labels name
-- (media::image, media::audio, media::video, big-image), published with it
-- and served to devices by SHA-256. Content-addressed: versions naming the
-- same bytes share one row. Large files are written and read with SQLite's
-- incremental blob I/O, never held whole.
CREATE TABLE form_media_blobs (
    sha256 TEXT PRIMARY KEY,
    size   INTEGER NOT NULL CHECK (size >= 0),
    bytes  BLOB NOT NULL
);

-- A published version's media are fixed once published: changed files
-- need a new form version (as ODK Central publishes a draft's attachments
-- with a new version), so what a device fetched for a version stays right.
CREATE TABLE published_media (
    form_id TEXT NOT NULL,
    version TEXT NOT NULL,
    name    TEXT NOT NULL,
    sha256  TEXT NOT NULL REFERENCES form_media_blobs (sha256),
    size    INTEGER NOT NULL CHECK (size >= 0),
    PRIMARY KEY (form_id, version, name)
);
CREATE INDEX published_media_by_sha256 ON published_media (sha256);
