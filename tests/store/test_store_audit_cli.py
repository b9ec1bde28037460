"""`jfc audit verify` prints the verdict and exits 0 when intact, 1 when broken, 2 when it cannot read."""

from __future__ import annotations

import io

import asyncpg
import pytest
from rich.console import Console
from store_samples import at

from cli.audit import verify_command
from config.settings import Settings
from store.audit import append
from store.pool import open_pool


@pytest.fixture
async def audited_url(database_url: str) -> str:
    """A migrated database with three audit rows (seq 1, 2, 3)."""
    pool = await open_pool(database_url, max_size=1)
    async with pool.acquire() as conn:
        for i in range(3):
            await append(conn, at=at(3, 9, i), actor="system", action="submitted", application_id="PRM-1",
                         detail={"i": i}, source_key=f"k{i}")
    await pool.close()
    return database_url


@pytest.fixture
async def tampered_url(audited_url: str) -> str:
    """The same database after a superuser changed row 2 behind the append-only trigger's back."""
    conn = await asyncpg.connect(audited_url)
    try:
        await conn.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
        await conn.execute("""UPDATE audit_log SET detail = '{"i": 9}' WHERE seq = 2""")
    finally:
        await conn.close()
    return audited_url


def run(url: str) -> tuple[int, str]:
    out = io.StringIO()
    code = verify_command(Settings(database_url=url), console=Console(file=out, width=200))
    return code, out.getvalue()


def test_an_intact_chain(audited_url: str):
    assert run(audited_url) == (0, "audit chain intact: 3 rows\n")


def test_a_broken_chain(tampered_url: str):
    code, out = run(tampered_url)
    assert code == 1
    assert out.startswith("audit chain broken at row 2: hash does not match")


def test_a_database_that_was_never_migrated(database_url: str):
    code, out = run(database_url)
    assert code == 0 and "no audit log yet" in out


def test_an_unreachable_database():
    code, out = run("postgresql://jfc:s3cret-pw@127.0.0.1:1/permits")
    assert code == 2 and "host 127.0.0.1 port 1" in out and "s3cret-pw" not in out

