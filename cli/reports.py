"""`jfc sla report`: SLA figures per agency from the read model, as a rich table."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

from rich.console import Console
from rich.table import Table

from config.settings import Settings
from schemas.reports import AgencySla


def sla_report_command(settings: Settings, start: date | None, end: date | None, console: Console | None = None) -> int:
    """Print the SLA table for requests on Jakarta dates `start`..`end` (either open-ended); 0 on success."""
    console = console or Console()
    if start and end and start > end:
        console.print(f"[red]--from {start} is after --to {end}; swap them or move one.[/red]")
        return 2
    try:
        rows = asyncio.run(_fetch(settings, start, end))
    except Exception as err:  # the database is down or unreachable: say so, no traceback
        console.print(f"[red]cannot read the SLA figures: {err}[/red]")
        return 1
    console.print(sla_table(rows, start, end))
    return 0


async def _fetch(settings: Settings, start: date | None, end: date | None) -> list[AgencySla]:
    from store.pool import open_pool
    from store.reports import agency_sla
    from store.server import database_url

    pool = await open_pool(database_url(settings), max_size=1)
    try:
        return await agency_sla(pool, start, end, datetime.now(UTC))
    finally:
        await pool.close()


def sla_table(rows: list[AgencySla], start: date | None, end: date | None) -> Table:
    window = f"{start or 'the beginning'} to {end or 'today'} (Jakarta dates of the requests)"
    table = Table(title=f"SLA per agency, {window}")
    for header in ("agency", "requests", "decided", "met", "breached", "open", "at risk", "median bd", "p90 bd",
                   "deemed", "outage min"):
        table.add_column(header, justify="left" if header == "agency" else "right")

    def days(value: float | None) -> str:
        return "-" if value is None else f"{value:.1f}"

    for row in rows:
        table.add_row(row.agency, str(row.requests), str(row.decided), str(row.met),
                      f"[red]{row.breached}[/red]" if row.breached else "0", str(row.open),
                      f"[yellow]{row.open_at_risk}[/yellow]" if row.open_at_risk else "0",
                      days(row.median_turnaround_business_days), days(row.p90_turnaround_business_days),
                      str(row.deemed_approvals), f"{row.outage_minutes:.0f}")
    return table
