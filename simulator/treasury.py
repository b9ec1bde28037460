"""The treasury (design §4, §6): pays a tranche at once, once per payment_key, whatever the retries."""

from __future__ import annotations

import datetime as dt
import secrets
import sqlite3
from dataclasses import dataclass

import structlog

from schemas.incentive_api import TreasuryPayment, TreasuryReceipt
from simulator.store import Store, now_iso

log = structlog.get_logger(__name__)

TREASURY = "treasury"

SCHEMA = """
CREATE TABLE IF NOT EXISTS treasury_payments (
    payment_key TEXT PRIMARY KEY,
    reference TEXT NOT NULL UNIQUE,
    body TEXT NOT NULL,
    amount_idr INTEGER NOT NULL,
    paid_at TEXT NOT NULL,
    times_seen INTEGER NOT NULL DEFAULT 1
);
"""


class PaymentConflict(Exception):
    """A payment_key already paid with a different order."""

    def __init__(self, paid: StoredPayment) -> None:
        super().__init__(f"payment {paid.receipt.payment_key!r} was already made with a different order")
        self.paid = paid


@dataclass(frozen=True)
class StoredPayment:
    """A payment the treasury made, the order it was made for, and how often that order was sent."""

    payment: TreasuryPayment
    receipt: TreasuryReceipt
    times_seen: int

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> StoredPayment:
        receipt = TreasuryReceipt(
            payment_key=row["payment_key"],
            reference=row["reference"],
            amount_idr=row["amount_idr"],
            paid_at=dt.datetime.fromisoformat(row["paid_at"]),
        )
        return cls(TreasuryPayment.model_validate_json(row["body"]), receipt, row["times_seen"])


class Treasury:
    """The simulated treasury, over the simulator's store: a payment is made once, then only answered."""

    def __init__(self, store: Store) -> None:
        store.install(SCHEMA)
        self._store = store

    async def pay(self, payment: TreasuryPayment) -> tuple[StoredPayment, bool]:
        """Make the payment, or answer the first receipt of this key (times_seen + 1); returns (payment, made).

        Raises PaymentConflict when the key was paid for a different order (nothing is counted)."""
        reference = f"TRS-{dt.datetime.now(dt.UTC):%Y}-{secrets.token_hex(5).upper()}"
        body = payment.model_dump_json()
        async with self._store.transaction() as db:
            made = db.execute(
                "INSERT INTO treasury_payments (payment_key, reference, body, amount_idr, paid_at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (payment_key) DO NOTHING",
                (payment.payment_key, reference, body, payment.amount_idr, now_iso()),
            ).rowcount
            select = "SELECT * FROM treasury_payments WHERE payment_key = ?"
            stored = StoredPayment.from_row(db.execute(select, (payment.payment_key,)).fetchone())
            if not made:
                if stored.payment != payment:
                    raise PaymentConflict(stored)
                db.execute(
                    "UPDATE treasury_payments SET times_seen = times_seen + 1 WHERE payment_key = ?",
                    (payment.payment_key,),
                )
                stored = StoredPayment.from_row(db.execute(select, (payment.payment_key,)).fetchone())
        log.info(
            "treasury.payment",
            payment_key=payment.payment_key,
            reference=stored.receipt.reference,
            amount_idr=stored.receipt.amount_idr,
            made=bool(made),
            times_seen=stored.times_seen,
        )
        return stored, bool(made)

    async def get(self, payment_key: str) -> StoredPayment | None:
        sql = "SELECT * FROM treasury_payments WHERE payment_key = ?"
        row = self._store.db.execute(sql, (payment_key,)).fetchone()
        return StoredPayment.from_row(row) if row else None

    async def payments(self) -> list[StoredPayment]:
        rows = self._store.db.execute("SELECT * FROM treasury_payments ORDER BY rowid").fetchall()
        return [StoredPayment.from_row(r) for r in rows]
