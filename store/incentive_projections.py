"""Project an incentive workflow's IncentiveStatusView into the read model: idempotent, and never backwards."""

from __future__ import annotations

import asyncpg

from schemas.incentives import IncentiveStatusView
from store import audit
from store.pool import acquire

LOCK_NAMESPACE = 0x4A4649  # "JFI": with hashtext(incentive id), the per-incentive projection lock

_UPSERT = """
INSERT INTO incentives AS i (
    id, programme, programme_version, status, organisation_id, permit_id, fiscal_year, submitted_at,
    production_title, estimated_idr, reserved_idr, paid_idr, clawed_back_idr, committee_round, approvals,
    next_deadline, snapshot, projected_seq, projected_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17::text::jsonb, $18, now())
ON CONFLICT (id) DO UPDATE SET
    programme = EXCLUDED.programme, programme_version = EXCLUDED.programme_version, status = EXCLUDED.status,
    organisation_id = EXCLUDED.organisation_id, permit_id = EXCLUDED.permit_id, fiscal_year = EXCLUDED.fiscal_year,
    submitted_at = EXCLUDED.submitted_at, production_title = EXCLUDED.production_title,
    estimated_idr = EXCLUDED.estimated_idr, reserved_idr = EXCLUDED.reserved_idr, paid_idr = EXCLUDED.paid_idr,
    clawed_back_idr = EXCLUDED.clawed_back_idr, committee_round = EXCLUDED.committee_round,
    approvals = EXCLUDED.approvals, next_deadline = EXCLUDED.next_deadline, snapshot = EXCLUDED.snapshot,
    projected_seq = EXCLUDED.projected_seq, projected_at = now()
WHERE i.projected_seq < EXCLUDED.projected_seq
RETURNING id
"""

_TIMELINE = """
INSERT INTO incentive_timeline (incentive_id, position, at, event, detail, actor)
SELECT $1, e.position, e.at, e.event, e.detail, e.actor
FROM unnest($2::int[], $3::timestamptz[], $4::text[], $5::text[], $6::text[]) AS e (position, at, event, detail, actor)
ON CONFLICT (incentive_id, position) DO NOTHING
RETURNING position
"""


async def project_incentive(db: asyncpg.Pool | asyncpg.Connection, workflow_id: str, seq: int,
                            view: IncentiveStatusView) -> bool:
    """Write `view` as the incentive at event `seq`; False (and no write) when `seq` is not newer than the stored one."""
    approvals = len({v.officer for v in view.committee.votes if v.outcome == "approve"})
    async with acquire(db) as conn, conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1, hashtext($2))", LOCK_NAMESPACE, view.id)
        written = await conn.fetchval(
            _UPSERT, view.id, view.programme.value, view.programme_version, view.status.value, view.organisation_id,
            view.permit_id, view.fiscal_year, view.submitted_at, view.production_title, view.estimated_idr,
            view.reserved_idr, view.paid_idr, view.clawed_back_idr, view.committee.round, approvals,
            view.next_deadline, view.model_dump_json(), seq)
        if written is None:
            return False
        events = view.timeline
        rows = await conn.fetch(_TIMELINE, view.id, list(range(len(events))), [e.at for e in events],
                                [e.event for e in events], [e.detail for e in events], [e.actor for e in events])
        for position in sorted(r["position"] for r in rows):
            event = events[position]
            await audit.append(conn, at=event.at, actor=event.actor or "system", action=event.event,
                               application_id=view.id, source_key=f"{workflow_id}:timeline:{position}",
                               detail={"detail": event.detail, "position": position, "workflow_id": workflow_id,
                                       "seq": seq})
    return True


async def fetch_incentive(db: asyncpg.Pool | asyncpg.Connection, incentive_id: str) -> IncentiveStatusView | None:
    async with acquire(db) as conn:
        snapshot = await conn.fetchval("SELECT snapshot::text FROM incentives WHERE id = $1", incentive_id)
    return None if snapshot is None else IncentiveStatusView.model_validate_json(snapshot)
