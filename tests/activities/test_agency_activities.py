"""Agency activities against a real HTTP server (and httpx.MockTransport for transport failures)."""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import time

import httpx
import pytest
from activity_samples import EMAIL, PASSPORT, PHONE, REQUEST_KEY, FakeAgency, closed_port, make_agency
from fastapi import Response
from structlog.testing import capture_logs
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.agencies import AGENCY_PROTOCOL_ERROR, AGENCY_REFUSED, AGENCY_UNAVAILABLE, AgencyActivities, retry_after
from schemas.agency_api import AgencyRequestState, ClearanceRequest
from schemas.contracts import AgencyCallInput, InformationAnswerInput, SubmitClearanceInput

BASE = "/agencies/parks"


@pytest.fixture
async def http():
    async with httpx.AsyncClient(timeout=5.0) as client:
        yield client


def call_input(base_url: str, reference: str = "REF-1") -> AgencyCallInput:
    return AgencyCallInput(agency=make_agency(base_url), reference=reference, request_key=REQUEST_KEY)


async def test_submit_sends_idempotency_key_and_returns_reference(fake_agency: FakeAgency, http, clearance_request):
    acts = AgencyActivities(http)
    with capture_logs() as logs:
        result = await ActivityEnvironment().run(
            acts.submit_clearance_request,
            SubmitClearanceInput(agency=make_agency(fake_agency.url + BASE), request=clearance_request),
        )
    assert result.reference == f"REF-{REQUEST_KEY}"
    [seen] = fake_agency.seen
    assert (seen.method, seen.path) == ("POST", f"{BASE}/v1/clearance-requests")
    assert seen.headers["idempotency-key"] == clearance_request.request_key
    assert ClearanceRequest.model_validate_json(seen.body) == clearance_request
    [event] = logs
    assert event["event"] == "agency_call"
    assert (event["application_id"], event["agency"], event["attempt"], event["status"]) == (
        "PRM-ABCDEFGHIJKL", "parks", 1, 200,
    )  # fmt: skip
    assert not any(secret in repr(logs) for secret in (PASSPORT, EMAIL, PHONE))


async def test_503_with_retry_after_is_a_retryable_outage(fake_agency: FakeAgency, http, clearance_request):
    fake_agency.script.append(Response("down for maintenance", status_code=503, headers={"Retry-After": "7"}))
    acts = AgencyActivities(http)
    with pytest.raises(ApplicationError) as caught:
        await ActivityEnvironment().run(
            acts.submit_clearance_request,
            SubmitClearanceInput(agency=make_agency(fake_agency.url + BASE), request=clearance_request),
        )
    err = caught.value
    assert err.type == AGENCY_UNAVAILABLE
    assert not err.non_retryable
    assert err.next_retry_delay == dt.timedelta(seconds=7)
    assert "parks" in err.message and "503" in err.message and f"{BASE}/v1/clearance-requests" in err.message


async def test_connection_refused_is_an_outage(http, clearance_request):
    url = f"http://127.0.0.1:{closed_port()}{BASE}"
    with pytest.raises(ApplicationError) as caught:
        await ActivityEnvironment().run(
            AgencyActivities(http).submit_clearance_request,
            SubmitClearanceInput(agency=make_agency(url), request=clearance_request),
        )
    assert caught.value.type == AGENCY_UNAVAILABLE
    assert not caught.value.non_retryable
    assert "ConnectError" in caught.value.message and url in caught.value.message


async def test_422_is_refused_with_the_body_excerpt_and_no_personal_data(fake_agency: FakeAgency, http, clearance_request):
    body = {"detail": [{"loc": ["body", "locations", 0, "days"], "msg": "shoot days must be weekdays",
                        "input": {"passport_number": PASSPORT, "contact": f"{EMAIL} {PHONE}"}}]}  # fmt: skip
    fake_agency.script.append(Response(json.dumps(body), status_code=422, media_type="application/json"))
    with pytest.raises(ApplicationError) as caught:
        await ActivityEnvironment().run(
            AgencyActivities(http).submit_clearance_request,
            SubmitClearanceInput(agency=make_agency(fake_agency.url + BASE), request=clearance_request),
        )
    err = caught.value
    assert err.type == AGENCY_REFUSED and err.non_retryable
    assert err.message.startswith("parks refused the request: 422 ")
    assert "shoot days must be weekdays" in err.message
    assert not any(secret in err.message for secret in (PASSPORT, EMAIL, PHONE))


async def test_unparseable_2xx_is_a_protocol_error(fake_agency: FakeAgency, http, clearance_request):
    fake_agency.script.append(Response("<html>ok</html>", status_code=200, media_type="text/html"))
    with pytest.raises(ApplicationError) as caught:
        await ActivityEnvironment().run(
            AgencyActivities(http).submit_clearance_request,
            SubmitClearanceInput(agency=make_agency(fake_agency.url + BASE), request=clearance_request),
        )
    assert caught.value.type == AGENCY_PROTOCOL_ERROR and caught.value.non_retryable


