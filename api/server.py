"""`jfc api`: connect to Temporal (waiting for it while it starts), load the rule set, serve with uvicorn."""

from __future__ import annotations

import asyncio

import structlog
import uvicorn

from api.app import create_app
from config.settings import Settings
from domain.catalog import default_rule_set
from workers.temporal import connect

SHUTDOWN_GRACE_SECONDS = 10

log = structlog.get_logger("jfc.api")


async def serve(settings: Settings) -> None:
    """Serve the API until SIGINT/SIGTERM, then finish in-flight requests (graceful shutdown)."""
    rules = default_rule_set(settings)
    log.info("rule set loaded", rule_set=rules.version)
    client = await connect(settings)
    config = uvicorn.Config(
        create_app(settings, client, rules),
        host=settings.api_host,
        port=settings.api_port,
        log_config=None,
        timeout_graceful_shutdown=SHUTDOWN_GRACE_SECONDS,
        proxy_headers=True,
    )
    log.info("starting API", url=f"http://{settings.api_host}:{settings.api_port}", public=settings.public_base_url)
    await uvicorn.Server(config).serve()


def run(settings: Settings) -> None:
    """Blocking entry point of `jfc api` (logging is configured by the CLI)."""
    try:
        asyncio.run(serve(settings))
    except KeyboardInterrupt:
        pass
    except RuntimeError as err:
        log.error("cannot start the API", reason=str(err))
        raise SystemExit(1) from None
