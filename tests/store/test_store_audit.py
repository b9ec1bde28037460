"""The audit log: appended once per source key, chained by hashes, refused changes, and tampering found."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import asyncpg
import pytest
from store_samples import at

from store.audit import GENESIS, VerifyResult, append, row_hash, verify
from store.pool import open_pool


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await open_pool(database_url, min_size=1, max_size=2)
    yield pool
    await pool.close()


async def append_rows(pool: asyncpg.Pool, n: int) -> None:
    async with pool.acquire() as conn:
        for i in range(n):
            assert await append(
                conn, at=at(3, 9, i), actor="system" if i % 2 else "officer:Ani", action=f"event_{i}",
                application_id="PRM-S6BMD76QI5RA", detail={"position": i, "note": "Jalan Ø ✓", "amount": 1.5},
                source_key=f"wf:timeline:{i}",
            )


async def tamper(pool: asyncpg.Pool, sql: str) -> None:
    """What a superuser could do: switch the append-only trigger off for one statement."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
        await conn.execute(sql)
        await conn.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only")


async def test_an_empty_log_verifies(pool: asyncpg.Pool):
    assert await verify(pool) == VerifyResult(ok=True, rows=0)


async def test_rows_are_chained_from_the_genesis_hash(pool: asyncpg.Pool):
    await append_rows(pool, 4)

    rows = await pool.fetch("SELECT * FROM audit_log ORDER BY seq")
    assert rows[0]["prev_hash"] == GENESIS
    assert [r["prev_hash"] for r in rows[1:]] == [r["hash"] for r in rows[:-1]]
    first = rows[0]
    assert first["hash"] == row_hash(GENESIS, at(3, 9, 0), "officer:Ani", "PRM-S6BMD76QI5RA", "event_0",
                                     {"position": 0, "note": "Jalan Ø ✓", "amount": 1.5}, "wf:timeline:0")
    assert await verify(pool, batch=2) == VerifyResult(ok=True, rows=4)


async def test_a_source_key_is_appended_once(pool: asyncpg.Pool):
    await append_rows(pool, 1)
    async with pool.acquire() as conn:
        again = await append(conn, at=at(4, 9), actor="system", action="other", application_id=None,
                             detail={}, source_key="wf:timeline:0")
    assert again is False
    assert await pool.fetchval("SELECT count(*) FROM audit_log") == 1


async def test_a_naive_time_is_refused(pool: asyncpg.Pool):
    async with pool.acquire() as conn:
        with pytest.raises(ValueError, match="timezone-aware"):
            await append(conn, at=dt.datetime(2025, 3, 3, 9), actor="system", action="x", application_id=None,
                         detail={}, source_key="k")


@pytest.mark.parametrize("sql", ["UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log", "TRUNCATE audit_log"])
async def test_the_database_refuses_changes(pool: asyncpg.Pool, sql: str):
    await append_rows(pool, 2)
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
        await pool.execute(sql)
    assert await verify(pool) == VerifyResult(ok=True, rows=2)


async def test_a_changed_detail_is_found_at_its_row(pool: asyncpg.Pool):
    await append_rows(pool, 5)
    target = (await pool.fetch("SELECT seq FROM audit_log ORDER BY seq"))[2]["seq"]

    await tamper(pool, f"""UPDATE audit_log SET detail = '{{"position": 2, "note": "edited"}}' WHERE seq = {target}""")

    result = await verify(pool)
    assert (result.ok, result.first_broken_seq, result.rows) == (False, target, 2)
    assert "contents" in result.reason


async def test_a_rewritten_hash_is_found_at_the_next_row(pool: asyncpg.Pool):
    await append_rows(pool, 4)
    seqs = [r["seq"] for r in await pool.fetch("SELECT seq FROM audit_log ORDER BY seq")]
    row = await pool.fetchrow("SELECT * FROM audit_log WHERE seq = $1", seqs[1])
    forged = row_hash(row["prev_hash"], row["at"], "officer:Mallory", row["application_id"], row["action"], row["detail"],
                      row["source_key"])

    await tamper(pool, f"UPDATE audit_log SET actor = 'officer:Mallory', hash = '{forged}' WHERE seq = {seqs[1]}")

    result = await verify(pool)
    assert (result.ok, result.first_broken_seq) == (False, seqs[2])
    assert f"row {seqs[1]}" in result.reason


async def test_a_deleted_middle_row_is_found(pool: asyncpg.Pool):
    await append_rows(pool, 5)
    seqs = [r["seq"] for r in await pool.fetch("SELECT seq FROM audit_log ORDER BY seq")]

    await tamper(pool, f"DELETE FROM audit_log WHERE seq = {seqs[2]}")

    result = await verify(pool)
    assert (result.ok, result.first_broken_seq) == (False, seqs[3])
    assert "removed" in result.reason and f"row {seqs[1]}" in result.reason


async def test_a_deleted_first_row_is_found(pool: asyncpg.Pool):
    await append_rows(pool, 3)
    seqs = [r["seq"] for r in await pool.fetch("SELECT seq FROM audit_log ORDER BY seq")]

    await tamper(pool, f"DELETE FROM audit_log WHERE seq = {seqs[0]}")

    result = await verify(pool)
    assert (result.ok, result.first_broken_seq) == (False, seqs[1])
    assert "start of the log" in result.reason
