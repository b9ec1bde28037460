-- A withdrawn clearance is neither decided nor open. It may have no decided_at (cancelled with its application,
-- never sent, or superseded by an amendment), and until now counted as `open` (and `open_at_risk`) in the SLA
-- figures forever, and as an open breach when it had been breached.
--
-- The per-clearance contribution of 0006 now leaves withdrawn requests out of `open` and `open_at_risk` (they
-- still count as requests, breached when they were, and decided only when they carry a decision time). Both
-- figure tables are then computed again from the clearances, so the rows projected before are corrected. The
-- open-breach index leaves withdrawn requests out as well: the breach list and the officer queue read it.

-- No clearance is written while the figures are rebuilt (reads go on): a write committed in between would be
-- counted twice, by its trigger and by the rebuild.
LOCK TABLE clearances IN SHARE MODE;

CREATE OR REPLACE FUNCTION sla_figures_statement(source text) RETURNS text LANGUAGE sql IMMUTABLE AS $fn$
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
        ORDER BY 1, 2, 3
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

-- The figures of every clearance projected so far, counted again.
TRUNCATE sla_daily, sla_monthly;
DO $do$ BEGIN EXECUTE sla_figures_statement('SELECT c.*, 1 AS sign FROM clearances c'); END $do$;

-- Open breaches: breached, undecided and not withdrawn (breaches(open_only=True), and the officer queue's
-- unflagged breaches, oldest due first). Queries name all three conditions for the planner to pick it.
DROP INDEX clearances_open_breaches_due;
CREATE INDEX clearances_open_breaches_due ON clearances (due_at, application_id, agency, revision)
    WHERE breached_at IS NOT NULL AND decided_at IS NULL AND status <> 'withdrawn';
