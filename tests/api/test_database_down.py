"""A request that finds the database down answers a 503 problem with Retry-After, never a bare 500."""

from __future__ import annotations

from pathlib import Path

import httpx

from store.accounts import create_account
from store.pool import open_pool
from tests.reports.test_reports_api import make_app


async def test_the_database_going_away_is_a_503_with_retry_after(tmp_path: Path, database_url: str) -> None:
    pool = await open_pool(database_url, max_size=2)
    _, officer = await create_account(pool, name="Officer Ani", role="officer")
    app = make_app(tmp_path, pool)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://jfc.test",
                                 headers={"Authorization": f"Bearer {officer}"}) as http:
        assert (await http.get("/v1/officer/queue")).status_code == 200
        await pool.close()  # what a PostgreSQL restart looks like to the API: its connections are gone
        down = await http.get("/v1/officer/queue")
    assert down.status_code == 503, down.text
    assert down.headers["retry-after"] == "30" and "database-unavailable" in down.json()["type"]
