"""open_pool: migrated, jsonb as Python values, and errors that say where without the password."""

from __future__ import annotations

import pytest

from store.pool import DatabaseUnavailable, connect, open_pool, where

UNREACHABLE = "postgresql://jfc:s3cret-pw@127.0.0.1:1/permits"


async def test_open_pool_migrates_and_decodes_jsonb(database_url: str):
    pool = await open_pool(database_url, min_size=1, max_size=2)
    try:
        assert await pool.fetchval("SELECT count(*) FROM schema_migrations") >= 2
        assert await pool.fetchval("""SELECT '{"a": [1, "b"]}'::jsonb""") == {"a": [1, "b"]}
        assert await pool.fetchval("SELECT $1::jsonb -> 'k'", {"k": 7}) == 7
    finally:
        await pool.close()


@pytest.mark.parametrize("opener", [open_pool, connect], ids=["open_pool", "connect"])
async def test_an_unreachable_server_is_named_without_its_password(opener):
    with pytest.raises(DatabaseUnavailable) as caught:
        await opener(UNREACHABLE)
    message = str(caught.value)
    assert "host 127.0.0.1 port 1" in message and "'permits'" in message and "'jfc'" in message
    assert "s3cret-pw" not in message
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_where_reads_socket_urls():
    assert where("postgresql://postgres:@/t_1?host=/tmp/pg.sock") == "host /tmp/pg.sock port 5432, database 't_1', user 'postgres'"
