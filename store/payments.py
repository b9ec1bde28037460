"""Payments and refunds in the read model: recorded by the API on receipt, decided by the application's projection.

A payment is one row per payment_id whatever the number of webhooks that report it. Its outcome only moves
forward (received → pending → matched or refund), and a refund is written once.
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

import asyncpg

from schemas.decisions import Payment
from schemas.status import PaymentOutcome, PaymentView, RefundReason
from store.pool import acquire

RECEIVED = "received"  # the outcome of a row the API recorded and the application has not decided yet

_RECORD = """
INSERT INTO payments (payment_id, application_id, permit_id, amount_idr, paid_at, received_at)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (payment_id) DO NOTHING
RETURNING payment_id
"""

# The application's word on a payment; one it decided already (matched, refund) stays as it is.
_PROJECT = """
INSERT INTO payments AS p (payment_id, application_id, permit_id, amount_idr, paid_at, received_at, outcome, detail,
                           decided_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
ON CONFLICT (payment_id) DO UPDATE SET outcome = EXCLUDED.outcome, detail = EXCLUDED.detail,
                                       decided_at = EXCLUDED.decided_at
WHERE p.outcome IN ('received', 'pending') AND p.application_id = EXCLUDED.application_id
"""

_REFUND = """
INSERT INTO refunds (payment_id, application_id, amount_idr, reason, detail, due_since)
SELECT p.payment_id, p.application_id, p.amount_idr, $3, $4, $5
FROM payments p
WHERE p.payment_id = $1 AND p.application_id = $2 AND p.outcome = 'refund'
ON CONFLICT (payment_id) DO NOTHING
"""

_CLOSED = """
UPDATE payments SET outcome = 'refund', detail = $2, decided_at = $3
WHERE payment_id = $1 AND outcome = 'received'
RETURNING application_id
"""


class Recorded(NamedTuple):
    """A payment as the read model holds it, and the reason of its refund (None: no refund)."""

    application_id: str
    outcome: str
    refund_reason: RefundReason | None


async def record_received(
    db: asyncpg.Pool | asyncpg.Connection, payment: Payment, application_id: str, received_at: dt.datetime
) -> bool:
    """Record a payment the provider reported (once per payment_id); False when it was recorded already."""
    async with acquire(db) as conn:
        new = await conn.fetchval(_RECORD, payment.payment_id, application_id, payment.permit_id, payment.amount_idr,
                                  payment.paid_at, received_at)
    return new is not None


async def refund_for_closed_application(
    db: asyncpg.Pool | asyncpg.Connection, payment_id: str, detail: str, at: dt.datetime
) -> bool:
    """An undecided payment whose application had closed before it could hear of it becomes a refund; False when the
    payment was decided already (the application heard of it before it closed)."""
    async with acquire(db) as conn, conn.transaction():
        if await conn.fetchval(_CLOSED, payment_id, detail, at) is None:
            return False
        application_id = await conn.fetchval("SELECT application_id FROM payments WHERE payment_id = $1", payment_id)
        await conn.execute(_REFUND, payment_id, application_id, RefundReason.application_closed.value, detail, at)
    return True


async def recorded(db: asyncpg.Pool | asyncpg.Connection, payment_id: str) -> Recorded | None:
    async with acquire(db) as conn:
        row = await conn.fetchrow(
            "SELECT p.application_id, p.outcome, r.reason FROM payments p "
            "LEFT JOIN refunds r ON r.payment_id = p.payment_id WHERE p.payment_id = $1", payment_id)
    if row is None:
        return None
    reason = RefundReason(row["reason"]) if row["reason"] else None
    return Recorded(row["application_id"], row["outcome"], reason)


async def project_payments(conn: asyncpg.Connection, application_id: str, payments: list[PaymentView]) -> None:
    """Write what the application says became of its payments (inside the projection's transaction)."""
    if not payments:
        return
    await conn.executemany(_PROJECT, [
        (p.payment_id, application_id, p.permit_id, p.amount_idr, p.paid_at, p.received_at, p.outcome.value, p.detail,
         p.decided_at)
        for p in payments
    ])
    refunds = [p for p in payments if p.outcome is PaymentOutcome.refund and p.refund_reason is not None]
    await conn.executemany(_REFUND, [
        (p.payment_id, application_id, p.refund_reason.value, p.detail, p.decided_at or p.received_at)  # type: ignore[union-attr]
        for p in refunds
    ])


class RefundState(NamedTuple):
    application_id: str
    refunded_at: dt.datetime | None


async def mark_refunded(db: asyncpg.Pool | asyncpg.Connection, payment_id: str, by: str, at: dt.datetime
                        ) -> RefundState | None:
    """Note that the commission paid refund `payment_id` back (once: a second call changes nothing); None when
    there is no such refund. Answers the refund as it stands, so a caller can tell a first mark from a repeat."""
    async with acquire(db) as conn:
        row = await conn.fetchrow(
            "UPDATE refunds SET refunded_at = $3, refunded_by = $2 WHERE payment_id = $1 AND refunded_at IS NULL "
            "RETURNING application_id, NULL::timestamptz AS refunded_at", payment_id, by, at)
        if row is None:
            row = await conn.fetchrow("SELECT application_id, refunded_at FROM refunds WHERE payment_id = $1",
                                      payment_id)
    return None if row is None else RefundState(row["application_id"], row["refunded_at"])
