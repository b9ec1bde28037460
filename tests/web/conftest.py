"""The pages, tested two ways: in process over httpx (fast: cookies, CSRF, scoping), and in Debian's Chromium
driven by Playwright on the whole stack (journeys, screenshots in `.jfc/screenshots/`)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from temporalio.client import Client
from temporalio.worker import Worker

from api.app import create_app
from config.settings import Settings
from schemas.catalog import RuleSet
from tests.api.conftest import SECRETS, Accounts, Clock, api_read_model, rules, settings  # noqa: F401 - fixtures
from tests.api.standins import STAND_INS
from tests.e2e.conftest import Stack, stack  # noqa: F401 - the fixture
import asyncpg

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / ".jfc" / "screenshots"
CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]*)"')


def csrf_of(html: str) -> str:
    """The form token a page carries."""
    found = CSRF.search(html)
    assert found, "the page has no form token"
    return found.group(1)


@dataclass
class Pages:
    """The app in process, a cookie-keeping client, and the test accounts."""

    http: httpx.AsyncClient
    app_http: httpx.AsyncClient  # the JSON API, with bearer tokens
    users: Accounts
    pool: asyncpg.Pool

    async def sign_in(self, key: str, client: httpx.AsyncClient | None = None) -> httpx.AsyncClient:
        client = client or self.http
        page = await client.get("/web/sign-in")
        response = await client.post("/web/sign-in", data={"csrf_token": csrf_of(page.text),
                                                           "token": self.users.tokens[key]})
        assert response.status_code == 303, response.text
        return client


@pytest.fixture
async def pages(dev_client: Client, settings: Settings, rules: RuleSet, task_queue: str,  # noqa: F811
                api_read_model: tuple[asyncpg.Pool, Accounts]) -> AsyncIterator[Pages]:  # noqa: F811
    pool, users = api_read_model
    app = create_app(settings, dev_client, rules, secrets=lambda ref: SECRETS[ref], clock=Clock(), pool=pool)
    transport = httpx.ASGITransport(app=app)
    async with Worker(dev_client, task_queue=task_queue, workflows=STAND_INS), \
            httpx.AsyncClient(transport=transport, base_url="https://jfc.test") as http, \
            httpx.AsyncClient(transport=transport, base_url="https://jfc.test") as app_http:
        yield Pages(http, app_http, users, pool)


@pytest.fixture
def local_cookies(monkeypatch: pytest.MonkeyPatch) -> None:
    """The local stack serves plain http: its session cookies are not Secure."""
    monkeypatch.setenv("JFC_COOKIE_SECURE", "false")


@pytest.fixture
def chromium_path() -> Path:
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM}: apt-get install chromium")
    pytest.importorskip("playwright.async_api", reason="playwright is not installed: pip install -e '.[dev]'")
    return CHROMIUM


@pytest.fixture
async def browser(chromium_path: Path) -> AsyncIterator[object]:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        launched = await p.chromium.launch(executable_path=str(chromium_path), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture(scope="session")
def screenshots() -> Iterator[Path]:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    yield SCREENSHOTS
