"""The report routes over HTTP (httpx.ASGITransport against create_app with a pool)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from api.app import create_app
from config.settings import Settings
from domain.catalog import load_rule_set
from schemas.catalog import AgencyCode
from store.accounts import create_account
from tests.reports.report_samples import add_application, add_clearance, add_outage, jkt

NOW = jkt(2026, 10, 20, 12)


def make_app(tmp_path: Path, pool: asyncpg.Pool | None):
    settings = Settings(state_dir=tmp_path, JFC_PUBLIC_BASE_URL="https://jfc.test")
    rules = load_rule_set(settings.agencies_file, settings.rules_file, "http://sim.test")
    # These routes never call Temporal: any object stands in for the client.
    return create_app(settings, object(), rules, secrets=lambda ref: b"s", clock=lambda: NOW, pool=pool)  # type: ignore[arg-type]


@pytest.fixture
async def http(tmp_path: Path, pool: asyncpg.Pool) -> AsyncIterator[httpx.AsyncClient]:
    await add_application(pool, "PRM-A", submitted_at=jkt(2026, 10, 2, 9), title="Senja di Kota",
                          company="PT Contoh Film", agencies=("parks", "police"), permit_number="JFC-2026-000001",
                          status="issued")
    await add_application(pool, "PRM-B", submitted_at=jkt(2026, 10, 1, 9), title="Night Market",
                          company="Kino Asia Ltd", locations="Pasar Baru", agencies=("district",))
    await add_clearance(pool, "PRM-A", "parks", requested_at=jkt(2026, 10, 1, 9), decided_at=jkt(2026, 10, 5, 9),
                        sla="met", outcome="approved", status="approved", turnaround=2)
    await add_clearance(pool, "PRM-B", "district", requested_at=jkt(2026, 10, 1, 9), due_at=jkt(2026, 10, 6, 16),
                        breached_at=jkt(2026, 10, 6, 16), sla="breached")
    await add_outage(pool, "PRM-B", "district", 0, jkt(2026, 10, 2, 10), jkt(2026, 10, 2, 10, 45))
    _, officer = await create_account(pool, name="Officer Ani", role="officer")
    transport = httpx.ASGITransport(app=make_app(tmp_path, pool))
    headers = {"Authorization": f"Bearer {officer}"}
    async with httpx.AsyncClient(transport=transport, base_url="https://jfc.test", headers=headers) as client:
        yield client


async def test_agency_sla_over_http(http: httpx.AsyncClient) -> None:
    response = await http.get("/v1/sla/agencies", params={"from": "2026-10-01", "to": "2026-10-15"})

    assert response.status_code == 200
    rows = {row["agency"]: row for row in response.json()}
    assert list(rows) == [code.value for code in AgencyCode]
    parks = rows["parks"]
    assert (parks["requests"], parks["decided"], parks["met"], parks["median_turnaround_business_days"]) == (
        1, 1, 1, 2.0)
    assert (rows["district"]["open"], rows["district"]["breached"], rows["district"]["outage_minutes"]) == (1, 1, 45.0)
    assert (await http.get("/v1/sla/agencies")).json() == response.json()  # no window: the same rows here


async def test_a_backwards_window_is_a_422_naming_both_dates(http: httpx.AsyncClient) -> None:
    response = await http.get("/v1/sla/agencies", params={"from": "2026-10-15", "to": "2026-10-01"})

    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert [p["path"] for p in body["problems"]] == ["from", "to"]
    assert "2026-10-15" in body["detail"] and "2026-10-01" in body["detail"]


async def test_a_date_that_is_not_one_is_a_422(http: httpx.AsyncClient) -> None:
    response = await http.get("/v1/sla/agencies", params={"from": "last week"})

    assert response.status_code == 422
    assert [p["path"] for p in response.json()["problems"]] == ["query.from"]


async def test_breaches_over_http(http: httpx.AsyncClient) -> None:
    response = await http.get("/v1/sla/breaches")

    assert response.status_code == 200
    [row] = response.json()
    assert (row["application_id"], row["production_title"], row["agency"], row["open"]) == (
        "PRM-B", "Night Market", "district", True)
    assert row["hours_overdue"] == 332.0  # 6 Oct 16:00 to 20 Oct 12:00
    assert row["business_days_overdue"] == 10
    assert (await http.get("/v1/sla/breaches", params={"limit": 0})).status_code == 422


async def test_permit_list_search_filters_and_pages_over_http(http: httpx.AsyncClient) -> None:
    everything = (await http.get("/v1/permits")).json()
    assert [item["id"] for item in everything["items"]] == ["PRM-A", "PRM-B"]
    assert everything["next_cursor"] is None

    first = (await http.get("/v1/permits", params={"limit": 1})).json()
    second = (await http.get("/v1/permits", params={"limit": 1, "cursor": first["next_cursor"]})).json()
    assert [first["items"][0]["id"], second["items"][0]["id"]] == ["PRM-A", "PRM-B"]
    assert second["next_cursor"] is None

    assert [i["id"] for i in (await http.get("/v1/permits", params={"q": "pasar"})).json()["items"]] == ["PRM-B"]
    assert [i["id"] for i in (await http.get("/v1/permits", params={"status": "issued"})).json()["items"]] == ["PRM-A"]
    assert [i["id"] for i in (await http.get("/v1/permits", params={"agency": "district"})).json()["items"]] == [
        "PRM-B"]


@pytest.mark.parametrize(("params", "path"), [
    ({"cursor": "garbage!"}, "cursor"),
    ({"status": "sleeping"}, "query.status"),
    ({"agency": "nasa"}, "query.agency"),
    ({"limit": "0"}, "query.limit"),
    ({"limit": "201"}, "query.limit"),
])
async def test_bad_list_parameters_are_422_problems_naming_the_field(
    http: httpx.AsyncClient, params: dict[str, str], path: str
) -> None:
    response = await http.get("/v1/permits", params=params)

    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert [p["path"] for p in response.json()["problems"]] == [path]


async def test_without_a_read_model_the_reports_answer_503(tmp_path: Path) -> None:
    transport = httpx.ASGITransport(app=make_app(tmp_path, None))
    headers = {"Authorization": "Bearer jfc_" + "x" * 43}  # accounts live in the read model too
    async with httpx.AsyncClient(transport=transport, base_url="https://jfc.test", headers=headers) as client:
        for url in ("/v1/sla/agencies", "/v1/sla/breaches", "/v1/permits"):
            response = await client.get(url)
            assert response.status_code == 503, url
            assert response.headers["content-type"].startswith("application/problem+json")
            assert "unavailable" in response.json()["title"]


async def test_openapi_describes_the_report_routes(tmp_path: Path) -> None:
    transport = httpx.ASGITransport(app=make_app(tmp_path, None))
    async with httpx.AsyncClient(transport=transport, base_url="https://jfc.test") as client:
        spec = (await client.get("/openapi.json")).json()

    paths = spec["paths"]
    agencies = paths["/v1/sla/agencies"]["get"]
    assert agencies["responses"]["200"]["content"]["application/json"]["schema"]["items"]["$ref"].endswith("/AgencySla")
    assert {p["name"] for p in agencies["parameters"]} == {"from", "to"}
    listing = paths["/v1/permits"]["get"]
    assert listing["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/PermitPage")
    assert listing["responses"]["422"]["content"]["application/problem+json"]["schema"]["$ref"].endswith("/ProblemDocument")
    assert "post" in paths["/v1/permits"]
    assert {"AgencySla", "BreachRow", "PermitSummary", "PermitPage"} <= set(spec["components"]["schemas"])
