"""The real API app (in process, over httpx) against the real dev server, with stand-in workflows."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from temporalio.client import Client
from temporalio.worker import Worker

from api.app import create_app
from config.settings import Settings
from domain.catalog import load_rule_set
from domain.signatures import SIGNATURE_HEADER, sign
from schemas.catalog import RuleSet
from tests.api.standins import STAND_INS

# A Monday morning in Jakarta; the sample application shoots ten weeks later.
NOW = dt.datetime(2026, 3, 2, 2, 0, tzinfo=dt.UTC)
SHOOT_DAY = dt.date(2026, 5, 12)
SECRETS = {"parks": b"parks-secret", "police": b"police-secret", "payments": b"payments-secret"}

T = TypeVar("T")


@dataclass
class Clock:
    now: dt.datetime = NOW

    def __call__(self) -> dt.datetime:
        return self.now


@dataclass
class Api:
    """The API under test and what it talks to."""

    http: httpx.AsyncClient
    temporal: Client
    settings: Settings
    rules: RuleSet
    clock: Clock
    secrets: dict[str, bytes] = field(default_factory=lambda: dict(SECRETS))

    async def submit(self, body: Any, key: str | None) -> httpx.Response:
        headers = {"Idempotency-Key": key} if key is not None else {}
        content = body if isinstance(body, bytes) else json.dumps(body).encode()
        return await self.http.post("/v1/permits", content=content,
                                    headers={**headers, "Content-Type": "application/json"})

    async def post_signed(self, url: str, body: Any, secret_ref: str, *, at: dt.datetime | None = None,
                          secret: bytes | None = None) -> httpx.Response:
        content = json.dumps(body).encode()
        timestamp = int((at or self.clock.now).timestamp())
        signature = sign(secret or self.secrets[secret_ref], content, timestamp)
        return await self.http.post(url, content=content,
                                    headers={SIGNATURE_HEADER: signature, "Content-Type": "application/json"})


def sample_body(**overrides: Any) -> dict[str, Any]:
    """A valid application: one park location (routes to parks only, 5 business days of lead time)."""
    body: dict[str, Any] = {
        "applicant": {"company": "PT Contoh Film", "country": "ID", "contact_name": "Sari",
                      "email": "sari@contoh.id", "phone": "+62 812 0000 0000"},
        "production": {"title": "Senja di Kota", "kind": "feature_film", "synopsis": "..."},
        "locations": [{"name": "Taman Suropati", "kind": "park", "address": "Menteng",
                       "city": "Jakarta Pusat", "lat": -6.1995, "lon": 106.8325,
                       "days": [{"date": SHOOT_DAY.isoformat(), "start": "06:00", "end": "18:00"}],
                       "crew_size": 40, "vehicles": 2, "road_use": "none",
                       "drone": False, "pyrotechnics": False, "prop_weapons": False}],
        "foreign_crew": [],
        "insurance": {"insurer": "PT Asuransi", "policy_number": "P-1", "coverage_idr": 5_000_000_000,
                      "valid_until": "2026-12-31"},
        "expedite": {"requested": False, "reason": None},
    }
    body.update(overrides)
    return body


async def eventually(probe: Callable[[], Awaitable[T]], until: Callable[[T], bool], timeout: float = 10.0) -> T:
    """Call `probe` until `until(result)` holds (signals are applied asynchronously); returns the last result."""
    loop = asyncio.get_running_loop()
    give_up = loop.time() + timeout
    while True:
        result = await probe()
        if until(result) or loop.time() > give_up:
            return result
        await asyncio.sleep(0.1)


@pytest.fixture
def settings(tmp_path: Path, task_queue: str) -> Settings:
    return Settings(state_dir=tmp_path, task_queue=task_queue, JFC_PUBLIC_BASE_URL="https://jfc.test")


@pytest.fixture(scope="session")
def rules() -> RuleSet:
    base = Settings()
    return load_rule_set(base.agencies_file, base.rules_file, "http://sim.test")


@pytest.fixture
async def api(dev_client: Client, settings: Settings, rules: RuleSet, task_queue: str) -> AsyncIterator[Api]:
    clock = Clock()
    secrets = dict(SECRETS)
    app = create_app(settings, dev_client, rules, secrets=lambda ref: secrets[ref], clock=clock)
    async with Worker(dev_client, task_queue=task_queue, workflows=STAND_INS):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://jfc.test") as http:
            yield Api(http, dev_client, settings, rules, clock, secrets)
