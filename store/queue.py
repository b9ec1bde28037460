"""The officer queue: what needs a person, most urgent first, from the read model."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from domain.jakarta import JAKARTA
from schemas.reports import QueueItem, QueueKind
from store.pool import acquire
from store.reports import OPEN_CLEARANCE

DEFAULT_QUEUE = 200
MAX_QUEUE = 1000

# A clearance the queue may list: its application is still in progress (the queue never lists a closed one),
# its agency is still routed, and it is the application's current revision for that agency (an amendment's
# older revisions stay in the table as history). One scalar subquery, checked row by row as an ordered index
# scan reads the candidates (and costed as letting half of them through): the scan stops once it has `limit`
# rows, however many clearances are flagged or breached.
_CURRENT_AND_LIVE = """(
    SELECT a.status NOT IN ('rejected', 'withdrawn', 'lapsed', 'completed') AND c.agency = ANY (a.agencies)
           AND NOT EXISTS (SELECT FROM clearances n
                           WHERE n.application_id = c.application_id AND n.agency = c.agency
                             AND n.revision > c.revision)
    FROM applications a WHERE a.id = c.application_id
)"""
_LIVE = "a.status NOT IN ('rejected', 'withdrawn', 'lapsed', 'completed')"
# The start of the first shoot day, from the projected view (null when it names no day).
_FIRST_SHOOT = """(
    SELECT min(((d ->> 'date')::date + coalesce((d ->> 'start')::time, time '00:00')) AT TIME ZONE 'Asia/Jakarta')
    FROM jsonb_array_elements(CASE jsonb_typeof(a.snapshot -> 'locations')
                                   WHEN 'array' THEN a.snapshot -> 'locations' ELSE '[]' END) AS l,
         jsonb_array_elements(CASE jsonb_typeof(l -> 'days') WHEN 'array' THEN l -> 'days' ELSE '[]' END) AS d
)"""
# Past its final deadline, undecided, and flagged: silence was not consent, the officer decides. $1 is now.
# (A withdrawn clearance is not silent: flagged, it is some other work.)
_FINAL = "c.decided_at IS NULL AND c.final_deadline_at <= $1 AND c.status NOT IN ('rejected', 'withdrawn')"
# What a candidate is: an expedite request (no clearance), an open breach nobody flagged, or a flagged
# clearance under its most specific kind. A withdrawn clearance is never an open breach.
_KIND = f"""CASE
    WHEN c.agency IS NULL THEN 'expedite'
    WHEN NOT c.needs_officer THEN 'breach'
    WHEN c.status = 'rejected' THEN 'rejection_to_confirm'
    WHEN {_FINAL} THEN 'final_deadline'
    WHEN c.status = 'submitting' AND c.accepted_at IS NULL AND c.reason LIKE 'the agency refused%' THEN 'agency_refused'
    WHEN {OPEN_CLEARANCE} AND c.breached_at IS NOT NULL THEN 'breach'
    ELSE 'needs_officer'
