"""The append-only, hash-chained audit log: each row carries the hash of the row before it."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

import asyncpg

from store.pool import acquire

GENESIS = "0" * 64
LOCK_KEY = 0x4A4643_617564  # "JFC" "aud": one appender at a time, until its transaction commits

_COLUMNS = "seq, at, actor, application_id, action, detail::text AS detail, source_key, prev_hash, hash"


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    rows: int
    first_broken_seq: int | None = None
    reason: str | None = None


async def append(
    conn: asyncpg.Connection,
    *,
    at: dt.datetime,
    actor: str,
    action: str,
    application_id: str | None,
    detail: dict[str, Any],
    source_key: str,
) -> bool:
    """Append one row unless `source_key` already has one (then False): a retry never writes twice.

    Joins the caller's transaction when there is one; the chain lock is held until it commits.
    """
    if at.tzinfo is None:
        raise ValueError(f"audit rows need a timezone-aware time, got naive {at.isoformat()}")
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", LOCK_KEY)
        if await conn.fetchval("SELECT 1 FROM audit_log WHERE source_key = $1", source_key):
            return False
        row = await conn.fetchrow(
            "SELECT $1::text::jsonb::text AS detail, (SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1) AS prev",
            json.dumps(detail),
        )
        stored_detail = json.loads(row["detail"])  # as jsonb will give it back to verify
        prev_hash = row["prev"] or GENESIS
        digest = row_hash(prev_hash, at, actor, application_id, action, stored_detail, source_key)
        await conn.execute(
            """INSERT INTO audit_log (at, actor, application_id, action, detail, source_key, prev_hash, hash)
               VALUES ($1, $2, $3, $4, $5::text::jsonb, $6, $7, $8)""",
            at, actor, application_id, action, row["detail"], source_key, prev_hash, digest,
        )
    return True


def row_hash(
    prev_hash: str,
    at: dt.datetime,
    actor: str,
    application_id: str | None,
    action: str,
    detail: Any,
    source_key: str,
) -> str:
    """sha256 (hex) of the canonical JSON of a row's contents and the previous row's hash."""
    payload = {
        "prev_hash": prev_hash,
        "at": at.astimezone(dt.UTC).isoformat(),
        "actor": actor,
        "application_id": application_id,
        "action": action,
        "detail": detail,
        "source_key": source_key,
    }
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


async def verify(db: asyncpg.Pool | asyncpg.Connection, *, batch: int = 1000) -> VerifyResult:
    """Walk the chain in seq order and name the first row whose hash or prev_hash does not match."""
    rows, expected_prev, prev_seq = 0, GENESIS, None
    async with acquire(db) as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        async for r in conn.cursor(f"SELECT {_COLUMNS} FROM audit_log ORDER BY seq", prefetch=batch):
            if r["prev_hash"] != expected_prev:
                after = "the start of the log" if prev_seq is None else f"row {prev_seq}"
                return VerifyResult(
                    False, rows, r["seq"],
                    f"prev_hash does not match the hash of {after}: a row before it was removed or rewritten",
                )
            digest = row_hash(
                r["prev_hash"], r["at"], r["actor"], r["application_id"], r["action"],
                json.loads(r["detail"]), r["source_key"],
            )
            if digest != r["hash"]:
                return VerifyResult(False, rows, r["seq"], "hash does not match the row's contents: the row was changed")
            rows, expected_prev, prev_seq = rows + 1, r["hash"], r["seq"]
    return VerifyResult(True, rows)
