"""`jfc api`: connect to Temporal (waiting for it while it starts), load the rule set, serve with uvicorn."""

from __future__ import annotations

import asyncio
import logging
import sys
import time

import structlog
import uvicorn
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from api.app import create_app
from config.settings import Settings
from domain.catalog import load_rule_set

CONNECT_TIMEOUT_SECONDS = 60.0
SHUTDOWN_GRACE_SECONDS = 10

log = structlog.get_logger("jfc.api")


class TemporalUnavailable(RuntimeError):
    """Temporal did not answer within the connect timeout."""


async def connect_temporal(settings: Settings, timeout: float = CONNECT_TIMEOUT_SECONDS) -> Client:
    """A client for settings' Temporal, retrying for up to `timeout` seconds while the server starts."""
    deadline = time.monotonic() + timeout
    attempt = 0
    while True:
        attempt += 1
        try:
            client = await Client.connect(
                settings.temporal_address,
                namespace=settings.temporal_namespace,
                data_converter=pydantic_data_converter,
            )
        except Exception as err:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TemporalUnavailable(
                    f"Temporal at {settings.temporal_address} did not answer within {timeout:.0f} s: {err}. "
                    "Start it (`jfc up` or `temporal server start-dev`) or set TEMPORAL_ADDRESS."
                ) from err
            log.warning(
                "waiting for Temporal",
                address=settings.temporal_address,
                attempt=attempt,
                seconds_left=round(remaining),
                error=str(err).splitlines()[0] if str(err) else type(err).__name__,
            )
            await asyncio.sleep(min(2.0, remaining))
            continue
        log.info("connected to Temporal", address=settings.temporal_address, namespace=settings.temporal_namespace)
        return client


async def serve(settings: Settings) -> None:
    """Serve the API until SIGINT/SIGTERM, then finish in-flight requests (graceful shutdown)."""
    rules = load_rule_set(settings.agencies_file, settings.rules_file, settings.simulator_url)
    log.info("rule set loaded", rule_set=rules.version)
    client = await connect_temporal(settings)
    app = create_app(settings, client, rules)
    config = uvicorn.Config(
        app,
        host=settings.api_host,
        port=settings.api_port,
        log_config=None,
        timeout_graceful_shutdown=SHUTDOWN_GRACE_SECONDS,
        proxy_headers=True,
    )
    server = uvicorn.Server(config)
    log.info("starting API", url=f"http://{settings.api_host}:{settings.api_port}", public=settings.public_base_url)
    await server.serve()


def configure_logging(settings: Settings) -> None:
    """structlog for our lines, stdlib logging (uvicorn) through the same level; JSON when not on a terminal."""
    level = logging.getLevelNamesMapping().get(settings.log_level.upper(), logging.INFO)
    as_json = settings.log_format == "json" or (settings.log_format == "auto" and not sys.stderr.isatty())
    renderer = structlog.processors.JSONRenderer() if as_json else structlog.dev.ConsoleRenderer()
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info if as_json else structlog.processors.StackInfoRenderer(),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
    logging.basicConfig(level=level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s %(message)s")


def run(settings: Settings | None = None) -> None:
    """Blocking entry point of `jfc api`."""
    settings = settings or Settings()
    configure_logging(settings)
    try:
        asyncio.run(serve(settings))
    except KeyboardInterrupt:
        pass
    except TemporalUnavailable as err:
        log.error("cannot start the API", reason=str(err))
        raise SystemExit(1) from None
