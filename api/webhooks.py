"""Signed webhooks into the API: agency decisions and payments (`X-JFC-Signature`).

No bearer token: the HMAC signature is the credential. No Idempotency-Key either: `decision_id` and
`payment_id` are the keys (a replay is accepted again and applied once). Each is audited as the agency
(`agency:<code>`) or the payment provider (`payments`). Every payment is recorded in the read model before the
application hears of it; one for an application that had closed is answered 409 and becomes a refund.
"""

from __future__ import annotations

from typing import Annotated, Literal

import asyncpg
import structlog
from fastapi import APIRouter, Header, Request
from pydantic import BaseModel, ValidationError
from temporalio.client import WorkflowQueryFailedError, WorkflowQueryRejectedError
from temporalio.service import RPCError, RPCStatusCode

from api import temporal
from api.access import read_model_pool, record
from api.context import ApiContext, Context
from api.permits import read_body
from api.problems import ApiProblem, invalid_body, responses
from domain.ids import application_id_from_permit_number, is_application_id, is_incentive_id
from domain.signatures import SIGNATURE_HEADER, SignatureError, verify
from schemas.contracts import (
    QUERY_VIEW,
    SIGNAL_AGENCY_DECISION,
    SIGNAL_AUDIT_DECISION,
    SIGNAL_PAYMENT,
    ClearanceResult,
    incentive_of_audit_key,
    parse_clearance_workflow_id,
)
from schemas.decisions import AgencyDecision, Payment
from schemas.incentive_api import AuditDecision
from schemas.problems import Problem
from schemas.status import ClearanceView, RefundReason
from store import payments

PAYMENTS_SECRET_REF = "payments"

router = APIRouter(tags=["webhooks"])
log = structlog.get_logger("jfc.api")


class Accepted(BaseModel):
    """The webhook was taken in; a replay of the same decision or payment is accepted again (and applied once)."""

    accepted: Literal[True] = True


SignatureHeader = Annotated[
    str | None,
    Header(
        alias=SIGNATURE_HEADER,
        description='`t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`; older than 5 minutes is refused',
    ),
]


def _body_schema(name: str) -> dict:
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}},
        }
    }


def check_signature(ctx: ApiContext, secret_ref: str, header: str | None, body: bytes) -> None:
    try:
        verify(ctx.secrets(secret_ref), header, body, ctx.now().timestamp())
    except SignatureError as exc:
        log.warning("webhook signature refused", secret_ref=secret_ref, reason=str(exc))
        raise ApiProblem(
            401,
            "signature refused",
            f"{exc}. Sign the exact body as {SIGNATURE_HEADER}: t=<unix>,v1=<hex HMAC-SHA256(secret, \"<t>.<body>\")> "
            "with the current time.",
            kind="signature-invalid",
            headers={"WWW-Authenticate": "JFC-Signature"},
        ) from None


@router.post(
    "/v1/agencies/{code}/decisions",
    status_code=202,
    response_model=Accepted,
    summary="An agency's decision on a clearance request (signed webhook)",
    responses={**responses(401, 404, 409, 413, 422, 503), 202: {"description": "Accepted (also for a replay)"}},
    openapi_extra=_body_schema("AgencyDecision"),
)
async def agency_decision(code: str, request: Request, ctx: Context, signature: SignatureHeader = None) -> Accepted:
    try:
        agency = ctx.rules.catalog.get(code)
    except KeyError:
        raise ApiProblem(
            404, "unknown agency", f"There is no agency with code {code!r}.", kind="unknown-agency"
        ) from None
    body = await read_body(request)
    check_signature(ctx, agency.webhook_secret_ref, signature, body)
    try:
        decision = AgencyDecision.model_validate_json(body)
    except ValidationError as exc:
        raise invalid_body(exc, "decision") from None

    key = parse_clearance_workflow_id(decision.request_key)
    if key is None or not is_application_id(key.application_id) or key.agency != code:
        raise ApiProblem(
            422,
            "request_key does not belong to this agency",
            f"request_key must be '<application id>:{code}:r<revision>', the Idempotency-Key of our request to {code}.",
            kind="invalid-body",
            problems=[Problem(path="request_key", message=f"expected '<application id>:{code}:r<revision>'")],
        )
    structlog.contextvars.bind_contextvars(
        application_id=key.application_id, agency=code, decision_id=decision.decision_id
    )
    reference = await _clearance_reference(ctx, decision.request_key)
    if reference is not None and reference != decision.reference:
        log.warning("agency decision names another reference; refused")
        raise ApiProblem(
            422,
            "reference does not match the clearance",
            f"Decision {decision.decision_id} names reference {decision.reference!r}, which is not the reference of "
            f"clearance request {decision.request_key}; it was not applied. Send it with the reference {code} gave "
            "when it received the request.",
            kind="reference-mismatch",
            problems=[Problem(path="reference", message="not the reference of this clearance request")],
        )
    final = ApiProblem(
        409,
        "clearance already final",
        f"Clearance request {decision.request_key} is already decided or withdrawn; this decision was not applied.",
        kind="clearance-final",
    )
    try:
        await temporal.signal(
            ctx.temporal,
            decision.request_key,
            SIGNAL_AGENCY_DECISION,
            decision,
            not_found=ApiProblem(
                404,
                "clearance request not found",
                f"There is no open clearance request {decision.request_key}.",
                kind="not-found",
            ),
            closed=final,
        )
    except ApiProblem as problem:
        # An agency re-sending the decision that closed the clearance (say our 202 was lost) is answered
        # as the first time: accepted once, nothing changes. Any other decision for a closed one is a 409.
        if problem is not final or not await _closed_with(ctx, decision):
            raise
        log.info("agency decision replayed after the clearance closed", outcome=decision.status.value)
        return Accepted()
    log.info("agency decision accepted", outcome=decision.status.value)
    await record(
        request, ctx, actor=f"agency:{code}", action="agency_decision", application_id=key.application_id,
        detail={"agency": code, "revision": key.revision, "decision_id": decision.decision_id,
                "outcome": decision.status.value, "conditions": len(decision.conditions)},
        source_key=f"api:agency_decision:{code}:{decision.decision_id}",
    )
    return Accepted()


