"""Which request each Idempotency-Key answered, per caller, so a key is never reused for another request."""

from __future__ import annotations

from typing import NamedTuple

import asyncpg

from store.pool import acquire


class KeyUse(NamedTuple):
    fingerprint: str
    route: str


async def first_use(db: asyncpg.Pool | asyncpg.Connection, scope: str, key: str) -> KeyUse | None:
    """The request `key` first answered for `scope`, or None when it is new."""
    async with acquire(db) as conn:
        row = await conn.fetchrow("SELECT fingerprint, route FROM idempotency_keys WHERE scope = $1 AND key = $2",
                                  scope, key)
    return None if row is None else KeyUse(row["fingerprint"], row["route"])


async def remember(db: asyncpg.Pool | asyncpg.Connection, scope: str, key: str, use: KeyUse) -> None:
    """Note `key`'s first request (a concurrent first use keeps whichever came first)."""
    async with acquire(db) as conn:
        await conn.execute("INSERT INTO idempotency_keys (scope, key, fingerprint, route) VALUES ($1, $2, $3, $4) "
                           "ON CONFLICT (scope, key) DO NOTHING", scope, key, use.fingerprint, use.route)
