-- Schema version 7: form media (issue 18, item 2), the files a form's labels
-- name (media::image, media::audio, media::video, big-image), fetched with
-- the form from central and checked against the SHA-256 central lists.
--
-- Content-addressed: two form versions naming the same bytes share one
-- row. A file being fetched is written under 'part:' || its SHA-256 with
-- SQLite's incremental blob I/O (never held whole), and takes its real key
-- only once its bytes hash to it; an interrupted fetch leaves a part row
-- that the next fetch starts over.
CREATE TABLE form_media_files (
    sha256  TEXT PRIMARY KEY,
    size    INTEGER NOT NULL CHECK (size >= 0),
    content BLOB NOT NULL
);

-- What each installed instrument needs, as central listed it (or as a
-- form carried by file brought it): known before the files arrive, so a
-- form whose media are incomplete can be reported and fetched again.
CREATE TABLE instrument_media (
    instrument_hash TEXT NOT NULL,
    name            TEXT NOT NULL,
    sha256          TEXT NOT NULL,
    size            INTEGER NOT NULL CHECK (size >= 0),
    PRIMARY KEY (instrument_hash, name)
);