END"""
# Among items sharing a deadline, the ones that block the most come first.
_TIE_ORDER = "ARRAY['final_deadline', 'breach', 'rejection_to_confirm', 'agency_refused', 'needs_officer', 'expedite']"

# The candidates: an application and one of its clearances (none for an expedite request). Each ranked
# branch reads its index in the order of the deadline it is ranked by and keeps its first $2 rows, so the
# union holds the overall first $2; expedite requests and undated flags are few and read whole.
_CANDIDATES = f"""
    (SELECT a.id AS application_id, NULL::text AS agency, NULL::int AS revision
     FROM applications a
     WHERE a.awaiting_expedite AND {_LIVE})
    UNION ALL
    -- flagged past the final deadline (clearances_needs_officer_final)
    (SELECT c.application_id, c.agency, c.revision
     FROM clearances c
     WHERE c.needs_officer AND {_FINAL} AND {_CURRENT_AND_LIVE}
     ORDER BY c.final_deadline_at, c.application_id, c.agency, c.revision
     LIMIT $2)
    UNION ALL
    -- flagged for anything else, with a due time (clearances_needs_officer_due)
    (SELECT c.application_id, c.agency, c.revision
     FROM clearances c
     WHERE c.needs_officer AND c.due_at IS NOT NULL AND NOT coalesce({_FINAL}, false) AND {_CURRENT_AND_LIVE}
     ORDER BY c.due_at, c.application_id, c.agency, c.revision
     LIMIT $2)
    UNION ALL
    -- flagged before the agency ever accepted (a refused request, a failure): ranked by the first shoot day
    (SELECT c.application_id, c.agency, c.revision
     FROM clearances c
     WHERE c.needs_officer AND c.due_at IS NULL AND NOT coalesce({_FINAL}, false) AND {_CURRENT_AND_LIVE})
    UNION ALL
    -- open breaches nobody flagged (clearances_open_breaches_due)
    (SELECT c.application_id, c.agency, c.revision
     FROM clearances c
     WHERE c.breached_at IS NOT NULL AND {OPEN_CLEARANCE} AND NOT c.needs_officer AND {_CURRENT_AND_LIVE}
     ORDER BY c.due_at, c.application_id, c.agency, c.revision
     LIMIT $2)
"""

_QUEUE = f"""
SELECT a.id AS application_id, a.production_title, a.applicant_company, a.organisation_id,
       a.status AS application_status, k.kind, c.agency, c.revision,
       CASE k.kind
           WHEN 'expedite' THEN coalesce({_FIRST_SHOOT}, a.submitted_at)
           WHEN 'final_deadline' THEN c.final_deadline_at
           WHEN 'breach' THEN coalesce(c.due_at, c.breached_at)
           ELSE coalesce(c.due_at, {_FIRST_SHOOT}, a.submitted_at)
       END AS due_at,
       CASE k.kind
           WHEN 'expedite' THEN a.submitted_at
           WHEN 'final_deadline' THEN c.final_deadline_at
           WHEN 'breach' THEN c.breached_at
           WHEN 'agency_refused' THEN c.requested_at
           ELSE c.decided_at
       END AS since,
       c.status AS clearance_status, c.reason AS clearance_reason,
       CASE k.kind WHEN 'expedite' THEN {_FIRST_SHOOT} END AS first_shoot, a.earliest_feasible_start
FROM ({_CANDIDATES}) candidate
JOIN applications a ON a.id = candidate.application_id
LEFT JOIN clearances c
    ON c.application_id = candidate.application_id AND c.agency = candidate.agency AND c.revision = candidate.revision
CROSS JOIN LATERAL (SELECT {_KIND} AS kind) k
ORDER BY 9, array_position({_TIE_ORDER}, k.kind), a.id, c.agency NULLS FIRST
LIMIT $2
"""

# Refunds to make, oldest first: those the read model holds (the application's, or the API's for a payment that
# came after the application closed), and any payment still undecided once its application has closed (it never
# heard of it: its last view was written before the payment came). Closed applications are listed too: the money
# is owed whatever became of the application. $1 is the limit.
_REFUNDS = f"""
(SELECT a.id AS application_id, a.production_title, a.applicant_company, a.organisation_id,
        a.status AS application_status, r.payment_id, r.amount_idr, r.reason, r.detail, r.due_since
 FROM refunds r JOIN applications a ON a.id = r.application_id
 WHERE r.refunded_at IS NULL
 ORDER BY r.due_since, r.payment_id
 LIMIT $1)
UNION ALL
(SELECT a.id, a.production_title, a.applicant_company, a.organisation_id, a.status, p.payment_id, p.amount_idr,
        'application_closed', 'the application closed before it took the payment', p.received_at
 FROM payments p JOIN applications a ON a.id = p.application_id
 WHERE p.outcome IN ('received', 'pending') AND NOT {_LIVE}
 ORDER BY p.received_at, p.payment_id
 LIMIT $1)
