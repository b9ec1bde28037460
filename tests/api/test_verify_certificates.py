"""GET /v1/verify/{number} for incentive certificates: the public page and JSON behind a certificate's QR code."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest

from config.settings import Settings
from domain.ids import certificate_number, incentive_id_for_key
from domain.incentive_rules import load_incentive_rules
from schemas.contracts import INCENTIVE_WORKFLOW, QUERY_STATUS
from schemas.incentive_contracts import IncentiveWorkflowInput
from schemas.incentives import (
    CertificateInfo,
    CertificateKind,
    IncentiveApplication,
    IncentiveStatus,
    IncentiveStatusView,
    PermitFacts,
    Programme,
    Tranche,
    TrancheStatus,
)
from tests.api.conftest import NOW, SHOOT_DAY, Api, eventually

JSON = {"Accept": "application/json"}
PERSONAL = ["sari@contoh.id", "Sari", "+62 812"]
RULES = load_incentive_rules(Settings().incentives_file, "http://sim.test")
PROGRAMME = RULES.get(Programme.location_rebate)
RESERVED = 1_250_000_000
FIRST = 375_000_000
FINAL_AT = NOW + dt.timedelta(days=200)


def certificate(incentive_id: str, kind: CertificateKind, year: int = 2026) -> CertificateInfo:
    number = certificate_number(incentive_id, kind.value, year)
    return CertificateInfo(kind=kind, number=number, issued_at=NOW if kind == CertificateKind.interim else FINAL_AT,
                           document_url=f"https://jfc.test/v1/incentives/{incentive_id}/certificates/{kind.value}",
                           verify_url=f"https://jfc.test/v1/verify/{number}")


async def start_incentive(api: Api, title: str = "Senja di Kota") -> str:
    """Start the stand-in incentive workflow of the applicant's organisation; returns its id."""
    organisation = api.users.organisation_id("applicant")
    incentive_id = incentive_id_for_key(str(uuid.uuid4()), scope=organisation)
    permit_id = api.application_id(str(uuid.uuid4()))
    input = IncentiveWorkflowInput(
        incentive_id=incentive_id,
        application=IncentiveApplication(programme=Programme.location_rebate, permit_id=permit_id, fiscal_year=2026,
                                         planned_jakarta_spend_idr=6_000_000_000, crew_total=50, crew_indonesian=40),
        programme=PROGRAMME, organisation_id=organisation, submitted_at=NOW,
        permit=PermitFacts(permit_id=permit_id, organisation_id=organisation, status="issued", production_title=title,
                           production_kind="feature_film", applicant_company="PT Contoh Film",
                           shoot_dates=[SHOOT_DAY]),
        callback_base_url="https://jfc.test", public_base_url="https://jfc.test", audit=RULES.audit,
        treasury=RULES.treasury,
    )  # fmt: skip
    await api.temporal.start_workflow(INCENTIVE_WORKFLOW, input, id=incentive_id, task_queue=api.settings.task_queue)
    return incentive_id


async def set_view(api: Api, incentive_id: str, **changes: Any) -> None:
    """Make the stand-in answer its current view with `changes`, and wait until it does."""
    handle = api.temporal.get_workflow_handle(incentive_id)
    view = await handle.query(QUERY_STATUS, result_type=IncentiveStatusView)
    wanted = view.model_copy(update=changes)
    await handle.signal("test_set_view", wanted)
    await eventually(lambda: handle.query(QUERY_STATUS, result_type=IncentiveStatusView), lambda v: v == wanted)


async def reserved(api: Api, title: str = "Senja di Kota") -> tuple[str, CertificateInfo]:
    """An incentive waiting for photography with its interim certificate; returns its id and the certificate."""
    incentive_id = await start_incentive(api, title)
    interim = certificate(incentive_id, CertificateKind.interim)
    await set_view(api, incentive_id, status=IncentiveStatus.awaiting_photography, reserved_idr=RESERVED,
                   tranches=[Tranche(n=1, amount_idr=FIRST), Tranche(n=2, amount_idr=0)], certificates=[interim])
    return incentive_id, interim


async def paid(api: Api, incentive_id: str, *, clawed_back_idr: int = 0,
               status: IncentiveStatus = IncentiveStatus.clawback_window) -> CertificateInfo:
    """The incentive of `reserved` paid in full, with its final certificate; returns that certificate."""
    final = certificate(incentive_id, CertificateKind.final)
    await set_view(api, incentive_id, status=status, reserved_idr=0, paid_idr=RESERVED,
                   clawed_back_idr=clawed_back_idr,
                   tranches=[Tranche(n=1, amount_idr=FIRST, status=TrancheStatus.paid, paid_at=NOW),
                             Tranche(n=2, amount_idr=RESERVED - FIRST, status=TrancheStatus.paid, paid_at=FINAL_AT)],
                   certificates=[certificate(incentive_id, CertificateKind.interim), final])
    return final


async def test_an_interim_certificate_verifies_as_json(api: Api) -> None:
    incentive_id, interim = await reserved(api)

    response = await api.http.get(f"/v1/verify/{interim.number}", headers=JSON)

    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    data = response.json()
    assert data == {
        "number": interim.number, "kind": "interim", "valid": True, "state": "valid",
        "state_detail": "Rp 1.250.000.000 is reserved for this production.", "superseded_by": None,
        "programme": {"code": "location_rebate", "version": PROGRAMME.version, "name_id": PROGRAMME.name_id,
                      "name_en": PROGRAMME.name_en},
        "production_title": "Senja di Kota", "fiscal_year": 2026, "amount_idr": RESERVED, "clawed_back_idr": 0,
        "issued_at": data["issued_at"], "checked_at": data["checked_at"],
    }  # fmt: skip
    assert dt.datetime.fromisoformat(data["issued_at"]) == NOW
    assert dt.datetime.fromisoformat(data["checked_at"]) == NOW
    for private in [*PERSONAL, api.users.organisation_id("applicant"), incentive_id]:
        assert private not in response.text


