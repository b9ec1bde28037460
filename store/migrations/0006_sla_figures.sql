-- SLA figures: what each clearance counts for, summed per agency, Jakarta day of the request (accepted_at
-- when requested_at is unknown) and turnaround in business days (-1: none yet), so that median and p90 come
-- exactly from the histogram. `GET /v1/sla/agencies` reads them instead of scanning every clearance.
--
-- `sla_daily` holds them per day; `sla_monthly` holds the same figures summed per Jakarta calendar month
-- (`month` is its first day). A report window then reads its whole months from `sla_monthly` and at most two
-- partial months of days from `sla_daily`, instead of every day of a long window.
--
-- Both tables are kept by statement triggers on clearances: every write, COPY included, adds its new rows and
-- subtracts its old ones. The contribution of a statement's rows is computed once (per day) by
-- sla_figures_statement and added to both tables, in one statement.

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

CREATE TABLE sla_monthly (
    agency            text NOT NULL,
    month             date NOT NULL CHECK (extract(day FROM month) = 1),
    turnaround        int  NOT NULL,
    requests          int NOT NULL DEFAULT 0,
    decided           int NOT NULL DEFAULT 0,
    met               int NOT NULL DEFAULT 0,
    breached          int NOT NULL DEFAULT 0,
    open              int NOT NULL DEFAULT 0,
    open_at_risk      int NOT NULL DEFAULT 0,
    deemed_approvals  int NOT NULL DEFAULT 0,
    PRIMARY KEY (agency, month, turnaround)
);
CREATE INDEX sla_monthly_month ON sla_monthly (month);

-- The statement adding the contribution of the clearances in `source` (a query with a `sign` column:
-- 1 adds, -1 removes) to sla_daily and sla_monthly. Run by the trigger itself: transition tables are
-- visible only there.
--
-- A withdrawn clearance is neither decided nor open. It may have no decided_at (cancelled with its
-- application, never sent, or superseded by an amendment): it still counts as a request, as breached when it
-- was, and as decided only when it carries a decision time, but never as `open` or `open_at_risk`.
CREATE FUNCTION sla_figures_statement(source text) RETURNS text LANGUAGE sql IMMUTABLE AS $fn$
    SELECT format($sql$
        WITH contribution AS MATERIALIZED (
            SELECT agency, day, turnaround, sum(sign) AS requests, sum(sign * decided) AS decided,
                   sum(sign * met) AS met, sum(sign * breached) AS breached, sum(sign * open) AS open,
                   sum(sign * open_at_risk) AS open_at_risk, sum(sign * deemed) AS deemed_approvals
            FROM (
                SELECT c.agency,
                       (coalesce(c.requested_at, c.accepted_at) AT TIME ZONE 'Asia/Jakarta')::date AS day,
                       coalesce(c.turnaround_business_days, -1) AS turnaround,
                       c.sign,
                       (c.decided_at IS NOT NULL)::int AS decided,
                       (c.sla IS NOT DISTINCT FROM 'met')::int AS met,
                       (c.breached_at IS NOT NULL)::int AS breached,
                       (c.decided_at IS NULL AND c.status <> 'withdrawn')::int AS open,
                       (c.decided_at IS NULL AND c.status <> 'withdrawn'
                        AND c.sla IS NOT DISTINCT FROM 'at_risk')::int AS open_at_risk,
                       (c.outcome IS NOT DISTINCT FROM 'deemed_approved')::int AS deemed
                FROM (%s) c
                WHERE coalesce(c.requested_at, c.accepted_at) IS NOT NULL
            ) one_per_clearance
            GROUP BY agency, day, turnaround
            HAVING sum(sign) <> 0 OR sum(sign * decided) <> 0 OR sum(sign * met) <> 0 OR sum(sign * breached) <> 0
                OR sum(sign * open) <> 0 OR sum(sign * open_at_risk) <> 0 OR sum(sign * deemed) <> 0
        ), daily AS (
            INSERT INTO sla_daily AS s (agency, day, turnaround, requests, decided, met, breached,
                                        open, open_at_risk, deemed_approvals)
            SELECT agency, day, turnaround, requests, decided, met, breached, open, open_at_risk, deemed_approvals
            FROM contribution
            ORDER BY agency, day, turnaround   -- rows locked in one order: concurrent writers do not deadlock here
            ON CONFLICT (agency, day, turnaround) DO UPDATE SET
                requests = s.requests + excluded.requests,
                decided = s.decided + excluded.decided,
                met = s.met + excluded.met,
                breached = s.breached + excluded.breached,
                open = s.open + excluded.open,
                open_at_risk = s.open_at_risk + excluded.open_at_risk,
                deemed_approvals = s.deemed_approvals + excluded.deemed_approvals
            RETURNING 1
        )
        INSERT INTO sla_monthly AS s (agency, month, turnaround, requests, decided, met, breached,
                                      open, open_at_risk, deemed_approvals)
        SELECT agency, date_trunc('month', day::timestamp)::date, turnaround, sum(requests), sum(decided), sum(met),
               sum(breached), sum(open), sum(open_at_risk), sum(deemed_approvals)
        FROM contribution
        GROUP BY agency, date_trunc('month', day::timestamp)::date, turnaround
        HAVING sum(requests) <> 0 OR sum(decided) <> 0 OR sum(met) <> 0 OR sum(breached) <> 0
            OR sum(open) <> 0 OR sum(open_at_risk) <> 0 OR sum(deemed_approvals) <> 0
        ORDER BY 1, 2, 3   -- agency, month, turnaround: rows locked in one order here as well
        ON CONFLICT (agency, month, turnaround) DO UPDATE SET
            requests = s.requests + excluded.requests,
            decided = s.decided + excluded.decided,
            met = s.met + excluded.met,
            breached = s.breached + excluded.breached,
            open = s.open + excluded.open,
            open_at_risk = s.open_at_risk + excluded.open_at_risk,
            deemed_approvals = s.deemed_approvals + excluded.deemed_approvals
    $sql$, source)
$fn$;

CREATE FUNCTION sla_figures_on_clearances() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    IF TG_OP = 'INSERT' THEN
        EXECUTE sla_figures_statement('SELECT n.*, 1 AS sign FROM new_rows n');
    ELSIF TG_OP = 'DELETE' THEN
        EXECUTE sla_figures_statement('SELECT o.*, -1 AS sign FROM old_rows o');
    ELSIF TG_OP = 'UPDATE' THEN
        EXECUTE sla_figures_statement('SELECT n.*, 1 AS sign FROM new_rows n UNION ALL SELECT o.*, -1 AS sign FROM old_rows o');
    ELSE  -- TRUNCATE
        DELETE FROM sla_daily;
        DELETE FROM sla_monthly;
    END IF;
    RETURN NULL;
END
$fn$;

CREATE TRIGGER sla_figures_insert AFTER INSERT ON clearances
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION sla_figures_on_clearances();
CREATE TRIGGER sla_figures_update AFTER UPDATE ON clearances
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION sla_figures_on_clearances();
CREATE TRIGGER sla_figures_delete AFTER DELETE ON clearances
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION sla_figures_on_clearances();
CREATE TRIGGER sla_figures_truncate AFTER TRUNCATE ON clearances
    FOR EACH STATEMENT EXECUTE FUNCTION sla_figures_on_clearances();

-- Clearances projected before this migration. CREATE TRIGGER holds a lock on clearances that no writer gets
-- past until this migration commits: no write is left out of this count, nor counted here and by a trigger.
DO $do$ BEGIN EXECUTE sla_figures_statement('SELECT c.*, 1 AS sign FROM clearances c'); END $do$;
