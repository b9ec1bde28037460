"""Prometheus metrics: the product's gauges read from the read model, and the worker's `/metrics` endpoint.

The worker serves one `/metrics` (prometheus-client, `JFC_WORKER_METRICS_PORT`) holding the product gauges and
the Temporal SDK's own metrics: the SDK runtime exports Prometheus text on a private loopback port, and
`SdkMetrics` reads that text at every scrape and passes its families on. Metrics the code emits through the
Temporal meter (`jfc_projection_failures`) come through the same way. The API serves the product gauges too
(api/metrics.py). Labels carry agency codes, statuses, programmes and years only: never an id or a name.
"""

from __future__ import annotations

import asyncio
import socket
import time
import urllib.request
from collections.abc import Iterable, Iterator
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass

import asyncpg
import structlog
from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import Collector
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

from config.settings import Settings
from schemas.catalog import AgencyCode
from store.pool import acquire
from store.reports import OPEN_CLEARANCE

log = structlog.get_logger(__name__)

SCRAPE_TIMEOUT = 2.0  # seconds the read model has to answer a scrape
SDK_TIMEOUT = 1.0

# Each clearance's current revision (an amendment's older ones stay in the table as history).
_CLEARANCES = """
SELECT agency, status, count(*) AS n FROM clearances c
WHERE NOT EXISTS (SELECT FROM clearances n WHERE n.application_id = c.application_id AND n.agency = c.agency
                                             AND n.revision > c.revision)
GROUP BY agency, status
"""
_OPEN_BREACHES = f"""
SELECT agency, count(*) AS n FROM clearances c WHERE c.breached_at IS NOT NULL AND {OPEN_CLEARANCE} GROUP BY agency
"""
# An agency is unreachable while an outage episode of a still-open clearance has not recovered.
_UNREACHABLE = f"""
SELECT DISTINCT o.agency FROM agency_outages o
JOIN clearances c USING (application_id, agency, revision)
WHERE o.recovered_at IS NULL AND {OPEN_CLEARANCE}
"""
_OUTBOX = """
SELECT count(*) FILTER (WHERE delivered_at IS NULL AND dead_at IS NULL) AS pending,
       count(*) FILTER (WHERE dead_at IS NOT NULL) AS dead,
       coalesce(extract(epoch FROM now() - min(created_at) FILTER (WHERE delivered_at IS NULL AND dead_at IS NULL)),
                0)::float8 AS oldest
FROM notification_outbox
"""
_FUNDS = """
SELECT fiscal_year, programme, capacity_idr, reserved_idr, paid_idr, clawed_back_idr,
       capacity_idr + clawed_back_idr - reserved_idr - paid_idr AS available_idr
FROM funds ORDER BY fiscal_year, programme
"""
FUND_BALANCES = ("capacity", "reserved", "paid", "clawed_back", "available")


async def read_model_metrics(pool: asyncpg.Pool, timeout: float = SCRAPE_TIMEOUT) -> list[Metric]:
    """The product's gauges, read in one read-only snapshot that must finish within `timeout` seconds."""
    async with acquire(pool) as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        await conn.execute(f"SET LOCAL statement_timeout = {int(timeout * 1000)}")
        clearances = await conn.fetch(_CLEARANCES, timeout=timeout)
        breaches = await conn.fetch(_OPEN_BREACHES, timeout=timeout)
        unreachable = {row["agency"] for row in await conn.fetch(_UNREACHABLE, timeout=timeout)}
        outbox = await conn.fetchrow(_OUTBOX, timeout=timeout)
        funds = await conn.fetch(_FUNDS, timeout=timeout)

    by_status = GaugeMetricFamily("jfc_clearances", "Clearances (current revisions) by agency and status",
                                  labels=["agency", "status"])
    for row in clearances:
        by_status.add_metric([row["agency"], row["status"]], row["n"])
    agencies = [code.value for code in AgencyCode]
    agencies += sorted(({r["agency"] for r in breaches} | unreachable) - set(agencies))
    open_breaches = GaugeMetricFamily("jfc_sla_breaches_open", "Undecided clearances past their SLA due time",
                                      labels=["agency"])
    breached = {row["agency"]: row["n"] for row in breaches}
    down = GaugeMetricFamily("jfc_agency_unreachable",
                             "1 while an open clearance of the agency is in an outage (its API unreachable)",
                             labels=["agency"])
    for agency in agencies:
        open_breaches.add_metric([agency], breached.get(agency, 0))
        down.add_metric([agency], 1 if agency in unreachable else 0)
    families: list[Metric] = [
        by_status, open_breaches, down,
        GaugeMetricFamily("jfc_agencies_unreachable", "Agencies unreachable now", value=len(unreachable)),
        GaugeMetricFamily("jfc_outbox_backlog", "Notifications neither delivered nor dead", value=outbox["pending"]),
        GaugeMetricFamily("jfc_outbox_dead", "Notifications given up on", value=outbox["dead"]),
        GaugeMetricFamily("jfc_outbox_oldest_pending_seconds", "Age of the oldest undelivered notification",
                          value=outbox["oldest"]),
    ]
    for balance in FUND_BALANCES:
        family = GaugeMetricFamily(f"jfc_fund_{balance}_idr", f"Fund balance: {balance.replace('_', ' ')} (IDR)",
                                   labels=["programme", "fiscal_year"])
        for row in funds:
            family.add_metric([row["programme"], str(row["fiscal_year"])], row[f"{balance}_idr"])
        families.append(family)
    return families


