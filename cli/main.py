"""The `jfc` command: run the stack or one of its parts, and try it out."""

from __future__ import annotations

import asyncio

import typer
from rich.console import Console

from config.errors import ConfigurationError
from config.logs import configure_logging
from config.settings import Settings, load_settings

app = typer.Typer(help="Jakarta Film Commission: film permits and incentives on Temporal.", no_args_is_help=True)
console = Console()


def _settings() -> Settings:
    settings = load_settings()
    configure_logging(settings.log_format, settings.log_level)
    return settings


@app.command()
def up() -> None:
    """Start everything locally (Temporal dev server, agency simulator, worker, API); Ctrl-C stops it."""
    from cli.stack import run_stack

    raise typer.Exit(run_stack(load_settings(), console))


@app.command()
def worker() -> None:
    """Run the Temporal worker (workflows and activities)."""
    from workers.worker import run_worker

    asyncio.run(run_worker(_settings()))


@app.command()
def api() -> None:
    """Serve the HTTP API (applicants, agency webhooks, payments, verification)."""
    from api.server import run

    run(_settings())


@app.command()
def agencies() -> None:
    """Serve the agency simulator (every agency of the catalog, and the payment provider)."""
    from simulator.server import run

    run(_settings())


@app.command()
def demo(
    timeout: float = typer.Option(180.0, help="Seconds to wait for every application to be issued."),
    print_application: bool = typer.Option(
        False, "--print-application", help="Only print the park shoot's application (JSON, shooting in 45 days)."),
) -> None:
    """Submit a few realistic applications to a running stack and watch them, agency by agency, to issued."""
    from cli.demo import example_application, run_demo

    if print_application:
        typer.echo(example_application())
        return
    raise typer.Exit(asyncio.run(run_demo(load_settings(), console, timeout)))


accounts = typer.Typer(help="Accounts and their bearer tokens.", no_args_is_help=True)
app.add_typer(accounts, name="accounts")


@accounts.command("create")
def accounts_create(
    name: str = typer.Option(..., help="Who the account is for."),
    role: str = typer.Option(..., help="applicant, officer, agency or auditor."),
    organisation: str = typer.Option(None, help="The applicant's organisation (created if new)."),
    agency: str = typer.Option(None, help="The agency code of an agency clerk."),
) -> None:
    """Create an account and print its token once (only its hash is stored)."""
    from cli.accounts import create_command

    raise typer.Exit(create_command(_settings(), name, role, organisation, agency))


@accounts.command("list")
def accounts_list() -> None:
    """List accounts (never tokens)."""
    from cli.accounts import list_command

    raise typer.Exit(list_command(_settings()))


@accounts.command("revoke")
def accounts_revoke(account_id: str = typer.Argument(..., help="The account id, as `jfc accounts list` shows.")) -> None:
    """Revoke an account: its token stops working."""
    from cli.accounts import revoke_command

    raise typer.Exit(revoke_command(_settings(), account_id))


sla = typer.Typer(help="SLA reports from the read model.", no_args_is_help=True)
audit = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)
app.add_typer(sla, name="sla")
app.add_typer(audit, name="audit")


@sla.command("report")
def sla_report(
    start: str = typer.Option(None, "--from", help="First day (YYYY-MM-DD, Jakarta) of requests to count."),
    end: str = typer.Option(None, "--to", help="Last day (YYYY-MM-DD, Jakarta) of requests to count."),
) -> None:
    """Per agency: requests, decided, met, breached, open, at risk, turnaround, deemed approvals, outages."""
    import datetime as dt

    from cli.reports import sla_report_command

    try:
        first = dt.date.fromisoformat(start) if start else None
        last = dt.date.fromisoformat(end) if end else None
    except ValueError as exc:
        raise typer.BadParameter(f"dates are YYYY-MM-DD: {exc}") from None
    from store.reports import FIRST_REPORT_DATE, LAST_REPORT_DATE

    for option, day in (("--from", first), ("--to", last)):
        if day is not None and not FIRST_REPORT_DATE <= day <= LAST_REPORT_DATE:
            raise typer.BadParameter(f"{option} {day} is outside {FIRST_REPORT_DATE}..{LAST_REPORT_DATE}")
    raise typer.Exit(sla_report_command(_settings(), first, last))


@audit.command("verify")
def audit_verify() -> None:
    """Walk the audit chain and name the first broken row, if any."""
    from cli.audit import verify_command

    raise typer.Exit(verify_command(_settings()))


fund = typer.Typer(help="The incentive funds and their ledger.", no_args_is_help=True)
app.add_typer(fund, name="fund")


@fund.command("show")
def fund_show(
    year: int = typer.Option(None, "--year", help="The fiscal year (default: this year in Jakarta).", min=2020, max=2100),
) -> None:
    """Per programme: capacity, reserved, paid, clawed back, available and waiting applications."""
    import datetime as dt

    from cli.funds import fund_show_command
    from domain.jakarta import jakarta_date

    raise typer.Exit(fund_show_command(_settings(), year or jakarta_date(dt.datetime.now(dt.UTC)).year))


def main() -> None:
    """The `jfc` command. A configuration it cannot start with (a settings variable, a rule data file, a secret)
    ends it with what is wrong and where, on stderr, and exit code 2: no traceback."""
    try:
        app()
    except ConfigurationError as err:
        typer.echo(f"jfc: cannot start: {err}", err=True)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
