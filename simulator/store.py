"""The simulator's state in SQLite: requests, answers, behaviours, outages, deliveries and the call log.

All writes go through one asyncio.Lock, and each write is one transaction; the UNIQUE
constraint on (agency, idempotency_key) makes racing duplicate submissions one request.
The audit firm and the treasury keep their own tables in the same file (`Store.install`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from schemas.agency_api import AgencyRequestState, AgencyRequestStatus

DB_FILE = "simulator.db"

SCHEMA = """
CREATE TABLE IF NOT EXISTS requests (
    agency TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    reference TEXT NOT NULL,
    received_at TEXT NOT NULL,
    times_seen INTEGER NOT NULL DEFAULT 1,
    status TEXT NOT NULL,
    callback_url TEXT NOT NULL,
    body TEXT NOT NULL,
    planned TEXT NOT NULL,
    decide_at REAL,
    conditions TEXT NOT NULL DEFAULT '[]',
    reason TEXT,
    decided_at TEXT,
    decision_id TEXT,
    UNIQUE (agency, idempotency_key),
    UNIQUE (agency, reference)
);
CREATE TABLE IF NOT EXISTS answers (
    agency TEXT NOT NULL,
    reference TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    request_id TEXT NOT NULL,
    answer TEXT NOT NULL,
    received_at TEXT NOT NULL,
    UNIQUE (agency, reference, idempotency_key)
);
CREATE TABLE IF NOT EXISTS behaviours (agency TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS outages (agency TEXT PRIMARY KEY, until REAL NOT NULL);
CREATE TABLE IF NOT EXISTS deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    agency TEXT,
    url TEXT NOT NULL,
    body TEXT NOT NULL,
    secret_ref TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at REAL NOT NULL,
    last_status INTEGER,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS calls (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    agency TEXT NOT NULL,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    idempotency_key TEXT,
    status INTEGER NOT NULL,
    fault TEXT
);
"""


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat()


@dataclass(frozen=True)
class StoredRequest:
    """A clearance request as the agency holds it."""

    agency: str
    idempotency_key: str
    reference: str
    received_at: str
    times_seen: int
    status: AgencyRequestState
    callback_url: str
    planned: str
    decide_at: float | None
    conditions: list[str]
    reason: str | None
    decided_at: str | None
    decision_id: str | None

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> StoredRequest:
        return cls(
            agency=row["agency"],
            idempotency_key=row["idempotency_key"],
            reference=row["reference"],
            received_at=row["received_at"],
            times_seen=row["times_seen"],
            status=AgencyRequestState(row["status"]),
            callback_url=row["callback_url"],
            planned=row["planned"],
            decide_at=row["decide_at"],
            conditions=json.loads(row["conditions"]),
            reason=row["reason"],
            decided_at=row["decided_at"],
            decision_id=row["decision_id"],
        )

    def view(self) -> AgencyRequestStatus:
        return AgencyRequestStatus(
            reference=self.reference,
            status=self.status,
            conditions=self.conditions,
            reason=self.reason,
            decided_at=self.decided_at,
            decision_id=self.decision_id,
        )


@dataclass(frozen=True)
class Delivery:
    """A signed webhook still to be delivered."""

    id: int
    kind: str
    url: str
    body: str
    secret_ref: str
    attempts: int
    next_at: float


class Store:
    """Thin async facade over one sqlite3 connection, used from the event loop only."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db
        self._lock = asyncio.Lock()

    @classmethod
    def open(cls, state_dir: Path) -> Store:
        state_dir.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(state_dir / DB_FILE)
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.executescript(SCHEMA)
        return cls(db)

    def close(self) -> None:
        self._db.close()

    def install(self, schema: str) -> None:
        """Create another party's tables (idempotent DDL), kept and reset with the rest."""
        self._db.executescript(schema)

    @property
    def db(self) -> sqlite3.Connection:
        """The connection, for reads; writes go through `transaction()`."""
        return self._db

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[sqlite3.Connection]:
        """One serialized write transaction."""
        async with self._lock:
            with self._db:
                yield self._db

    # ---- requests ------------------------------------------------------------------

    async def receive(
        self, agency: str, key: str, reference: str, body: str, callback_url: str, planned: str, decide_at: float | None
    ) -> tuple[StoredRequest, bool]:
        """Store a new request under `key`, or count one more sighting of it; returns (request, created)."""
        async with self.transaction():
            created = self._db.execute(
                "INSERT INTO requests (agency, idempotency_key, reference, received_at, status, callback_url, body,"
                " planned, decide_at) VALUES (?, ?, ?, ?, 'received', ?, ?, ?, ?)"
                " ON CONFLICT (agency, idempotency_key) DO NOTHING",
                (agency, key, reference, now_iso(), callback_url, body, planned, decide_at),
            ).rowcount
            if not created:
                self._db.execute(
                    "UPDATE requests SET times_seen = times_seen + 1 WHERE agency = ? AND idempotency_key = ?",
                    (agency, key),
                )
            row = self._db.execute(
                "SELECT * FROM requests WHERE agency = ? AND idempotency_key = ?", (agency, key)
            ).fetchone()
        return StoredRequest.from_row(row), bool(created)

    async def get(self, agency: str, reference: str) -> StoredRequest | None:
        sql = "SELECT * FROM requests WHERE agency = ? AND reference = ?"
        row = self._db.execute(sql, (agency, reference)).fetchone()
        return StoredRequest.from_row(row) if row else None

    async def requests(self, agency: str) -> list[StoredRequest]:
        rows = self._db.execute("SELECT * FROM requests WHERE agency = ? ORDER BY rowid", (agency,)).fetchall()
        return [StoredRequest.from_row(r) for r in rows]

    async def pending_decisions(self) -> list[StoredRequest]:
        rows = self._db.execute("SELECT * FROM requests WHERE status = 'received' AND decide_at IS NOT NULL").fetchall()
        return [StoredRequest.from_row(r) for r in rows]

    async def decide(
        self,
        request: StoredRequest,
        status: str,
        conditions: list[str],
        reason: str | None,
        decision_id: str,
        decided_at: str,
        *,
        only_if_received: bool,
        delivery: tuple[str, str, str] | None,
    ) -> StoredRequest | None:
        """Record a decision and its webhook ((url, body, secret_ref)) in one transaction; None if not applicable."""
        guard = "status = 'received'" if only_if_received else "status != 'withdrawn'"
        async with self.transaction():
            changed = self._db.execute(
                "UPDATE requests SET status = ?, conditions = ?, reason = ?, decision_id = ?, decided_at = ?,"
                f" decide_at = NULL WHERE agency = ? AND reference = ? AND {guard}",
                (status, json.dumps(conditions), reason, decision_id, decided_at, request.agency, request.reference),
            ).rowcount
            if not changed:
                return None
            if delivery:
                self.insert_delivery("decision", request.agency, *delivery)
            row = self._db.execute(
                "SELECT * FROM requests WHERE agency = ? AND reference = ?", (request.agency, request.reference)
            ).fetchone()
        return StoredRequest.from_row(row)

    async def withdraw(self, agency: str, reference: str) -> StoredRequest | None:
        async with self.transaction():
            self._db.execute(
                "UPDATE requests SET status = 'withdrawn', decide_at = NULL WHERE agency = ? AND reference = ?",
                (agency, reference),
            )
        return await self.get(agency, reference)

    async def answer(
        self, agency: str, reference: str, key: str, request_id: str, answer: str, decide_at: float
    ) -> tuple[StoredRequest | None, bool]:
        """Record an answer once per key; an information_required request goes back to received.

        Returns (request, reopened)."""
        async with self.transaction():
            inserted = self._db.execute(
                "INSERT INTO answers VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (agency, reference, key, request_id, answer, now_iso()),
            ).rowcount
            reopened = 0
            if inserted:
                reopened = self._db.execute(
                    "UPDATE requests SET status = 'received', planned = 'approve', decide_at = ?, conditions = '[]',"
                    " reason = NULL WHERE agency = ? AND reference = ? AND status = 'information_required'",
                    (decide_at, agency, reference),
                ).rowcount
        return await self.get(agency, reference), bool(reopened)

    # ---- behaviours and outages ----------------------------------------------------

    async def behaviour(self, agency: str) -> dict | None:
        row = self._db.execute("SELECT data FROM behaviours WHERE agency = ?", (agency,)).fetchone()
        return json.loads(row["data"]) if row else None

    async def set_behaviour(self, agency: str, data: dict) -> None:
        async with self.transaction():
            self._db.execute(
                "INSERT INTO behaviours VALUES (?, ?) ON CONFLICT (agency) DO UPDATE SET data = excluded.data",
                (agency, json.dumps(data)),
            )

    async def outage_until(self, agency: str) -> float | None:
        row = self._db.execute("SELECT until FROM outages WHERE agency = ?", (agency,)).fetchone()
        return row["until"] if row and row["until"] > time.time() else None

    async def set_outage(self, agency: str, until: float | None) -> None:
        async with self.transaction():
            if until is None:
                self._db.execute("DELETE FROM outages WHERE agency = ?", (agency,))
            else:
                self._db.execute(
                    "INSERT INTO outages VALUES (?, ?) ON CONFLICT (agency) DO UPDATE SET until = excluded.until",
                    (agency, until),
                )

    # ---- deliveries ----------------------------------------------------------------

    def insert_delivery(self, kind: str, agency: str | None, url: str, body: str, secret_ref: str) -> int:
        """Queue a signed webhook; call it inside `transaction()`, with the change it announces."""
        return self._db.execute(
            "INSERT INTO deliveries (kind, agency, url, body, secret_ref, next_at, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (kind, agency, url, body, secret_ref, time.time(), now_iso()),
        ).lastrowid

    async def add_delivery(self, kind: str, agency: str | None, url: str, body: str, secret_ref: str) -> int:
        async with self.transaction():
            return self.insert_delivery(kind, agency, url, body, secret_ref)

    async def pending_deliveries(self, delivery_id: int | None = None) -> list[Delivery]:
        sql = "SELECT id, kind, url, body, secret_ref, attempts, next_at FROM deliveries WHERE state = 'pending'"
        args: tuple = ()
        if delivery_id is not None:
            sql, args = sql + " AND id = ?", (delivery_id,)
        return [Delivery(**dict(r)) for r in self._db.execute(sql + " ORDER BY id", args).fetchall()]

    async def attempted(self, delivery_id: int, status: int, state: str, next_at: float) -> None:
        async with self.transaction():
            self._db.execute(
                "UPDATE deliveries SET attempts = attempts + 1, last_status = ?, state = ?, next_at = ? WHERE id = ?",
                (status, state, next_at, delivery_id),
            )

    # ---- call log and reset --------------------------------------------------------

    async def log_call(
        self, agency: str, method: str, path: str, key: str | None, status: int, fault: str | None
    ) -> None:
        async with self.transaction():
            self._db.execute(
                "INSERT INTO calls (at, agency, method, path, idempotency_key, status, fault)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (now_iso(), agency, method, path, key, status, fault),
            )

    async def calls(self, agency: str, limit: int) -> list[dict]:
        rows = self._db.execute(
            "SELECT at, method, path, idempotency_key, status, fault FROM calls"
            " WHERE agency = ? ORDER BY id DESC LIMIT ?",
            (agency, limit),
        ).fetchall()
        return [dict(r) for r in rows]

    async def reset(self) -> None:
        """Empty every table, the other parties' included."""
        async with self.transaction():
            tables = self._db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            ).fetchall()
            for row in tables:
                self._db.execute(f'DELETE FROM "{row["name"]}"')
