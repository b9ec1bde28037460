"""The parts a benchmark runs: the Temporal dev server, workers each in a process of its own, a scratch database
and the catalog with its pacing out of the way."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import psutil
from temporalio.client import Client

from config.settings import Settings
from schemas.contracts import SEARCH_ATTR_NEXT_DEADLINE, SEARCH_ATTR_STATUS

ROOT = Path(__file__).resolve().parents[1]
TEMPORAL = Path(sys.executable).parent / "temporal"


@contextlib.contextmanager
def dev_server(port: int):
    """The Temporal dev server, in memory, with JFC's search attributes; yields its process."""
    argv = [str(TEMPORAL), "server", "start-dev", "--headless", "--ip", "127.0.0.1", "--port", str(port),
            "--search-attribute", f"{SEARCH_ATTR_STATUS}=Keyword",
            "--search-attribute", f"{SEARCH_ATTR_NEXT_DEADLINE}=Datetime", "--log-level", "error"]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield proc
    finally:
        stop(proc, grace_s=10)


def stop(proc: subprocess.Popen, grace_s: float) -> None:
    """Terminate `proc`; kill it if it still runs `grace_s` later."""
    proc.terminate()
    try:
        proc.wait(grace_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def jfc_worker_env(settings: Settings, database_url: str, log_level: str) -> dict[str, str]:
    """The environment `jfc worker` takes the bench's settings from: server, queue, catalog, database, state folder
    (dev secrets and codec key), the simulator and the API; no metrics port (one worker per machine has it)."""
    return {**os.environ, "TEMPORAL_ADDRESS": settings.temporal_address, "JFC_TASK_QUEUE": settings.task_queue,
            "JFC_AGENCIES_FILE": str(settings.agencies_file), "DATABASE_URL": database_url,
            "JFC_STATE_DIR": str(settings.state_dir), "JFC_SIMULATOR_URL": settings.simulator_url,
            "JFC_PUBLIC_BASE_URL": settings.public_base_url, "JFC_ALLOW_LOOPBACK_WEBHOOKS": "true",
            "JFC_WORKER_METRICS_PORT": "0", "JFC_LOG_FORMAT": "json", "JFC_LOG_LEVEL": log_level}


@dataclass
class WorkerProcess:
    """A worker in a process of its own, so its CPU is measured apart; its log tells why, should it die."""

    name: str
    popen: subprocess.Popen
    log: Path
    process: psutil.Process = field(init=False)

    def __post_init__(self) -> None:
        self.process = psutil.Process(self.popen.pid)

    def check_alive(self) -> None:
        if self.popen.poll() is not None:
            tail = self.log.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"the {self.name} worker exited with code {self.popen.returncode}; "
                               f"its log ends:\n{tail}")

    async def while_alive(self, work: Awaitable[None]) -> None:
        """`work`, given up at once if this worker dies meanwhile (instead of at the batch's timeout)."""
        task = asyncio.ensure_future(work)
        try:
            while not task.done():
                await asyncio.wait({task}, timeout=0.5)
                self.check_alive()
        finally:
            task.cancel()
        task.result()


@contextlib.contextmanager
def worker_process(name: str, argv: list[str], env: dict[str, str], logs: Path) -> Iterator[WorkerProcess]:
    """Run `argv` from the project's folder, its output to `<logs>/<name>-worker.log`; terminated on exit."""
    log = logs / f"{name}-worker.log"
    with open(log, "wb") as out:
        popen = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            yield WorkerProcess(name, popen, log)
        finally:
            stop(popen, grace_s=15)


async def connect(address: str, **kwargs) -> Client:
    for _ in range(240):
        try:
            return await Client.connect(address, **kwargs)
        except RuntimeError:
            await asyncio.sleep(0.25)
    raise RuntimeError(f"the dev server at {address} did not come up")


@contextlib.asynccontextmanager
async def database(tmp: Path) -> AsyncIterator[str]:
    """A scratch database: on DATABASE_URL's server (created, then dropped), or an embedded server's own."""
    url = os.environ.get("DATABASE_URL")
    if not url:
        from store.server import embedded_server

        server = embedded_server(tmp / "pg")
        try:
            yield server.get_uri()
        finally:
            server.cleanup()
        return
    name = f"jfc_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(url)
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def fast_catalog(tmp: Path) -> Path:
    """The packaged catalog with pacing raised out of the way (the pacing, not Temporal, would set the figure)."""
    source = Settings().agencies_file.read_text()
    path = tmp / "agencies.toml"
    path.write_text(re.sub(r"(?m)^calls_per_second = .*$", "calls_per_second = 1000", source))
    return path
