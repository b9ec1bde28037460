"""The outbox table: one row per key, claims that are leases and skip locked rows, backoff and giving up."""

from __future__ import annotations

import datetime as dt

import asyncpg
import pytest
from outbox_samples import note

from store import outbox

NOW = dt.datetime(2027, 1, 4, 2, 0, tzinfo=dt.UTC)
NOW_DUE = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)  # later than any row's first next_attempt_at


async def test_the_same_key_twice_is_one_row(pool: asyncpg.Pool):
    assert await outbox.enqueue(pool, note("http://127.0.0.1:9/hooks/ORG-A"), "k-1") is True
    assert await outbox.enqueue(pool, note("http://127.0.0.1:9/hooks/ORG-A", kind="other"), "k-1") is False
    rows = await pool.fetch("SELECT key, kind FROM notification_outbox")
    assert [tuple(r) for r in rows] == [("k-1", "payment_due")]
    assert await outbox.pending_count(pool) == 1


async def test_only_webhook_deliveries_are_queued(pool: asyncpg.Pool):
    with pytest.raises(ValueError, match="no webhook_url"):
        await outbox.enqueue(pool, note(None), "k-1")


async def test_claims_skip_rows_another_transaction_holds(pool: asyncpg.Pool):
    for i in range(3):
        await outbox.enqueue(pool, note("http://127.0.0.1:9/x"), f"k-{i}")
    later = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)
    async with pool.acquire() as a, pool.acquire() as b, a.transaction(), b.transaction():
        first = await outbox.claim_due(a, 2, later)
        second = await outbox.claim_due(b, 10, later)
    assert [r.key for r in first] == ["k-0", "k-1"]
    assert [r.key for r in second] == ["k-2"]


async def test_a_claim_is_a_committed_lease_that_no_one_else_takes_until_it_ends(pool: asyncpg.Pool):
    for i in range(3):
        await outbox.enqueue(pool, note("http://127.0.0.1:9/x"), f"k-{i}")
    lease = dt.timedelta(minutes=5)
    first = await outbox.claim_due(pool, 2, NOW_DUE, lease=lease)  # no transaction: one statement, committed
    assert [r.key for r in first] == ["k-0", "k-1"] and {r.locked_until for r in first} == {NOW_DUE + lease}
    held = await pool.fetch("SELECT key, locked_until FROM notification_outbox WHERE locked_until IS NOT NULL")
    assert sorted(r["key"] for r in held) == ["k-0", "k-1"]  # visible to every connection at once
    minute = dt.timedelta(minutes=1)
    assert [r.key for r in await outbox.claim_due(pool, 10, NOW_DUE + minute, lease=lease)] == ["k-2"]
    assert await outbox.claim_due(pool, 10, NOW_DUE + lease - dt.timedelta(seconds=1), lease=lease) == []
    again = await outbox.claim_due(pool, 10, NOW_DUE + lease, lease=lease)  # the first claimer died: its lease ended
    assert [r.key for r in again] == ["k-0", "k-1"]


async def test_an_outcome_from_a_claim_whose_lease_was_taken_over_is_dropped(pool: asyncpg.Pool):
    await outbox.enqueue(pool, note("http://127.0.0.1:9/x"), "k-1")
    lease = dt.timedelta(minutes=5)
    [stale] = await outbox.claim_due(pool, 1, NOW_DUE, lease=lease)
    [current] = await outbox.claim_due(pool, 1, NOW_DUE + lease, lease=lease)
    with pytest.raises(outbox.LeaseLost, match="no longer held"):
        await outbox.mark_failed(pool, stale, "HTTP 503", now=NOW_DUE + lease)
    await outbox.mark_delivered(pool, current, NOW_DUE + lease)
    with pytest.raises(outbox.LeaseLost):
        await outbox.mark_delivered(pool, current, NOW_DUE + lease)  # recorded once
    kept = await pool.fetchrow("SELECT attempts, delivered_at, locked_until, last_error FROM notification_outbox")
    assert tuple(kept) == (1, NOW_DUE + lease, None, None)


def test_backoff_doubles_from_five_seconds_to_an_hour():
    waits = [outbox.backoff(n).total_seconds() for n in range(1, 12)]
    assert waits == [5, 10, 20, 40, 80, 160, 320, 640, 1280, 2560, 3600]
    assert outbox.backoff(10_000) == dt.timedelta(hours=1)


async def test_failures_back_off_then_die_after_three_days_and_stay(pool: asyncpg.Pool):
    await outbox.enqueue(pool, note("http://127.0.0.1:9/x"), "k-1")
    await pool.execute("UPDATE notification_outbox SET created_at = $1, next_attempt_at = $1", NOW)
    [row] = await outbox.claim_due(pool, 10, NOW)
    assert await outbox.mark_failed(pool, row, "HTTP 503", now=NOW) == NOW + dt.timedelta(seconds=5)
    assert await outbox.claim_due(pool, 10, NOW + dt.timedelta(seconds=4)) == []
    [row] = await outbox.claim_due(pool, 10, NOW + dt.timedelta(seconds=5))  # an outcome ends the lease
    retry_after = dt.timedelta(minutes=2)
    assert await outbox.mark_failed(pool, row, "HTTP 429", now=NOW, not_before=retry_after) == NOW + retry_after
    three_days = NOW + outbox.GIVE_UP_AFTER
    [row] = await outbox.claim_due(pool, 10, three_days)
    assert await outbox.mark_failed(pool, row, "HTTP 503", now=three_days) is None
    kept = await pool.fetchrow("SELECT attempts, dead_at, delivered_at, last_error FROM notification_outbox")
    assert (kept["attempts"], kept["dead_at"], kept["delivered_at"]) == (3, three_days, None)
    assert kept["last_error"] == "gave up after 3 attempts: HTTP 503"
    assert await outbox.pending_count(pool) == 0
