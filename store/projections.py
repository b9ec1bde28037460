"""Project a workflow's PermitStatusView into the read model: idempotent, and never backwards."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime

import asyncpg

from schemas.status import FINAL_CLEARANCE_STATUSES, ClearanceView, PermitStatusView, TimelineEvent
from store import audit, payments
from store.pool import acquire

Turnaround = Callable[[datetime, datetime], int]
LOCK_NAMESPACE = 0x4A4650  # "JFP": with hashtext(application id), the per-application projection lock

_FINAL_STATUSES = sorted(status.value for status in FINAL_CLEARANCE_STATUSES)

_UPSERT_APPLICATION = """
INSERT INTO applications AS a (
    id, status, rule_set, submitted_at, production_title, applicant_company, location_names, agencies,
    permit_number, issued_at, fees_total_idr, paid_at, next_deadline, earliest_feasible_start,
    organisation_id, revision, awaiting_expedite, snapshot, projected_seq, projected_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18::text::jsonb, $19, now())
ON CONFLICT (id) DO UPDATE SET
    status = EXCLUDED.status, rule_set = EXCLUDED.rule_set, submitted_at = EXCLUDED.submitted_at,
    production_title = EXCLUDED.production_title, applicant_company = EXCLUDED.applicant_company,
    location_names = EXCLUDED.location_names, agencies = EXCLUDED.agencies,
    permit_number = EXCLUDED.permit_number, issued_at = EXCLUDED.issued_at,
    fees_total_idr = EXCLUDED.fees_total_idr, paid_at = EXCLUDED.paid_at,
    next_deadline = EXCLUDED.next_deadline, earliest_feasible_start = EXCLUDED.earliest_feasible_start,
    organisation_id = EXCLUDED.organisation_id, revision = EXCLUDED.revision,
    awaiting_expedite = EXCLUDED.awaiting_expedite, snapshot = EXCLUDED.snapshot, projected_seq = EXCLUDED.projected_seq, projected_at = now()
WHERE a.projected_seq < EXCLUDED.projected_seq
RETURNING id
"""

_UPSERT_CLEARANCE = """
INSERT INTO clearances AS c (
    application_id, agency, revision, status, reference, requested_at, accepted_at, due_at, final_deadline_at,
    reminded_at, breached_at, decided_at, sla, outcome, conditions, reason, failed_attempts,
    turnaround_business_days, needs_officer)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15::text::jsonb, $16, $17, $18, $19)
ON CONFLICT (application_id, agency, revision) DO UPDATE SET
    status = EXCLUDED.status, reference = EXCLUDED.reference, requested_at = EXCLUDED.requested_at,
    accepted_at = EXCLUDED.accepted_at, due_at = EXCLUDED.due_at, final_deadline_at = EXCLUDED.final_deadline_at,
    reminded_at = EXCLUDED.reminded_at, breached_at = EXCLUDED.breached_at, decided_at = EXCLUDED.decided_at,
    sla = EXCLUDED.sla, outcome = EXCLUDED.outcome, conditions = EXCLUDED.conditions, reason = EXCLUDED.reason,
    failed_attempts = EXCLUDED.failed_attempts, turnaround_business_days = EXCLUDED.turnaround_business_days,
    needs_officer = EXCLUDED.needs_officer
"""

# After an amendment the view holds one clearance per agency, its latest revision; older revisions stay as
# history. Those still undecided were withdrawn by the workflow (an agency's late answer to one is ignored), so
# they are written as withdrawn here: superseded by a newer revision of the same agency, or no longer required
# when the agency left the view. Decided ones keep their decision. $2/$3 are the view's agencies and revisions,
# $4 the application's revision, $5 the final statuses; a row already final is left as it is (idempotent).
_SUPERSEDE_OLDER_REVISIONS = """
WITH current (agency, revision) AS (SELECT * FROM unnest($2::text[], $3::int[]))
UPDATE clearances AS c SET
    status = 'withdrawn', outcome = 'withdrawn', needs_officer = false,
    reason = coalesce('superseded by revision ' || (SELECT max(revision) FROM current WHERE current.agency = c.agency),
                      'no longer required after amendment')
WHERE c.application_id = $1
  AND c.decided_at IS NULL AND c.outcome IS NULL AND c.status <> ALL ($5::text[])
  AND c.revision < coalesce((SELECT max(revision) FROM current WHERE current.agency = c.agency), $4)
"""

_INSERT_TIMELINE = """
INSERT INTO timeline_events (application_id, position, at, event, detail)
SELECT $1, e.position, e.at, e.event, e.detail
FROM unnest($2::int[], $3::timestamptz[], $4::text[], $5::text[]) AS e (position, at, event, detail)
ON CONFLICT (application_id, position) DO NOTHING
RETURNING position
"""

_UPSERT_OUTAGE = """
INSERT INTO agency_outages (application_id, agency, revision, episode, started_at, recovered_at, failed_attempts)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (application_id, agency, revision, episode) DO UPDATE SET
    started_at = EXCLUDED.started_at, recovered_at = EXCLUDED.recovered_at, failed_attempts = EXCLUDED.failed_attempts
