"""The worker process: runs the permit workflows and their activities until told to stop."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import signal
from collections.abc import Callable, Sequence

import asyncpg
import httpx
import structlog
from temporalio.client import Client
from temporalio.worker import Worker

from activities import all_activities
from activities.outbox_relay import OutboxRelay
from config.secrets import webhook_secret
from config.settings import Settings
from domain.catalog import default_rule_set
from schemas.catalog import RuleSet
from store.pool import open_pool, where
from store.server import database_url
from workers.metrics import metrics_runtime, serve_worker_metrics
from workers.logic_flags import with_single_batch_activations
from workers.sandbox import workflow_runner
from workers.temporal import connect
from workflows.clearance import AgencyClearanceWorkflow
from workflows.feature_call import FeatureCallWorkflow
from workflows.incentive import IncentiveApplicationWorkflow
from workflows.permit import PermitApplicationWorkflow

log = structlog.get_logger(__name__)

WORKFLOWS: Sequence[type] = (PermitApplicationWorkflow, AgencyClearanceWorkflow, IncentiveApplicationWorkflow,
                              FeatureCallWorkflow)
AGENCY_TIMEOUT = httpx.Timeout(10.0, connect=5.0)


def build_worker(
    client: Client,
    settings: Settings,
    rules: RuleSet,
    http: httpx.AsyncClient,
    pool: asyncpg.Pool | None = None,
    **options,
) -> Worker:
    """A worker with every workflow and activity of the permit engine registered (projections need `pool`)."""
    options.setdefault("max_cached_workflows", settings.max_cached_workflows)
    options.setdefault("workflow_runner", workflow_runner(WORKFLOWS))
    return with_single_batch_activations(Worker(
        client,
        task_queue=settings.task_queue,
        workflows=list(WORKFLOWS),
        activities=all_activities(http, rules, settings.documents_dir, pool),
        graceful_shutdown_timeout=dt.timedelta(seconds=10),
        **options,
    ))


async def run_worker(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Run until `stop` is set (or SIGINT/SIGTERM), then let running activities finish."""
    stop = stop or _stop_on_signals()
    rules = default_rule_set(settings)
    runtime, sdk_metrics_url = metrics_runtime() if settings.worker_metrics_port else (None, None)
    client = await connect(settings, runtime=runtime)
    url = await asyncio.to_thread(database_url, settings)  # may start the embedded server
    pool = await open_pool(url)  # applies pending migrations first
    log.info("read_model_connected", database=where(url))
    metrics = None
    try:
        metrics = serve_worker_metrics(settings, pool, sdk_metrics_url)
        async with httpx.AsyncClient(timeout=AGENCY_TIMEOUT) as http:
            worker = build_worker(client, settings, rules, http, pool)
            log.info("worker_started", task_queue=settings.task_queue, rule_set=rules.version)
            relay = OutboxRelay(pool, http, applicant_secret(settings), allow_loopback=settings.allow_loopback_webhooks)
            async with worker:
                relay_task = asyncio.create_task(relay.run(stop))
                await stop.wait()
                log.info("worker_stopping")
                await relay_task  # finishes its batch; an interrupted one rolls back and is re-sent with its key
    finally:
        if metrics:
            metrics.close()
        await pool.close()  # after the worker: its last activities may still write
    log.info("worker_stopped")


def applicant_secret(settings: Settings) -> Callable[[str | None], bytes]:
    """The secret applicant webhooks are signed with, per organisation (`JFC_SECRET_APPLICANT_<ORG>`)."""

    def secret_for(organisation_id: str | None) -> bytes:
        ref = "applicant_" + re.sub(r"[^a-z0-9_]", "_", (organisation_id or "default").lower())
        return webhook_secret(ref, settings.state_dir)

    return secret_for


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop
