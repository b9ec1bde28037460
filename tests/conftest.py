"""Shared fixtures: real Temporal servers (dev server per session, time-skipping per test)."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from config.secrets import CodecKey
from schemas.contracts import SEARCH_ATTR_NEXT_DEADLINE, SEARCH_ATTR_STATUS
from workers.codec import EncryptionCodec
from workers.temporal import data_converter

pytest_plugins = ["tests.fake_dns"]  # the `dns` fixture: a scripted resolver for the webhook URL rule

BIN = Path(sys.executable).parent


def _binary(name: str) -> str:
    path = shutil.which(name, path=str(BIN)) or shutil.which(name)
    if not path:
        raise RuntimeError(f"{name} not found next to {sys.executable}; run `make .venv`")
    return path


@pytest.fixture
async def time_env() -> AsyncIterator[WorkflowEnvironment]:
    """A fresh time-skipping test server (it cannot be shared between tests)."""
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=_binary("temporal-test-server"),
        data_converter=pydantic_data_converter,
    )
    try:
        yield env
    finally:
        await env.shutdown()


@pytest.fixture(scope="session")
async def dev_env() -> AsyncIterator[WorkflowEnvironment]:
    """One real dev server per test process, with the project's search attributes."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=_binary("temporal"),
        data_converter=pydantic_data_converter,
        ui=False,
        dev_server_extra_args=[
            "--search-attribute",
            f"{SEARCH_ATTR_STATUS}=Keyword",
            "--search-attribute",
            f"{SEARCH_ATTR_NEXT_DEADLINE}=Datetime",
            "--dynamic-config-value",
            "frontend.enableUpdateWorkflowExecution=true",
        ],
    )
    try:
        yield env
    finally:
        await env.shutdown()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[object]:
    """One embedded PostgreSQL per test process (each test gets its own database).

    Its data lives outside pytest's temporary root, which pytest makes private (0700) at the start of
    every session: the server runs as its own system user and must reach its folder whatever else runs.
    """
    from store.server import embedded_server

    root = Path(tempfile.mkdtemp(prefix="jfc-test-pg-"))
    server = embedded_server(root / "data")
    try:
        yield server
    finally:
        server.cleanup()  # stops it; atexit would not run after our hard exit below
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
async def database_url(pg_server) -> str:
    """A fresh, empty database on the embedded server (no migrations applied)."""
    from tests.databases import new_database

    return await new_database(pg_server)


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[object]:
    """A connection pool on a fresh database with every migration applied."""
    from store.pool import open_pool

    db = await open_pool(database_url, max_size=4)
    try:
        yield db
    finally:
        await db.close()


@pytest.fixture
def task_queue() -> str:
    return f"tq-{uuid.uuid4()}"


@pytest.fixture(scope="session")
def payload_codec() -> EncryptionCodec:
    """The tests' payload codec: one fresh key per test process."""
    return EncryptionCodec([CodecKey("test-key", os.urandom(32))])


@pytest.fixture
def dev_client(dev_env: WorkflowEnvironment, payload_codec: EncryptionCodec) -> Client:
    """A client of the dev server made as every JFC process makes one: pydantic payloads, encrypted.

    `dev_env.client` (and `time_env.client`) stay plain: workflow tests read and store histories as the
    replay tests' plain JSON.
    """
    plain = dev_env.client
    return Client(plain.service_client, namespace=plain.namespace, data_converter=data_converter(payload_codec))


# temporalio's core can abort the interpreter at exit (sdk-python issue 300) after every
# test passed; end the process ourselves with pytest's real exit status.
_exit_status: list[int] = []


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    _exit_status.append(int(exitstatus))


def pytest_unconfigure(config: pytest.Config) -> None:
    if _exit_status and os.environ.get("JFC_NO_HARD_EXIT") != "1":
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(_exit_status[-1])
