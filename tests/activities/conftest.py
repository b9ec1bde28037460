"""Fixtures for activity tests: a real agency server on a loopback port, a sample application and request."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from activity_samples import FakeAgency, make_application, make_request

from schemas.agency_api import ClearanceRequest
from schemas.application import PermitApplication
from tests.servers import serve


@pytest.fixture(scope="session")
async def agency_server() -> AsyncIterator[FakeAgency]:
    """One uvicorn server on a free 127.0.0.1 port for the whole session."""
    fake = FakeAgency()
    async with serve(fake.app()) as url:
        fake.url = url
        yield fake


@pytest.fixture
def fake_agency(agency_server: FakeAgency) -> FakeAgency:
    agency_server.seen.clear()
    agency_server.script.clear()
    return agency_server


@pytest.fixture
def application() -> PermitApplication:
    return make_application()


@pytest.fixture
def clearance_request(application: PermitApplication) -> ClearanceRequest:
    return make_request(application)
