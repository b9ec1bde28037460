"""`jfc agencies`: serve the simulator for every agency of the catalog (and the audit firm and the treasury),
until SIGINT or SIGTERM."""

from __future__ import annotations

import tomllib
from pathlib import Path

import structlog
import uvicorn

from config.secrets import webhook_secret
from config.settings import Settings
from simulator.app import create_app

log = structlog.get_logger(__name__)


def catalog_modes(agencies_file: Path) -> dict[str, str]:
    """Agency code → delivery mode, read from the catalog TOML (default webhook)."""
    with open(agencies_file, "rb") as handle:
        data = tomllib.load(handle)
    return {entry["code"]: entry.get("mode", "webhook") for entry in data.get("agencies", [])}


def run(settings: Settings) -> None:
    """Build the app from `settings` and serve it; uvicorn shuts down gracefully on SIGINT/SIGTERM."""
    modes = catalog_modes(settings.agencies_file)
    state_dir = settings.state_dir
    app = create_app(
        state_dir,
        list(modes),
        lambda ref: webhook_secret(ref, state_dir),
        settings.public_base_url,
        modes=modes,
    )
    log.info("simulator.serve", host=settings.simulator_host, port=settings.simulator_port, agencies=len(modes))
    config = uvicorn.Config(
        app,
        host=settings.simulator_host,
        port=settings.simulator_port,
        log_level=settings.log_level.lower(),
        lifespan="on",
        timeout_graceful_shutdown=5,
    )
    uvicorn.Server(config).run()
