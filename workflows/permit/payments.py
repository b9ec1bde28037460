"""Matching a payment to what an application owes (design §3, fees): a pure function."""

from __future__ import annotations

from dataclasses import dataclass

from schemas.decisions import Payment


@dataclass(frozen=True)
class PaymentMatch:
    accepted: bool
    problem: str = ""  # why it does not settle what is due


def match(payment: Payment, *, application_id: str, permit_number: str | None, due_idr: int) -> PaymentMatch:
    """A payment settles the application when it names it (its id or its permit number) and pays exactly what is due."""
    if payment.permit_id not in {application_id, permit_number}:
        return PaymentMatch(False, f"payment {payment.payment_id} names {payment.permit_id}, not {application_id}")
    if payment.amount_idr != due_idr:
        return PaymentMatch(
            False, f"payment {payment.payment_id}: {payment.amount_idr} IDR for {payment.permit_id}, expected {due_idr} IDR"
        )
    return PaymentMatch(True)
