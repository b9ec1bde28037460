"""Fresh databases on the embedded PostgreSQL test server."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg


async def new_database(pg_server: Any) -> str:
    """Create an empty database on `pg_server` (no migrations applied) and return its URL."""
    name = f"t_{uuid.uuid4().hex[:16]}"
    admin = await asyncpg.connect(pg_server.get_uri())
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return pg_server.get_uri(name)
