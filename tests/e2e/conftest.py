"""The whole product on real parts, in one test process: dev server, simulator, API and worker over HTTP."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from temporalio.client import Client

from api.app import create_app as create_api
from activities.outbox_relay import OutboxRelay
from config.secrets import webhook_secret
from config.settings import Settings
from domain.catalog import load_rule_set
from domain.incentive_rules import load_incentive_rules
from schemas.catalog import RuleSet
from simulator.app import create_app as create_simulator
from simulator.server import catalog_modes
from store.accounts import create_account
from store.pool import open_pool
from tests.servers import quiet_ports, serve
from workers.worker import applicant_secret, build_worker

RECONCILE_AFTER_MINUTES = 0.05  # the tests' catalog: a webhook overdue 3 s after acceptance is looked for


def quick_reconcile(rules: RuleSet) -> RuleSet:
    """The rule set with every agency reconciling a lost webhook after RECONCILE_AFTER_MINUTES."""
    agencies = [a.model_copy(update={"reconcile_after_minutes": RECONCILE_AFTER_MINUTES}) for a in rules.catalog.agencies]
    return rules.model_copy(update={"catalog": rules.catalog.model_copy(update={"agencies": agencies})})


@dataclass
class Stack:
    settings: Settings
    rules: RuleSet
    api: str
    sim: str
    http: httpx.AsyncClient  # calls as the applicant
    pool: asyncpg.Pool
    officer: dict[str, str]  # headers to call as an officer
    organisation_id: str  # the applicant's organisation
    temporal: Client

    async def submit(self, body: dict[str, Any], key: str) -> httpx.Response:
        return await self.http.post(f"{self.api}/v1/permits", json=body, headers={"Idempotency-Key": key})

    async def status(self, application_id: str) -> dict[str, Any]:
        response = await self.http.get(f"{self.api}/v1/permits/{application_id}")
        response.raise_for_status()
        return response.json()

    async def requests_at(self, agency: str) -> list[dict[str, Any]]:
        response = await self.http.get(f"{self.sim}/admin/agencies/{agency}/requests")
        response.raise_for_status()
        return response.json()

    async def behave(self, agency: str, **behaviour: Any) -> None:
        (await self.http.put(f"{self.sim}/admin/agencies/{agency}", json=behaviour)).raise_for_status()

    async def wait_for(
        self, application_id: str, done: Callable[[dict[str, Any]], bool], timeout: float = 60.0
    ) -> dict[str, Any]:
        """Poll the API until `done(status)`; fails with the last status seen."""
        loop = asyncio.get_running_loop()
        give_up = loop.time() + timeout
        view = await self.status(application_id)
        while not done(view):
            if loop.time() > give_up:
                pytest.fail(f"{application_id} did not get there in {timeout} s; last status: {view}")
            await asyncio.sleep(0.2)
            view = await self.status(application_id)
        return view


@pytest.fixture
async def stack(dev_client: Client, task_queue: str, tmp_path: Path, database_url: str) -> AsyncIterator[Stack]:
    """The stack on the dev server; the API, the worker and `Stack.temporal` encrypt every payload (the codec)."""
    api_port, sim_port = quiet_ports(2)
    settings = Settings(
        state_dir=tmp_path,
        task_queue=task_queue,
        api_port=api_port,
        simulator_port=sim_port,
        JFC_PUBLIC_BASE_URL=f"http://127.0.0.1:{api_port}",
        JFC_SIMULATOR_URL=f"http://127.0.0.1:{sim_port}",
        allow_loopback_webhooks=True,  # the tests' applicant webhooks listen on 127.0.0.1
    )
    rules = quick_reconcile(load_rule_set(settings.agencies_file, settings.rules_file, settings.simulator_url))
    secrets = lambda ref: webhook_secret(ref, tmp_path)  # noqa: E731
    simulator = create_simulator(
        state_dir=tmp_path,
        agency_codes=[a.code.value for a in rules.catalog.agencies],
        secrets=secrets,
        api_url=settings.public_base_url,
        modes=catalog_modes(settings.agencies_file),
    )
    async with AsyncExitStack() as stack_ctx:
        pool = await open_pool(database_url)
        stack_ctx.push_async_callback(pool.close)
        incentives = load_incentive_rules(settings.incentives_file, settings.simulator_url)
        api = create_api(settings, dev_client, rules, secrets=secrets, pool=pool, incentives=incentives)
        account, applicant = await create_account(pool, name="Sari", role="applicant", organisation="PT Contoh Film")
        _, officer = await create_account(pool, name="Officer Ani", role="officer")
        http = await stack_ctx.enter_async_context(
            httpx.AsyncClient(timeout=10.0, headers={"Authorization": f"Bearer {applicant}"})
        )
        agency_http = await stack_ctx.enter_async_context(httpx.AsyncClient(timeout=5.0))
        sim_url = await stack_ctx.enter_async_context(serve(simulator, sim_port))
        api_url = await stack_ctx.enter_async_context(serve(api, api_port))
        await stack_ctx.enter_async_context(build_worker(dev_client, settings, rules, agency_http, pool))
        stop_relay = asyncio.Event()
        relay = asyncio.create_task(OutboxRelay(pool, agency_http, applicant_secret(settings),
                                                  allow_loopback=settings.allow_loopback_webhooks).run(stop_relay, 0.1))
        stack_ctx.push_async_callback(lambda: relay)  # awaited after stop_relay is set below
        stack_ctx.callback(stop_relay.set)
        yield Stack(
            settings, rules, api_url, sim_url, http, pool, {"Authorization": f"Bearer {officer}"},
            str(account.organisation_id), dev_client,
        )


def first_feasible_day(weeks: int = 8) -> dt.date:
    """A shoot date comfortably past every lead time."""
    return dt.date.today() + dt.timedelta(weeks=weeks)


WaitFor = Callable[..., Awaitable[dict[str, Any]]]
