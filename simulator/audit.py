"""The audit firm (design §4, §6): audit requests held once per Idempotency-Key, audited on a timer or by hand.

A decision is stored, with its signed webhook queued in the same transaction, before the webhook
is attempted; so a decision and its delivery survive a restart, and its `decision_id` never changes.
"""

from __future__ import annotations

import datetime as dt
import secrets
import sqlite3
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import structlog

from schemas.catalog import DeliveryMode
from schemas.incentive_api import AuditDecision, AuditRequest, AuditState, AuditStatus
from schemas.incentives import ClaimCategory
from simulator.behaviour import Behaviour, Decision, ManualAudit
from simulator.delivery import Deliverer
from simulator.store import Store, now_iso
from simulator.timers import Timers

log = structlog.get_logger(__name__)

AUDIT = "audit"
AUDIT_SECRET_REF = "audit"
ADJUSTED_PERCENT = 10

SCHEMA = """
CREATE TABLE IF NOT EXISTS audits (
    idempotency_key TEXT NOT NULL UNIQUE,
    reference TEXT NOT NULL UNIQUE,
    received_at TEXT NOT NULL,
    times_seen INTEGER NOT NULL DEFAULT 1,
    status TEXT NOT NULL,
    callback_url TEXT NOT NULL,
    body TEXT NOT NULL,
    planned TEXT NOT NULL,
    decide_at REAL,
    decision TEXT
);
"""


@dataclass(frozen=True)
class AuditFigures:
    """What an audit finds: audited qualifying Jakarta spend, of which post-production, and why lines were left out."""

    qualifying_idr: int
    post_production_idr: int
    notes: list[str]


def audit_claim(request: AuditRequest, *, adjusted: bool = False) -> AuditFigures:
    """Audit every line: only lines in Jakarta qualify; an adjusted audit also disallows 10% (rounded down)."""
    qualifying = post_production = 0
    notes: list[str] = []
    for n, line in enumerate(request.lines, start=1):
        if not line.in_jakarta:
            what = f"{line.supplier} {line.category.value.replace('_', ' ')}"
            notes.append(f"line {n} ({what}, {line.amount_idr:,} IDR): outside Jakarta")
            continue
        qualifying += line.amount_idr
        if line.category == ClaimCategory.post_production:
            post_production += line.amount_idr
    if adjusted and qualifying:
        disallowed = qualifying * ADJUSTED_PERCENT // 100
        qualifying -= disallowed
        post_production = min(post_production, qualifying)
        notes.append(
            f"adjusted audit: {disallowed:,} IDR ({ADJUSTED_PERCENT}% of the qualifying spend, rounded down)"
            " disallowed for receipts that do not support the amounts claimed"
        )
    return AuditFigures(qualifying, post_production, notes)


def planned_figures(decision: Decision, request: AuditRequest) -> AuditFigures | None:
    """The audit a behaviour `decision` yields: `conditions` an adjusted audit, `silent` none, any other a clean one."""
    match decision:
        case Decision.silent:
            return None
        case Decision.conditions:
            return audit_claim(request, adjusted=True)
        case _:
            return audit_claim(request)


@dataclass(frozen=True)
class StoredAudit:
    """An audit request as the firm holds it, with its decision once audited."""

    idempotency_key: str
    reference: str
    received_at: str
    times_seen: int
    status: AuditState
    callback_url: str
    request: AuditRequest
    planned: Decision
    decide_at: float | None
    decision: AuditDecision | None

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> StoredAudit:
        return cls(
            idempotency_key=row["idempotency_key"],
            reference=row["reference"],
            received_at=row["received_at"],
            times_seen=row["times_seen"],
            status=AuditState(row["status"]),
            callback_url=row["callback_url"],
            request=AuditRequest.model_validate_json(row["body"]),
            planned=Decision(row["planned"]),
            decide_at=row["decide_at"],
            decision=AuditDecision.model_validate_json(row["decision"]) if row["decision"] else None,
        )

    def view(self) -> AuditStatus:
        decision = self.decision
        if decision is None:
            return AuditStatus(reference=self.reference, status=self.status)
        return AuditStatus(
            reference=self.reference,
            status=self.status,
            decision_id=decision.decision_id,
            qualifying_idr=decision.qualifying_idr,
            post_production_idr=decision.post_production_idr,
            notes=decision.notes,
            decided_at=decision.decided_at,
        )