async def _clearance_reference(ctx: ApiContext, request_key: str) -> str | None:
    """The agency's reference of the clearance request, from its workflow's view; None while the agency has not
    given one, or when the view cannot be read (no such workflow: the signal answers 404; the workflow checks too)."""
    handle = ctx.temporal.get_workflow_handle(request_key)
    try:
        view = await handle.query(QUERY_VIEW, result_type=ClearanceView, rpc_timeout=temporal.RPC_TIMEOUT)
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            return None
        raise temporal.unavailable(err) from err
    except (WorkflowQueryFailedError, WorkflowQueryRejectedError) as err:
        log.info("clearance view not readable; the workflow checks the reference", error=str(err))
        return None
    return view.reference if isinstance(view, ClearanceView) else None


async def _closed_with(ctx: ApiContext, decision: AgencyDecision) -> bool:
    """Whether the closed clearance ended with exactly this decision of the agency."""
    result = await temporal.result(ctx.temporal, decision.request_key, ClearanceResult)
    if result is None:
        return False
    view = result.view
    return view.reference == decision.reference and view.status.value == decision.status.value


@router.post(
    "/v1/payments/webhook",
    status_code=202,
    response_model=Accepted,
    summary="The payment provider's notice of a payment (signed webhook)",
    responses={**responses(401, 404, 409, 413, 422, 503), 202: {"description": "Accepted (also for a replay)"}},
    openapi_extra=_body_schema("Payment"),
)
async def payment_webhook(request: Request, ctx: Context, signature: SignatureHeader = None) -> Accepted:
    body = await read_body(request)
    check_signature(ctx, PAYMENTS_SECRET_REF, signature, body)
    try:
        payment = Payment.model_validate_json(body)
    except ValidationError as exc:
        raise invalid_body(exc, "payment") from None
    application_id = payment.permit_id
    if not is_application_id(application_id):
        application_id = application_id_from_permit_number(payment.permit_id)
    if application_id is None:
        raise ApiProblem(
            422,
            "unknown permit_id",
            "permit_id must be an application id (PRM-...) or a permit number (JFC-...).",
            kind="invalid-body",
            problems=[Problem(path="permit_id", message="not an application id or permit number")],
        )
    structlog.contextvars.bind_contextvars(application_id=application_id, payment_id=payment.payment_id)
    pool = read_model_pool(request)
    await _record_payment(pool, payment, application_id, ctx)  # before the application hears of it: never lost
    closed = ApiProblem(
        409,
        "application already closed",
        f"Application {application_id} is closed; payment {payment.payment_id} was recorded and will be refunded "
        f"({payment.amount_idr} IDR).",
        kind="application-closed",
    )
    not_found = ApiProblem(404, "application not found", f"There is no application {application_id}.",
                           kind="not-found")
    try:
        await temporal.signal(ctx.temporal, application_id, SIGNAL_PAYMENT, payment, not_found=not_found,
                              closed=closed)
    except ApiProblem as problem:
        if problem is not_found and pool is not None and not await _projected(pool, application_id):
            await _forget_payment(pool, payment, application_id)
            raise
        if problem not in (closed, not_found) or pool is None:
            raise
        # Closed (or long gone from the workflow engine but in the read model): the payment becomes a refund,
        # unless it is a replay of one the application took before it closed (answered as the first time).
        if await _refund_after_close(request, ctx, pool, payment, application_id):
            raise closed from None
        log.info("payment replayed after the application closed")
        return Accepted()
    log.info("payment accepted", amount_idr=payment.amount_idr)
    await record(
        request, ctx, actor="payments", action="payment_received", application_id=application_id,
        detail={"payment_id": payment.payment_id, "amount_idr": payment.amount_idr,
                "paid_at": payment.paid_at.isoformat()},
        source_key=f"api:payment:{payment.payment_id}",
    )
    return Accepted()