"""


async def project_application(
    db: asyncpg.Pool | asyncpg.Connection,
    workflow_id: str,
    seq: int,
    view: PermitStatusView,
    turnaround: Turnaround,
) -> bool:
    """Write `view` as the workflow's state at event `seq`; False (and no write) when `seq` is not newer than the stored one.

    Clearances of older revisions the view no longer holds stay as history; undecided ones are written as withdrawn.
    """
    async with acquire(db) as conn, conn.transaction():
        # One writer per application at a time: a concurrent first insert would otherwise trip permit_number's
        # unique index before ON CONFLICT (id) could see the other row.
        await conn.execute("SELECT pg_advisory_xact_lock($1, hashtext($2))", LOCK_NAMESPACE, view.id)
        if await conn.fetchval(_UPSERT_APPLICATION, *_application_row(view, seq)) is None:
            return False
        await conn.executemany(_UPSERT_CLEARANCE, [_clearance_row(view.id, c, turnaround) for c in view.clearances])
        if max([view.revision, *(c.revision for c in view.clearances)]) > 1:  # amended: older revisions may be open
            await conn.execute(
                _SUPERSEDE_OLDER_REVISIONS, view.id, [c.agency for c in view.clearances],
                [c.revision for c in view.clearances], view.revision, _FINAL_STATUSES,
            )
        await conn.executemany(_UPSERT_OUTAGE, _outage_rows(view))
        await payments.project_payments(conn, view.id, view.payments)
        new = await _insert_timeline(conn, view)
        for position in new:
            event = view.timeline[position]
            await audit.append(
                conn,
                at=event.at,
                actor=actor_of(event),
                action=event.event,
                application_id=view.id,
                detail={"detail": event.detail, "position": position, "workflow_id": workflow_id, "seq": seq},
                source_key=f"{workflow_id}:timeline:{position}",
            )
    return True


async def fetch_application(db: asyncpg.Pool | asyncpg.Connection, application_id: str) -> PermitStatusView | None:
    """The last projected view of an application, or None when it was never projected."""
    async with acquire(db) as conn:
        snapshot = await conn.fetchval("SELECT snapshot::text FROM applications WHERE id = $1", application_id)
    return None if snapshot is None else PermitStatusView.model_validate_json(snapshot)


def actor_of(event: TimelineEvent) -> str:
    """Who the audit log names for a timeline event: the person the workflow recorded, else `system`.

    Never read from the event's text: an applicant's reason could name anyone.
    """
    return event.actor or "system"


def _application_row(view: PermitStatusView, seq: int) -> tuple:
    agencies = list(dict.fromkeys(c.agency for c in view.clearances))
    return (
        view.id, view.status.value, view.rule_set, view.submitted_at, view.production_title,
        view.applicant_company, "; ".join(loc.name for loc in view.locations), agencies,
        view.permit.number if view.permit else None, view.permit.issued_at if view.permit else None,
        view.fees.total_idr if view.fees else None, view.fees.paid_at if view.fees else None,
        view.next_deadline, view.earliest_feasible_start,
        view.organisation_id, view.revision, view.awaiting_expedite,
        view.model_dump_json(), seq,
    )


def _clearance_row(application_id: str, c: ClearanceView, turnaround: Turnaround) -> tuple:
    days = turnaround(c.accepted_at, c.decided_at) if c.accepted_at and c.decided_at else None
    return (
        application_id, c.agency, c.revision, c.status.value, c.reference, c.requested_at, c.accepted_at,
        c.due_at, c.final_deadline_at, c.reminded_at, c.breached_at, c.decided_at,
        c.sla.value if c.sla else None, c.status.value if c.status.is_final else None,
        json.dumps(c.conditions), c.reason, c.failed_attempts, days, c.needs_officer,
    )


def _outage_rows(view: PermitStatusView) -> list[tuple]:
    return [
        (view.id, c.agency, c.revision, episode, o.started_at, o.recovered_at, o.failed_attempts)
        for c in view.clearances
        for episode, o in enumerate(c.outages)
    ]


async def _insert_timeline(conn: asyncpg.Connection, view: PermitStatusView) -> list[int]:
    """Insert the events not stored yet; returns their positions in order."""
    events = view.timeline
    rows = await conn.fetch(
        _INSERT_TIMELINE,
        view.id,
        list(range(len(events))),
        [e.at for e in events],
        [e.event for e in events],
        [e.detail for e in events],
    )
    return sorted(r["position"] for r in rows)
