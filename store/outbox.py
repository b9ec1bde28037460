"""The notification outbox: applicant notifications waiting for delivery to their webhook.

`enqueue` writes a notification once per key. The relay (`activities/outbox_relay.py`) takes due rows
with `claim_due`, one short statement that leases them (`locked_until`, CLAIM_LEASE) so no other relay
takes them meanwhile; it sends with no transaction open, then records each outcome in a statement of its
own: `mark_delivered`, `mark_failed` (backoff: 5 s doubling to 1 h, dead after 3 days) or `mark_dead`
(refused for good). A relay that dies mid-send leaves its lease to run out; the row is then sent again,
with the same key. Rows are never deleted.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import asyncpg

from schemas.contracts import Notification
from store.pool import acquire

FIRST_BACKOFF = dt.timedelta(seconds=5)
MAX_BACKOFF = dt.timedelta(hours=1)
GIVE_UP_AFTER = dt.timedelta(days=3)  # failing this long after it was written → dead, kept for officers
CLAIM_LEASE = dt.timedelta(minutes=5)  # how long a claimed row is left to its relay; far longer than one send
ERROR_LIMIT = 500  # characters of last_error kept

_COLUMNS = (
    "id, key, application_id, audience, kind, detail, organisation_id, webhook_url, created_at, attempts, locked_until"
)

_ENQUEUE = """
INSERT INTO notification_outbox (key, application_id, audience, kind, detail, organisation_id, webhook_url)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (key) DO NOTHING
RETURNING id
"""

_CLAIM_DUE = f"""
WITH due AS (
    SELECT id FROM notification_outbox
    WHERE delivered_at IS NULL AND dead_at IS NULL AND webhook_url IS NOT NULL
      AND next_attempt_at <= $2 AND (locked_until IS NULL OR locked_until <= $2)
    ORDER BY next_attempt_at, id
    LIMIT $1
    FOR UPDATE SKIP LOCKED
), claimed AS (
    UPDATE notification_outbox AS o SET locked_until = $3 FROM due WHERE o.id = due.id RETURNING o.*
)
SELECT {_COLUMNS} FROM claimed ORDER BY next_attempt_at, id
"""

# Every outcome is written only by the relay still holding the row's lease, and only once.
_HELD = "id = $1 AND locked_until IS NOT DISTINCT FROM $2 AND delivered_at IS NULL AND dead_at IS NULL"

_PENDING = "SELECT count(*) FROM notification_outbox WHERE delivered_at IS NULL AND dead_at IS NULL"


@dataclass(frozen=True)
class OutboxRow:
    """A claimed notification: what to send, where, and how often it was tried before."""

    id: int
    key: str
    application_id: str
    audience: str
    kind: str
    detail: str
    organisation_id: str | None
    webhook_url: str
    created_at: dt.datetime
    attempts: int
    locked_until: dt.datetime | None = None  # the lease this claim holds


class LeaseLost(RuntimeError):
    """An outcome came too late: the row's lease ran out and it was claimed again (or finished) since."""


def backoff(failures: int) -> dt.timedelta:
    """The wait after the `failures`-th failed attempt: 5 s, 10 s, 20 s, ... capped at 1 h."""
    return min(FIRST_BACKOFF * 2 ** min(max(failures - 1, 0), 20), MAX_BACKOFF)


async def enqueue(db: asyncpg.Pool | asyncpg.Connection, notification: Notification, key: str) -> bool:
    """Write `notification` under `key`; False when that key is already in the outbox (nothing changes)."""
    if not notification.webhook_url:
        raise ValueError(f"notification {key!r} has no webhook_url; the outbox only holds webhook deliveries")
    async with acquire(db) as conn:
        new_id = await conn.fetchval(
            _ENQUEUE,
            key,
            notification.application_id,
            notification.audience,
            notification.kind,
            notification.detail,
            notification.organisation_id,
            notification.webhook_url,
        )
    return new_id is not None


async def claim_due(
    db: asyncpg.Pool | asyncpg.Connection, limit: int, now: dt.datetime, *, lease: dt.timedelta = CLAIM_LEASE
) -> list[OutboxRow]:
    """Lease up to `limit` rows due at `now` until `now + lease`, skipping rows another relay holds; commits at once."""
    async with acquire(db) as conn:
        rows = await conn.fetch(_CLAIM_DUE, limit, now, now + lease)
    return [OutboxRow(**dict(r)) for r in rows]


async def mark_delivered(db: asyncpg.Pool | asyncpg.Connection, row: OutboxRow, at: dt.datetime) -> None:
    """The receiver accepted it (2xx)."""
    await _record(
        db, f"UPDATE notification_outbox SET delivered_at = $3, attempts = attempts + 1, last_error = NULL, "
        f"locked_until = NULL WHERE {_HELD}", row, at,
    )  # fmt: skip


async def mark_failed(
    db: asyncpg.Pool | asyncpg.Connection,
    row: OutboxRow,
    error: str,
    *,
    now: dt.datetime,
    not_before: dt.timedelta | None = None,
) -> dt.datetime | None:
    """A failed attempt: schedule the next one (backoff, at least `not_before`, e.g. a Retry-After).

    Returns when it will be tried again, or None when it has failed for GIVE_UP_AFTER and is now dead.
    """
    if now - row.created_at >= GIVE_UP_AFTER:
        await mark_dead(db, row, f"gave up after {row.attempts + 1} attempts: {error}", at=now)
        return None
    wait = backoff(row.attempts + 1)
    if not_before is not None:
        wait = max(wait, min(not_before, MAX_BACKOFF))
    next_attempt_at = now + wait
    await _record(
        db, f"UPDATE notification_outbox SET attempts = attempts + 1, last_error = $3, next_attempt_at = $4, "
        f"locked_until = NULL WHERE {_HELD}", row, error[:ERROR_LIMIT], next_attempt_at,
    )  # fmt: skip
    return next_attempt_at


async def mark_dead(db: asyncpg.Pool | asyncpg.Connection, row: OutboxRow, error: str, *, at: dt.datetime) -> None:
    """Never tried again (a permanent refusal, or too many failures); the row and its error stay for officers."""
    await _record(
        db, f"UPDATE notification_outbox SET attempts = attempts + 1, last_error = $3, dead_at = $4, "
        f"locked_until = NULL WHERE {_HELD}", row, error[:ERROR_LIMIT], at,
    )  # fmt: skip


async def pending_count(db: asyncpg.Pool | asyncpg.Connection) -> int:
    """Notifications neither delivered nor dead (due now or waiting for a retry)."""
    async with acquire(db) as conn:
        return await conn.fetchval(_PENDING)


async def _record(db: asyncpg.Pool | asyncpg.Connection, sql: str, row: OutboxRow, *args: object) -> None:
    async with acquire(db) as conn:
        status = await conn.execute(sql, row.id, row.locked_until, *args)
    if status == "UPDATE 0":
        raise LeaseLost(f"outbox row {row.id} ({row.key}) is no longer held by this claim; its outcome is dropped")
