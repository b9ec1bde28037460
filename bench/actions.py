"""What one application costs on Temporal Cloud: the billable actions of a 3-agency permit and of a location rebate.

Temporal Cloud bills per action (https://docs.temporal.io/cloud/actions, https://docs.temporal.io/cloud/pricing).
Counted from the histories of the application's workflows (parent, children), by the rules of that page:
- a workflow started by a client: 1 (a child's start is counted at its parent: 2 for "start child initiated");
- an activity scheduled: 1, and each retry: 1 (the `attempt` of its started event, minus 1);
- local activities: 1 per workflow task that recorded markers for them;
- a timer started: 1; a signal received: 1 (whoever sent it; counted once, at the receiver);
- an update accepted: 1; a search-attribute upsert: 1; a continue-as-new: 1 (the new run's start is that action).
Queries and rejected updates are billed too but leave no history: they are not in these figures.

    .venv/bin/python bench/actions.py
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import datetime as dt
import os
import shutil
import sys
import tempfile
import uuid
from collections.abc import Iterable
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from temporalio.api.enums.v1 import EventType  # noqa: E402
from temporalio.client import WorkflowHistory  # noqa: E402

E = EventType


def billable_actions(history: WorkflowHistory, *, started_by_parent: bool = False) -> collections.Counter[str]:
    """The actions one workflow run's history shows, by kind (see the module docstring for the rules)."""
    counted: collections.Counter[str] = collections.Counter()
    markers_in_task = False
    for event in history.events:
        kind = event.event_type
        if kind == E.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED and not started_by_parent:
            counted["workflow started"] += 1
        elif kind == E.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED:
            counted["child workflow started"] += 2
        elif kind == E.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            counted["activity"] += 1
        elif kind == E.EVENT_TYPE_ACTIVITY_TASK_STARTED and event.activity_task_started_event_attributes.attempt > 1:
            counted["activity retry"] += event.activity_task_started_event_attributes.attempt - 1
        elif kind == E.EVENT_TYPE_MARKER_RECORDED:
            markers_in_task = True
        elif kind == E.EVENT_TYPE_TIMER_STARTED:
            counted["timer"] += 1
        elif kind == E.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
            counted["signal"] += 1
        elif kind == E.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
            counted["update"] += 1
        elif kind == E.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
            fields = event.upsert_workflow_search_attributes_event_attributes.search_attributes.indexed_fields
            if set(fields) - {"TemporalChangeVersion"}:
                counted["search attributes"] += 1
        elif kind == E.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
            counted["continue as new"] += 1
        if kind in (E.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, E.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED) and markers_in_task:
            counted["local activities"] += 1
            markers_in_task = False
    if markers_in_task:
        counted["local activities"] += 1
    return counted


def total(counters: Iterable[collections.Counter[str]]) -> collections.Counter[str]:
    summed: collections.Counter[str] = collections.Counter()
    for counter in counters:
        summed.update(counter)
    return summed


def three_agency_permit(first_day: dt.date) -> dict:
    """A park with a drone and a heritage site, no foreign crew: parks, aviation and heritage."""
    from bench.throughput import application

    body = application(first_day)
    body["foreign_crew"] = []
    park, heritage = body["locations"]
    body["locations"] = [{**park, "drone": True}, {**heritage, "pyrotechnics": False}]
    return body


async def run() -> None:
    from bench import parts
    from bench import throughput as tb
    from config.secrets import CodecKey
    from tests.e2e.test_incentive_journey import studio_shoot
    from workers.codec import EncryptionCodec
    from workers.worker import build_worker

    tmp = Path(tempfile.mkdtemp(prefix="jfc-actions-"))
    api_port, sim_port, temporal_port = tb.free_port(), tb.free_port(), tb.free_port()
    settings = tb.Settings(
        state_dir=tmp, task_queue=f"jfc-actions-{uuid.uuid4().hex[:8]}", api_port=api_port, simulator_port=sim_port,
        agencies_file=parts.fast_catalog(tmp), JFC_PUBLIC_BASE_URL=f"http://127.0.0.1:{api_port}",
        JFC_SIMULATOR_URL=f"http://127.0.0.1:{sim_port}", allow_loopback_webhooks=True,
    )
    rules = tb.load_rule_set(settings.agencies_file, settings.rules_file, settings.simulator_url)
    secrets = lambda ref: tb.webhook_secret(ref, tmp)  # noqa: E731
    try:
        with parts.dev_server(temporal_port):
            codec = EncryptionCodec([CodecKey("bench", os.urandom(32))])
            client = await parts.connect(f"127.0.0.1:{temporal_port}", data_converter=tb.data_converter(codec))
            async with contextlib.AsyncExitStack() as stack:
                pool = await tb.open_pool(await stack.enter_async_context(parts.database(tmp)))
                stack.push_async_callback(pool.close)
                simulator = tb.create_simulator(state_dir=tmp, agency_codes=[a.code.value for a in rules.catalog.agencies],
                                                secrets=secrets, api_url=settings.public_base_url,
                                                modes=tb.catalog_modes(settings.agencies_file))
                incentives = tb.load_incentive_rules(settings.incentives_file, settings.simulator_url)
                api = tb.create_api(settings, client, rules, secrets=secrets, pool=pool, incentives=incentives)
                _, applicant = await tb.create_account(pool, name="Sari", role="applicant", organisation="PT Bench")
                officers = [(await tb.create_account(pool, name=n, role="officer"))[1] for n in ("Ani", "Budi")]
                http = await stack.enter_async_context(httpx.AsyncClient(
                    timeout=30.0, headers={"Authorization": f"Bearer {applicant}"}))
                agency_http = await stack.enter_async_context(httpx.AsyncClient(timeout=10.0))
                sim = await stack.enter_async_context(tb.serve(simulator, sim_port))
                api_url = await stack.enter_async_context(tb.serve(api, api_port))
                await stack.enter_async_context(build_worker(client, settings, rules, agency_http, pool))
                for code in [a.code.value for a in rules.catalog.agencies] + ["audit"]:
                    await http.put(f"{sim}/admin/agencies/{code}", json={"decision": "approve",
                                                                         "decision_delay_ms": 0})
                as_officer = [{"Authorization": f"Bearer {t}"} for t in officers]
                permit = await issued(http, api_url, sim, three_agency_permit(dt.date.today() + dt.timedelta(weeks=8)))
                await report("3-agency permit", client, permit, http, api_url)
                incentive = await rebate(http, api_url, sim, client, as_officer, studio_shoot)
                await report("location rebate (to its final tranche)", client, incentive, http, api_url)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


