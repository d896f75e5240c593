-- Videos and API keys.
CREATE TABLE videos (
    id TEXT PRIMARY KEY,                -- video_<12 hex ms><36 hex>: sorts by creation
    owner TEXT NOT NULL,                -- id of the API key that created it
    model TEXT NOT NULL,
    prompt TEXT NOT NULL,
    size TEXT NOT NULL,
    seconds TEXT NOT NULL,
    quality TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('queued', 'in_progress', 'completed', 'failed')),
    progress INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    completed_at INTEGER,
    expires_at INTEGER,
    remixed_from_video_id TEXT,
    error_code TEXT,
    error_message TEXT,
    input_reference_key TEXT,
    assets_purged INTEGER NOT NULL DEFAULT 0,
    updated_at INTEGER NOT NULL
);
CREATE INDEX videos_owner_id ON videos (owner, id);
CREATE INDEX videos_active ON videos (status) WHERE status IN ('queued', 'in_progress');
CREATE INDEX videos_expiry ON videos (expires_at) WHERE assets_purged = 0 AND expires_at IS NOT NULL;

CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,      -- sha256 of the secret; the secret itself is never stored
    hint TEXT NOT NULL,                 -- e.g. sk-vg-AbCd...wxyz, safe to show
    allowed_models TEXT,                -- JSON array, NULL means every model
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);
