-- Enumera central store, schema version 4: who may replace a response, and
-- whether a response was filled with the form central published (issue 15).
--
-- Authorship: only the device that made a response may replace it with an
-- edit, or a device central authorised (edit_grants: the review flow's
-- return). An edit takes effect only once central holds the version it
-- names, since only then is that version's author known; until then it is
-- held aside as a pending edit.

-- Why a held response is not current, besides being replaced by an edit
-- (superseded_by) or an edit conflict (edit_conflict):
--   pending_edit        an edit of a version central has not received yet
--   not_author          an edit of a response another device made
--   edit_of_superseded  a pending edit that found its version already replaced
--   contested           another device sent other content under this
--                       instance id: which device made it cannot be known,
--                       so neither version is exported until someone decides
ALTER TABLE responses ADD COLUMN hold TEXT
    CHECK (hold IN ('pending_edit', 'not_author', 'edit_of_superseded', 'contested'));

-- Central's authorisation for a device other than the author to replace a
-- response (a supervisor's return of a response to another tablet). Nothing
-- writes it yet: the review flow will, before the device's edit arrives.
CREATE TABLE edit_grants (
    instance_id TEXT NOT NULL,
    device_id   TEXT NOT NULL,
    reason      TEXT NOT NULL,
    granted_at  TEXT NOT NULL,
    PRIMARY KEY (instance_id, device_id)
) WITHOUT ROWID;

-- What earlier versions accepted is judged again by the rule above: an edit
-- of another device's response is held aside and the version it replaced is
-- current again; an edit whose version never arrived waits for it; a
-- response another device sent other content for is contested.
DROP TRIGGER responses_superseded_once;
DROP INDEX responses_one_edit;

UPDATE responses SET hold = 'not_author'
WHERE deprecated_id IS NOT NULL AND edit_conflict = 0
  AND EXISTS (SELECT 1 FROM responses t
              WHERE t.instance_id = responses.deprecated_id
                AND t.device_id <> responses.device_id);
UPDATE responses SET superseded_by = NULL
WHERE superseded_by IN (SELECT instance_id FROM responses WHERE hold = 'not_author');
UPDATE responses SET hold = 'pending_edit'
WHERE deprecated_id IS NOT NULL AND edit_conflict = 0 AND hold IS NULL
  AND NOT EXISTS (SELECT 1 FROM responses t WHERE t.instance_id = responses.deprecated_id);
UPDATE responses SET hold = 'contested'
WHERE hold IS NULL
  AND EXISTS (SELECT 1 FROM conflicts c
              WHERE c.instance_id = responses.instance_id AND c.kind = 'different_content'
                AND c.device_id <> responses.device_id);

CREATE TRIGGER responses_superseded_once BEFORE UPDATE OF superseded_by ON responses
WHEN OLD.superseded_by IS NOT NULL
BEGIN SELECT RAISE(ABORT, 'enumera central: a replaced version stays replaced'); END;

-- At most one accepted edit per version (a contested edit stays accepted:
-- the version it replaced stays replaced).
CREATE UNIQUE INDEX responses_one_edit ON responses (deprecated_id)
    WHERE deprecated_id IS NOT NULL AND edit_conflict = 0
      AND coalesce(hold, 'contested') = 'contested';

-- Edits waiting for their version, looked up each time a response arrives
-- (without it every ingest would scan every response held).
CREATE INDEX responses_pending_edits ON responses (deprecated_id)
    WHERE hold = 'pending_edit';

-- The authorship rule, enforced by the database whatever code writes to it.
CREATE TRIGGER responses_replaced_by_author BEFORE UPDATE OF superseded_by ON responses
WHEN NEW.superseded_by IS NOT NULL AND NOT EXISTS (
    SELECT 1 FROM responses e
    WHERE e.instance_id = NEW.superseded_by AND e.deprecated_id = OLD.instance_id
      AND (e.device_id = OLD.device_id
           OR EXISTS (SELECT 1 FROM edit_grants g
                      WHERE g.instance_id = OLD.instance_id AND g.device_id = e.device_id)))
BEGIN
    SELECT RAISE(ABORT,
        'enumera central: only the device that made a response, or one central authorised, may replace it');
END;

CREATE TRIGGER responses_arrive_unreplaced BEFORE INSERT ON responses
WHEN NEW.superseded_by IS NOT NULL
BEGIN SELECT RAISE(ABORT, 'enumera central: a response is replaced only by an edit that follows it'); END;

-- A pending edit settles once; a current response is held aside only when
-- contested; nothing held aside becomes current again by itself.
CREATE TRIGGER responses_hold_settles BEFORE UPDATE OF hold ON responses
WHEN NOT (OLD.hold IS 'pending_edit' OR NEW.hold IS 'contested')
BEGIN SELECT RAISE(ABORT, 'enumera central: a held-aside response stays held aside'); END;

-- Form integrity: whether a published form requires sealing (names
-- researcher keys), so that a plaintext response to it is held aside; and
-- whether it is still served to devices (`central unpublish`). An
-- unpublished form stays here: responses to it are still checked against
-- it and exported with it.
ALTER TABLE published ADD COLUMN sealed INTEGER NOT NULL DEFAULT 0 CHECK (sealed IN (0, 1));
UPDATE published
SET sealed = coalesce(json_array_length(CAST(json AS TEXT), '$.settings.public_keys') > 0, 0);
ALTER TABLE published ADD COLUMN unpublished_at TEXT;
