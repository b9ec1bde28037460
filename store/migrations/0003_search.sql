-- Search and reports: trigram search over applications, indexes for the breach list and
-- outages, and `sla_daily`, the SLA figures per agency and Jakarta request day that
-- `GET /v1/sla/agencies` reads instead of scanning every clearance.

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
CREATE INDEX clearances_open_breaches_due ON clearances (due_at, application_id, agency, revision)
    WHERE breached_at IS NOT NULL AND decided_at IS NULL;

-- Outage episodes overlapping a window: by agency, those still open found quickly.
CREATE INDEX agency_outages_open ON agency_outages (agency) WHERE recovered_at IS NULL;

-- SLA figures: what each clearance counts for, summed per agency, Jakarta day of the request
-- (accepted_at when requested_at is unknown) and turnaround in business days (-1: none yet),
-- so that median and p90 come exactly from the histogram. Kept by statement triggers on
-- clearances: every write, COPY included, adds its new rows and subtracts its old ones.
CREATE TABLE sla_daily (
    agency            text NOT NULL,
    day               date NOT NULL,
    turnaround        int  NOT NULL,
    requests          int NOT NULL DEFAULT 0,
    decided           int NOT NULL DEFAULT 0,
    met               int NOT NULL DEFAULT 0,
    breached          int NOT NULL DEFAULT 0,
    open              int NOT NULL DEFAULT 0,
    open_at_risk      int NOT NULL DEFAULT 0,
    deemed_approvals  int NOT NULL DEFAULT 0,
    PRIMARY KEY (agency, day, turnaround)
);
CREATE INDEX sla_daily_day ON sla_daily (day);

-- The statement adding the contribution of the clearances in `source` (a query with a `sign`
-- column: 1 adds, -1 removes). The trigger runs it itself: transition tables are visible only there.
CREATE FUNCTION sla_daily_statement(source text) RETURNS text LANGUAGE sql IMMUTABLE AS $fn$
    SELECT format($sql$
        INSERT INTO sla_daily AS s (agency, day, turnaround, requests, decided, met, breached,
                                    open, open_at_risk, deemed_approvals)
        SELECT agency, day, turnaround, sum(sign), sum(sign * decided), sum(sign * met), sum(sign * breached),
               sum(sign * open), sum(sign * open_at_risk), sum(sign * deemed)
        FROM (
            SELECT c.agency,
                   (coalesce(c.requested_at, c.accepted_at) AT TIME ZONE 'Asia/Jakarta')::date AS day,
                   coalesce(c.turnaround_business_days, -1) AS turnaround,
                   c.sign,
                   (c.decided_at IS NOT NULL)::int AS decided,
                   (c.sla IS NOT DISTINCT FROM 'met')::int AS met,
                   (c.breached_at IS NOT NULL)::int AS breached,
                   (c.decided_at IS NULL)::int AS open,
                   (c.decided_at IS NULL AND c.sla IS NOT DISTINCT FROM 'at_risk')::int AS open_at_risk,
                   (c.outcome IS NOT DISTINCT FROM 'deemed_approved')::int AS deemed
            FROM (%s) c
            WHERE coalesce(c.requested_at, c.accepted_at) IS NOT NULL
        ) contribution
        GROUP BY agency, day, turnaround
        HAVING sum(sign) <> 0 OR sum(sign * decided) <> 0 OR sum(sign * met) <> 0 OR sum(sign * breached) <> 0
            OR sum(sign * open) <> 0 OR sum(sign * open_at_risk) <> 0 OR sum(sign * deemed) <> 0
        ORDER BY agency, day, turnaround   -- rows locked in one order: concurrent writers do not deadlock here
        ON CONFLICT (agency, day, turnaround) DO UPDATE SET
            requests = s.requests + excluded.requests,
            decided = s.decided + excluded.decided,
            met = s.met + excluded.met,
            breached = s.breached + excluded.breached,
            open = s.open + excluded.open,
            open_at_risk = s.open_at_risk + excluded.open_at_risk,
            deemed_approvals = s.deemed_approvals + excluded.deemed_approvals
    $sql$, source)
$fn$;

CREATE FUNCTION sla_daily_on_clearances() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    IF TG_OP = 'INSERT' THEN
        EXECUTE sla_daily_statement('SELECT n.*, 1 AS sign FROM new_rows n');
    ELSIF TG_OP = 'DELETE' THEN
        EXECUTE sla_daily_statement('SELECT o.*, -1 AS sign FROM old_rows o');
    ELSIF TG_OP = 'UPDATE' THEN
        EXECUTE sla_daily_statement('SELECT n.*, 1 AS sign FROM new_rows n UNION ALL SELECT o.*, -1 AS sign FROM old_rows o');
    ELSE  -- TRUNCATE
        DELETE FROM sla_daily;
    END IF;
    RETURN NULL;
END
$fn$;

CREATE TRIGGER sla_daily_insert AFTER INSERT ON clearances
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION sla_daily_on_clearances();
CREATE TRIGGER sla_daily_update AFTER UPDATE ON clearances
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION sla_daily_on_clearances();
CREATE TRIGGER sla_daily_delete AFTER DELETE ON clearances
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION sla_daily_on_clearances();
CREATE TRIGGER sla_daily_truncate AFTER TRUNCATE ON clearances
    FOR EACH STATEMENT EXECUTE FUNCTION sla_daily_on_clearances();

-- Clearances projected before this migration.
DO $do$ BEGIN EXECUTE sla_daily_statement('SELECT c.*, 1 AS sign FROM clearances c'); END $do$;