async def test_get_status_reads_the_decision(fake_agency: FakeAgency, http):
    result = await ActivityEnvironment().run(
        AgencyActivities(http).get_clearance_status, call_input(fake_agency.url + BASE, "REF-9")
    )
    assert result.status.reference == "REF-9"
    assert result.status.status == AgencyRequestState.approved_with_conditions
    assert result.status.conditions == ["No vehicles on the lawn"]
    assert fake_agency.seen[0].path == f"{BASE}/v1/clearance-requests/REF-9"


async def test_withdraw_sends_its_own_key_and_accepts_409_already_final(fake_agency: FakeAgency, http):
    acts, env = AgencyActivities(http), ActivityEnvironment()
    await env.run(acts.withdraw_clearance_request, call_input(fake_agency.url + BASE))
    fake_agency.script.append(Response('{"detail": "already decided"}', status_code=409))
    await env.run(acts.withdraw_clearance_request, call_input(fake_agency.url + BASE))
    assert [(s.method, s.path, s.headers["idempotency-key"]) for s in fake_agency.seen] == [
        ("DELETE", f"{BASE}/v1/clearance-requests/REF-1", f"{REQUEST_KEY}:withdraw")
    ] * 2


async def test_withdraw_of_an_unknown_reference_is_refused(fake_agency: FakeAgency, http):
    fake_agency.script.append(Response('{"detail": "no such request"}', status_code=404))
    with pytest.raises(ApplicationError) as caught:
        await ActivityEnvironment().run(AgencyActivities(http).withdraw_clearance_request, call_input(fake_agency.url + BASE))
    assert caught.value.type == AGENCY_REFUSED and caught.value.non_retryable
    assert "no such request" in caught.value.message


async def test_information_answer_posts_request_id_and_answer(fake_agency: FakeAgency, http):
    answer = InformationAnswerInput(
        agency=make_agency(fake_agency.url + BASE), reference="REF-1", request_key=REQUEST_KEY,
        request_id="q-1", answer="Two vans, parked on Jl. Diponegoro",
    )  # fmt: skip
    await ActivityEnvironment().run(AgencyActivities(http).send_information_answer, answer)
    [seen] = fake_agency.seen
    assert (seen.method, seen.path) == ("POST", f"{BASE}/v1/clearance-requests/REF-1/answers")
    assert seen.headers["idempotency-key"] == f"{REQUEST_KEY}:answer:q-1"
    assert json.loads(seen.body) == {"request_id": "q-1", "answer": "Two vans, parked on Jl. Diponegoro"}


@pytest.mark.parametrize("failure", [httpx.ReadTimeout("timed out"), httpx.RemoteProtocolError("reset")])
async def test_timeouts_and_broken_connections_are_outages(failure: Exception):
    def fail(request: httpx.Request) -> httpx.Response:
        raise failure

    async with httpx.AsyncClient(transport=httpx.MockTransport(fail)) as http:
        with pytest.raises(ApplicationError) as caught:
            await ActivityEnvironment().run(AgencyActivities(http).get_clearance_status, call_input("http://agency.test"))
    assert caught.value.type == AGENCY_UNAVAILABLE and not caught.value.non_retryable
    assert type(failure).__name__ in caught.value.message


async def test_429_is_an_outage_with_an_http_date_retry_after():
    later = email.utils.format_datetime(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=120), usegmt=True)
    transport = httpx.MockTransport(lambda request: httpx.Response(429, headers={"Retry-After": later}))
    async with httpx.AsyncClient(transport=transport) as http:
        with pytest.raises(ApplicationError) as caught:
            await ActivityEnvironment().run(AgencyActivities(http).get_clearance_status, call_input("http://agency.test"))
    assert caught.value.type == AGENCY_UNAVAILABLE
    assert dt.timedelta(seconds=100) < caught.value.next_retry_delay <= dt.timedelta(seconds=120)


def test_retry_after_ignores_absent_past_and_garbage_values():
    past = email.utils.format_datetime(dt.datetime(2020, 1, 1, tzinfo=dt.UTC), usegmt=True)
    assert [retry_after(v) for v in (None, "", "soon", past, "-3")] == [None] * 5
    assert retry_after(" 2 ") == dt.timedelta(seconds=2)


async def test_calls_to_one_agency_respect_its_calls_per_second():
    transport = httpx.MockTransport(lambda request: httpx.Response(204))
    async with httpx.AsyncClient(transport=transport) as http:
        acts, env = AgencyActivities(http), ActivityEnvironment()
        slow = AgencyCallInput(agency=make_agency("http://agency.test", 20.0), reference="R", request_key=REQUEST_KEY)
        started = time.monotonic()
        for _ in range(5):
            await env.run(acts.withdraw_clearance_request, slow)
    assert time.monotonic() - started >= 4 / 20 - 0.01