def _database_problem(err: Exception) -> ApiProblem:
    log.error("payment record failed", error=str(err))
    return ApiProblem(
        503, "payment record unavailable",
        "The payment could not be recorded and was not applied; send the same webhook again (it counts once).",
        kind="read-model-unavailable", headers={"Retry-After": "5"},
    )


async def _record_payment(pool: asyncpg.Pool | None, payment: Payment, application_id: str, ctx: ApiContext) -> None:
    """Record the payment in the read model (once per payment_id); 503 when it cannot be, so nothing is applied
    that is not on record."""
    if pool is None:
        log.warning("payment not recorded: no read model")
        return
    try:
        if not await payments.record_received(pool, payment, application_id, ctx.now()):
            log.info("payment already recorded")
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as err:
        raise _database_problem(err) from None


async def _projected(pool: asyncpg.Pool, application_id: str) -> bool:
    """Whether the read model knows the application (its workflow may be gone from the engine's retention)."""
    try:
        return bool(await pool.fetchval("SELECT EXISTS (SELECT FROM applications WHERE id = $1)", application_id))
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as err:
        raise _database_problem(err) from None


async def _forget_payment(pool: asyncpg.Pool, payment: Payment, application_id: str) -> None:
    """A payment for an application that never existed is answered 404, and not kept as if it were ours."""
    try:
        await pool.execute("DELETE FROM payments WHERE payment_id = $1 AND application_id = $2 AND outcome = $3",
                           payment.payment_id, application_id, payments.RECEIVED)
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as err:
        log.warning("unknown application's payment not forgotten", error=str(err))


async def _refund_after_close(
    request: Request, ctx: ApiContext, pool: asyncpg.Pool, payment: Payment, application_id: str
) -> bool:
    """Make the payment a refund (its application closed before hearing of it); False when the application had
    taken it (matched, or refunded for another reason) before it closed: a replay."""
    detail = "the application had closed when the payment came"
    try:
        await payments.refund_for_closed_application(pool, payment.payment_id, detail, ctx.now())
        held = await payments.recorded(pool, payment.payment_id)
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as err:
        raise _database_problem(err) from None
    if held is None or held.refund_reason is not RefundReason.application_closed:
        return False
    log.warning("payment for a closed application: refund due", amount_idr=payment.amount_idr)
    await record(
        request, ctx, actor="payments", action="payment_refund_due", application_id=application_id,
        detail={"payment_id": payment.payment_id, "amount_idr": payment.amount_idr,
                "paid_at": payment.paid_at.isoformat(), "reason": RefundReason.application_closed.value},
        source_key=f"api:payment_refund:{payment.payment_id}",
    )
    return True


@router.post(
    "/v1/auditors/decisions",
    status_code=202,
    response_model=Accepted,
    summary="The audit firm's audited figures for an incentive's claim (signed webhook)",
    responses={**responses(401, 404, 409, 413, 422, 503), 202: {"description": "Accepted (also for a replay)"}},
    openapi_extra=_body_schema("AuditDecision"),
)
async def audit_decision(request: Request, ctx: Context, signature: SignatureHeader = None) -> Accepted:
    body = await read_body(request)
    check_signature(ctx, ctx.incentives.audit.webhook_secret_ref, signature, body)
    try:
        decision = AuditDecision.model_validate_json(body)
    except ValidationError as exc:
        raise invalid_body(exc, "audit decision") from None
    incentive_id = incentive_of_audit_key(decision.request_key)
    if incentive_id is None or not is_incentive_id(incentive_id):
        raise ApiProblem(422, "request_key is not an audit request of ours",
                         "request_key must be '<incentive id>:audit:<round>', the Idempotency-Key of our request.",
                         kind="invalid-body",
                         problems=[Problem(path="request_key", message="expected '<incentive id>:audit:<round>'")])
    structlog.contextvars.bind_contextvars(application_id=incentive_id, decision_id=decision.decision_id)
    await temporal.signal(
        ctx.temporal, incentive_id, SIGNAL_AUDIT_DECISION, decision,
        not_found=ApiProblem(404, "incentive not found", f"There is no incentive {incentive_id}.", kind="not-found"),
        closed=ApiProblem(409, "incentive already closed", f"Incentive {incentive_id} has ended; the audit was not "
                          "applied.", kind="incentive-closed"),
    )
    log.info("audit decision accepted", qualifying_idr=decision.qualifying_idr)
    await record(request, ctx, actor="audit", action="audit_decision", application_id=incentive_id,
                 detail={"decision_id": decision.decision_id, "qualifying_idr": decision.qualifying_idr,
                         "post_production_idr": decision.post_production_idr},
                 source_key=f"api:audit_decision:{decision.decision_id}")
    return Accepted()
