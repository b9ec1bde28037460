"""GET /v1/verify/{permit_number}: the public page and JSON behind the permit's QR code."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from domain.ids import application_id_for_key, permit_number
from schemas.status import (
    ApplicationStatus,
    ClearanceStatus,
    ClearanceView,
    Fees,
    PermitInfo,
    PermitStatusView,
)
from tests.api.conftest import NOW, SHOOT_DAY, Api, eventually, sample_body

JSON = {"Accept": "application/json"}
PERSONAL = ["sari@contoh.id", "Sari", "+62 812", "M1234567", "Kim"]


async def issue(api: Api, title: str = "Senja di Kota", status: ApplicationStatus = ApplicationStatus.issued) -> str:
    """Submit the sample application and make its stand-in say the permit is issued; returns the number."""
    body = sample_body(
        production={"title": title, "kind": "feature_film"},
        foreign_crew=[{"name": "Kim", "nationality": "KR", "passport_number": "M1234567", "role": "director"}],
    )
    application_id = (await api.submit(body, str(uuid.uuid4()))).json()["id"]
    handle = api.temporal.get_workflow_handle(application_id)
    view = await handle.query("status", result_type=PermitStatusView)
    number = permit_number(application_id, 2026)
    await handle.signal("test_set_view", view.model_copy(update={
        "status": status,
        "clearances": [
            ClearanceView(agency="parks", status=ClearanceStatus.approved_with_conditions,
                          decided_at=NOW, conditions=["Keep the paths open"]),
            ClearanceView(agency="police", status=ClearanceStatus.approved, decided_at=NOW),
            ClearanceView(agency="culture_ministry", status=ClearanceStatus.submitted),
        ],
        "fees": Fees(schedule_version="2026.1", total_idr=1_500_000, lines=[], paid_at=NOW, payment_id="pay-1"),
        "permit": PermitInfo(number=number, issued_at=NOW, document_url="d", verify_url="v"),
    }))
    await eventually(lambda: handle.query("status", result_type=PermitStatusView), lambda v: v.status == status)
    return number


async def test_an_issued_permit_verifies_as_json(api: Api) -> None:
    number = await issue(api)

    response = await api.http.get(f"/v1/verify/{number}", headers=JSON)

    assert response.status_code == 200
    data = response.json()
    assert data["permit_number"] == number
    assert data["state"] == "valid"
    assert data["production_title"] == "Senja di Kota"
    assert data["applicant_company"] == "PT Contoh Film"
    assert data["locations"] == [{"name": "Taman Suropati", "kind": "park", "address": "Menteng",
                                  "city": "Jakarta Pusat",
                                  "days": [{"date": SHOOT_DAY.isoformat(), "start": "06:00", "end": "18:00"}]}]
    assert [c["agency"] for c in data["cleared_by"]] == ["parks", "police"]
    assert data["cleared_by"][0]["conditions"] == ["Keep the paths open"]
    assert data["fees"]["total_idr"] == 1_500_000 and data["fees"]["paid"] is True
    assert dt.datetime.fromisoformat(data["fees"]["paid_at"]) == NOW
    for personal in PERSONAL:
        assert personal not in response.text


async def test_a_browser_gets_a_clean_escaped_html_page(api: Api) -> None:
    number = await issue(api, title='Senja <script>alert("x")</script> & Kota')

    response = await api.http.get(f"/v1/verify/{number}", headers={"Accept": "text/html,*/*;q=0.8"})

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert "<script>" not in page
    assert "Senja &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Kota" in page
    assert number in page and "Valid permit" in page and "Taman Suropati" in page and "06:00" in page
    assert "Rp 1.500.000" in page
    for personal in PERSONAL:
        assert personal not in page


async def test_html_is_the_default(api: Api) -> None:
    number = await issue(api)

    response = await api.http.get(f"/v1/verify/{number.lower()}")

    assert response.headers["content-type"].startswith("text/html")


@pytest.mark.parametrize(
    ("status", "days_later", "state"),
    [
        (ApplicationStatus.completed, 0, "valid"),
        (ApplicationStatus.issued, 120, "expired"),
        (ApplicationStatus.withdrawn, 0, "cancelled"),
        (ApplicationStatus.amended, 0, "amended"),
    ],
)
async def test_the_state_follows_the_status_and_the_last_shoot_day(
    api: Api, status: ApplicationStatus, days_later: int, state: str
) -> None:
    number = await issue(api, status=status)
    api.clock.now = NOW + dt.timedelta(days=days_later)

    response = await api.http.get(f"/v1/verify/{number}", headers=JSON)

    assert response.json()["state"] == state


async def test_the_last_shoot_day_is_still_valid_in_jakarta(api: Api) -> None:
    number = await issue(api)
    # 23:30 in Jakarta on the shoot day is 16:30 UTC the same day.
    api.clock.now = dt.datetime.combine(SHOOT_DAY, dt.time(16, 30), tzinfo=dt.UTC)
    assert (await api.http.get(f"/v1/verify/{number}", headers=JSON)).json()["state"] == "valid"
    api.clock.now = dt.datetime.combine(SHOOT_DAY, dt.time(17, 30), tzinfo=dt.UTC)
    assert (await api.http.get(f"/v1/verify/{number}", headers=JSON)).json()["state"] == "expired"


@pytest.mark.parametrize("accept", ["application/json", "text/html"])
async def test_a_malformed_or_unknown_number_is_not_found(api: Api, accept: str) -> None:
    unknown = permit_number(application_id_for_key(str(uuid.uuid4())), 2026)
    tampered = unknown[:-1] + ("A" if unknown[-1] != "A" else "B")
    for number in ["nonsense", "JFC-2026-XXXX-1", tampered, unknown]:
        response = await api.http.get(f"/v1/verify/{number}", headers={"Accept": accept})
        assert response.status_code == 404, number
        if accept == "application/json":
            assert response.json()["title"] == "permit not found"
        else:
            assert "Permit not found" in response.text


async def test_an_application_without_a_permit_does_not_verify(api: Api) -> None:
    application_id = (await api.submit(sample_body(), str(uuid.uuid4()))).json()["id"]

    response = await api.http.get(f"/v1/verify/{permit_number(application_id, 2026)}", headers=JSON)

    assert response.status_code == 404
