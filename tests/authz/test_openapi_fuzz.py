"""schemathesis against the running API's own OpenAPI: no 5xx, and every response matches what it documents.

The API runs on a real loopback port in a thread of its own (its event loop, Temporal client, worker with
the stand-in workflows and read model pool all live there), because schemathesis calls it synchronously.
One run as the officer, one as an applicant; a bounded number of cases per operation.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from api.app import create_app
from config.settings import Settings
from domain.catalog import load_rule_set
from store.pool import open_pool
from tests.api.conftest import (
    NOW,
    SECRETS,
    Accounts,
    Clock,
    create_accounts,
)
from tests.api.standins import STAND_INS
from tests.databases import new_database
from tests.servers import serve

MAX_EXAMPLES = 25
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]


@dataclass
class Running:
    url: str = ""
    users: Accounts | None = None
    ready: threading.Event = field(default_factory=threading.Event)
    stop: asyncio.Event | None = None
    loop: asyncio.AbstractEventLoop | None = None
    error: BaseException | None = None

    def headers(self, key: str) -> dict[str, str]:
        assert self.users is not None
        return self.users.headers(key)


async def _serve(running: Running, target_host: str, namespace: str, database_url: str, state_dir: Any) -> None:
    running.loop = asyncio.get_running_loop()
    running.stop = asyncio.Event()
    client = await Client.connect(target_host, namespace=namespace, data_converter=pydantic_data_converter)
    base = Settings()
    rules = load_rule_set(base.agencies_file, base.rules_file, "http://sim.test")
    task_queue = f"tq-fuzz-{threading.get_ident()}-{id(running)}"
    settings_ = Settings(state_dir=state_dir, task_queue=task_queue, JFC_PUBLIC_BASE_URL="https://jfc.test")
    pool = await open_pool(database_url, max_size=4)
    try:
        running.users = await create_accounts(pool)
        app = create_app(settings_, client, rules, secrets=lambda ref: SECRETS[ref], clock=Clock(NOW), pool=pool)
        async with Worker(client, task_queue=task_queue, workflows=STAND_INS), serve(app) as url:
            running.url = url
            running.ready.set()
            await running.stop.wait()
    finally:
        await pool.close()


@pytest.fixture(scope="module")
def fuzz_api(dev_env: WorkflowEnvironment, pg_server: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    running = Running()
    config = dev_env.client.service_client.config
    state_dir = tmp_path_factory.mktemp("fuzz")

    def main() -> None:
        async def run() -> None:
            await _serve(running, config.target_host, dev_env.client.namespace, await new_database(pg_server),
                         state_dir)

        try:
            asyncio.run(run())
        except BaseException as err:  # surfaced to the test below
            running.error = err
            running.ready.set()

    thread = threading.Thread(target=main, name="fuzz-api", daemon=True)
    thread.start()
    running.ready.wait(timeout=60)
    if running.error is not None:
        raise running.error
    assert running.url, "the API did not start within 60 s"
    try:
        yield running
    finally:
        if running.loop is not None and running.stop is not None:
            running.loop.call_soon_threadsafe(running.stop.set)
        thread.join(timeout=30)


@pytest.fixture(scope="module")
def api_schema(fuzz_api: Running) -> Any:
    spec = httpx.get(f"{fuzz_api.url}/openapi.json", timeout=10).json()
    return schemathesis.openapi.from_dict(spec)


def fuzz(schema: Any, base_url: str, headers: dict[str, str]) -> list[str]:
    """Run MAX_EXAMPLES generated cases against every operation; the failures, one line each (method, path, why).

    Drives schemathesis's strategies with hypothesis directly: its pytest plugin (`schemathesis.pytest`)
    does not run under pytest 9 (it sets a test item's removed `_nodeid`).
    """
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
        @given(case=operation.as_strategy())
        def run(case: Any) -> None:
            case.call_and_validate(base_url=base_url, headers=headers, checks=CHECKS, timeout=30)

        try:
            run()
        except Exception as err:  # a check failed (or a group of them): keep going, report all operations
            failures.append(f"{operation.method.upper()} {operation.path}: {err}"[:3000])
    return failures


@pytest.mark.parametrize("role", ["officer", "applicant"])
def test_the_api_answers_as_it_documents(api_schema: Any, fuzz_api: Running, role: str) -> None:
    failures = fuzz(api_schema, fuzz_api.url, fuzz_api.headers(role))

    assert not failures, "\n\n".join(failures)
