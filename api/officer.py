"""The commission officer's work: the queue of what needs a person, and decisions with a recorded reason."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from api import temporal
from api.access import IdempotencyKey, Officer, Staff, not_found, record, visible_status
from api.actions import closed, update_id
from api.auth import auth_responses
from api.context import ApiContext, Context
from api.problems import ApiProblem, responses
from api.reports import ReadModel
from schemas.catalog import AgencyCode
from schemas.contracts import UPDATE_DECIDE
from schemas.decisions import OfficerDecision, OfficerDecisionKind, Outcome
from schemas.reports import QueueItem
from schemas.status import PermitStatusView
from store import payments, queue
from store.accounts import Principal

router = APIRouter(prefix="/v1/officer", tags=["officer"])

MAX_QUEUE = 200

Condition = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]


class DecisionBody(BaseModel):
    """An officer's decision: on an open clearance, on an expedite request, or overriding an agency's outcome."""

    model_config = ConfigDict(extra="forbid")

    kind: OfficerDecisionKind
    agency: AgencyCode | None = Field(
        default=None, description="The clearance's agency; required for `clearance` and `override`"
    )
    outcome: Outcome
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)] = Field(
        description="Why; required, written to the application's timeline and the audit log"
    )
    conditions: list[Condition] = Field(default_factory=list, max_length=50)


@router.get(
    "/queue",
    response_model=list[QueueItem],
    summary="What needs an officer, most urgent first",
    description="Expedite requests, breached clearances, final deadlines without consent and rejections to "
    "confirm. Officers and auditors (read only).",
    responses={**responses(422, 503), **auth_responses()},
)
async def officer_queue(
    principal: Staff,
    ctx: Context,
    pool: ReadModel,
    limit: Annotated[int, Query(ge=1, le=MAX_QUEUE, description="At most this many items")] = MAX_QUEUE,
) -> list[QueueItem]:
    return await queue.officer_queue(pool, ctx.now(), limit=limit)


@router.post(
    "/permits/{application_id}/decisions",
    response_model=PermitStatusView,
    summary="Decide for an application (officers)",
    description="`clearance` decides an open clearance (a silent, unreachable or refusing agency; a rejection to "
    "confirm); `expedite` grants or refuses an expedite request; `override` replaces an agency's final "
    "outcome. The reason is required and audited.",
    responses={**responses(400, 404, 409, 422, 503), **auth_responses()},
)
async def decide(
    application_id: str,
    body: DecisionBody,
    request: Request,
    ctx: Context,
    principal: Officer,
    key: IdempotencyKey,
) -> PermitStatusView:
    return await decide_application(request, ctx, principal, application_id, body, key)


async def decide_application(
    request: Request, ctx: ApiContext, principal: Principal, application_id: str, body: DecisionBody, key: str
) -> PermitStatusView:
    """The officer's decision as the workflow update (the JSON API and the web pages); audited."""
    await visible_status(ctx, principal, application_id)
    decision = OfficerDecision(
        kind=body.kind,
        agency=body.agency.value if body.agency else None,
        outcome=body.outcome,
        reason=body.reason,
        officer=principal.actor,
        conditions=body.conditions,
    )
    result = await temporal.update(
        ctx.temporal, application_id, UPDATE_DECIDE, decision, update_id=update_id(UPDATE_DECIDE, key),
        result_type=PermitStatusView, not_found=not_found(application_id), closed=closed(application_id),
    )
    await record(
        request, ctx, actor=principal.actor, action="officer_decision", application_id=application_id,
        detail={"kind": decision.kind.value, "agency": decision.agency, "outcome": decision.outcome.value,
                "reason": decision.reason, "conditions": decision.conditions},
        source_key=f"api:decide:{application_id}:{key}",
    )
    return result


class RefundBody(BaseModel):
    """The commission paid a refund back: the bank's reference of the transfer."""

    model_config = ConfigDict(extra="forbid")

    reference: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)] = Field(
        description="The transfer's reference at the bank; audited")


class RefundMade(BaseModel):
    payment_id: str
    application_id: str
    refunded_at: dt.datetime


@router.post(
    "/refunds/{payment_id}",
    response_model=RefundMade,
    summary="Mark a refund as paid back (officers)",
    description="The refund leaves the officer queue. Marked once: marking it again changes nothing and answers "
    "the first mark's time.",
    responses={**responses(400, 404, 409, 422, 503), **auth_responses()},
)
async def refund_made(payment_id: str, body: RefundBody, request: Request, ctx: Context, principal: Officer,
                      pool: ReadModel, key: IdempotencyKey) -> RefundMade:
    now = ctx.now()
    state = await payments.mark_refunded(pool, payment_id, principal.actor, now)
    if state is None:
        raise ApiProblem(404, "refund not found", f"No refund is due for payment {payment_id}.", kind="not-found")
    if state.refunded_at is not None:  # marked before: nothing changes, the first mark stands
        return RefundMade(payment_id=payment_id, application_id=state.application_id, refunded_at=state.refunded_at)
    await record(request, ctx, actor=principal.actor, action="refund_made", application_id=state.application_id,
                 detail={"payment_id": payment_id, "reference": body.reference},
                 source_key=f"api:refund:{payment_id}")
    return RefundMade(payment_id=payment_id, application_id=state.application_id, refunded_at=now)
