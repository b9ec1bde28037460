"""Fixtures for activity tests: a real agency server on a loopback port, a sample application and request."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator

import pytest
import uvicorn
from activity_samples import FakeAgency, make_application, make_request

from schemas.agency_api import ClearanceRequest
from schemas.application import PermitApplication


@pytest.fixture(scope="session")
async def agency_server() -> AsyncIterator[FakeAgency]:
    """One uvicorn server on a free 127.0.0.1 port for the whole session."""
    fake = FakeAgency()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(fake.app(), log_level="warning", lifespan="off"))
    server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign]  # leave pytest's handlers alone
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    fake.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    yield fake
    server.should_exit = True
    await task
    sock.close()


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
