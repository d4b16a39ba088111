-- Schema version 3: which central key acknowledged each outbox entry, so
-- that a response leaves the device only on a receipt from the central key
-- an operator pinned (issue 15, finding 9). A key learned from the first
-- receipt (trust on first use) still marks responses sent, so that they
-- stop being uploaded, but purging them waits until that key is pinned.

-- The hex Ed25519 key of the central whose receipt marked the entry sent.
-- Receipts applied before this version were all from the key the device
-- recorded (any other was refused), so that key is theirs.
ALTER TABLE outbox ADD COLUMN sent_by TEXT;
UPDATE outbox SET sent_by = (SELECT value FROM settings WHERE key = 'sync.central_public_key')
WHERE sent_at IS NOT NULL;

-- Pinning another key than the one that acknowledged a response puts the
-- response back in the outbox: 'sent' may return to 'finalized' (it can
-- then be neither changed nor purged, only sent again).
DROP TRIGGER responses_state_flow;
CREATE TRIGGER responses_state_flow BEFORE UPDATE OF state ON responses
WHEN NOT (OLD.state = NEW.state
       OR (OLD.state = 'draft' AND NEW.state IN ('finalized', 'discarded'))
       OR (OLD.state = 'finalized' AND NEW.state = 'sent')
       OR (OLD.state = 'sent' AND NEW.state = 'finalized'))
BEGIN SELECT RAISE(ABORT, 'enumera: forbidden response state change'); END;

-- A sent response is purged only when the central key that acknowledged it
-- is the one pinned.
CREATE TRIGGER responses_purged_on_pinned_receipt BEFORE DELETE ON responses
WHEN OLD.state = 'sent' AND NOT EXISTS (
    SELECT 1 FROM outbox o
    WHERE o.instance_id = OLD.instance_id
      AND o.sent_by = (SELECT value FROM settings WHERE key = 'sync.central_public_key')
      AND (SELECT value FROM settings WHERE key = 'sync.central_key_pinned') = '1')
BEGIN
    SELECT RAISE(ABORT,
        'enumera: a sent response is purged only on a receipt from the central key pinned at set-up');
END;
