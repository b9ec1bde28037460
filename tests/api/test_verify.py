"""GET /v1/verify/{permit_number}: the public page and JSON behind the permit's QR code."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest

from domain.ids import application_id_for_key, application_id_from_permit_number, permit_number
from schemas.status import (
    ApplicationStatus,
    ClearanceStatus,
    ClearanceView,
    Fees,
    IssuedRevision,
    LocationView,
    PermitInfo,
    PermitStatusView,
    ShootDayView,
)
from tests.api.conftest import NOW, SHOOT_DAY, Api, eventually, sample_body

JSON = {"Accept": "application/json"}
PERSONAL = ["sari@contoh.id", "Sari", "+62 812", "M1234567", "Kim"]


async def issue(api: Api, title: str = "Senja di Kota", status: ApplicationStatus = ApplicationStatus.issued,
                *, keeps_issued: bool = True) -> str:
    """Submit the sample application and make its stand-in say the permit is issued (as the workflow does, with
    the issued revision; `keeps_issued=False`: as a workflow did before it kept it); returns the number.
    An `amended` one is at revision 2, its amendment not issued yet."""
    body = sample_body(
        production={"title": title, "kind": "feature_film"},
        foreign_crew=[{"name": "Kim", "nationality": "KR", "passport_number": "M1234567", "role": "director"}],
    )
    application_id = (await api.submit(body, str(uuid.uuid4()))).json()["id"]
    handle = api.temporal.get_workflow_handle(application_id)
    view = await handle.query("status", result_type=PermitStatusView)
    number = permit_number(application_id, 2026)
    clearances = [
        ClearanceView(agency="parks", status=ClearanceStatus.approved_with_conditions,
                      decided_at=NOW, conditions=["Keep the paths open"]),
        ClearanceView(agency="police", status=ClearanceStatus.approved, decided_at=NOW),
        ClearanceView(agency="culture_ministry", status=ClearanceStatus.submitted),
    ]
    fees = Fees(schedule_version="2026.1", total_idr=1_500_000, lines=[], paid_at=NOW, payment_id="pay-1")
    issued = IssuedRevision(revision=1, issued_at=NOW, locations=view.locations, clearances=clearances, fees=fees)
    await handle.signal("test_set_view", view.model_copy(update={
        "status": status,
        "revision": 2 if status == ApplicationStatus.amended else 1,
        "clearances": clearances,
        "fees": fees,
        "permit": PermitInfo(number=number, issued_at=NOW, document_url="d", verify_url="v"),
        "issued": issued if keeps_issued else None,
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


async def set_view(api: Api, number: str, **update: object) -> PermitStatusView:
    """Change what the permit's stand-in workflow says; returns the new view."""
    application_id = application_id_from_permit_number(number)
    assert application_id is not None
    handle = api.temporal.get_workflow_handle(application_id)
    view = (await handle.query("status", result_type=PermitStatusView)).model_copy(update=update)
    await handle.signal("test_set_view", view)
    return await eventually(lambda: handle.query("status", result_type=PermitStatusView), lambda v: v == view)


MONAS = LocationView(name="Monas", kind="public_space", address="Gambir", city="Jakarta Pusat",
                     days=[ShootDayView(date=SHOOT_DAY + dt.timedelta(days=9), start=dt.time(5), end=dt.time(9))])


async def test_an_amendment_shows_only_as_pending_until_it_is_cleared_paid_and_issued(api: Api) -> None:
    number = await issue(api)
    issued = await set_view(api, number)
    r1 = issued.issued
    assert r1 is not None
    amended_clearances = [
        ClearanceView(agency="parks", revision=2, status=ClearanceStatus.submitted),
        ClearanceView(agency="police", status=ClearanceStatus.approved, decided_at=NOW),
        ClearanceView(agency="district", revision=2, status=ClearanceStatus.submitting),
    ]
    for status in (ApplicationStatus.amended, ApplicationStatus.awaiting_payment):
        await set_view(api, number, status=status, revision=2, locations=[MONAS], clearances=amended_clearances,
                       fees=r1.fees.model_copy(update={"total_idr": 2_000_000, "paid_at": None}))

        data = (await api.http.get(f"/v1/verify/{number}", headers=JSON)).json()
        assert data["amendment_pending"] is True and data["state"] == "amended", status
        assert [loc["name"] for loc in data["locations"]] == ["Taman Suropati"]
        assert data["first_shoot_date"] == data["last_shoot_date"] == SHOOT_DAY.isoformat()
        assert [c["agency"] for c in data["cleared_by"]] == ["parks", "police"]  # as issued
        assert data["cleared_by"][0]["conditions"] == ["Keep the paths open"]
        assert data["fees"] == {"total_idr": 1_500_000, "paid": True, "paid_at": data["fees"]["paid_at"]}
        assert "Monas" not in json.dumps(data) and "district" not in json.dumps(data)
        page = (await api.http.get(f"/v1/verify/{number}")).text
        assert "Amendment pending" in page and "Perubahan sedang diproses" in page
        assert "Perubahan izin ini sedang diperiksa" in page and "An amendment of this permit is being cleared" in page
        assert "Taman Suropati" in page and "Monas" not in page

    cleared = [c.model_copy(update={"status": ClearanceStatus.approved, "decided_at": NOW}) for c in amended_clearances]
    paid = r1.fees.model_copy(update={"total_idr": 2_000_000})
    await set_view(api, number, status=ApplicationStatus.issued, clearances=cleared, fees=paid,
                   issued=IssuedRevision(revision=2, issued_at=NOW, locations=[MONAS], clearances=cleared, fees=paid))

    data = (await api.http.get(f"/v1/verify/{number}", headers=JSON)).json()
    assert data["amendment_pending"] is False and data["state"] == "valid"
    assert [loc["name"] for loc in data["locations"]] == ["Monas"]
    assert [c["agency"] for c in data["cleared_by"]] == ["parks", "police", "district"]
    assert data["fees"]["total_idr"] == 2_000_000
    assert "Amendment pending" not in (await api.http.get(f"/v1/verify/{number}")).text


async def test_a_permit_issued_before_the_view_kept_its_issued_revision(api: Api) -> None:
    number = await issue(api, keeps_issued=False)
    data = (await api.http.get(f"/v1/verify/{number}", headers=JSON)).json()
    assert data["state"] == "valid" and data["amendment_pending"] is False
    assert [loc["name"] for loc in data["locations"]] == ["Taman Suropati"]

    await set_view(api, number, status=ApplicationStatus.amended, revision=2, locations=[MONAS])  # not known cleared

    data = (await api.http.get(f"/v1/verify/{number}", headers=JSON)).json()
    assert data["state"] == "amended" and data["amendment_pending"] is True
    assert data["locations"] == [] and data["cleared_by"] == [] and "Monas" not in json.dumps(data)


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
