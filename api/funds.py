"""The incentive funds (design §4, §6): capacity, reserved, paid, clawed back, available and waiting, per programme.

Officers and auditors read them; officers set a programme's capacity for a fiscal year (never below what
is reserved and paid: 409). A higher capacity promotes waiting applications at once.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from api.access import IdempotencyKey, Officer, Staff, record
from api.auth import auth_responses
from api.context import Context
from api.problems import ApiProblem, responses
from api.reports import ReadModel
from schemas.contracts import SIGNAL_FUND_PROMOTED
from schemas.incentive_contracts import FundPromotion
from schemas.incentives import FundProgramme, FundView, Programme
from store import funds, incentive_reports

router = APIRouter(tags=["funds"])

FiscalYear = Annotated[int, Path(ge=2020, le=2100, description="The fiscal year, e.g. 2027")]


class CapacityBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    capacity_idr: int = Field(ge=0)
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)] = "budget set"


@router.get("/v1/funds/{fiscal_year}", response_model=FundView, summary="The funds of a fiscal year",
            responses={**responses(422, 503), **auth_responses()})
async def fund_view(fiscal_year: FiscalYear, ctx: Context, principal: Staff, pool: ReadModel) -> FundView:
    return await funds.fund_view(pool, fiscal_year, lambda code: ctx.incentives.get(code).default_capacity_idr)


@router.put("/v1/funds/{fiscal_year}/{programme}", response_model=FundProgramme,
            summary="Set a programme's fund capacity for a fiscal year (officers)",
            responses={**responses(400, 409, 422, 503), **auth_responses()})
async def set_capacity(fiscal_year: FiscalYear, programme: Programme, body: CapacityBody, request: Request,
                       ctx: Context, principal: Officer, pool: ReadModel, key: IdempotencyKey) -> FundProgramme:
    try:
        fund, promotions = await funds.set_capacity(
            pool, fiscal_year, programme.value, body.capacity_idr, key=f"api:capacity:{fiscal_year}:{programme.value}:{key}",
            actor=principal.actor,
            reason=body.reason, default_capacity_idr=ctx.incentives.get(programme.value).default_capacity_idr)
    except funds.CapacityTooLow as err:
        raise ApiProblem(409, "capacity below what is committed", str(err), kind="capacity-too-low") from None
    except funds.FundError as err:  # e.g. this Idempotency-Key already set another capacity
        raise ApiProblem(409, "Idempotency-Key already used", f"{err}. Send a new key for a new capacity.",
                         kind="idempotency-key-reused") from None
    for promotion in promotions:  # each promoted application hears it holds money now
        handle = ctx.temporal.get_workflow_handle(promotion.incentive_id)
        try:
            await handle.signal(SIGNAL_FUND_PROMOTED, FundPromotion(incentive_id=promotion.incentive_id,
                                                                   reserved_idr=promotion.reserved_idr))
        except Exception:  # noqa: BLE001 — it ended meanwhile; its closing releases the money
            pass
    await record(request, ctx, actor=principal.actor, action="fund_capacity_set", application_id=None,
                 detail={"fiscal_year": fiscal_year, "programme": programme.value, "capacity_idr": body.capacity_idr,
                         "promoted": [p.incentive_id for p in promotions]},
                 source_key=f"api:capacity:{fiscal_year}:{programme.value}:{key}")
    return fund


@router.get("/v1/reports/incentives", response_model=list[incentive_reports.IncentiveFigure],
            summary="Incentives per programme and status with their money, for a fiscal year",
            responses={**responses(422, 503), **auth_responses()})
async def incentive_figures(principal: Staff, pool: ReadModel,
                            fiscal_year: Annotated[int, Query(ge=2020, le=2100)]) -> list[incentive_reports.IncentiveFigure]:
    return await incentive_reports.figures(pool, fiscal_year)
