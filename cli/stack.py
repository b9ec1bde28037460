"""`jfc up`: the whole local stack as child processes, stopped cleanly and in order on Ctrl-C."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from rich.console import Console
from rich.markup import escape

from config.settings import Settings
from schemas.contracts import SEARCH_ATTR_NEXT_DEADLINE, SEARCH_ATTR_STATUS

BIN = Path(sys.executable).parent
LOCAL_WEBHOOKS = "JFC_ALLOW_LOOPBACK_WEBHOOKS"  # the local stack lets applicant webhooks reach this machine
LOCAL_COOKIES = "JFC_COOKIE_SECURE"  # the local stack serves its pages over plain http on localhost


@dataclass
class Service:
    name: str
    argv: list[str]
    ready: str  # "tcp:<host>:<port>" or "http:<url>" or "alive"
    process: subprocess.Popen | None = field(default=None, repr=False)


class StackError(RuntimeError):
    """A service could not start; the message says which and where its log is."""


def temporal_server_argv(settings: Settings, host: str, port: int) -> list[str]:
    """The dev server with SQLite persistence in the state folder and our search attributes."""
    return [
        str(BIN / "temporal"), "server", "start-dev",
        "--ip", host, "--port", str(port), "--ui-port", str(settings.temporal_ui_port),
        "--db-filename", str(settings.state_dir / "temporal.db"),
        "--search-attribute", f"{SEARCH_ATTR_STATUS}=Keyword",
        "--search-attribute", f"{SEARCH_ATTR_NEXT_DEADLINE}=Datetime",
        "--sqlite-pragma", "journal_mode=wal", "--sqlite-pragma", "synchronous=normal",
        "--log-level", "warn",
    ]  # fmt: skip


def services(settings: Settings) -> list[Service]:
    host, _, port = settings.temporal_address.rpartition(":")
    jfc = [sys.executable, "-m", "cli.main"]
    return [
        Service("temporal", temporal_server_argv(settings, host or "127.0.0.1", int(port)), f"tcp:{host}:{port}"),
        Service("agencies", [*jfc, "agencies"], f"http:{settings.simulator_url}/healthz"),
        Service("worker", [*jfc, "worker"], "alive"),
        Service("api", [*jfc, "api"], f"http:{settings.public_base_url}/healthz"),
    ]


class Stack:
    """Starts services in order, watches them, and stops them in reverse order."""

    def __init__(self, settings: Settings, console: Console) -> None:
        self.settings = settings
        self.console = console
        self.logs = settings.state_dir / "logs"
        self.started: list[Service] = []
        self.env: dict[str, str] = {}
        self.database = None  # the embedded PostgreSQL, when this stack started one

    def start(self, service: Service, timeout: float = 90.0) -> None:
        self.logs.mkdir(parents=True, exist_ok=True)
        log_file = open(self.logs / f"{service.name}.log", "ab")
        env = {
            LOCAL_WEBHOOKS: "true",  # unless the environment says otherwise
            LOCAL_COOKIES: "false",
            **os.environ,
            **self.env,
            "JFC_STATE_DIR": str(self.settings.state_dir.resolve()),
            "JFC_LOG_FORMAT": "json",
        }
        service.process = subprocess.Popen(
            service.argv, stdout=log_file, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
        self.started.append(service)
        deadline = time.monotonic() + timeout
        while not self._is_ready(service):
            if service.process.poll() is not None:
                raise StackError(f"{service.name} exited with code {service.process.returncode}; see {log_file.name}, "
                                 f"which ends:\n{last_lines(Path(log_file.name))}")
            if time.monotonic() > deadline:
                raise StackError(f"{service.name} not ready after {timeout:.0f} s; see {log_file.name}")
            time.sleep(0.2)
        self.console.print(f"[green]✓[/] {service.name} started (pid {service.process.pid})")

    def start_database(self) -> None:
        """DATABASE_URL when set; otherwise the embedded PostgreSQL in the state folder, shared with every service."""
        if self.settings.database_url:
            self.env["DATABASE_URL"] = self.settings.database_url
            self.console.print("[green]✓[/] postgres at DATABASE_URL")
            return
        from store.server import EMBEDDED_DIR, embedded_server

        self.database = embedded_server(self.settings.state_dir / EMBEDDED_DIR)
        self.env["DATABASE_URL"] = self.database.get_uri()
        self.console.print(f"[green]✓[/] postgres started (pid {self.database.get_pid()}, embedded)")

    def create_demo_accounts(self) -> Path:
        """One demo account per role (two applicant organisations), tokens printed and kept in the state folder."""
        from cli.accounts import demo_tokens_command, demo_tokens_file

        settings = self.settings.model_copy(update={"database_url": self.env["DATABASE_URL"]})
        tokens = demo_tokens_command(settings)
        for role in ("applicant", "applicant_b", "officer", "auditor"):
            self.console.print(f"  [dim]{role:<12}[/] {tokens[role]}")
        return demo_tokens_file(settings)

    def _is_ready(self, service: Service) -> bool:
        kind, _, target = service.ready.partition(":")
        if kind == "tcp":
            host, _, port = target.rpartition(":")
            with socket.socket() as sock:
                sock.settimeout(0.5)
                return sock.connect_ex((host or "127.0.0.1", int(port))) == 0
        if kind == "http":
            try:
                return httpx.get(target, timeout=1.0).status_code == 200
            except httpx.HTTPError:
                return False
        time.sleep(1.0)
        return service.process is not None and service.process.poll() is None

    def watch(self) -> str:
        """Block until a service exits on its own; returns its name."""
        while True:
            for service in self.started:
                if service.process and service.process.poll() is not None:
                    return service.name
            time.sleep(0.5)

    def stop(self, timeout: float = 15.0) -> None:
        """SIGINT each service, newest first, then SIGKILL whatever outlives `timeout`."""
        for service in reversed(self.started):
            proc = service.process
            if proc is None or proc.poll() is not None:
                continue
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            self.console.print(f"[dim]stopped {service.name}[/]")
        if self.database is not None:
            self.database.cleanup()  # stops the embedded server; its data stays in the state folder
            self.database = None
            self.console.print("[dim]stopped postgres[/]")


def ensure_ports_free(settings: Settings) -> None:
    """Refuse to start over a stack that is already running."""
    host, _, port = settings.temporal_address.rpartition(":")
    ports = {
        "Temporal": int(port),
        "Temporal UI": settings.temporal_ui_port,
        "agency simulator": settings.simulator_port,
        "API": settings.api_port,
    }
    for name, number in ports.items():
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", number)) == 0:
                raise StackError(f"port {number} ({name}) is already in use: is another `jfc up` running?")


def last_lines(log: Path, count: int = 3) -> str:
    """The last `count` non-empty lines of `log`, indented: why a service stopped, shown where `jfc up` runs."""
    lines = [line for line in log.read_text(errors="replace").splitlines() if line.strip()]
    return "\n".join(f"  {line[:500]}" for line in lines[-count:])


def check_rule_data(settings: Settings) -> None:
    """Load the catalog, rule set and programmes the services will load: a broken file stops `jfc up` (naming file,
    line and field) before anything starts."""
    from domain.catalog import default_rule_set
    from domain.incentive_rules import default_incentive_rules

    default_rule_set(settings)
    default_incentive_rules(settings)


def run_stack(settings: Settings, console: Console) -> int:
    check_rule_data(settings)
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    ensure_ports_free(settings)
    stack = Stack(settings, console)
    interrupted = False

    def on_signal(_sig: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)  # also when started from a shell that ignores SIGINT
    try:
        stack.start_database()
        for service in services(settings):
            stack.start(service)
        tokens_file = stack.create_demo_accounts()
        console.print(
            f"\n[bold]JFC is up.[/]\n"
            f"  API           {settings.public_base_url}  (OpenAPI: {settings.public_base_url}/docs)\n"
            f"  Temporal UI   http://localhost:{settings.temporal_ui_port}\n"
            f"  Agencies      {settings.simulator_url}  (admin: {settings.simulator_url}/docs)\n"
            f"  Logs          {stack.logs}/\n"
            f"  Demo tokens   {tokens_file} (one account per role: applicant, applicant_b, officer, auditor, agencies)\n"
            f"Try `jfc demo` in another terminal. Ctrl-C stops everything.\n"
        )
        died = stack.watch()
        console.print(f"[red]{died} exited unexpectedly; stopping the stack (see {stack.logs}/{died}.log)[/]")
    except KeyboardInterrupt:
        interrupted = True
        console.print("\nstopping…")
    except StackError as exc:
        console.print(f"[red]{escape(str(exc))}[/]")
    finally:
        stack.stop()
    return 0 if interrupted else 1
