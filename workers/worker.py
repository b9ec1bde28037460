"""The worker process: runs the permit workflows and their activities until told to stop."""

from __future__ import annotations

import asyncio
import datetime as dt
import signal
from collections.abc import Sequence

import httpx
import structlog
from temporalio.client import Client
from temporalio.worker import Worker

from activities import all_activities
from config.settings import Settings
from domain.catalog import default_rule_set
from schemas.catalog import RuleSet
from workers.temporal import connect
from workflows.clearance import AgencyClearanceWorkflow
from workflows.permit import PermitApplicationWorkflow

log = structlog.get_logger(__name__)

WORKFLOWS: Sequence[type] = (PermitApplicationWorkflow, AgencyClearanceWorkflow)
AGENCY_TIMEOUT = httpx.Timeout(10.0, connect=5.0)


def build_worker(client: Client, settings: Settings, rules: RuleSet, http: httpx.AsyncClient, **options) -> Worker:
    """A worker with every workflow and activity of the permit engine registered."""
    return Worker(
        client,
        task_queue=settings.task_queue,
        workflows=list(WORKFLOWS),
        activities=all_activities(http, rules, settings.documents_dir),
        graceful_shutdown_timeout=dt.timedelta(seconds=10),
        **options,
    )


async def run_worker(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Run until `stop` is set (or SIGINT/SIGTERM), then let running activities finish."""
    stop = stop or _stop_on_signals()
    rules = default_rule_set(settings)
    client = await connect(settings)
    async with httpx.AsyncClient(timeout=AGENCY_TIMEOUT) as http:
        worker = build_worker(client, settings, rules, http)
        log.info("worker_started", task_queue=settings.task_queue, rule_set=rules.version)
        async with worker:
            await stop.wait()
            log.info("worker_stopping")
    log.info("worker_stopped")


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop
