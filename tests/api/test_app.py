"""The app as a whole: health, OpenAPI, problem documents for every error."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import httpx

from api.app import create_app
from api.problems import field_path
from api.verify import prefers_json
from tests.api.conftest import Api, sample_body


async def test_health_checks_temporal(api: Api) -> None:
    response = await api.http.get("/healthz")

    assert response.status_code == 200
    assert response.json()["temporal"] == "reachable"


def _refs(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"]} if isinstance(node.get("$ref"), str) else set()
        return found.union(*(_refs(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(_refs(v) for v in node))
    return set()


async def test_openapi_documents_every_endpoint_and_resolves_every_reference(api: Api) -> None:
    spec = (await api.http.get("/openapi.json")).json()

    paths = spec["paths"]
    assert {"/v1/permits", "/v1/permits/{application_id}", "/v1/permits/{application_id}/document",
            "/v1/agencies/{code}/decisions", "/v1/payments/webhook", "/v1/verify/{permit_number}",
            "/healthz"} <= set(paths)
    schemas = spec["components"]["schemas"]
    for ref in _refs(spec):
        assert ref.removeprefix("#/components/schemas/") in schemas, ref
    submit = paths["/v1/permits"]["post"]
    assert submit["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/PermitApplication")
    assert {"202", "400", "409", "422"} <= set(submit["responses"])
    assert submit["responses"]["422"]["content"]["application/problem+json"]["schema"]["$ref"].endswith(
        "/ProblemDocument")
    assert "HTTPValidationError" not in schemas
    decision = paths["/v1/agencies/{code}/decisions"]["post"]
    assert {"202", "401", "404", "409", "422"} <= set(decision["responses"])
    assert "text/html" in paths["/v1/verify/{permit_number}"]["get"]["responses"]["200"]["content"]
    assert "application/pdf" in paths["/v1/permits/{application_id}/document"]["get"]["responses"]["200"]["content"]


async def test_an_unknown_route_is_a_problem_document(api: Api) -> None:
    response = await api.http.get("/v2/nothing")

    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["status"] == 404


async def test_a_wrong_method_is_a_problem_document(api: Api) -> None:
    response = await api.http.delete("/v1/permits")

    assert response.status_code == 405
    assert response.json()["status"] == 405


async def test_an_unexpected_error_is_a_500_without_details(api: Api) -> None:
    def broken_clock() -> dt.datetime:
        raise RuntimeError("secret internals /etc/passwd")

    app = create_app(api.settings, api.temporal, api.rules, secrets=lambda ref: b"s", clock=broken_clock,
                     pool=api.pool)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://jfc.test",
                                 headers=api.as_("applicant")) as http:
        response = await http.post("/v1/permits", json=sample_body(), headers={"Idempotency-Key": str(uuid.uuid4())})

    assert response.status_code == 500
    assert response.json()["title"] == "internal error"
    assert "secret" not in response.text and "Traceback" not in response.text


def test_field_paths_read_like_the_json() -> None:
    assert field_path(("locations", 1, "days", 0, "date")) == "locations[1].days[0].date"
    assert field_path(("fees", "per_location_day_idr", "park", "[key]")) == "fees.per_location_day_idr.park"
    assert field_path(()) == "(body)"


def test_accept_negotiation_prefers_html_unless_json_ranks_higher() -> None:
    assert prefers_json("application/json")
    assert prefers_json("text/html;q=0.5, application/json")
    assert not prefers_json(None)
    assert not prefers_json("*/*")
    assert not prefers_json("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
    assert not prefers_json("text/html, application/json")
