"""Two organisations' applications behind the real API: accounts, stand-in workflows and a seeded read model.

- A, of "PT Contoh Film" (applicant), routed to parks, with an open information request from parks;
- B, of "PT Lain Sinema" (applicant_b), routed to police, its clearance breached and waiting for an officer;
- C, of "PT Contoh Film", routed to parks and police (to show a clerk only its own clearance): each clearance with
  its agency's reference and condition, police due first.
Each has an issued permit (and its issued revision) with its document on disk, and is projected into the read model.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from api.app import create_app
from config.settings import Settings
from domain.catalog import load_rule_set
from domain.ids import permit_number
from schemas.incentives import IncentiveStatusView
from schemas.status import (
    ApplicationStatus,
    ClearanceStatus,
    ClearanceView,
    Fees,
    IssuedRevision,
    PermitInfo,
    PermitStatusView,
    SlaState,
    TimelineEvent,
)
from store.incentive_projections import project_incentive
from store.pool import open_pool
from store.projections import project_application
from tests.api.conftest import (
    NOW,
    SECRETS,
    Accounts,
    Clock,
    create_accounts,
    eventually,
    sample_body,
)
from tests.api.standins import STAND_INS
from tests.databases import new_database

TITLE_A = "Senja di Kota"
TITLE_B = "Rahasia Malam Jakarta"
TITLE_C = "Dua Lensa"
PARKS_REF, PARKS_CONDITION = "PRK-7781", "Keep the lawn free of cables"
POLICE_REF, POLICE_CONDITION = "POL-5520", "Two officers on site during the closure"
POLICE_DUE = NOW + dt.timedelta(days=3)  # C's police clearance is due before its parks one (NOW + 7 days)


@dataclass
class Seeded:
    id: str
    title: str
    number: str
    key: str  # the Idempotency-Key it was submitted with
    body: dict[str, Any]
    incentive: str = ""  # its organisation's location-rebate application linked to it


@dataclass
class World:
    http: httpx.AsyncClient
    env: WorkflowEnvironment
    settings: Settings
    users: Accounts
    clock: Clock
    a: Seeded
    b: Seeded
    c: Seeded
    pool: Any = None

    def headers(self, user: str | None, **extra: str) -> dict[str, str]:
        return {**(self.users.headers(user) if user else {}), **extra}


def _body(title: str, *, police: bool, parks: bool) -> dict[str, Any]:
    body = sample_body(production={"title": title, "kind": "feature_film", "synopsis": "..."})
    location = body["locations"][0]
    if not parks:
        location.update(name="Gudang Tua", kind="private_property")
    if police:
        location["prop_weapons"] = True
    return body


def _clearance(agency: str, **fields: Any) -> ClearanceView:
    defaults: dict[str, Any] = {"status": ClearanceStatus.submitted, "requested_at": NOW, "accepted_at": NOW,
                                "due_at": NOW + dt.timedelta(days=7), "sla": SlaState.on_track}
    return ClearanceView(agency=agency, **{**defaults, **fields})


async def _seed(http: httpx.AsyncClient, env: WorkflowEnvironment, pool: Any, settings: Settings, users: Accounts,
                user: str, title: str, clearances: list[ClearanceView], *, police: bool, parks: bool) -> Seeded:
    key = str(uuid.uuid4())
    body = _body(title, police=police, parks=parks)
    response = await http.post("/v1/permits", json=body, headers={**users.headers(user), "Idempotency-Key": key})
    assert response.status_code == 202, response.text
    application_id = response.json()["id"]
    number = permit_number(application_id, 2026)
    handle = env.client.get_workflow_handle(application_id)
    view = await handle.query("status", result_type=PermitStatusView)
    assert view.organisation_id == users.organisation_id(user)
    fees = Fees(schedule_version="2026.1", total_idr=1_500_000, lines=[], paid_at=NOW, payment_id=f"pay-{key}")
    view = view.model_copy(update={
        "status": ApplicationStatus.issued,
        "clearances": clearances,
        "fees": fees,
        "permit": PermitInfo(number=number, issued_at=NOW, document_url="d", verify_url="v"),
        "issued": IssuedRevision(revision=1, issued_at=NOW, locations=view.locations, clearances=clearances, fees=fees),
        "next_deadline": min((c.due_at for c in clearances if c.due_at), default=None),
        "timeline": [TimelineEvent(at=NOW, event="submitted"),
                     *(TimelineEvent(at=NOW, event="clearance_started", detail=c.agency) for c in clearances),
                     *(TimelineEvent(at=NOW, event="approved", detail=f"{c.agency}: approved") for c in clearances)],
    })
    await handle.signal("test_set_view", view)
    await eventually(lambda: handle.query("status", result_type=PermitStatusView), lambda v: v.permit is not None)
    await project_application(pool, application_id, 1, view, lambda accepted, decided: 1)
    settings.documents_dir.mkdir(parents=True, exist_ok=True)
    (settings.documents_dir / f"{application_id}.pdf").write_bytes(b"%PDF-1.4 " + title.encode())
    incentive = await http.post("/v1/incentives", json=incentive_body(application_id), headers={
        **users.headers(user), "Idempotency-Key": str(uuid.uuid4())})
    assert incentive.status_code == 202, incentive.text
    incentive_id = incentive.json()["id"]
    incentive_view = await eventually(
        lambda: env.client.get_workflow_handle(incentive_id).query("status", result_type=IncentiveStatusView),
        lambda v: v.id == incentive_id)
    await project_incentive(pool, incentive_id, 1, incentive_view)
    return Seeded(application_id, title, number, key, body, incentive_id)


def incentive_body(permit_id: str) -> dict[str, Any]:
    return {"programme": "location_rebate", "permit_id": permit_id, "fiscal_year": 2027,
            "planned_jakarta_spend_idr": 8_000_000_000, "crew_total": 40, "crew_indonesian": 30}


@pytest.fixture(scope="module")
async def world(dev_env: WorkflowEnvironment, pg_server: Any,
                tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    base = Settings()
    rules = load_rule_set(base.agencies_file, base.rules_file, "http://sim.test")
    task_queue = f"tq-{uuid.uuid4()}"
    settings = Settings(state_dir=tmp_path_factory.mktemp("authz"), task_queue=task_queue,
                        JFC_PUBLIC_BASE_URL="https://jfc.test")
    pool = await open_pool(await new_database(pg_server), max_size=4)
    users = await create_accounts(pool)
    clock = Clock()
    app = create_app(settings, dev_env.client, rules, secrets=lambda ref: SECRETS[ref], clock=clock, pool=pool)
    try:
        async with Worker(dev_env.client, task_queue=task_queue, workflows=STAND_INS):
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://jfc.test") as http:
                a = await _seed(http, dev_env, pool, settings, users, "applicant", TITLE_A,
                                [_clearance("parks", information_request_id="info-A")], police=False, parks=True)
                b = await _seed(http, dev_env, pool, settings, users, "applicant_b", TITLE_B,
                                [_clearance("police", sla=SlaState.breached, breached_at=NOW + dt.timedelta(days=7),
                                            needs_officer=True, information_request_id="info-B")],
                                police=True, parks=False)
                c = await _seed(http, dev_env, pool, settings, users, "applicant", TITLE_C,
                                [_clearance("parks", reference=PARKS_REF, conditions=[PARKS_CONDITION]),
                                 _clearance("police", depends_on=[], reference=POLICE_REF, conditions=[POLICE_CONDITION],
                                            due_at=POLICE_DUE)],
                                police=True, parks=True)
                clock.now = NOW + dt.timedelta(days=10)  # B's police clearance is past due now
                yield World(http, dev_env, settings, users, clock, a, b, c, pool)
                for seeded in (a, b, c):
                    await dev_env.client.get_workflow_handle(seeded.id).signal("test_finish")
                    await dev_env.client.get_workflow_handle(seeded.incentive).signal("test_finish")
    finally:
        await pool.close()
