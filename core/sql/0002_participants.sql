-- Schema version 2: the participant roster and retention settings.
--
-- Version 1 kept participant ids only as free text on responses; every id
-- already used gets a roster row (source 'migrated') so that links survive.

CREATE TABLE participants (
    participant_id TEXT PRIMARY KEY,
    -- JSON objects of field name -> text. Personal fields (names, phone
    -- numbers) are kept apart so that exports and screens can leave them out.
    display        TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(display)),
    personal       TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(personal)),
    source         TEXT NOT NULL CHECK (source IN ('device', 'roster', 'migrated')),
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);

INSERT INTO participants (participant_id, source, created_at, updated_at)
SELECT participant_id, 'migrated', MIN(created_at), MAX(updated_at)
FROM responses
WHERE participant_id IS NOT NULL
GROUP BY participant_id;

CREATE INDEX responses_by_participant
    ON responses (participant_id, form_id, round, finalized_at)
    WHERE participant_id IS NOT NULL;

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
