"""A party's Retry-After is honoured up to ten minutes; what it asked for travels with the outage."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest
from activity_samples import FakeAgency, make_agency
from fastapi import Response
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.agencies import AGENCY_UNAVAILABLE, AgencyActivities
from activities.parties import MAX_RETRY_AFTER, outage
from schemas.contracts import RETRY_AFTER_ASKED, SubmitClearanceInput
from workflows.clearance.progress import asked_retry_after
from workflows.policies import OUTAGE_MAX_BACKOFF

BASE = "/agencies/parks"
A_YEAR = 31_536_000


@pytest.fixture
async def http():
    async with httpx.AsyncClient(timeout=5.0) as client:
        yield client


async def submit_once(fake_agency: FakeAgency, http, clearance_request) -> ApplicationError:
    with pytest.raises(ApplicationError) as caught:
        await ActivityEnvironment().run(
            AgencyActivities(http).submit_clearance_request,
            SubmitClearanceInput(agency=make_agency(fake_agency.url + BASE), request=clearance_request),
        )
    return caught.value


async def test_a_retry_after_of_a_year_is_capped_at_ten_minutes_and_says_what_it_asked(
    fake_agency: FakeAgency, http, clearance_request
):
    fake_agency.script.append(Response("see you next year", status_code=503, headers={"Retry-After": str(A_YEAR)}))

    err = await submit_once(fake_agency, http, clearance_request)

    assert err.type == AGENCY_UNAVAILABLE and not err.non_retryable
    assert err.next_retry_delay == MAX_RETRY_AFTER == dt.timedelta(minutes=10)
    assert err.details == ({RETRY_AFTER_ASKED: float(A_YEAR)},)
    assert asked_retry_after(err) == dt.timedelta(seconds=A_YEAR)
    assert f"it asked {A_YEAR} s in Retry-After" in err.message and "after 600 s" in err.message


async def test_a_retry_after_within_the_cap_is_honoured_as_asked(fake_agency: FakeAgency, http, clearance_request):
    fake_agency.script.append(Response("back soon", status_code=429, headers={"Retry-After": "120"}))

    err = await submit_once(fake_agency, http, clearance_request)

    assert err.next_retry_delay == dt.timedelta(seconds=120)
    assert asked_retry_after(err) == dt.timedelta(seconds=120)
    assert "after 120 s (Retry-After)" in err.message and "asked" not in err.message


async def test_an_outage_without_retry_after_asks_nothing(fake_agency: FakeAgency, http, clearance_request):
    fake_agency.script.append(Response("down", status_code=502))

    err = await submit_once(fake_agency, http, clearance_request)

    assert err.next_retry_delay is None and err.details == ()
    assert asked_retry_after(err) is None


def test_the_cap_is_the_clearances_longest_backoff():
    assert MAX_RETRY_AFTER == OUTAGE_MAX_BACKOFF


def test_the_clearance_reads_what_was_asked_from_the_details_or_else_the_retry_delay():
    assert asked_retry_after(outage("x", dt.timedelta(hours=5))) == dt.timedelta(hours=5)
    bare = ApplicationError("503", type=AGENCY_UNAVAILABLE, next_retry_delay=dt.timedelta(minutes=3))
    assert asked_retry_after(bare) == dt.timedelta(minutes=3)
    assert asked_retry_after(ValueError("not an outage")) is None
