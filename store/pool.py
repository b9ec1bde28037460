"""Connections to the read model: migrated first, jsonb as Python values, errors that say where (never the password)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import parse_qs, unquote, urlsplit

import asyncpg

from store.migrate import migrate

# What an unreachable, restarting or closed database raises: an outage, never the caller's fault.
DATABASE_DOWN: tuple[type[BaseException], ...] = (
    OSError,  # refused, reset, no socket file, timeouts (TimeoutError is an OSError)
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,  # "pool is closed", "connection is closed"
    asyncpg.exceptions.OperatorInterventionError,  # 57P01 admin shutdown, 57P03 cannot connect now
    asyncpg.exceptions.InsufficientResourcesError,  # 53xxx too many connections, disk full
)

CONNECT_TIMEOUT = 10.0


class DatabaseUnavailable(RuntimeError):
    """PostgreSQL could not be reached or refused the connection."""


async def open_pool(url: str, *, min_size: int = 1, max_size: int = 10) -> asyncpg.Pool:
    """A pool on `url` after applying pending migrations; every connection decodes json and jsonb."""
    await migrate(url)
    try:
        return await asyncpg.create_pool(
            url, min_size=min_size, max_size=max_size, init=init_connection, timeout=CONNECT_TIMEOUT
        )
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as err:
        raise _unavailable(url, err) from None


async def connect(url: str, *, timeout: float = CONNECT_TIMEOUT) -> asyncpg.Connection:
    """One connection on `url` (no migrations), with the same codecs as the pool's."""
    try:
        conn = await asyncpg.connect(url, timeout=timeout)
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as err:
        raise _unavailable(url, err) from None
    await init_connection(conn)
    return conn


async def init_connection(conn: asyncpg.Connection) -> None:
    """json and jsonb columns read and write plain Python values (json.dumps / json.loads)."""
    for kind in ("jsonb", "json"):
        await conn.set_type_codec(kind, encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


@asynccontextmanager
async def acquire(db: asyncpg.Pool | asyncpg.Connection) -> AsyncIterator[asyncpg.Connection]:
    """A connection from a pool, or the given connection itself."""
    if isinstance(db, asyncpg.Pool):
        async with db.acquire() as conn:
            yield conn
    else:
        yield db


def where(url: str) -> str:
    """The host, port, database and user of `url`, for messages; the password is left out."""
    try:
        parts = urlsplit(url)
        query = parse_qs(parts.query)
        host = parts.hostname or query.get("host", ["localhost"])[0]
        port = parts.port or query.get("port", ["5432"])[0]
        user = unquote(parts.username or "") or query.get("user", ["(default user)"])[0]
        database = parts.path.lstrip("/") or query.get("dbname", [user])[0]
    except ValueError:
        return "an unparseable DATABASE_URL"
    return f"host {host} port {port}, database {database!r}, user {user!r}"


def _unavailable(url: str, err: BaseException) -> DatabaseUnavailable:
    reason = f"{type(err).__name__}: {err}" if str(err) else type(err).__name__
    password = _password(url)
    if password:
        reason = reason.replace(password, "***")
    return DatabaseUnavailable(
        f"cannot connect to PostgreSQL at {where(url)}: {reason}. "
        "Is the server running? Check DATABASE_URL, or unset it to use the embedded server."
    )


def _password(url: str) -> str | None:
    try:
        parts = urlsplit(url)
        return unquote(parts.password) if parts.password else parse_qs(parts.query).get("password", [None])[0]
    except ValueError:
        return None
