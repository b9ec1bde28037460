"""Migrations: from empty, re-run, two starters at once, and a failing file that leaves nothing behind."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import asyncpg
import pytest

from store.migrate import LOCK_KEY, MIGRATIONS_DIR, MigrationError, discover, migrate

PACKAGED = [m.name for m in discover()]


async def _fetch(url: str, sql: str, *args):
    conn = await asyncpg.connect(url)
    try:
        return await conn.fetch(sql, *args)
    finally:
        await conn.close()


async def _tables(url: str) -> set[str]:
    rows = await _fetch(url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    return {r["tablename"] for r in rows}


async def test_an_empty_database_gets_every_migration_recorded(database_url: str):
    assert PACKAGED[:2] == ["0001_read_model.sql", "0002_audit_append_only.sql"]

    assert await migrate(database_url) == PACKAGED

    assert {"applications", "clearances", "timeline_events", "agency_outages", "audit_log",
            "schema_migrations"} <= await _tables(database_url)
    recorded = await _fetch(database_url, "SELECT version, name, applied_at FROM schema_migrations ORDER BY version")
    assert [(r["version"], r["name"]) for r in recorded] == [(m.version, m.name) for m in discover()]
    assert all(r["applied_at"] is not None for r in recorded)


async def test_a_second_run_applies_nothing(database_url: str):
    await migrate(database_url)
    assert await migrate(database_url) == []
    rows = await _fetch(database_url, "SELECT count(*) AS n FROM schema_migrations")
    assert rows[0]["n"] == len(PACKAGED)


async def test_two_starters_at_once_both_succeed_and_apply_each_file_once(database_url: str, tmp_path: Path):
    slow = tmp_path / "migrations"
    slow.mkdir()
    (slow / "0001_slow.sql").write_text("SELECT pg_sleep(0.3);\nCREATE TABLE only_once (id int PRIMARY KEY);\n")
    (slow / "0002_after.sql").write_text("INSERT INTO only_once VALUES (1);\n")

    results = await asyncio.gather(migrate(database_url, directory=slow), migrate(database_url, directory=slow))

    assert sorted(results) == [[], ["0001_slow.sql", "0002_after.sql"]]
    assert [r["version"] for r in await _fetch(database_url, "SELECT version FROM schema_migrations")] == [1, 2]
    assert len(await _fetch(database_url, "SELECT * FROM only_once")) == 1


async def test_a_pool_and_a_connection_migrate_as_well(database_url: str):
    conn = await asyncpg.connect(database_url)
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
    try:
        assert await migrate(conn, directory=MIGRATIONS_DIR) == PACKAGED
        assert await migrate(pool) == []
        assert await migrate(conn) == []
        free = await _fetch(database_url, "SELECT pg_try_advisory_lock($1) AS free", LOCK_KEY)
        assert free[0]["free"], "the connection kept the migration lock"
    finally:
        await pool.close()
        await conn.close()


async def test_a_failing_migration_leaves_the_schema_as_it_was(database_url: str, tmp_path: Path):
    folder = tmp_path / "migrations"
    folder.mkdir()
    shutil.copy(MIGRATIONS_DIR / "0001_read_model.sql", folder)
    bad = folder / "0002_half_done.sql"
    bad.write_text(
        "CREATE TABLE half_done (id int);\n"
        "ALTER TABLE applications ADD COLUMN oops int;\n"
        "SELECT no_such_column FROM applications;\n"
    )

    with pytest.raises(MigrationError) as caught:
        await migrate(database_url, directory=folder)

    message = str(caught.value)
    assert "0002_half_done.sql" in message
    assert "no_such_column" in message and "UndefinedColumnError" in message and "line 3" in message
    assert "half_done" not in await _tables(database_url)
    columns = await _fetch(
        database_url, "SELECT column_name FROM information_schema.columns WHERE table_name = 'applications'"
    )
    assert "oops" not in {r["column_name"] for r in columns}
    assert [r["version"] for r in await _fetch(database_url, "SELECT version FROM schema_migrations")] == [1]

    bad.write_text("CREATE TABLE half_done (id int);\n")  # fixed: the next start applies it
    assert await migrate(database_url, directory=folder) == ["0002_half_done.sql"]


def test_migration_files_are_numbered_once(tmp_path: Path):
    (tmp_path / "0001_a.sql").write_text("")
    (tmp_path / "1_b.sql").write_text("")
    with pytest.raises(MigrationError, match="share version 1"):
        discover(tmp_path)
    (tmp_path / "1_b.sql").unlink()
    (tmp_path / "notes.sql").write_text("")
    with pytest.raises(MigrationError, match="NNNN_description.sql"):
        discover(tmp_path)