class ReadModelCollector(Collector):
    """The product gauges for a prometheus-client registry, read at scrape time on `loop` (the pool's loop).

    `collect` runs in the scraping thread and waits for the loop; never call it on the loop's own thread.
    A read model that does not answer in time gives `jfc_read_model_up 0` and no product gauges.
    """

    def __init__(self, pool: asyncpg.Pool | None, loop: asyncio.AbstractEventLoop,
                 timeout: float = SCRAPE_TIMEOUT) -> None:
        self.pool, self.loop, self.timeout = pool, loop, timeout

    def describe(self) -> Iterable[Metric]:
        return []  # no query when the collector is registered

    def collect(self) -> Iterator[Metric]:
        started = time.monotonic()
        families: list[Metric] = []
        if self.pool is not None:
            future = asyncio.run_coroutine_threadsafe(
                asyncio.wait_for(read_model_metrics(self.pool, self.timeout), self.timeout), self.loop)
            try:
                families = future.result(self.timeout + 1.0)
            except (FutureTimeout, TimeoutError) as err:
                future.cancel()
                log.warning("metrics_read_model_timeout", timeout=self.timeout, error=type(err).__name__)
            except Exception as err:  # noqa: BLE001 — an unreadable read model is a 0, not a failed scrape
                log.warning("metrics_read_model_unreadable", error=type(err).__name__)
        yield from families
        yield GaugeMetricFamily("jfc_read_model_up", "1 when the read model answered this scrape",
                                value=1 if families else 0)
        yield GaugeMetricFamily("jfc_read_model_scrape_seconds", "Time the read model took to answer this scrape",
                                value=time.monotonic() - started)


@dataclass(eq=False)  # a registry keys its collectors by identity
class SdkMetrics(Collector):
    """The Temporal SDK runtime's Prometheus text (served on a private loopback port), passed on family by family."""

    url: str
    timeout: float = SDK_TIMEOUT

    def describe(self) -> Iterable[Metric]:
        return []

    def collect(self) -> Iterator[Metric]:
        try:
            with urllib.request.urlopen(self.url, timeout=self.timeout) as response:  # noqa: S310 — our loopback
                text = response.read().decode()
        except OSError as err:
            log.warning("metrics_sdk_unreachable", url=self.url, error=str(err))
            return
        yield from text_string_to_metric_families(text)


def metrics_runtime(host: str = "127.0.0.1", port: int | None = None) -> tuple[Runtime, str]:
    """A Temporal runtime exporting the SDK's metrics as Prometheus text at `host:port` (a free port by default).

    Returns the runtime (pass it to `Client.connect`) and the URL its text is read from.
    """
    port = port or free_port(host)
    runtime = Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(
        bind_address=f"{host}:{port}", counters_total_suffix=True, durations_as_seconds=True)))
    return runtime, f"http://{host}:{port}/metrics"


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


class MetricsServer:
    """The worker's `/metrics` (any path answers): product gauges and the SDK's metrics, in a background thread."""

    def __init__(self, host: str, port: int, collectors: Iterable[Collector]) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        for collector in collectors:
            self.registry.register(collector)
        self._server, self._thread = start_http_server(port, addr=host, registry=self.registry)
        self.port = self._server.server_port
        log.info("metrics_serving", url=f"http://{host}:{self.port}/metrics")

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def serve_worker_metrics(settings: Settings, pool: asyncpg.Pool, sdk_metrics_url: str | None) -> MetricsServer | None:
    """The worker's `/metrics` on `JFC_WORKER_METRICS_HOST:PORT`, reading `pool` on the running loop (None: off).

    A port already taken (another worker on the same machine) is logged and the worker runs without metrics:
    metrics never stop the work.
    """
    if not (settings.worker_metrics_port and sdk_metrics_url):
        return None
    collectors = [ReadModelCollector(pool, asyncio.get_running_loop()), SdkMetrics(sdk_metrics_url)]
    try:
        return MetricsServer(settings.worker_metrics_host, settings.worker_metrics_port, collectors)
    except OSError as err:
        log.error("metrics_not_served", address=f"{settings.worker_metrics_host}:{settings.worker_metrics_port}",
                  error=str(err), hint="give each worker on this machine its own JFC_WORKER_METRICS_PORT (0: none)")
        return None
