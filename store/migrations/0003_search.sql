-- Search and reports: trigram search over applications, and indexes for the breach list and
-- outages. (The SLA figures `GET /v1/sla/agencies` reads are kept in 0006_sla_figures.sql.)

CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- One lower-cased text per application: applicant, title, locations, permit number.
-- (`||` and lower() are immutable, as a generated column requires; concat_ws is not.)
ALTER TABLE applications ADD COLUMN search_text text GENERATED ALWAYS AS (
    lower(applicant_company || ' ' || production_title || ' ' || location_names || ' ' || coalesce(permit_number, ''))
) STORED;
CREATE INDEX applications_search ON applications USING gin (search_text gin_trgm_ops);

-- The breach list, oldest due first.
CREATE INDEX clearances_breaches_due ON clearances (due_at, application_id, agency, revision)
    WHERE breached_at IS NOT NULL;
-- Open breaches: breached, undecided and not withdrawn (breaches(open_only=True), and the officer queue's
-- unflagged breaches, oldest due first). Queries name all three conditions for the planner to pick it.
CREATE INDEX clearances_open_breaches_due ON clearances (due_at, application_id, agency, revision)
    WHERE breached_at IS NOT NULL AND decided_at IS NULL AND status <> 'withdrawn';

-- Outage episodes overlapping a window: by agency, those still open found quickly.
CREATE INDEX agency_outages_open ON agency_outages (agency) WHERE recovered_at IS NULL;