"""
# Among items sharing a deadline (the order of _TIE_ORDER), a refund last.
_RANK = {kind: rank for rank, kind in enumerate(
    ["final_deadline", "breach", "rejection_to_confirm", "agency_refused", "needs_officer", "expedite", "refund"])}

_PLAN = "SET LOCAL enable_bitmapscan = off; SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off"


async def officer_queue(
    pool: asyncpg.Pool | asyncpg.Connection, now: datetime, limit: int = DEFAULT_QUEUE
) -> list[QueueItem]:
    """What needs an officer in live applications, the earliest deadline first (at most `limit` items).

    Expedite requests, open breaches, final deadlines passed where silence is not consent, rejections to
    confirm, requests the agency refused, and any other clearance flagged for an officer; one item per
    clearance, under its most specific kind. Expedite requests are ranked by their first shoot day. And every
    refund to make (of a live or a closed application), ranked by when it became due.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"a timezone-aware datetime is required, got naive {now.isoformat()}")
    if not 1 <= limit <= MAX_QUEUE:
        raise ValueError(f"limit must be between 1 and {MAX_QUEUE}, got {limit}")
    async with acquire(pool) as conn, conn.transaction(readonly=True):
        # Read each branch's index in order and stop at `limit`, then look the few candidates up one by one.
        # The planner cannot tell how many flagged or breached clearances belong to closed applications or
        # older revisions; left alone, it reads them all and sorts (tens of milliseconds on a large model).
        await conn.execute(_PLAN)
        rows = await conn.fetch(_QUEUE, now, limit)
        refunds = await conn.fetch(_REFUNDS, limit)
    items = [
        QueueItem(
            application_id=row["application_id"],
            production_title=row["production_title"],
            applicant_company=row["applicant_company"],
            organisation_id=row["organisation_id"],
            application_status=row["application_status"],
            kind=row["kind"],
            agency=row["agency"],
            revision=row["revision"],
            due_at=row["due_at"],
            since=row["since"],
            overdue_hours=round((now - row["due_at"]).total_seconds() / 3600, 2),
            reason=_reason(row),
        )
        for row in rows
    ] + [_refund_item(row, now) for row in refunds]
    items.sort(key=lambda item: (item.due_at, _RANK[item.kind.value]))  # stable: each query's own order stays
    return items[:limit]


def _refund_item(row: asyncpg.Record, now: datetime) -> QueueItem:
    return QueueItem(
        application_id=row["application_id"],
        production_title=row["production_title"],
        applicant_company=row["applicant_company"],
        organisation_id=row["organisation_id"],
        application_status=row["application_status"],
        kind=QueueKind.refund,
        agency=None,
        revision=None,
        due_at=row["due_since"],
        since=row["due_since"],
        overdue_hours=round((now - row["due_since"]).total_seconds() / 3600, 2),
        reason=f"refund {row['amount_idr']} IDR of payment {row['payment_id']} ({row['reason']}): {row['detail']}",
        payment_id=row["payment_id"],
        amount_idr=row["amount_idr"],
    )


def _reason(row: asyncpg.Record) -> str:
    kind, agency, said = QueueKind(row["kind"]), row["agency"], row["clearance_reason"]
    if kind is QueueKind.expedite:
        first = _jakarta(row["first_shoot"]) if row["first_shoot"] else "unknown"
        feasible = row["earliest_feasible_start"] or "unknown"
        return f"expedite requested: the first shoot day is {first}, the earliest feasible start {feasible}"
    if kind is QueueKind.breach:
        text = f"{agency} was due {_jakarta(row['due_at'])} and has not decided"
    elif kind is QueueKind.final_deadline:
        text = f"{agency} did not decide by its final deadline {_jakarta(row['due_at'])}; silence is not consent here"
    elif kind is QueueKind.rejection_to_confirm:
        text = f"{agency} rejected the request; confirm the rejection or override it"
    elif kind is QueueKind.agency_refused:
        return said or f"{agency} refused the request"
    else:
        text = f"{agency} ({row['clearance_status']}) is flagged for an officer"
    return f"{text}: {said}" if said else text


def _jakarta(moment: datetime) -> str:
    return moment.astimezone(JAKARTA).isoformat(timespec="minutes")
