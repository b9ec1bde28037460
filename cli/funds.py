"""`jfc fund show`: the incentive funds of a fiscal year, from the ledger, as a rich table."""

from __future__ import annotations

import asyncio

from rich.console import Console
from rich.table import Table

from config.settings import Settings
from domain.incentive_rules import default_incentive_rules
from domain.incentives import rupiah
from schemas.incentives import FundView


def fund_show_command(settings: Settings, fiscal_year: int, console: Console | None = None) -> int:
    """Print the funds of `fiscal_year`; 0 on success, 1 when the ledger cannot be read."""
    console = console or Console()
    try:
        view = asyncio.run(_fetch(settings, fiscal_year))
    except Exception as err:  # the database is down or unreachable: say so, no traceback
        console.print(f"[red]cannot read the funds: {err}[/red]")
        return 1
    console.print(fund_table(view))
    return 0


async def _fetch(settings: Settings, fiscal_year: int) -> FundView:
    from store import funds
    from store.pool import open_pool
    from store.server import database_url

    rules = default_incentive_rules(settings)
    pool = await open_pool(database_url(settings), max_size=1)
    try:
        return await funds.fund_view(pool, fiscal_year, lambda code: rules.get(code).default_capacity_idr)
    finally:
        await pool.close()


def fund_table(view: FundView) -> Table:
    table = Table(title=f"Incentive funds, fiscal year {view.fiscal_year}")
    for header in ("programme", "capacity", "reserved", "paid", "clawed back", "available", "waiting"):
        table.add_column(header, justify="left" if header == "programme" else "right")
    for p in view.programmes:
        table.add_row(p.programme.value, rupiah(p.capacity_idr), rupiah(p.reserved_idr), rupiah(p.paid_idr),
                      rupiah(p.clawed_back_idr), f"[green]{rupiah(p.available_idr)}[/green]",
                      f"[yellow]{p.waitlisted}[/yellow]" if p.waitlisted else "0")
    return table
