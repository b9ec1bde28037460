"""Liveness for operators and orchestrators: the API answers and Temporal is reachable."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

import structlog
from fastapi import APIRouter
from pydantic import BaseModel

from api.context import Context
from api.problems import ApiProblem, responses

router = APIRouter(tags=["operations"])
log = structlog.get_logger("jfc.api")


class Health(BaseModel):
    status: Literal["ok"] = "ok"
    temporal: Literal["reachable"] = "reachable"
    rule_set: str


@router.get("/healthz", response_model=Health, summary="Health check", responses=responses(503))
async def healthz(ctx: Context) -> Health:
    try:
        serving = await ctx.temporal.service_client.check_health(timeout=timedelta(seconds=3))
    except Exception as err:
        log.warning("health check: Temporal unreachable", error=str(err))
        serving = False
    if not serving:
        raise ApiProblem(
            503,
            "Temporal unreachable",
            f"The workflow engine at {ctx.settings.temporal_address} does not answer.",
            kind="temporal-unavailable",
        )
    return Health(rule_set=ctx.rules.version)
