-- The data API's submission pages (issue 19): the current versions of a
-- form in arrival order, read from an index instead of a scan of every
-- response. Partial, so that replaced versions, edit conflicts and held
-- responses are not in it; the index's rowid (SQLite appends it to every
-- index entry) is the arrival order a page's cursor names. Responses are
-- never deleted, so rowids are never reused.
CREATE INDEX responses_current_by_form ON responses (form_id)
    WHERE superseded_by IS NULL AND edit_conflict = 0 AND hold IS NULL;
