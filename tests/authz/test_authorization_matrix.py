"""Every endpoint × every role × own or another's application: allowed, 401, 403 or 404, and nothing leaks.

Own/other per role: an applicant's own is its organisation's application (A for PT Contoh Film, B for PT
Lain Sinema); an agency clerk's own is the application routed to its agency (A for parks, B for police);
officers and auditors see both (A is "own", B "other"). Another organisation's application answers 404,
never 403, so its existence is not revealed; a role that may never call an endpoint answers 403.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from pypdf import PdfReader

from domain.signatures import SIGNATURE_HEADER, sign
from store import reports
from tests.api.conftest import NOW, SECRETS
from tests.authz.conftest import (
    PARKS_CONDITION,
    PARKS_REF,
    POLICE_CONDITION,
    POLICE_DUE,
    POLICE_REF,
    Seeded,
    World,
)

ANON, APP_A, APP_B, OFFICER, AUDITOR, PARKS, POLICE = (
    None, "applicant", "applicant_b", "officer", "auditor", "agency:parks", "agency:police")
ROLES = [ANON, APP_A, APP_B, OFFICER, AUDITOR, PARKS, POLICE]
OWN = {ANON: "a", APP_A: "a", APP_B: "b", OFFICER: "a", AUDITOR: "a", PARKS: "a", POLICE: "b"}
OTHER = {ANON: "b", APP_A: "b", APP_B: "a", OFFICER: "b", AUDITOR: "b", PARKS: "b", POLICE: "a"}


@dataclass
class Endpoint:
    name: str
    method: str
    path: Callable[[Seeded], str]
    body: Callable[[Seeded], Any] | None = None
    keyed: bool = False  # sends an Idempotency-Key
    headers: dict[str, str] = field(default_factory=dict)


def _by_role(**statuses: tuple[int, int]) -> dict[str | None, tuple[int, int]]:
    names = {"anon": ANON, "app_a": APP_A, "app_b": APP_B, "officer": OFFICER, "auditor": AUDITOR,
             "parks": PARKS, "police": POLICE}
    return {names[k]: v for k, v in statuses.items()}


READ_OWN = _by_role(anon=(401, 401), app_a=(200, 404), app_b=(200, 404), officer=(200, 200), auditor=(200, 200),
                    parks=(200, 404), police=(200, 404))
ACT_OWN = _by_role(anon=(401, 401), app_a=(200, 404), app_b=(200, 404), officer=(200, 200), auditor=(403, 403),
                   parks=(403, 403), police=(403, 403))
EVERYONE = _by_role(anon=(401, 401), app_a=(200, 200), app_b=(200, 200), officer=(200, 200), auditor=(200, 200),
                    parks=(200, 200), police=(200, 200))
STAFF = _by_role(anon=(401, 401), app_a=(403, 403), app_b=(403, 403), officer=(200, 200), auditor=(200, 200),
                 parks=(403, 403), police=(403, 403))
STAFF_AND_CLERKS = {**STAFF, PARKS: (200, 200), POLICE: (200, 200)}
OFFICER_ONLY = {**STAFF, AUDITOR: (403, 403)}
APPLICANTS = _by_role(anon=(401, 401), app_a=(202, 202), app_b=(202, 202), officer=(403, 403),
                      auditor=(403, 403), parks=(403, 403), police=(403, 403))
PUBLIC = {role: (200, 200) for role in ROLES}
# Incentives: an organisation sees and acts on its own, officers and auditors read all, agency clerks nothing.
INCENTIVE_READ = {**READ_OWN, PARKS: (403, 403), POLICE: (403, 403)}
INCENTIVE_ACT = _by_role(anon=(401, 401), app_a=(200, 404), app_b=(200, 404), officer=(403, 403), auditor=(403, 403),
                         parks=(403, 403), police=(403, 403))
INCENTIVE_LIST = {**EVERYONE, PARKS: (403, 403), POLICE: (403, 403)}


def _agency_of(target: Seeded, world: World) -> str:
    return "parks" if target is world.a else "police"


def endpoints(world: World) -> list[tuple[Endpoint, dict[str | None, tuple[int, int]]]]:
    return [
        (Endpoint("status", "GET", lambda t: f"/v1/permits/{t.id}"), READ_OWN),
        (Endpoint("document", "GET", lambda t: f"/v1/permits/{t.id}/document"), READ_OWN),
        (Endpoint("list", "GET", lambda t: "/v1/permits"), EVERYONE),
        (Endpoint("submit", "POST", lambda t: "/v1/permits", body=lambda t: t.body, keyed=True), APPLICANTS),
        (Endpoint("amend", "POST", lambda t: f"/v1/permits/{t.id}/amendments", body=lambda t: t.body, keyed=True),
         ACT_OWN),
        (Endpoint("information", "POST", lambda t: f"/v1/permits/{t.id}/information", keyed=True,
                  body=lambda t: {"request_id": "info-A" if t is world.a else "info-B", "answer": "Jam 6 pagi"}),
         ACT_OWN),
        (Endpoint("decide", "POST", lambda t: f"/v1/officer/permits/{t.id}/decisions", keyed=True,
                  body=lambda t: {"kind": "clearance", "agency": _agency_of(t, world), "outcome": "approved",
                                  "reason": "The agency confirmed by phone"}),
         OFFICER_ONLY),
        (Endpoint("queue", "GET", lambda t: "/v1/officer/queue"), STAFF),
        (Endpoint("sla agencies", "GET", lambda t: "/v1/sla/agencies"), STAFF_AND_CLERKS),
        (Endpoint("sla breaches", "GET", lambda t: "/v1/sla/breaches"), STAFF),
        (Endpoint("verify", "GET", lambda t: f"/v1/verify/{t.number}", headers={"Accept": "application/json"}),
         PUBLIC),
        (Endpoint("healthz", "GET", lambda t: "/healthz"), PUBLIC),
        (Endpoint("incentive", "GET", lambda t: f"/v1/incentives/{t.incentive}"), INCENTIVE_READ),
        (Endpoint("incentive list", "GET", lambda t: "/v1/incentives"), INCENTIVE_LIST),
        (Endpoint("incentive apply", "POST", lambda t: "/v1/incentives", keyed=True,
                  body=lambda t: {"programme": "shooting_days_grant", "permit_id": t.id, "fiscal_year": 2027,
                                  "planned_jakarta_spend_idr": 1, "crew_total": 1, "crew_indonesian": 1}), APPLICANTS),
        (Endpoint("claim", "POST", lambda t: f"/v1/incentives/{t.incentive}/claim", keyed=True,
                  body=lambda t: {"report": "Eight days in Menteng"}), INCENTIVE_ACT),
        (Endpoint("incentive withdraw", "POST", lambda t: f"/v1/incentives/{t.incentive}/withdraw", keyed=True,
                  body=lambda t: {"reason": "moved"}), INCENTIVE_ACT),
        (Endpoint("committee", "GET", lambda t: "/v1/officer/committee"), STAFF),
        (Endpoint("committee vote", "POST", lambda t: f"/v1/officer/incentives/{t.incentive}/decisions", keyed=True,
                  body=lambda t: {"outcome": "approve", "reason": "in order"}), OFFICER_ONLY),
        (Endpoint("clawback", "POST", lambda t: f"/v1/officer/incentives/{t.incentive}/clawback", keyed=True,
                  body=lambda t: {"amount_idr": 1, "reason": "refund"}), OFFICER_ONLY),
        (Endpoint("funds", "GET", lambda t: "/v1/funds/2027"), STAFF),
        (Endpoint("fund capacity", "PUT", lambda t: "/v1/funds/2027/location_rebate", keyed=True,
                  body=lambda t: {"capacity_idr": 60_000_000_000}), OFFICER_ONLY),
        (Endpoint("incentive figures", "GET", lambda t: "/v1/reports/incentives?fiscal_year=2027"), STAFF),
        (Endpoint("openapi", "GET", lambda t: "/openapi.json"), PUBLIC),
        # no refund is due in this world: an officer gets through to the 404, everyone else is stopped before it
        (Endpoint("refund made", "POST", lambda t: f"/v1/officer/refunds/PAY-{t.id}", keyed=True,
                  body=lambda t: {"reference": "BCA-1"}), {**OFFICER_ONLY, OFFICER: (404, 404)}),
    ]


# Cancelling is final, so its cases run last and in this order: refusals first, then each application is
# cancelled once (200) and a second cancel by another allowed caller is a state conflict (409): it got
# through authorization to the workflow.
CANCEL_CASES = [
    (ANON, "a", 401), (ANON, "b", 401),
    (AUDITOR, "a", 403), (PARKS, "a", 403), (POLICE, "b", 403),
    (APP_A, "b", 404), (APP_B, "a", 404),
    (OFFICER, "a", 200), (APP_A, "a", 409),
    (APP_B, "b", 200), (OFFICER, "b", 409),
]

# What each role must never read: another organisation's application (id and title), another agency's clearance.
def forbidden_text(world: World, role: str | None) -> list[str]:
    return {
        APP_A: [world.b.id, world.b.title, world.b.incentive],
        APP_B: [world.a.id, world.a.title, world.c.id, world.c.title, world.a.incentive, world.c.incentive],
        PARKS: [world.b.id, world.b.title, "police"],
        POLICE: [world.a.id, world.a.title, "parks"],
    }.get(role, [])


async def call(world: World, endpoint: Endpoint, role: str | None, target: Seeded) -> Any:
    headers = {**world.headers(role), **endpoint.headers}
    if endpoint.keyed:
        headers["Idempotency-Key"] = str(uuid.uuid4())
    content = None
    if endpoint.body is not None:
        content = json.dumps(endpoint.body(target)).encode()
        headers["Content-Type"] = "application/json"
    return await world.http.request(endpoint.method, endpoint.path(target), headers=headers, content=content)


def check(world: World, label: str, role: str | None, response: Any, expected: int, mismatches: list[str],
          *, leaks: bool = True, challenge: str = "bearer") -> None:
    if response.status_code != expected:
        mismatches.append(f"{label} as {role or 'anonymous'}: {response.status_code}, expected {expected}: "
                          f"{response.text[:200]}")
    if response.status_code == 401 and challenge not in response.headers.get("www-authenticate", "").lower():
        mismatches.append(f"{label} as {role or 'anonymous'}: 401 without a {challenge} challenge")
    if response.status_code >= 400 and not response.headers["content-type"].startswith("application/problem+json"):
        mismatches.append(f"{label} as {role or 'anonymous'}: {response.status_code} is not a problem document")
    if leaks:
        text = response.text
        for secret in forbidden_text(world, role):
            if secret in text:
                mismatches.append(f"{label} as {role}: the body shows {secret!r}")


async def test_every_endpoint_for_every_role_on_its_own_and_anothers_application(world: World) -> None:
    mismatches: list[str] = []
    targets = {"a": world.a, "b": world.b}
    for endpoint, expected in endpoints(world):
        for role in ROLES:
            for which, status in zip(("own", "other"), expected[role], strict=True):
                target = targets[OWN[role] if which == "own" else OTHER[role]]
                response = await call(world, endpoint, role, target)
                public = endpoint.name in ("verify", "openapi")  # public by design (the QR page names the permit)
                check(world, f"{endpoint.method} {endpoint.name} ({which})", role, response, status, mismatches,
                      leaks=not public)

    # The signed webhooks take no bearer token: the signature is the credential.
    clearance = await world.env.client.start_workflow("AgencyClearanceWorkflow", id=f"{world.a.id}:parks:r1",
                                                      task_queue=world.settings.task_queue)
    for path, secret_ref, body in (
        ("/v1/agencies/parks/decisions", "parks",
         {"decision_id": f"d-{uuid.uuid4()}", "reference": "P-1", "request_key": clearance.id, "status": "approved",
          "conditions": [], "reason": None, "decided_at": world.clock.now.isoformat()}),
        ("/v1/payments/webhook", "payments",
         {"payment_id": f"p-{uuid.uuid4()}", "permit_id": world.a.id, "amount_idr": 1_500_000,
          "paid_at": world.clock.now.isoformat()}),
    ):
        content = json.dumps(body).encode()
        unsigned = await world.http.post(path, content=content, headers={"Content-Type": "application/json"})
        check(world, f"POST {path} unsigned", None, unsigned, 401, mismatches, challenge="jfc-signature")
        signed = await world.http.post(path, content=content, headers={
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(SECRETS[secret_ref], content, int(world.clock.now.timestamp()))})
        check(world, f"POST {path} signed", None, signed, 202, mismatches)
    await clearance.signal("test_finish")

    cancel = Endpoint("cancel", "POST", lambda t: f"/v1/permits/{t.id}/cancel", keyed=True,
                      body=lambda t: {"reason": "The shoot moved to Bandung"})
    for role, which, status in CANCEL_CASES:
        response = await call(world, cancel, role, targets[which])
        check(world, f"POST cancel ({which})", role, response, status, mismatches)

    assert not mismatches, "\n".join(mismatches)


async def test_an_unknown_application_is_404_for_those_who_may_act(world: World) -> None:
    unknown = "PRM-AAAAAAAAAAAA"
    for role in (APP_A, OFFICER, AUDITOR, PARKS):
        response = await world.http.get(f"/v1/permits/{unknown}", headers=world.headers(role))
        assert response.status_code == 404, (role, response.text)
    response = await world.http.post(
        f"/v1/officer/permits/{unknown}/decisions",
        json={"kind": "clearance", "agency": "parks", "outcome": "approved", "reason": "ok"},
        headers=world.headers(OFFICER, **{"Idempotency-Key": str(uuid.uuid4())}),
    )
    assert response.status_code == 404


async def test_another_organisations_application_looks_exactly_like_one_that_does_not_exist(world: World) -> None:
    other = await world.http.get(f"/v1/permits/{world.b.id}", headers=world.headers(APP_A))
    unknown = await world.http.get("/v1/permits/PRM-AAAAAAAAAAAA", headers=world.headers(APP_A))

    assert other.status_code == unknown.status_code == 404
    assert other.json() == unknown.json()


@pytest.mark.parametrize(
    ("role", "visible"),
    [(APP_A, {"a", "c"}), (APP_B, {"b"}), (OFFICER, {"a", "b", "c"}), (AUDITOR, {"a", "b", "c"}),
     (PARKS, {"a", "c"}), (POLICE, {"b", "c"})],
)
async def test_the_list_and_search_show_only_what_the_role_may_see(world: World, role: str, visible: set) -> None:
    seeded = {"a": world.a, "b": world.b, "c": world.c}
    listed = await world.http.get("/v1/permits", headers=world.headers(role))
    assert listed.status_code == 200
    assert {item["id"] for item in listed.json()["items"]} == {seeded[k].id for k in visible}

    for key, application in seeded.items():
        found = await world.http.get("/v1/permits", params={"q": application.title}, headers=world.headers(role))
        assert [item["id"] for item in found.json()["items"]] == ([application.id] if key in visible else [])
        by_number = await world.http.get("/v1/permits", params={"q": application.number}, headers=world.headers(role))
        assert len(by_number.json()["items"]) == (1 if key in visible else 0)


async def test_a_clerk_sees_only_its_own_clearance_of_a_shared_application(world: World) -> None:
    for role, own, other in ((PARKS, "parks", "police"), (POLICE, "police", "parks")):
        view = (await world.http.get(f"/v1/permits/{world.c.id}", headers=world.headers(role))).json()
        assert [c["agency"] for c in view["clearances"]] == [own]
        assert other not in json.dumps(view["timeline"])
        assert any(own in event["detail"] for event in view["timeline"])
        page = (await world.http.get("/v1/permits", params={"q": world.c.title}, headers=world.headers(role))).json()
        assert page["items"][0]["agencies"] == [own]
        document = await world.http.get(f"/v1/permits/{world.c.id}/document", headers=world.headers(role))
        assert document.status_code == 200

    officer = (await world.http.get(f"/v1/permits/{world.c.id}", headers=world.headers(OFFICER))).json()
    assert sorted(c["agency"] for c in officer["clearances"]) == ["parks", "police"]


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


async def test_a_clerks_permit_document_holds_only_its_own_agencys_part(world: World) -> None:
    for role, own, other in ((PARKS, (PARKS_REF, PARKS_CONDITION), (POLICE_REF, POLICE_CONDITION, "police")),
                             (POLICE, (POLICE_REF, POLICE_CONDITION), (PARKS_REF, PARKS_CONDITION, "parks"))):
        response = await world.http.get(f"/v1/permits/{world.c.id}/document", headers=world.headers(role))
        assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
        text = pdf_text(response.content)
        assert world.c.number in text and world.c.title in text
        for mine in own:
            assert mine in text, (role, mine)
        for theirs in other:
            assert theirs not in text, (role, theirs)
            assert theirs.encode() not in response.content, (role, theirs)

    for role in (OFFICER, AUDITOR, APP_A):  # everyone else gets the permit as issued, every agency's part in it
        response = await world.http.get(f"/v1/permits/{world.c.id}/document", headers=world.headers(role))
        assert response.content == (world.settings.documents_dir / f"{world.c.id}.pdf").read_bytes()


async def test_a_clerk_may_not_list_another_agencys_applications(world: World) -> None:
    for role, own, other in ((PARKS, "parks", "police"), (POLICE, "police", "parks")):
        refused = await world.http.get("/v1/permits", params={"agency": other}, headers=world.headers(role))
        assert refused.status_code == 403, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert [p["path"] for p in refused.json()["problems"]] == ["agency"]
        for leak in (world.a.id, world.b.id, world.c.id, world.a.title, world.b.title, world.c.title):
            assert leak not in refused.text
        searched = await world.http.get("/v1/permits", params={"agency": other, "q": world.c.title},
                                        headers=world.headers(role))
        assert searched.status_code == 403

        mine = await world.http.get("/v1/permits", params={"agency": own}, headers=world.headers(role))
        expected = {world.a.id, world.c.id} if own == "parks" else {world.b.id, world.c.id}
        assert {item["id"] for item in mine.json()["items"]} == expected
        assert all(item["agencies"] == [own] for item in mine.json()["items"])

    # The read model refuses it too: a clerk's scope never lists another agency's applications.
    page = await reports.list_permits(world.pool, agency="police", agency_scope="parks")
    assert page.items == []
    officer = await world.http.get("/v1/permits", params={"agency": "police"}, headers=world.headers(OFFICER))
    assert {item["id"] for item in officer.json()["items"]} == {world.b.id, world.c.id}


async def test_a_clerks_status_and_list_carry_only_its_own_deadline_and_issued_clearance(world: World) -> None:
    officer = (await world.http.get(f"/v1/permits/{world.c.id}", headers=world.headers(OFFICER))).json()
    assert dt.datetime.fromisoformat(officer["next_deadline"]) == POLICE_DUE
    assert sorted(c["agency"] for c in officer["issued"]["clearances"]) == ["parks", "police"]

    parks = (await world.http.get(f"/v1/permits/{world.c.id}", headers=world.headers(PARKS))).json()
    assert dt.datetime.fromisoformat(parks["next_deadline"]) == NOW + dt.timedelta(days=7)  # its own, not police's
    assert [c["agency"] for c in parks["issued"]["clearances"]] == ["parks"]
    assert POLICE_REF not in json.dumps(parks) and POLICE_CONDITION not in json.dumps(parks)
    police = (await world.http.get(f"/v1/permits/{world.c.id}", headers=world.headers(POLICE))).json()
    assert dt.datetime.fromisoformat(police["next_deadline"]) == POLICE_DUE
    assert PARKS_REF not in json.dumps(police)

    listed = await world.http.get("/v1/permits", params={"q": world.c.title}, headers=world.headers(PARKS))
    assert dt.datetime.fromisoformat(listed.json()["items"][0]["next_deadline"]) == NOW + dt.timedelta(days=7)
    listed = await world.http.get("/v1/permits", params={"q": world.c.title}, headers=world.headers(OFFICER))
    assert dt.datetime.fromisoformat(listed.json()["items"][0]["next_deadline"]) == POLICE_DUE


async def test_reports_for_a_clerk_are_its_own_agency_and_for_staff_everything(world: World) -> None:
    parks = (await world.http.get("/v1/sla/agencies", headers=world.headers(PARKS))).json()
    assert [row["agency"] for row in parks] == ["parks"]
    assert parks[0]["requests"] >= 1
    everything = (await world.http.get("/v1/sla/agencies", headers=world.headers(AUDITOR))).json()
    assert {"parks", "police"} <= {row["agency"] for row in everything}

    breaches = (await world.http.get("/v1/sla/breaches", headers=world.headers(OFFICER))).json()
    assert [row["application_id"] for row in breaches] == [world.b.id]
    queue = (await world.http.get("/v1/officer/queue", headers=world.headers(AUDITOR))).json()
    assert world.b.id in {item["application_id"] for item in queue}
