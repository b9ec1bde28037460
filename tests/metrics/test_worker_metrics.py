"""The worker's /metrics, from `run_worker` itself on the dev server: the SDK's metrics, the product gauges, and
what activities count through the Temporal meter (jfc_projection_failures)."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import asyncpg
import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

import workers.worker as worker_module
from config.settings import Settings
from store import funds
from tests.metrics.projection_probe import ProjectionProbeWorkflow, RefusingProjection
from workers.metrics import free_port


async def scrape(url: str) -> dict[str, list]:
    async with httpx.AsyncClient(timeout=5) as http:
        response = await http.get(url)
    response.raise_for_status()
    return {family.name: family.samples for family in text_string_to_metric_families(response.text)}


async def test_worker_serves_sdk_and_product_metrics(dev_env: WorkflowEnvironment, database_url: str,
                                                     pool: asyncpg.Pool, tmp_path: Path, task_queue: str,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    await funds.set_capacity(pool, 2027, "shooting_days_grant", 7_000, key="cap", actor="officer:OFF-1",
                             reason="budget", default_capacity_idr=1)
    port = free_port()
    settings = Settings(state_dir=tmp_path, task_queue=task_queue, worker_metrics_port=port,
                        temporal_address=dev_env.client.service_client.config.target_host, database_url=database_url)
    clients = []
    original = worker_module.build_worker
    monkeypatch.setattr(worker_module, "build_worker", lambda client, *a, **kw: clients.append(client) or original(
        client, *a, **kw))
    stop = asyncio.Event()
    running = asyncio.create_task(worker_module.run_worker(settings, stop))
    try:
        for _ in range(100):
            if clients or running.done():
                break
            await asyncio.sleep(0.1)
        assert clients, running
        [client] = clients  # the worker's own client: its runtime exports the metrics
        probe_queue = f"probe-{uuid.uuid4()}"
        async with Worker(client, task_queue=probe_queue, workflows=[ProjectionProbeWorkflow],
                          activities=[RefusingProjection(pool).refuse]):
            message = await client.execute_workflow(ProjectionProbeWorkflow.run, id=f"PRM-{uuid.uuid4()}",
                                                    task_queue=probe_queue)
        assert "refused for good" in message

        families = await scrape(f"http://127.0.0.1:{port}/metrics")
        sdk = {name for name in families if name.startswith("temporal_")}
        assert {"temporal_worker_task_slots_available", "temporal_workflow_completed",
                "temporal_activity_execution_latency"} <= sdk, sorted(sdk)
        [failure] = families["jfc_projection_failures"]
        assert (failure.name, failure.labels["error"], failure.value) == ("jfc_projection_failures_total",
                                                                          "ValueError", 1)
        [up] = families["jfc_read_model_up"]
        assert up.value == 1
        [capacity] = [s for s in families["jfc_fund_capacity_idr"] if s.labels["fiscal_year"] == "2027"]
        assert (capacity.labels["programme"], capacity.value) == ("shooting_days_grant", 7_000)
    finally:
        stop.set()
        await asyncio.wait_for(running, 30)
    with pytest.raises(httpx.ConnectError):
        await scrape(f"http://127.0.0.1:{port}/metrics")  # closed with the worker


async def test_a_taken_metrics_port_does_not_stop_the_worker(pool: asyncpg.Pool, tmp_path: Path) -> None:
    from workers.metrics import metrics_runtime, serve_worker_metrics

    _, sdk_url = metrics_runtime()
    settings = Settings(state_dir=tmp_path, worker_metrics_port=free_port())
    first = serve_worker_metrics(settings, pool, sdk_url)
    try:
        assert first is not None
        assert serve_worker_metrics(settings, pool, sdk_url) is None  # logged; the second worker runs without
        assert serve_worker_metrics(Settings(state_dir=tmp_path, worker_metrics_port=0), pool, sdk_url) is None
    finally:
        first.close()
