-- Enumera central store, schema version 5: per-device quotas (issue 15,
-- finding 13). What each bundle newly stored, and indexes that let an
-- ingest count a device's last 24 hours without reading its history.

-- Bytes of submissions and attachments this bundle newly stored (0 for
-- bundles ingested before this version).
ALTER TABLE bundles ADD COLUMN stored_bytes INTEGER NOT NULL DEFAULT 0
    CHECK (stored_bytes >= 0);
CREATE INDEX bundles_by_device ON bundles (device_id, received_at);
CREATE INDEX entries_by_device_time ON entries (device_id, received_at);