async def until(http: httpx.AsyncClient, url: str, done, timeout: float = 120.0, headers: dict | None = None) -> dict:
    give_up = asyncio.get_running_loop().time() + timeout
    while True:
        view = (await http.get(url, headers=headers)).json()
        if done(view):
            return view
        if asyncio.get_running_loop().time() > give_up:
            raise RuntimeError(f"{url} did not get there: {view}")
        await asyncio.sleep(0.2)


def post(http: httpx.AsyncClient, url: str, body: dict, headers: dict | None = None):
    return http.post(url, json=body, headers={**(headers or {}), "Idempotency-Key": str(uuid.uuid4())})


async def issued(http: httpx.AsyncClient, api: str, sim: str, body: dict, officer: dict | None = None) -> str:
    """Submit, grant an expedite if one is asked, pay when due; the permit's id once issued."""
    submitted = await post(http, f"{api}/v1/permits", body)
    submitted.raise_for_status()
    permit_id = submitted.json()["id"]
    url = f"{api}/v1/permits/{permit_id}"
    view = await until(http, url, lambda v: v["status"] in ("awaiting_payment", "issued") or v["awaiting_expedite"])
    if view["awaiting_expedite"]:
        (await post(http, f"{api}/v1/officer/permits/{permit_id}/decisions", {
            "kind": "expedite", "outcome": "approved", "reason": "studio"}, officer)).raise_for_status()
        view = await until(http, url, lambda v: v["status"] in ("awaiting_payment", "issued"))
    if view["status"] == "awaiting_payment":
        (await http.post(f"{sim}/admin/payments", json={"permit_id": permit_id,
                                                        "amount_idr": view["fees"]["total_idr"]})).raise_for_status()
    await until(http, url, lambda v: v["status"] == "issued")
    return permit_id


async def rebate(http, api: str, sim: str, client, officers: list[dict], studio_shoot) -> str:
    """A five-day studio shoot from today and its location rebate, from application to the final tranche."""
    from schemas.contracts import SIGNAL_PERMIT_EVENT
    from schemas.incentive_contracts import PermitEvent, PermitEventKind
    from domain.jakarta import jakarta_date

    today = jakarta_date(dt.datetime.now(dt.UTC))  # the commission's today: past 17:00 UTC it is tomorrow
    permit_id = await issued(http, api, sim, studio_shoot(today), officers[0])
    applied = await post(http, f"{api}/v1/incentives", {
        "programme": "location_rebate", "permit_id": permit_id, "fiscal_year": today.year,
        "planned_jakarta_spend_idr": 8_000_000_000, "planned_post_production_idr": 1_000_000_000,
        "crew_total": 30, "crew_indonesian": 27})
    applied.raise_for_status()
    incentive_id = applied.json()["id"]
    url = f"{api}/v1/incentives/{incentive_id}"
    await until(http, url, lambda v: v["paid_idr"] > 0)
    await client.get_workflow_handle(incentive_id).signal(SIGNAL_PERMIT_EVENT, PermitEvent(
        permit_id=permit_id, kind=PermitEventKind.photography_ended, at=dt.datetime.now(dt.UTC), status="completed",
        shoot_dates=[today + dt.timedelta(days=i) for i in range(5)]))
    await until(http, url, lambda v: v["status"] == "claim_due")
    line = {"category": "crew", "supplier": "Kru Jakarta", "amount_idr": 7_000_000_000, "date": today.isoformat(),
            "in_jakarta": True}
    (await post(http, f"{url}/claim", {"lines": [line], "total_idr": 7_000_000_000})).raise_for_status()
    await until(http, url, lambda v: v["status"] == "committee")
    for headers in officers:
        (await post(http, f"{api}/v1/officer/incentives/{incentive_id}/decisions",
                    {"outcome": "approve", "reason": "in order"}, headers)).raise_for_status()
    await until(http, url, lambda v: v["status"] == "clawback_window")
    return incentive_id


async def report(what: str, client, workflow_id: str, http: httpx.AsyncClient, api: str) -> None:
    from schemas.contracts import clearance_workflow_id

    counters = [billable_actions(await client.get_workflow_handle(workflow_id).fetch_history())]
    view: dict = {}
    if workflow_id.startswith("PRM-"):
        view = (await http.get(f"{api}/v1/permits/{workflow_id}")).json()
        for clearance in view["clearances"]:
            child = clearance_workflow_id(workflow_id, clearance["agency"], 1)
            counters.append(billable_actions(await client.get_workflow_handle(child).fetch_history(),
                                             started_by_parent=True))
    summed = total(counters)
    detail = ", ".join(f"{kind} {n}" for kind, n in summed.most_common())
    agencies = f" [{', '.join(c['agency'] for c in view['clearances'])}]" if workflow_id.startswith("PRM-") else ""
    print(f"{what}{agencies}: {sum(summed.values())} actions ({detail})", flush=True)


if __name__ == "__main__":
    asyncio.run(run())
