"""`jfc audit verify`: walk the hash-chained audit log and name the first broken row."""

from __future__ import annotations

import asyncio

import asyncpg
from rich.console import Console
from rich.markup import escape

from config.settings import Settings
from store.audit import VerifyResult, verify
from store.pool import DatabaseUnavailable, connect
from store.server import database_url

EXIT_OK, EXIT_BROKEN, EXIT_UNAVAILABLE = 0, 1, 2


def verify_command(settings: Settings, console: Console | None = None) -> int:
    """Print whether the chain is intact; exit code 0 intact, 1 broken, 2 the database could not be read."""
    console = console or Console()
    try:
        result = asyncio.run(_verify(database_url(settings)))
    except DatabaseUnavailable as err:
        console.print(f"[red]cannot verify the audit log:[/] {escape(str(err))}")
        return EXIT_UNAVAILABLE
    if result is None:
        console.print("[yellow]no audit log yet:[/] the database has not been migrated (start the stack once)")
        return EXIT_OK
    if result.ok:
        console.print(f"[green]audit chain intact:[/] {result.rows} rows")
        return EXIT_OK
    console.print(f"[red]audit chain broken at row {result.first_broken_seq}:[/] {escape(result.reason or '')}")
    return EXIT_BROKEN


async def _verify(url: str) -> VerifyResult | None:
    """Read only: no migrations are applied by verifying."""
    conn = await connect(url)
    try:
        return await verify(conn)
    except asyncpg.UndefinedTableError:
        return None
    finally:
        await conn.close()
