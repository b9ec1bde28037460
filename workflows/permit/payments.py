"""Payments (design §3, fees): matching one to what an application owes, and what becomes of every one received.

Pure functions of the permit's state: no activity, no timer. Each payment received is recorded once (its
payment_id) and ends matched or as a refund with its reason; none is dropped. Refunds reach the read model
through the status view (`payments`), where the officer queue lists each one to make.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from domain.ids import application_id_from_permit_number
from schemas.decisions import Payment
from schemas.status import PaymentOutcome, PaymentView, RefundReason
from workflows.permit.state import PermitState

# The timeline event a refund is told by, for each reason.
REFUND_EVENTS = {
    RefundReason.wrong_amount: "payment_mismatch",
    RefundReason.other_application: "payment_mismatch",
    RefundReason.already_paid: "payment_extra",
    RefundReason.application_closed: "payment_after_close",
}


@dataclass(frozen=True)
class PaymentMatch:
    accepted: bool
    problem: str = ""  # why it does not settle what is due
    reason: RefundReason | None = None


def names(payment: Payment, application_id: str) -> bool:
    """Whether the payment names this application: by its id, or by a permit number that leads back to it."""
    named = payment.permit_id.strip()
    return named.upper() == application_id or application_id_from_permit_number(named) == application_id


def match(payment: Payment, *, application_id: str, due_idr: int) -> PaymentMatch:
    """A payment settles the application when it names it (its id or its permit number) and pays exactly what is due."""
    if not names(payment, application_id):
        return PaymentMatch(False, f"it names {payment.permit_id}, not {application_id}",
                            RefundReason.other_application)
    if payment.amount_idr != due_idr:
        return PaymentMatch(False, f"{payment.amount_idr} IDR for {payment.permit_id}, expected {due_idr} IDR",
                            RefundReason.wrong_amount)
    return PaymentMatch(True)


def receive(s: PermitState, payment: Payment, now: dt.datetime) -> PaymentView | None:
    """Record a payment the first time its payment_id is seen (pending); None for a replay of one seen already."""
    if payment.payment_id in s.seen_payment_ids:
        return None
    s.seen_payment_ids.append(payment.payment_id)
    record = PaymentView(payment_id=payment.payment_id, permit_id=payment.permit_id, amount_idr=payment.amount_idr,
                         paid_at=payment.paid_at, received_at=now, outcome=PaymentOutcome.pending)
    s.received.append(record)
    return record


def refusal_on_arrival(s: PermitState) -> tuple[RefundReason, str] | None:
    """Why a payment arriving now cannot be taken at all (the application is closing, or nothing is due), or None
    when it waits to be matched against what is due."""
    if s.ended:
        return RefundReason.application_closed, f"the application is {s.status.value}"
    if s.closing is not None or s.cancel is not None:
        ending = s.closing.status.value if s.closing is not None else "withdrawn"
        return RefundReason.application_closed, f"the application is closing ({ending})"
    if s.fees is not None and s.fees.paid_at is not None:
        return RefundReason.already_paid, "nothing was due: the fees were paid already"
    return None


def matched(s: PermitState, payment: Payment, now: dt.datetime) -> PaymentView:
    record = _record(s, payment.payment_id)
    record.outcome, record.decided_at = PaymentOutcome.matched, now
    record.detail = f"settled the {payment.amount_idr} IDR due"
    return record


def refunded(s: PermitState, payment_id: str, reason: RefundReason, why: str, now: dt.datetime) -> PaymentView:
    """The payment becomes a refund to make, with its reason."""
    record = _record(s, payment_id)
    record.outcome, record.refund_reason, record.decided_at = PaymentOutcome.refund, reason, now
    record.detail = f"{why}; {record.amount_idr} IDR to be refunded"
    return record


def _record(s: PermitState, payment_id: str) -> PaymentView:
    return next(r for r in s.received if r.payment_id == payment_id)
