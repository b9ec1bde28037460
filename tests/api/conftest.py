"""The real API app (in process, over httpx) against the real dev server, with stand-in workflows.

The app has a real read model (one migrated database per test process) with one account of each role;
`api.http` calls as the applicant of "PT Contoh Film" unless a request says otherwise (`api.as_(role)`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import httpx
import pytest
from temporalio.client import Client
from temporalio.worker import Worker

from api.app import create_app
from config.settings import Settings
from domain.catalog import load_rule_set
from domain.signatures import SIGNATURE_HEADER, sign
from schemas.catalog import RuleSet
from store.accounts import Account, create_account
from store.pool import open_pool
from tests.api.standins import STAND_INS
from tests.databases import new_database

# A Monday morning in Jakarta; the sample application shoots ten weeks later.
NOW = dt.datetime(2026, 3, 2, 2, 0, tzinfo=dt.UTC)
SHOOT_DAY = dt.date(2026, 5, 12)
SECRETS = {"parks": b"parks-secret", "police": b"police-secret", "payments": b"payments-secret", "audit": b"audit-secret"}

T = TypeVar("T")

# One account per role: key → (name, role, organisation, agency).
ACCOUNTS: dict[str, tuple[str, str, str | None, str | None]] = {
    "applicant": ("Sari", "applicant", "PT Contoh Film", None),
    "applicant_b": ("Budi", "applicant", "PT Lain Sinema", None),
    "officer": ("Ani", "officer", None, None),
    "auditor": ("Dewi", "auditor", None, None),
    "agency:parks": ("Parks desk", "agency", None, "parks"),
    "agency:police": ("Police desk", "agency", None, "police"),
}


@dataclass(frozen=True)
class Accounts:
    """The test accounts: each key's token and account."""

    tokens: dict[str, str]
    accounts: dict[str, Account]

    def headers(self, key: str | None) -> dict[str, str]:
        """The Authorization header of `key`'s account (none for None)."""
        return {"Authorization": f"Bearer {self.tokens[key]}"} if key else {}

    def organisation_id(self, key: str) -> str:
        organisation_id = self.accounts[key].organisation_id
        assert organisation_id is not None
        return organisation_id


async def create_accounts(pool: asyncpg.Pool) -> Accounts:
    tokens, accounts = {}, {}
    for key, (name, role, organisation, agency) in ACCOUNTS.items():
        accounts[key], tokens[key] = await create_account(pool, name=name, role=role, organisation=organisation,
                                                          agency=agency, actor="test")
    return Accounts(tokens, accounts)


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
    pool: asyncpg.Pool
    users: Accounts
    secrets: dict[str, bytes] = field(default_factory=lambda: dict(SECRETS))

    def as_(self, key: str | None) -> dict[str, str]:
        """Headers that make a request come from `key`'s account (None: no token at all)."""
        return self.users.headers(key) if key else {"Authorization": ""}

    async def submit(self, body: Any, key: str | None, *, user: str | None = "applicant") -> httpx.Response:
        headers = {"Idempotency-Key": key} if key is not None else {}
        content = body if isinstance(body, bytes) else json.dumps(body).encode()
        return await self.http.post("/v1/permits", content=content,
                                    headers={**headers, **self.as_(user), "Content-Type": "application/json"})

    def application_id(self, key: str, user: str = "applicant") -> str:
        """The id a submission by `user` with this Idempotency-Key gets."""
        from domain.ids import application_id_for_key

        return application_id_for_key(key, scope=self.users.organisation_id(user))

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


@pytest.fixture(scope="session")
async def api_read_model(pg_server: Any) -> AsyncIterator[tuple[asyncpg.Pool, Accounts]]:
    """One migrated read model with the test accounts, shared by the API tests of this process."""
    pool = await open_pool(await new_database(pg_server), max_size=4)
    try:
        yield pool, await create_accounts(pool)
    finally:
        await pool.close()


@pytest.fixture
async def api(dev_client: Client, settings: Settings, rules: RuleSet, task_queue: str,
              api_read_model: tuple[asyncpg.Pool, Accounts]) -> AsyncIterator[Api]:
    clock = Clock()
    secrets = dict(SECRETS)
    pool, users = api_read_model
    app = create_app(settings, dev_client, rules, secrets=lambda ref: secrets[ref], clock=clock, pool=pool)
    async with Worker(dev_client, task_queue=task_queue, workflows=STAND_INS):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://jfc.test",
                                     headers=users.headers("applicant")) as http:
            yield Api(http, dev_client, settings, rules, clock, pool, users, secrets)
