-- Each Idempotency-Key a caller used, with the fingerprint of the request it answered (method, path, body):
-- the same key again with another request is refused instead of silently answering the first one.
CREATE TABLE IF NOT EXISTS idempotency_keys (
    scope TEXT NOT NULL,             -- the organisation of an applicant, else the account
    key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,       -- sha256 of "METHOD path" and the canonical body
    route TEXT NOT NULL,             -- "METHOD path", to say where the key was used
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, key)
);
