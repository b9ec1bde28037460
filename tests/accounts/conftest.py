"""A migrated database per test, as an asyncpg pool."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from store.pool import open_pool


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await open_pool(database_url, max_size=4)
    try:
        yield pool
    finally:
        await pool.close()
