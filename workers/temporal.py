"""Connecting to Temporal the same way from every process."""

from __future__ import annotations

import asyncio

import structlog
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from config.settings import Settings

log = structlog.get_logger(__name__)


async def connect(settings: Settings, wait_seconds: float = 60.0) -> Client:
    """A client with the pydantic data converter; waits for a server that is still starting."""
    loop = asyncio.get_running_loop()
    give_up_at = loop.time() + wait_seconds
    delay = 0.25
    while True:
        try:
            return await Client.connect(
                settings.temporal_address,
                namespace=settings.temporal_namespace,
                data_converter=pydantic_data_converter,
            )
        except RuntimeError as exc:  # connection refused while the server starts
            if loop.time() >= give_up_at:
                raise RuntimeError(
                    f"cannot reach Temporal at {settings.temporal_address} after {wait_seconds:.0f} s: {exc}. "
                    "Is the server running? `jfc up` starts a dev server; TEMPORAL_ADDRESS points elsewhere."
                ) from exc
            log.info("waiting_for_temporal", address=settings.temporal_address)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)
