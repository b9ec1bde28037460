-- Projections PostgreSQL refused for a reason a retry cannot fix (bad data, a constraint): one row per
-- workflow, its latest refused seq. Operators see them in /healthz; a later successful projection clears it.
CREATE TABLE IF NOT EXISTS projection_failures (
    workflow_id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    error TEXT NOT NULL,
    failed_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
