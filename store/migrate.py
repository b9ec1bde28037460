"""Numbered SQL migrations, applied once each, under an advisory lock, each in its own transaction."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
LOCK_KEY = 0x4A4643_6D6967  # "JFC" "mig": every process that migrates takes this one session lock
_NAME = re.compile(r"^(\d+)_[\w.-]+\.sql$")

_CREATE_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version     int PRIMARY KEY,
    name        text NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now()
)
"""


class MigrationError(RuntimeError):
    """A migration could not be applied; the database keeps the schema it had before that file."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    path: Path


def discover(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """The `NNNN_name.sql` files of `directory`, in version order; two files with one number are an error."""
    found: dict[int, Migration] = {}
    for path in directory.glob("*.sql"):
        match = _NAME.match(path.name)
        if not match:
            raise MigrationError(f"{path}: a migration file is named NNNN_description.sql")
        version = int(match.group(1))
        if version in found:
            raise MigrationError(f"{path.name} and {found[version].name} share version {version}; renumber one")
        found[version] = Migration(version, path.name, path)
    return [found[v] for v in sorted(found)]


async def migrate(
    target: str | asyncpg.Connection | asyncpg.Pool, *, directory: Path = MIGRATIONS_DIR
) -> list[str]:
    """Apply the migrations of `directory` not yet recorded in `schema_migrations`; returns the file names applied."""
    migrations = discover(directory)
    async with _connection(target) as conn:
        await conn.execute("SELECT pg_advisory_lock($1)", LOCK_KEY)
        try:
            await conn.execute(_CREATE_TABLE)
            done = {r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations")}
            applied = []
            for migration in migrations:
                if migration.version not in done:
                    await _apply(conn, migration)
                    applied.append(migration.name)
            return applied
        finally:
            if not conn.is_closed():
                await conn.execute("SELECT pg_advisory_unlock($1)", LOCK_KEY)


async def _apply(conn: asyncpg.Connection, migration: Migration) -> None:
    sql = migration.path.read_text(encoding="utf-8")
    try:
        async with conn.transaction():
            await conn.execute(sql)  # no arguments: the simple protocol runs every statement of the file
            await conn.execute(
                "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", migration.version, migration.name
            )
    except asyncpg.PostgresError as err:
        raise MigrationError(f"migration {migration.name} failed, nothing of it was applied: {_describe(err, sql)}") from err


def _describe(err: asyncpg.PostgresError, sql: str) -> str:
    text = f"{type(err).__name__} ({err.sqlstate}): {err}"
    position = getattr(err, "position", None)
    if position:
        text += f" at line {sql[: int(position)].count(chr(10)) + 1}"
    for extra in ("detail", "hint"):
        if value := getattr(err, extra, None):
            text += f"; {extra}: {value}"
    return text


@asynccontextmanager
async def _connection(target: str | asyncpg.Connection | asyncpg.Pool) -> AsyncIterator[asyncpg.Connection]:
    if isinstance(target, str):
        from store.pool import connect

        conn = await connect(target)
        try:
            yield conn
        finally:
            await conn.close()
    elif isinstance(target, asyncpg.Pool):
        async with target.acquire() as conn:
            yield conn
    else:
        yield target
