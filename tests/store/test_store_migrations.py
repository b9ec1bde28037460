"""Migrations: from empty, re-run, two starters at once, and a failing file that leaves nothing behind."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import shutil
from pathlib import Path

import asyncpg
import pytest

from store.migrate import LOCK_KEY, MIGRATIONS_DIR, MigrationError, discover, migrate
from tests.reports.report_samples import assert_sla_figures_match_a_recount

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


def _migrations_up_to(tmp_path: Path, version: int) -> Path:
    """A folder with the packaged migrations up to `version`: what a database projected before the later ones has."""
    older = tmp_path / "migrations"
    older.mkdir()
    for migration in discover():
        if migration.version <= version:
            shutil.copy(migration.path, older)
    return older


async def _assert_figures_match_a_recount(url: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await assert_sla_figures_match_a_recount(conn)
        assert await conn.fetchval("SELECT count(*) FROM sla_daily"), "nothing counted"
    finally:
        await conn.close()


async def test_rows_projected_before_the_queue_and_sla_migrations_are_carried_over(database_url: str, tmp_path: Path):
    """0006 counts the clearances already present, once each, in sla_daily and sla_monthly; 0007 reads the new
    columns from the snapshots."""
    assert len(await migrate(database_url, directory=_migrations_up_to(tmp_path, 5))) == 5
    snapshot = {"organisation_id": "ORG-OLD", "revision": 3, "awaiting_expedite": True,
                "clearances": [{"agency": "parks", "revision": 3, "needs_officer": True},
                               {"agency": "police", "revision": 3, "needs_officer": False}]}
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(
            """INSERT INTO applications (id, status, submitted_at, production_title, applicant_company, snapshot,
                                         projected_seq)
               VALUES ('PRM-OLD', 'in_review', '2026-09-30 20:00+00', 'Old', 'PT Lama', $1::text::jsonb, 4),
                      ('PRM-BARE', 'in_review', '2026-09-30 20:00+00', 'Bare', 'PT Lama', '{}', 1)""",
            json.dumps(snapshot))
        await conn.execute(
            """INSERT INTO clearances (application_id, agency, revision, status, requested_at, decided_at,
                                       turnaround_business_days, sla)
               VALUES ('PRM-OLD', 'parks', 3, 'submitted', '2026-09-30 18:00+00', NULL, NULL, NULL),
                      ('PRM-OLD', 'police', 3, 'approved', '2026-10-02 09:00+00', '2026-10-06 09:00+00', 2, 'met'),
                      ('PRM-OLD', 'parks', 2, 'withdrawn', '2026-09-30 16:00+00', '2026-10-01 09:00+00', 1, NULL)""")
    finally:
        await conn.close()

    assert await migrate(database_url) == [m.name for m in discover() if m.version > 5]

    apps = await _fetch(database_url, "SELECT id, organisation_id, revision, awaiting_expedite FROM applications "
                                      "ORDER BY id")
    assert [tuple(r) for r in apps] == [("PRM-BARE", None, 1, False), ("PRM-OLD", "ORG-OLD", 3, True)]
    flags = await _fetch(database_url, "SELECT agency, revision, needs_officer FROM clearances ORDER BY agency, revision")
    assert [tuple(r) for r in flags] == [("parks", 2, False), ("parks", 3, True), ("police", 3, False)]
    # 18:00 UTC on 30 September is 1 October in Jakarta; 16:00 UTC is still 30 September
    daily = await _fetch(database_url, "SELECT agency, day, turnaround, requests, decided, open FROM sla_daily "
                                       "ORDER BY agency, day, turnaround")
    assert [tuple(r) for r in daily] == [
        ("parks", dt.date(2026, 9, 30), 1, 1, 1, 0),
        ("parks", dt.date(2026, 10, 1), -1, 1, 0, 1),
        ("police", dt.date(2026, 10, 2), 2, 1, 1, 0),
    ]
    monthly = await _fetch(database_url, "SELECT agency, month, turnaround, requests, decided, open FROM sla_monthly "
                                         "ORDER BY agency, month, turnaround")
    assert [tuple(r) for r in monthly] == [
        ("parks", dt.date(2026, 9, 1), 1, 1, 1, 0),
        ("parks", dt.date(2026, 10, 1), -1, 1, 0, 1),
        ("police", dt.date(2026, 10, 1), 2, 1, 1, 0),
    ]
    await _assert_figures_match_a_recount(database_url)


async def test_withdrawn_requests_projected_before_0006_count_as_requests_but_not_open(
    database_url: str, tmp_path: Path
):
    """A withdrawn clearance without a decision time, already present when 0006 runs, counts as a request (and as
    breached when it was) in sla_daily and sla_monthly, never as open; later writes keep both tables right."""
    assert len(await migrate(database_url, directory=_migrations_up_to(tmp_path, 5))) == 5
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(
            """INSERT INTO applications (id, status, submitted_at, production_title, applicant_company, snapshot,
                                         projected_seq)
               VALUES ('PRM-W', 'withdrawn', '2026-10-01 02:00+00', 'Batal', 'PT Lama', '{}', 4)""")
        await conn.execute(
            """INSERT INTO clearances (application_id, agency, revision, status, outcome, requested_at, due_at,
                                       breached_at, decided_at, turnaround_business_days, sla)
               VALUES ('PRM-W', 'parks', 1, 'withdrawn', 'withdrawn', '2026-10-01 03:00+00', NULL, NULL, NULL, NULL,
                       'at_risk'),
                      ('PRM-W', 'police', 1, 'withdrawn', 'withdrawn', '2026-10-01 03:00+00', '2026-10-03 09:00+00',
                       '2026-10-03 09:00+00', NULL, NULL, 'breached'),
                      ('PRM-W', 'fire', 1, 'submitted', NULL, '2026-10-02 03:00+00', NULL, NULL, NULL, NULL,
                       'at_risk'),
                      ('PRM-W', 'district', 1, 'approved', 'approved', '2026-10-02 03:00+00', NULL, NULL,
                       '2026-10-05 03:00+00', 3, 'met')""")
    finally:
        await conn.close()

    assert await migrate(database_url) == [m.name for m in discover() if m.version > 5]

    counted = "SELECT sum(requests), sum(decided), sum(breached), sum(open), sum(open_at_risk) FROM {}"

    async def totals() -> list[tuple]:
        return [tuple((await _fetch(database_url, counted.format(t)))[0]) for t in ("sla_daily", "sla_monthly")]

    assert await totals() == [(4, 1, 1, 1, 1)] * 2  # only fire is open (and at risk)
    for table in ("sla_daily", "sla_monthly"):
        per_agency = await _fetch(database_url, f"SELECT agency, sum(requests), sum(breached), sum(open), "
                                                f"sum(open_at_risk) FROM {table} GROUP BY agency ORDER BY agency")
        assert [tuple(r) for r in per_agency] == [("district", 1, 0, 0, 0), ("fire", 1, 0, 1, 1),
                                                  ("parks", 1, 0, 0, 0), ("police", 1, 1, 0, 0)], table
    await _assert_figures_match_a_recount(database_url)

    # the triggers keep counting: an insert (1 November in Jakarta, 31 October in UTC), updates, a delete
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(
            """INSERT INTO clearances (application_id, agency, revision, status, requested_at, sla)
               VALUES ('PRM-W', 'heritage', 1, 'submitted', '2026-10-31 18:00+00', 'at_risk')""")
        assert await totals() == [(5, 1, 1, 2, 2)] * 2
        await _assert_figures_match_a_recount(database_url)
        await conn.execute(
            """UPDATE clearances SET status = 'approved', outcome = 'deemed_approved', sla = 'met',
                                     decided_at = '2026-10-06 03:00+00', turnaround_business_days = 2
               WHERE agency = 'fire'""")
        await conn.execute("UPDATE clearances SET status = 'withdrawn', outcome = 'withdrawn' "
                           "WHERE agency = 'heritage'")
        assert await totals() == [(5, 2, 1, 0, 0)] * 2
        await _assert_figures_match_a_recount(database_url)
        await conn.execute("DELETE FROM clearances WHERE agency = 'district'")
        assert await totals() == [(4, 1, 1, 0, 0)] * 2
        await _assert_figures_match_a_recount(database_url)
    finally:
        await conn.close()
