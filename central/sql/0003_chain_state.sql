-- Enumera central store, schema version 3: how far each device's outbox
-- chain is whole, so that checking it after an ingest reads only what lies
-- past that point rather than the device's whole history.

-- Entries 1..=through_seq of the device are all held, one per sequence
-- number, each linking to the one before; through_hash is the entry hash
-- at through_seq. A device without a row has not been checked yet
-- (through_seq 0): the next ingest walks its chain once and adds the row.
CREATE TABLE chain_state (
    device_id    TEXT PRIMARY KEY REFERENCES devices (device_id),
    through_seq  INTEGER NOT NULL CHECK (through_seq >= 1),
    through_hash TEXT NOT NULL
) WITHOUT ROWID;

-- Sequence numbers at or below through_seq where a second, different entry
-- arrived later: forks inside the whole part of the chain.
CREATE TABLE chain_forks (
    device_id TEXT NOT NULL REFERENCES devices (device_id),
    seq       INTEGER NOT NULL,
    PRIMARY KEY (device_id, seq)
) WITHOUT ROWID;
