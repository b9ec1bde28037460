"""Fixtures for the agency simulator: the real app over real HTTP, and a real webhook receiver."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request, Response

from config.settings import PACKAGED_DATA
from domain.signatures import SIGNATURE_HEADER, SignatureError, verify
from simulator.app import create_app
from simulator.server import catalog_modes
from tests.servers import serve

MODES = catalog_modes(PACKAGED_DATA / "agencies.toml")


def secret_for(ref: str) -> bytes:
    return f"test-secret-{ref}".encode()


async def wait_for(check: Callable[[], Awaitable[Any] | Any], timeout: float = 5.0, interval: float = 0.02) -> Any:
    """Poll `check` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await asyncio.sleep(interval)


@dataclass
class Hook:
    """One webhook attempt as the receiver saw it, and what it answered."""

    path: str
    body: bytes
    signed_at: int | None
    error: str | None
    answered: int


@dataclass
class Receiver:
    """A webhook receiver that checks signatures like our API does; `status` is what it answers."""

    url: str = ""
    status: int = 200
    hooks: list[Hook] = field(default_factory=list)

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/{path:path}")
        async def receive(path: str, request: Request) -> Response:
            body = await request.body()
            ref = "payments" if path.endswith("payments/webhook") else path.rsplit("/", 1)[-1]
            header = request.headers.get(SIGNATURE_HEADER)
            try:
                signed_at, error = verify(secret_for(ref), header, body, time.time()), None
            except SignatureError as exc:
                signed_at, error = None, str(exc)
            answered = 401 if error else self.status
            self.hooks.append(Hook(path=path, body=body, signed_at=signed_at, error=error, answered=answered))
            return Response(status_code=answered)

        return app

    def accepted(self, path_suffix: str = "") -> list[Hook]:
        """The hooks answered 2xx (so taken), optionally only those whose path ends with `path_suffix`."""
        return [h for h in self.hooks if h.answered < 300 and h.path.endswith(path_suffix)]


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    rec = Receiver()
    async with serve(rec.app()) as url:
        rec.url = url
        yield rec


@dataclass
class Sim:
    """A running simulator and a client to it."""

    url: str
    http: httpx.AsyncClient
    receiver: Receiver
    state_dir: Path

    def request_body(self, agency: str, key: str, **overrides: Any) -> dict:
        return clearance_request(agency, key, f"{self.receiver.url}/hooks/{agency}", **overrides)

    async def submit(self, agency: str, key: str, **overrides: Any) -> httpx.Response:
        return await self.http.post(
            f"/agencies/{agency}/v1/clearance-requests",
            json=self.request_body(agency, key, **overrides),
            headers={"Idempotency-Key": key},
        )

    async def behave(self, agency: str, **behaviour: Any) -> dict:
        response = await self.http.put(f"/admin/agencies/{agency}", json=behaviour)
        assert response.status_code == 200, response.text
        return response.json()

    async def held(self, agency: str) -> list[dict]:
        response = await self.http.get(f"/admin/agencies/{agency}/requests")
        assert response.status_code == 200, response.text
        return response.json()

    async def status(self, agency: str, reference: str) -> dict:
        response = await self.http.get(f"/agencies/{agency}/v1/clearance-requests/{reference}")
        assert response.status_code == 200, response.text
        return response.json()


def clearance_request(agency: str, key: str, callback_url: str, **overrides: Any) -> dict:
    body = {
        "request_key": key,
        "application_id": "PRM-AAAAAAAAAAAA",
        "agency": agency,
        "revision": 1,
        "applicant_company": "PT Contoh Film",
        "applicant_contact": "Sari",
        "production": {"title": "Senja di Kota", "kind": "feature_film", "synopsis": "A love story"},
        "locations": [
            {
                "name": "Taman Suropati",
                "kind": "park",
                "address": "Menteng",
                "city": "Jakarta Pusat",
                "lat": -6.1995,
                "lon": 106.8325,
                "days": [{"date": "2027-01-12", "start": "06:00", "end": "18:00"}],
                "crew_size": 40,
                "vehicles": 6,
            }
        ],
        "foreign_crew": [{"name": "Kim", "nationality": "KR", "passport_number": "M1234567", "role": "director"}],
        "callback_url": callback_url,
    }
    body.update(overrides)
    return body


@contextlib.asynccontextmanager
async def running_simulator(state_dir: Path, receiver: Receiver) -> AsyncIterator[Sim]:
    app = create_app(state_dir, list(MODES), secret_for, receiver.url, modes=MODES)
    async with serve(app) as url, httpx.AsyncClient(base_url=url, timeout=5) as http:
        yield Sim(url=url, http=http, receiver=receiver, state_dir=state_dir)


@pytest.fixture
async def sim(tmp_path: Path, receiver: Receiver) -> AsyncIterator[Sim]:
    async with running_simulator(tmp_path, receiver) as running:
        yield running


@pytest.fixture
def wait() -> Callable[..., Awaitable[Any]]:
    """`await wait(check, timeout=5)`: poll until `check` gives something truthy."""
    return wait_for


@pytest.fixture
def start_simulator(receiver: Receiver) -> Callable[[Path], contextlib.AbstractAsyncContextManager[Sim]]:
    """`async with start_simulator(state_dir) as sim:` for tests that stop and restart the simulator."""
    return lambda state_dir: running_simulator(state_dir, receiver)