class AuditFirm:
    """The simulated audit firm: its requests in the simulator's store, its decision timers, its webhooks."""

    def __init__(self, store: Store, deliverer: Deliverer, behaviour: Callable[[str], Awaitable[Behaviour]]) -> None:
        store.install(SCHEMA)
        self._store = store
        self._deliverer = deliverer
        self._behaviour = behaviour
        self._timers = Timers()

    async def resume(self) -> None:
        """After a (re)start: re-arm the audits still to decide (their webhooks resume with the deliverer)."""
        rows = self._store.db.execute("SELECT * FROM audits WHERE status = 'received' AND decide_at IS NOT NULL")
        for audit in map(StoredAudit.from_row, rows.fetchall()):
            self._arm(audit.reference, audit.decide_at or time.time())

    async def close(self) -> None:
        await self._timers.cancel_all()

    # ---- the audit firm's API ------------------------------------------------------

    async def receive(self, key: str, request: AuditRequest) -> tuple[StoredAudit, bool]:
        """Take an audit request; the same key always yields the same stored request (times_seen + 1)."""
        behaviour = await self._behaviour(AUDIT)
        silent = behaviour.decision == Decision.silent
        decide_at = None if silent else time.time() + behaviour.decision_delay_ms / 1000
        reference = f"AUD-{dt.datetime.now(dt.UTC):%Y}-{secrets.token_hex(5).upper()}"
        async with self._store.transaction() as db:
            created = db.execute(
                "INSERT INTO audits (idempotency_key, reference, received_at, status, callback_url, body, planned,"
                " decide_at) VALUES (?, ?, ?, 'received', ?, ?, ?, ?) ON CONFLICT (idempotency_key) DO NOTHING",
                (key, reference, now_iso(), request.callback_url, request.model_dump_json(), behaviour.decision.value,
                 decide_at),
            ).rowcount
            if not created:
                db.execute("UPDATE audits SET times_seen = times_seen + 1 WHERE idempotency_key = ?", (key,))
            stored = StoredAudit.from_row(
                db.execute("SELECT * FROM audits WHERE idempotency_key = ?", (key,)).fetchone()
            )
        if created and decide_at is not None:
            self._arm(stored.reference, decide_at)
        log.info("audit.request", reference=stored.reference, created=bool(created), times_seen=stored.times_seen)
        return stored, bool(created)

    async def get(self, reference: str) -> StoredAudit | None:
        row = self._store.db.execute("SELECT * FROM audits WHERE reference = ?", (reference,)).fetchone()
        return StoredAudit.from_row(row) if row else None

    async def held(self) -> list[StoredAudit]:
        rows = self._store.db.execute("SELECT * FROM audits ORDER BY rowid").fetchall()
        return [StoredAudit.from_row(r) for r in rows]

    async def decide_manually(self, audit: StoredAudit, order: ManualAudit) -> StoredAudit:
        """An auditor's figures, replacing any pending timed decision (or an earlier audit: a new decision)."""
        self._timers.disarm(audit.reference)
        figures = AuditFigures(order.qualifying_idr, order.post_production_idr, list(order.notes))
        stored = await self._record(audit, figures, only_if_received=False)
        assert stored is not None  # nothing withdraws an audit request
        return stored

    # ---- decisions -----------------------------------------------------------------

    def _arm(self, reference: str, at: float) -> None:
        self._timers.arm(reference, at, lambda: self._decide(reference))

    async def _decide(self, reference: str) -> None:
        try:
            audit = await self.get(reference)
            if audit is None or audit.status != AuditState.received:
                return
            figures = planned_figures(audit.planned, audit.request)
            if figures is not None:
                await self._record(audit, figures, only_if_received=True)
        except Exception:
            log.exception("audit.decision_failed", reference=reference)

    async def _record(self, audit: StoredAudit, figures: AuditFigures, *, only_if_received: bool) -> StoredAudit | None:
        """Store the decision; in webhook mode, with its signed delivery to the request's callback_url."""
        decision = AuditDecision(
            decision_id=f"AUDDEC-{uuid.uuid4().hex}",
            reference=audit.reference,
            request_key=audit.idempotency_key,
            qualifying_idr=figures.qualifying_idr,
            post_production_idr=figures.post_production_idr,
            notes=figures.notes,
            decided_at=dt.datetime.now(dt.UTC),
        )
        body = decision.model_dump_json()
        webhook = (await self._behaviour(AUDIT)).mode == DeliveryMode.webhook
        guard = "status = 'received'" if only_if_received else "1 = 1"
        async with self._store.transaction() as db:
            changed = db.execute(
                f"UPDATE audits SET status = 'audited', decision = ?, decide_at = NULL WHERE reference = ? AND {guard}",
                (body, audit.reference),
            ).rowcount
            if not changed:
                return None
            if webhook:
                self._store.insert_delivery("audit_decision", AUDIT, audit.callback_url, body, AUDIT_SECRET_REF)
            row = db.execute("SELECT * FROM audits WHERE reference = ?", (audit.reference,)).fetchone()
        log.info(
            "audit.decided",
            reference=audit.reference,
            decision_id=decision.decision_id,
            qualifying_idr=figures.qualifying_idr,
            webhook=webhook,
        )
        if webhook:
            await self._deliverer.resume()
        return StoredAudit.from_row(row)
