"""The commission officer's work: the queue of what needs a person, and decisions with a recorded reason."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from api import temporal
from api.access import IdempotencyKey, Officer, Staff, not_found, record, visible_status
from api.actions import closed, update_id
from api.auth import auth_responses
from api.context import Context
from api.problems import responses
from api.reports import ReadModel
from schemas.catalog import AgencyCode
from schemas.contracts import UPDATE_DECIDE
from schemas.decisions import OfficerDecision, OfficerDecisionKind, Outcome
from schemas.reports import QueueItem
from schemas.status import PermitStatusView
from store import queue

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
