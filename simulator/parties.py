"""The audit firm's and the treasury's HTTP APIs (`schemas.incentive_api`), and their own admin routes.

Both sit under `/agencies/{audit|treasury}/v1/`, so the fault middleware plays their outages,
latency, errors and lost responses as for any agency; behaviour, outages and the call log are the
agencies' admin routes. Only what differs is here: their requests lists and the auditor's manual audit.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from schemas.incentive_api import AuditReceipt, AuditRequest, AuditStatus, TreasuryPayment, TreasuryReceipt
from simulator.audit import AUDIT, StoredAudit
from simulator.behaviour import AuditSummary, ManualAudit, PaymentSummary
from simulator.deps import Key, ProblemError, Sim
from simulator.treasury import TREASURY, PaymentConflict

audit_api = APIRouter(prefix=f"/agencies/{AUDIT}/v1/audit-requests", tags=["audit firm API"])
treasury_api = APIRouter(prefix=f"/agencies/{TREASURY}/v1/payments", tags=["treasury API"])
party_admin = APIRouter(prefix="/admin/agencies", tags=["admin"])


async def known_audit(reference: str, sim: Sim) -> StoredAudit:
    """The audit request `reference`, or 404."""
    stored = await sim.audit.get(reference)
    if stored is None:
        raise ProblemError(404, "Unknown reference", f"The audit firm holds no audit request {reference!r}")
    return stored


KnownAudit = Annotated[StoredAudit, Depends(known_audit)]


# ---- the audit firm ------------------------------------------------------------------


@audit_api.post("", response_model=AuditReceipt, status_code=201)
async def request_audit(key: Key, body: AuditRequest, sim: Sim, response: Response) -> AuditReceipt:
    """Receive an audit request; the same Idempotency-Key returns the same reference (200)."""
    if not body.callback_url.startswith(("http://", "https://")):
        detail = f"callback_url must be an http(s) URL, got {body.callback_url!r}"
        raise ProblemError(422, "Invalid callback_url", detail)
    stored, created = await sim.audit.receive(key, body)
    if not created:
        response.status_code = 200
    return AuditReceipt(reference=stored.reference, status=stored.status.value)


@audit_api.get("/{reference}", response_model=AuditStatus)
async def audit_status(audit: KnownAudit) -> AuditStatus:
    """The request's state, with the audited figures once decided (in poll mode too)."""
    return audit.view()


# ---- the treasury --------------------------------------------------------------------


@treasury_api.post("", response_model=TreasuryReceipt, status_code=201)
async def pay(key: Key, body: TreasuryPayment, sim: Sim, response: Response) -> TreasuryReceipt:
    """Pay the tranche at once; the same key answers the first receipt (200) and never pays twice."""
    if key != body.payment_key:
        detail = f"Idempotency-Key {key!r} must equal the body's payment_key {body.payment_key!r}"
        raise ProblemError(422, "Idempotency-Key mismatch", detail)
    try:
        stored, made = await sim.treasury.pay(body)
    except PaymentConflict as conflict:
        detail = (
            f"Payment {key!r} was already made ({conflict.paid.receipt.reference}, "
            f"{conflict.paid.receipt.amount_idr:,} IDR) for a different order; use a new payment_key for a new payment"
        )
        raise ProblemError(409, "Payment key already used", detail) from None
    if not made:
        response.status_code = 200
    return stored.receipt


@treasury_api.get("/{payment_key}", response_model=TreasuryReceipt)
async def payment(payment_key: str, sim: Sim) -> TreasuryReceipt:
    """The receipt of the payment made under `payment_key`, or 404 when none was made."""
    stored = await sim.treasury.get(payment_key)
    if stored is None:
        raise ProblemError(404, "Unknown payment", f"The treasury made no payment {payment_key!r}")
    return stored.receipt


# ---- admin ---------------------------------------------------------------------------


@party_admin.get(f"/{AUDIT}/requests", response_model=list[AuditSummary])
async def audit_requests(sim: Sim) -> list[AuditSummary]:
    """Every audit request the firm holds, one entry per Idempotency-Key."""
    return [
        AuditSummary(
            idempotency_key=a.idempotency_key,
            reference=a.reference,
            received_at=a.received_at,
            times_seen=a.times_seen,
            status=a.status,
        )
        for a in await sim.audit.held()
    ]


@party_admin.post(f"/{AUDIT}/requests/{{reference}}/decision", response_model=AuditStatus)
async def manual_audit(audit: KnownAudit, order: ManualAudit, sim: Sim) -> AuditStatus:
    """Audit by hand with these figures; delivered as in the audit firm's mode (webhook or poll)."""
    return (await sim.audit.decide_manually(audit, order)).view()


@party_admin.get(f"/{TREASURY}/requests", response_model=list[PaymentSummary])
async def treasury_requests(sim: Sim) -> list[PaymentSummary]:
    """Every payment the treasury made, one entry per payment_key (= Idempotency-Key)."""
    return [
        PaymentSummary(
            idempotency_key=p.receipt.payment_key,
            reference=p.receipt.reference,
            received_at=p.receipt.paid_at,
            times_seen=p.times_seen,
            amount_idr=p.receipt.amount_idr,
            incentive_id=p.payment.incentive_id,
            tranche=p.payment.tranche,
        )
        for p in await sim.treasury.payments()
    ]
