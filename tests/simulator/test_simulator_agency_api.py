"""The agency API: idempotent submissions, validation, and the faults the simulator plays."""

from __future__ import annotations

import asyncio


async def test_same_key_returns_same_reference_and_counts_sightings(sim):
    first = await sim.submit("parks", "PRM-1:parks:r1")
    again = await sim.submit("parks", "PRM-1:parks:r1")

    assert first.status_code == 201
    assert again.status_code == 200
    assert first.json() == {"reference": first.json()["reference"], "status": "received"}
    assert again.json()["reference"] == first.json()["reference"]
    [held] = await sim.held("parks")
    assert held["idempotency_key"] == "PRM-1:parks:r1"
    assert held["reference"] == first.json()["reference"]
    assert held["times_seen"] == 2
    assert held["status"] == "received"


async def test_racing_duplicates_make_one_request(sim):
    responses = await asyncio.gather(*(sim.submit("heritage", "PRM-2:heritage:r1") for _ in range(8)))

    assert sorted(r.status_code for r in responses) == [200] * 7 + [201]
    assert len({r.json()["reference"] for r in responses}) == 1
    [held] = await sim.held("heritage")
    assert held["times_seen"] == 8


async def test_key_is_per_agency(sim):
    parks = await sim.submit("parks", "same-key")
    police = await sim.submit("police", "same-key")

    assert parks.status_code == police.status_code == 201
    assert parks.json()["reference"] != police.json()["reference"]


async def test_missing_key_invalid_body_and_unknown_agency(sim):
    no_key = await sim.http.post("/agencies/parks/v1/clearance-requests", json=sim.request_body("parks", "k"))
    assert no_key.status_code == 400
    assert "Idempotency-Key" in no_key.json()["detail"]

    bad = sim.request_body("parks", "k", revision="two")
    bad["locations"][0]["lat"] = 10
    invalid = await sim.http.post("/agencies/parks/v1/clearance-requests", json=bad, headers={"Idempotency-Key": "k"})
    assert invalid.status_code == 422
    assert {p["path"] for p in invalid.json()["problems"]} == {"revision", "locations[0].lat"}

    wrong_agency = await sim.http.post(
        "/agencies/parks/v1/clearance-requests", json=sim.request_body("police", "k"), headers={"Idempotency-Key": "k"}
    )
    assert wrong_agency.status_code == 422

    unknown = await sim.submit("zoo", "k")
    assert unknown.status_code == 404
    assert unknown.json()["title"] == "Unknown agency"
    assert "'zoo'" in unknown.json()["detail"]
    assert (await sim.http.get("/admin/agencies/zoo")).status_code == 404
    assert (await sim.http.get("/agencies/parks/v1/clearance-requests/NOPE")).status_code == 404
    assert await sim.held("parks") == []


async def test_lost_response_stores_once_and_retry_finds_it(sim):
    await sim.behave("transport", lost_response_rate=1.0)
    lost = await sim.submit("transport", "PRM-3:transport:r1")
    assert lost.status_code == 503
    [held] = await sim.held("transport")
    assert held["times_seen"] == 1

    retry_lost_too = await sim.submit("transport", "PRM-3:transport:r1")
    assert retry_lost_too.status_code == 503
    await sim.behave("transport", lost_response_rate=0)
    retry = await sim.submit("transport", "PRM-3:transport:r1")

    assert retry.status_code == 200
    assert retry.json()["reference"] == held["reference"]
    [held] = await sim.held("transport")
    assert held["times_seen"] == 3


async def test_outage_answers_503_with_retry_after_until_lifted(sim):
    started = await sim.http.post("/admin/agencies/police/outage", json={"seconds": 30})
    assert started.status_code == 200

    down = await sim.submit("police", "PRM-4:police:r1")
    assert down.status_code == 503
    assert 1 <= int(down.headers["Retry-After"]) <= 30
    assert (await sim.http.get("/agencies/police/v1/clearance-requests/X")).status_code == 503
    assert await sim.held("police") == []
    assert (await sim.submit("fire", "PRM-4:fire:r1")).status_code == 201  # other agencies are up

    assert (await sim.http.delete("/admin/agencies/police/outage")).status_code == 200
    up = await sim.submit("police", "PRM-4:police:r1")
    assert up.status_code == 201
    calls = (await sim.http.get("/admin/agencies/police/calls")).json()
    assert [(c["status"], c["fault"]) for c in calls] == [(201, None), (503, "outage"), (503, "outage")]


async def test_error_rate_answers_503_and_stores_nothing(sim):
    await sim.behave("aviation", error_rate=1.0)

    responses = [await sim.submit("aviation", f"PRM-5:aviation:r{i}") for i in range(3)]

    assert [r.status_code for r in responses] == [503, 503, 503]
    assert await sim.held("aviation") == []


async def test_latency_delays_the_answer(sim):
    await sim.behave("transit", latency_ms=150)
    started = asyncio.get_running_loop().time()
    response = await sim.submit("transit", "PRM-6:transit:r1")
    assert response.status_code == 201
    assert asyncio.get_running_loop().time() - started >= 0.15
