-- The data API's submission pages (issue 19; SQLite's 0009_data_api.sql).
--
-- A page's cursor must name a place no later arrival can come before.
-- SQLite has one writer, so its rowids are handed out in commit order;
-- here several servers ingest at once and an identity value is taken
-- before its transaction commits, so a transaction that took arrival 100
-- may commit after one that took 101 was read. Each response therefore
-- records the transaction that inserted it, and pages go in (transaction,
-- arrival) order only up to the oldest transaction still running (its
-- snapshot's xmin): every transaction below that has finished, so nothing
-- can arrive behind a cursor. A restored database has its transaction ids
-- reset to 0 (`central restore`), since another cluster's ids mean nothing here.
ALTER TABLE responses ADD COLUMN ingest_xid xid8 NOT NULL DEFAULT pg_current_xact_id();

CREATE INDEX responses_current_by_form ON responses (form_id, ingest_xid, arrival)
    WHERE superseded_by IS NULL AND NOT edit_conflict AND hold IS NULL;
