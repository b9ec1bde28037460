"""Projections the database refused for good: noted per workflow, cleared when a later one is written."""

from __future__ import annotations

import asyncpg

from store.pool import acquire


async def note_failure(db: asyncpg.Pool | asyncpg.Connection, workflow_id: str, seq: int, error: str) -> None:
    """Note (idempotently) that `workflow_id`'s projection at `seq` was refused with `error` (already redacted)."""
    async with acquire(db) as conn:
        await conn.execute(
            """INSERT INTO projection_failures (workflow_id, seq, error) VALUES ($1, $2, $3)
               ON CONFLICT (workflow_id) DO UPDATE SET seq = EXCLUDED.seq, error = EXCLUDED.error, failed_at = now()
               WHERE projection_failures.seq <= EXCLUDED.seq""",
            workflow_id, seq, error.replace("\x00", "\\0"))


async def clear_failure(db: asyncpg.Pool | asyncpg.Connection, workflow_id: str, seq: int) -> None:
    """A projection at `seq` was written: a refusal of an older seq no longer stands."""
    async with acquire(db) as conn:
        await conn.execute("DELETE FROM projection_failures WHERE workflow_id = $1 AND seq < $2", workflow_id, seq)


async def count_failures(db: asyncpg.Pool | asyncpg.Connection) -> int:
    async with acquire(db) as conn:
        return await conn.fetchval("SELECT count(*) FROM projection_failures")
