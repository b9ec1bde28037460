"""`jfc sla report` prints the table from the read model."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

from rich.console import Console

from cli.reports import sla_report_command
from config.settings import Settings
from store.pool import open_pool
from tests.reports.report_samples import add_application, add_clearance, jkt


async def test_the_report_prints_every_agency(database_url: str, tmp_path: Path) -> None:
    pool = await open_pool(database_url)
    try:
        await add_application(pool, "PRM-A", submitted_at=jkt(2026, 10, 1, 9))
        await add_clearance(pool, "PRM-A", "parks", requested_at=jkt(2026, 10, 1, 9), decided_at=jkt(2026, 10, 5, 9),
                            sla="met", outcome="approved", status="approved", turnaround=2)
    finally:
        await pool.close()
    console = Console(record=True, width=200)
    settings = Settings(state_dir=tmp_path, DATABASE_URL=database_url)

    # the command runs its own event loop, as `jfc` does: run it in a thread
    code = await asyncio.to_thread(sla_report_command, settings, dt.date(2026, 10, 1), dt.date(2026, 10, 31), console)

    text = console.export_text()
    assert code == 0
    assert "parks" in text and "culture_ministry" in text and "2.0" in text
    assert sla_report_command(settings, dt.date(2026, 10, 2), dt.date(2026, 10, 1), console) == 2
