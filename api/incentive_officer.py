"""The officers' incentive work: the committee queue and votes, clawbacks, the first-feature panel's scores."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from api import temporal
from api.access import IdempotencyKey, Officer, Staff, record
from api.actions import update_id
from api.auth import auth_responses
from api.context import ApiContext, Context
from api.incentives import update, visible_incentive
from api.problems import ApiProblem, responses
from api.reports import ReadModel
from schemas.contracts import QUERY_CALL, UPDATE_CLAWBACK, UPDATE_COMMITTEE, UPDATE_SCORE, feature_call_workflow_id
from schemas.incentive_contracts import CallView, ClawbackOrder, CommitteeDecision, PanelScore
from schemas.incentives import IncentiveStatusView
from store import incentive_reports
from store.accounts import Principal

router = APIRouter(prefix="/v1/officer", tags=["officer"])

Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
_RESPONSES = {**responses(400, 404, 409, 422, 503), **auth_responses()}


class CommitteeBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcome: Literal["approve", "reject"]
    reason: Reason


class ClawbackBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount_idr: int = Field(gt=0)
    reason: Reason


class ScoreBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    incentive_id: str = Field(min_length=1, max_length=40)
    score: float = Field(ge=0, le=100)
    reason: Reason


@router.get("/committee", response_model=list[incentive_reports.IncentiveItem],
            summary="Claims before the committee, oldest first (two different officers approve each)",
            responses={**responses(422, 503), **auth_responses()})
async def committee(principal: Staff, pool: ReadModel,
                    limit: Annotated[int, Query(ge=1, le=500)] = 200) -> list[incentive_reports.IncentiveItem]:
    return await incentive_reports.committee_queue(pool, limit=limit)


@router.post("/incentives/{incentive_id}/decisions", response_model=IncentiveStatusView,
             summary="A committee member's vote on an audited claim", responses=_RESPONSES)
async def decide(incentive_id: str, body: CommitteeBody, request: Request, ctx: Context, principal: Officer,
                 key: IdempotencyKey) -> IncentiveStatusView:
    return await committee_vote(request, ctx, principal, incentive_id, body, key)


async def committee_vote(request: Request, ctx: ApiContext, principal: Principal, incentive_id: str,
                         body: CommitteeBody, key: str) -> IncentiveStatusView:
    """A committee member's vote as the workflow update (the JSON API and the web pages); audited."""
    await visible_incentive(ctx, principal, incentive_id)
    view = await update(ctx, incentive_id, UPDATE_COMMITTEE,
                        CommitteeDecision(outcome=body.outcome, reason=body.reason, officer=principal.actor), key)
    await record(request, ctx, actor=principal.actor, action=f"committee_{body.outcome}", application_id=incentive_id,
                 detail={"reason": body.reason}, source_key=f"api:committee:{incentive_id}:{key}")
    return view


@router.post("/incentives/{incentive_id}/clawback", response_model=IncentiveStatusView,
             summary="Claw back part of what was paid, with a reason", responses=_RESPONSES)
async def clawback(incentive_id: str, body: ClawbackBody, request: Request, ctx: Context, principal: Officer,
                   key: IdempotencyKey) -> IncentiveStatusView:
    await visible_incentive(ctx, principal, incentive_id)
    view = await update(ctx, incentive_id, UPDATE_CLAWBACK,
                        ClawbackOrder(amount_idr=body.amount_idr, reason=body.reason, officer=principal.actor), key)
    await record(request, ctx, actor=principal.actor, action="incentive_clawback", application_id=incentive_id,
                 detail={"amount_idr": body.amount_idr, "reason": body.reason},
                 source_key=f"api:clawback:{incentive_id}:{key}")
    return view


def _no_call(call_id: str) -> ApiProblem:
    return ApiProblem(404, "call not found", f"There is no first-feature call {call_id!r} with applications.",
                      kind="not-found")


@router.get("/calls/{call_id}", response_model=CallView, summary="A first-feature call: its applications and scores",
            responses={**responses(404, 503), **auth_responses()})
async def call(call_id: str, ctx: Context, principal: Staff) -> CallView:
    return await temporal.query(ctx.temporal, feature_call_workflow_id(call_id), QUERY_CALL, CallView,
                                not_found=_no_call(call_id))


@router.post("/calls/{call_id}/scores", response_model=CallView,
             summary="A panel member scores an application (0 to 100) after the call's deadline",
             responses=_RESPONSES)
async def score(call_id: str, body: ScoreBody, request: Request, ctx: Context, principal: Officer,
                key: IdempotencyKey) -> CallView:
    result = await temporal.update(
        ctx.temporal, feature_call_workflow_id(call_id), UPDATE_SCORE,
        PanelScore(incentive_id=body.incentive_id, score=body.score, reason=body.reason, officer=principal.actor),
        update_id=update_id(UPDATE_SCORE, key), result_type=CallView, not_found=_no_call(call_id),
        closed=ApiProblem(409, "call already awarded", f"Call {call_id} has awarded its grants.", kind="call-closed"))
    await record(request, ctx, actor=principal.actor, action="panel_score", application_id=body.incentive_id,
                 detail={"call_id": call_id, "score": body.score}, source_key=f"api:score:{call_id}:{key}")
    return result

