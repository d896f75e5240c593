-- Remote providers: which provider took the video, its task there, and provider options.
ALTER TABLE videos ADD COLUMN provider TEXT;
ALTER TABLE videos ADD COLUMN upstream_task_id TEXT;
ALTER TABLE videos ADD COLUMN upstream_state TEXT;              -- JSON object owned by the adapter
ALTER TABLE videos ADD COLUMN submit_state TEXT NOT NULL DEFAULT 'none';  -- none | submitting | submitted
ALTER TABLE videos ADD COLUMN metadata TEXT;                    -- JSON object of provider options
