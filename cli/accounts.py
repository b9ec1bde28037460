"""`jfc accounts create|list|revoke`, and the demo accounts `jfc up` prints."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import asyncpg
from rich.console import Console
from rich.table import Table

from config.settings import Settings
from domain.catalog import default_rule_set
from domain.jakarta import JAKARTA
from store import accounts
from store.pool import open_pool
from store.server import database_url

T = TypeVar("T")
DEMO_TOKENS_FILE = "demo-tokens.json"


def _agency_codes(settings: Settings) -> list[str]:
    return [str(agency.code) for agency in default_rule_set(settings).catalog.agencies]


def demo_tokens_file(settings: Settings) -> Path:
    return settings.state_dir / DEMO_TOKENS_FILE


def _with_pool(settings: Settings, work: Callable[[asyncpg.Pool], Awaitable[T]]) -> T:
    async def run() -> T:
        pool = await open_pool(database_url(settings), max_size=2)
        try:
            return await work(pool)
        finally:
            await pool.close()

    return asyncio.run(run())


def _when(moment: dt.datetime | None) -> str:
    return moment.astimezone(JAKARTA).strftime("%Y-%m-%d %H:%M") if moment else ""


def create_command(
    settings: Settings, name: str, role: str, organisation: str | None, agency: str | None,
    *, console: Console | None = None,
) -> int:
    """Create an account and print its token once; 0 when created, 2 when the input is refused."""
    console = console or Console()
    try:
        account, token = _with_pool(settings, lambda pool: accounts.create_account(
            pool, name=name, role=role, organisation=organisation, agency=agency,
            known_agencies=_agency_codes(settings),
        ))
    except ValueError as err:
        console.print(f"[red]not created: {err}[/]")
        return 2
    what = account.organisation or account.agency
    console.print(f"created {account.id}: {account.name}, {account.role}" + (f" ({what})" if what else ""))
    console.print("[bold yellow]Its token, shown this once and not stored anywhere (only its hash is kept):[/]")
    console.print(token, markup=False, highlight=False, soft_wrap=True)
    console.print("Keep it secret; if it is lost or leaked, revoke the account and create another.")
    return 0


def list_command(settings: Settings, *, console: Console | None = None) -> int:
    """Print every account (tokens are never shown, only their first characters)."""
    console = console or Console()
    rows = _with_pool(settings, accounts.list_accounts)
    if not rows:
        console.print("no accounts yet; create one with `jfc accounts create`")
        return 0
    table = Table(title="Accounts (times in Asia/Jakarta)")
    for column in ("id", "name", "role", "organisation", "agency", "token prefix", "created", "revoked"):
        table.add_column(column, no_wrap=column in ("id", "token prefix"))
    for account in rows:
        table.add_row(
            account.id, account.name, str(account.role), account.organisation or "", account.agency or "",
            account.token_prefix + "…", _when(account.created_at), _when(account.revoked_at),
            style="dim" if account.revoked_at else None,
        )
    console.print(table)
    return 0


def revoke_command(settings: Settings, account_id: str, *, console: Console | None = None) -> int:
    """Revoke an account's token; 0 when revoked, 1 when there is no such active account."""
    console = console or Console()
    if _with_pool(settings, lambda pool: accounts.revoke(pool, account_id)):
        console.print(f"revoked {account_id}: its token stops working within 30 seconds on every API process")
        return 0
    console.print(f"[red]no active account {account_id!r}; `jfc accounts list` shows them[/]")
    return 1


def demo_tokens_command(settings: Settings) -> dict[str, str]:
    """The demo accounts' tokens (one per role and agency), created when missing, kept in `.jfc/demo-tokens.json`."""
    codes = _agency_codes(settings)
    return _with_pool(
        settings, lambda pool: accounts.ensure_demo_accounts(pool, demo_tokens_file(settings), codes)
    )
