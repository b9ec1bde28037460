"""`jfc api`: connect to Temporal (waiting for it while it starts), load the rule set, serve with uvicorn."""

from __future__ import annotations

import asyncio

import structlog
import uvicorn

from api.app import create_app
from config.settings import Settings
from domain.catalog import default_rule_set
from store.pool import open_pool, where
from store.server import database_url
from workers.temporal import connect

SHUTDOWN_GRACE_SECONDS = 10

log = structlog.get_logger("jfc.api")


async def serve(settings: Settings) -> None:
    """Serve the API until SIGINT/SIGTERM, then finish in-flight requests (graceful shutdown)."""
    rules = default_rule_set(settings)
    log.info("rule set loaded", rule_set=rules.version)
    client = await connect(settings)
    url = await asyncio.to_thread(database_url, settings)  # may start the embedded server
    pool = await open_pool(url)
    log.info("read model connected", database=where(url))
    config = uvicorn.Config(
        create_app(settings, client, rules, pool=pool),
        host=settings.api_host,
        port=settings.api_port,
        log_config=None,
        timeout_graceful_shutdown=SHUTDOWN_GRACE_SECONDS,
        proxy_headers=True,
    )
    log.info("starting API", url=f"http://{settings.api_host}:{settings.api_port}", public=settings.public_base_url)
    try:
        await uvicorn.Server(config).serve()
    finally:
        await pool.close()


def run(settings: Settings) -> None:
    """Blocking entry point of `jfc api` (logging is configured by the CLI)."""
    try:
        asyncio.run(serve(settings))
    except KeyboardInterrupt:
        pass
    except RuntimeError as err:
        log.error("cannot start the API", reason=str(err))
        raise SystemExit(1) from None
