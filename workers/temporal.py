"""Connecting to Temporal the same way from every process: pydantic payloads, encrypted by the payload codec."""

from __future__ import annotations

import asyncio
import dataclasses

import structlog
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter, DefaultFailureConverterWithEncodedAttributes, PayloadCodec
from temporalio.runtime import Runtime

from config.secrets import require_secrets, webhook_secret_refs
from config.settings import Settings
from workers.codec import codec_for

log = structlog.get_logger(__name__)


def data_converter(codec: PayloadCodec) -> DataConverter:
    """The pydantic data converter with `codec` over every payload, failure messages and stack traces included."""
    return dataclasses.replace(
        pydantic_data_converter, payload_codec=codec, failure_converter_class=DefaultFailureConverterWithEncodedAttributes
    )


def check_secrets(settings: Settings) -> None:
    """In production, refuse to start without the webhook secrets the catalog and programmes name."""
    if settings.env != "production":
        return
    from domain.catalog import default_rule_set
    from domain.incentive_rules import default_incentive_rules

    agencies = [agency.webhook_secret_ref for agency in default_rule_set(settings).catalog.agencies]
    audit = default_incentive_rules(settings).audit.webhook_secret_ref
    require_secrets(webhook_secret_refs(agencies, audit), env=settings.env)


async def connect(settings: Settings, wait_seconds: float = 60.0, runtime: Runtime | None = None) -> Client:
    """A client with the pydantic data converter and the payload codec; waits for a server that is still starting.

    Refuses (MissingSecretError, naming the variables) in production when a secret or the codec keys are missing.
    `runtime` carries the SDK's telemetry (the worker's exports Prometheus metrics); default: the SDK's own.
    """
    check_secrets(settings)
    converter = data_converter(codec_for(settings))
    loop = asyncio.get_running_loop()
    give_up_at = loop.time() + wait_seconds
    delay = 0.25
    while True:
        try:
            return await Client.connect(
                settings.temporal_address,
                namespace=settings.temporal_namespace,
                data_converter=converter,
                runtime=runtime,
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