async def test_a_browser_gets_a_clean_escaped_certificate_page(api: Api) -> None:
    _, interim = await reserved(api, title='Senja <script>alert("x")</script> & Kota')

    response = await api.http.get(f"/v1/verify/{interim.number.lower()}")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert "<script>" not in page
    assert "Senja &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Kota" in page
    for expected in (interim.number, "Sertifikat berlaku / Valid certificate", "Sertifikat sementara",
                     "Interim certificate", PROGRAMME.name_id, "Rp 1.250.000.000", "2026-03-02 09:00 WIB"):
        assert expected in page, expected
    for personal in PERSONAL:
        assert personal not in page


async def test_a_final_certificate_supersedes_the_interim_one(api: Api) -> None:
    incentive_id, interim = await reserved(api)
    final = await paid(api, incentive_id)

    old = (await api.http.get(f"/v1/verify/{interim.number}", headers=JSON)).json()
    new = (await api.http.get(f"/v1/verify/{final.number}", headers=JSON)).json()

    assert (old["state"], old["valid"], old["superseded_by"]) == ("superseded", False, final.number)
    assert final.number in old["state_detail"]
    assert (new["state"], new["valid"], new["kind"], new["amount_idr"]) == ("valid", True, "final", RESERVED)
    assert dt.datetime.fromisoformat(new["issued_at"]) == FINAL_AT
    page = (await api.http.get(f"/v1/verify/{interim.number}")).text
    assert "Superseded certificate" in page and final.number in page


async def test_a_clawback_says_how_much(api: Api) -> None:
    incentive_id, _ = await reserved(api)
    final = await paid(api, incentive_id, clawed_back_idr=100_000_000)

    response = await api.http.get(f"/v1/verify/{final.number}", headers=JSON)

    data = response.json()
    assert (data["state"], data["valid"]) == ("clawed_back", False)
    assert data["clawed_back_idr"] == 100_000_000 and data["amount_idr"] == RESERVED - 100_000_000
    assert "Rp 100.000.000" in data["state_detail"]
    page = (await api.http.get(f"/v1/verify/{final.number}")).text
    assert "Incentive clawed back" in page and "Rp 100.000.000" in page


@pytest.mark.parametrize(
    ("status", "state"),
    [
        (IncentiveStatus.withdrawn, "withdrawn"),
        (IncentiveStatus.rejected, "rejected"),
        (IncentiveStatus.lapsed, "lapsed"),
        (IncentiveStatus.expired, "expired"),
        (IncentiveStatus.claim_due, "valid"),
        (IncentiveStatus.committee, "valid"),
    ],
)
async def test_an_interim_certificate_follows_its_incentive(api: Api, status: IncentiveStatus, state: str) -> None:
    incentive_id, interim = await reserved(api)
    await set_view(api, incentive_id, status=status)

    data = (await api.http.get(f"/v1/verify/{interim.number}", headers=JSON)).json()

    assert (data["state"], data["valid"]) == (state, state == "valid")


async def test_a_completed_incentive_keeps_its_final_certificate_valid(api: Api) -> None:
    incentive_id, _ = await reserved(api)
    final = await paid(api, incentive_id, status=IncentiveStatus.completed)

    data = (await api.http.get(f"/v1/verify/{final.number}", headers=JSON)).json()

    assert (data["state"], data["valid"]) == ("valid", True)
    assert data["state_detail"] == "Rp 1.250.000.000 has been paid for this production."


@pytest.mark.parametrize("accept", ["application/json", "text/html"])
async def test_a_certificate_no_incentive_lists_is_not_found(api: Api, accept: str) -> None:
    incentive_id, _ = await reserved(api)
    nobody = incentive_id_for_key(str(uuid.uuid4()))
    numbers = [
        certificate_number(nobody, "interim", 2026),  # no such incentive
        certificate_number(incentive_id, "final", 2026),  # not issued yet
        certificate_number(incentive_id, "interim", 2025),  # well-formed, but not the number it was given
    ]
    for number in numbers:
        response = await api.http.get(f"/v1/verify/{number}", headers={"Accept": accept})
        assert response.status_code == 404, number
        if accept == "application/json":
            assert response.headers["content-type"].startswith("application/problem+json")
            assert response.json()["title"] == "certificate not found"
            assert response.json()["type"] == "urn:jfc:problem:certificate-not-found"
        else:
            assert "Certificate not found" in response.text and number in response.text
            assert response.headers["cache-control"] == "no-store"


async def test_a_malformed_certificate_number_is_not_found(api: Api) -> None:
    _, interim = await reserved(api)
    tampered = interim.number[:-1] + ("A" if interim.number[-1] != "A" else "B")

    for number in [tampered, "JFC-INC-2026-XXXX-I1", interim.number[:-2] + "F" + interim.number[-1]]:
        response = await api.http.get(f"/v1/verify/{number}", headers=JSON)
        assert response.status_code == 404, number
        assert response.headers["content-type"].startswith("application/problem+json")
