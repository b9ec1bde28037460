"""The notification outbox: applicant notifications waiting for delivery to their webhook.

`enqueue` writes a notification once per key; the relay (`activities/outbox_relay.py`) claims
due rows with `claim_due` inside a transaction and, in that same transaction, records the
outcome with `mark_delivered`, `mark_failed` (backoff: 5 s doubling to 1 h, dead after 3 days)
or `mark_dead` (the receiver refused it for good). Rows are never deleted.
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
ERROR_LIMIT = 500  # characters of last_error kept

_COLUMNS = "id, key, application_id, audience, kind, detail, organisation_id, webhook_url, created_at, attempts"

_ENQUEUE = """
INSERT INTO notification_outbox (key, application_id, audience, kind, detail, organisation_id, webhook_url)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (key) DO NOTHING
RETURNING id
"""

_CLAIM_DUE = f"""
SELECT {_COLUMNS} FROM notification_outbox
WHERE delivered_at IS NULL AND dead_at IS NULL AND next_attempt_at <= $2 AND webhook_url IS NOT NULL
ORDER BY next_attempt_at, id
LIMIT $1
FOR UPDATE SKIP LOCKED
"""

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


async def claim_due(conn: asyncpg.Connection, limit: int, now: dt.datetime) -> list[OutboxRow]:
    """Lock up to `limit` rows due at `now`, skipping rows another relay holds; call inside a transaction."""
    if not conn.is_in_transaction():
        raise RuntimeError("claim_due must run inside a transaction: its row locks end with it")
    return [OutboxRow(**dict(r)) for r in await conn.fetch(_CLAIM_DUE, limit, now)]


async def mark_delivered(conn: asyncpg.Connection, row: OutboxRow, at: dt.datetime) -> None:
    """The receiver accepted it (2xx)."""
    await conn.execute(
        "UPDATE notification_outbox SET delivered_at = $2, attempts = attempts + 1, last_error = NULL WHERE id = $1",
        row.id,
        at,
    )


async def mark_failed(
    conn: asyncpg.Connection,
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
        await mark_dead(conn, row, f"gave up after {row.attempts + 1} attempts: {error}", at=now)
        return None
    wait = backoff(row.attempts + 1)
    if not_before is not None:
        wait = max(wait, min(not_before, MAX_BACKOFF))
    next_attempt_at = now + wait
    await conn.execute(
        "UPDATE notification_outbox SET attempts = attempts + 1, last_error = $2, next_attempt_at = $3 WHERE id = $1",
        row.id,
        error[:ERROR_LIMIT],
        next_attempt_at,
    )
    return next_attempt_at


async def mark_dead(conn: asyncpg.Connection, row: OutboxRow, error: str, *, at: dt.datetime) -> None:
    """Never tried again (a permanent refusal, or too many failures); the row and its error stay for officers."""
    await conn.execute(
        "UPDATE notification_outbox SET attempts = attempts + 1, last_error = $2, dead_at = $3 WHERE id = $1",
        row.id,
        error[:ERROR_LIMIT],
        at,
    )


async def pending_count(db: asyncpg.Pool | asyncpg.Connection) -> int:
    """Notifications neither delivered nor dead (due now or waiting for a retry)."""
    async with acquire(db) as conn:
        return await conn.fetchval(_PENDING)
