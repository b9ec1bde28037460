-- Ownership and the officer queue: which organisation owns an application, its revision, whether an
-- expedite request waits for an officer, and which clearances need one. Projections write them from
-- the PermitStatusView; rows projected before this migration get them from their stored snapshot.

ALTER TABLE applications
    ADD COLUMN organisation_id   text,
    ADD COLUMN awaiting_expedite bool NOT NULL DEFAULT false,
    ADD COLUMN revision          int  NOT NULL DEFAULT 1;
ALTER TABLE clearances
    ADD COLUMN needs_officer     bool NOT NULL DEFAULT false;

-- An organisation's applications, newest first (the applicant's permit list pages through it).
CREATE INDEX applications_organisation ON applications (organisation_id, submitted_at DESC, id DESC)
    WHERE organisation_id IS NOT NULL;
-- The officer queue (store/queue.py) reads each kind of work in the order it ranks it, and stops early.
CREATE INDEX applications_awaiting_expedite ON applications (submitted_at) WHERE awaiting_expedite;
-- flagged past the final deadline: by final deadline
CREATE INDEX clearances_needs_officer_final ON clearances (final_deadline_at, application_id, agency, revision)
    WHERE needs_officer AND decided_at IS NULL;
-- flagged for anything else: by due time; those never accepted (no due time) apart
CREATE INDEX clearances_needs_officer_due ON clearances (due_at, application_id, agency, revision)
    WHERE needs_officer AND due_at IS NOT NULL;
CREATE INDEX clearances_needs_officer_undated ON clearances (application_id) WHERE needs_officer AND due_at IS NULL;
-- (open breaches nobody flagged: clearances_open_breaches_due, from 0003)

UPDATE applications SET
    organisation_id = snapshot ->> 'organisation_id',
    awaiting_expedite = coalesce((snapshot ->> 'awaiting_expedite')::bool, false),
    revision = coalesce((snapshot ->> 'revision')::int, 1)
WHERE snapshot ?| ARRAY['organisation_id', 'awaiting_expedite', 'revision'];

UPDATE clearances c SET needs_officer = true
FROM applications a, jsonb_array_elements(CASE jsonb_typeof(a.snapshot -> 'clearances')
                                              WHEN 'array' THEN a.snapshot -> 'clearances' ELSE '[]' END) AS v
WHERE a.id = c.application_id
  AND v ->> 'agency' = c.agency
  AND coalesce((v ->> 'revision')::int, 1) = c.revision
  AND (v ->> 'needs_officer')::bool;
